"""Settings: the organisation's own contacts and limits (organization.yml) and the environment."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from bot.codes import Escalation
from bot.phrases import PhraseLibrary, load_phrases as read_phrase_file

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ORGANIZATION_FILE = PROJECT_ROOT / "organization.yml"
DEFAULT_PHRASES_FILE = PROJECT_ROOT / "phrases.yml"
DEFAULT_DATABASE_URL = f"sqlite:///{PROJECT_ROOT / 'var' / 'consultations.db'}"


class SettingsError(ValueError):
    """The settings file is missing a value or has one of the wrong kind."""


@dataclass(frozen=True)
class Contact:
    name: str
    phone: str
    note: str = ""


@dataclass(frozen=True)
class OrganizationSettings:
    name: str
    time_limit_minutes: int = 30
    warn_before_minutes: int = 5
    contacts: dict[Escalation, Contact] = field(default_factory=dict)

    def contact(self, escalation: Escalation) -> Contact | None:
        return self.contacts.get(escalation)


def parse_organization(raw: dict) -> OrganizationSettings:
    if not isinstance(raw, dict) or not raw.get("name"):
        raise SettingsError("organization.yml: 'name' is required")
    limits = raw.get("time_limit", {}) or {}
    minutes = limits.get("minutes", 30)
    warn = limits.get("warn_before_minutes", 5)
    for key, value in (("time_limit.minutes", minutes), ("time_limit.warn_before_minutes", warn)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise SettingsError(f"organization.yml: '{key}' must be a non-negative integer")
    contacts: dict[Escalation, Contact] = {}
    for code, entry in (raw.get("contacts") or {}).items():
        try:
            escalation = Escalation.parse(code)
        except ValueError as error:
            raise SettingsError(f"organization.yml: contacts: {error}") from None
        if not isinstance(entry, dict) or not entry.get("name"):
            raise SettingsError(f"organization.yml: contacts.{code}.name is required")
        contacts[escalation] = Contact(
            name=str(entry["name"]), phone=str(entry.get("phone", "")), note=str(entry.get("note", ""))
        )
    return OrganizationSettings(
        name=str(raw["name"]), time_limit_minutes=minutes, warn_before_minutes=warn, contacts=contacts
    )


@lru_cache(maxsize=4)
def load_organization(path: str | None = None) -> OrganizationSettings:
    """Read the settings file once per path (ORGANIZATION_FILE, else organization.yml)."""
    file = Path(path or os.environ.get("ORGANIZATION_FILE") or DEFAULT_ORGANIZATION_FILE)
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsError(f"settings file not found: {file}") from None
    return parse_organization(raw)


@lru_cache(maxsize=4)
def load_phrases(path: str | None = None) -> PhraseLibrary:
    """The phrase library (PHRASES_FILE, else phrases.yml), checked once per path; PhraseFileError names file and line."""
    return read_phrase_file(Path(path or os.environ.get("PHRASES_FILE") or DEFAULT_PHRASES_FILE))


def database_url() -> str:
    return os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
