"""The external services the actions use, created once per action-server process."""
from __future__ import annotations

from functools import lru_cache

from bot.records import ConsultationStore
from bot.settings import OrganizationSettings, load_organization


@lru_cache(maxsize=1)
def consultation_store() -> ConsultationStore:
    return ConsultationStore()


def organization() -> OrganizationSettings:
    return load_organization()
