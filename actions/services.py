"""The external services the actions use, created once per action-server process."""
from __future__ import annotations

from functools import lru_cache

from bot.records import ConsultationStore
from bot.settings import OrganizationSettings, load_organization, load_settings


@lru_cache(maxsize=1)
def consultation_store() -> ConsultationStore:
    settings = load_settings()
    return ConsultationStore(settings.database_url, mask_at_write=settings.mask_at_write)


def organization() -> OrganizationSettings:
    return load_organization()
