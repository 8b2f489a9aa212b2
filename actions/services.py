"""What the actions use, created once per action-server process and passed to every action: the
process's settings (environment and organization.yml), read once, and the records store."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from bot.records import ConsultationStore
from bot.settings import OrganizationSettings, Settings, load_organization, load_settings


@dataclass(frozen=True)
class Services:
    settings: Settings
    organization: OrganizationSettings
    store: ConsultationStore


@lru_cache(maxsize=1)
def process_services() -> Services:
    """The action server's one set of services, built on first use (rasa_sdk creates the actions
    itself, so this module is the process's entry point for them)."""
    settings = load_settings()
    return Services(
        settings=settings,
        organization=load_organization(),
        store=ConsultationStore(settings.database_url, mask_at_write=settings.mask_at_write),
    )


def consultation_store() -> ConsultationStore:
    return process_services().store


def organization() -> OrganizationSettings:
    return process_services().organization
