"""Settings: the organisation's own contacts and limits (organization.yml) and the environment.

`load_settings()` reads the environment once; each process's main() builds it and passes it down.

Storage and the consultation desk (python -m bot.desk):
    DATABASE_URL               the records database (default: sqlite file var/consultations.db)
    ENDPOINTS_FILE             the endpoints file the Rasa server is started with (endpoints.yml;
                               `make run` passes the same one); the desk's purge reads its
                               tracker_store section to delete the purged consultations' transcripts
    DESK_HOST, DESK_PORT       where the desk listens (127.0.0.1, 5007)
    DESK_BASE_URL              the desk's address in alert e-mails (default http://DESK_HOST:DESK_PORT)
    DESK_COOKIE_SECURE         1: the session cookie is sent over HTTPS only (behind a TLS proxy)
    DESK_SMTP_HOST, DESK_SMTP_PORT (25), DESK_SMTP_USER, DESK_SMTP_PASSWORD, DESK_SMTP_STARTTLS (0/1)
    DESK_ALERT_FROM, DESK_ALERT_TO (comma-separated)   alert e-mails; none are sent without a host
    DESK_RETENTION_DAYS        default retention of records (1095); an admin may change it in the app
    REHEARSAL_SCENARIOS, REHEARSAL_DRILLS   the rehearsal mode's scenario folder and drill file
                               (rehearsal/scenarios/, rehearsal/drills.yml)
    DESK_CUSTOMER_KEY_SECRET   the HMAC secret for customer keys, else the file DESK_SECRET_FILE
                               (var/desk-secret, created with a random secret on first use)
"""
from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from bot.codes import Escalation
from bot.phrases import PhraseLibrary, load_phrases as read_phrase_file

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ORGANIZATION_FILE = PROJECT_ROOT / "organization.yml"
DEFAULT_PHRASES_FILE = PROJECT_ROOT / "phrases.yml"
DEFAULT_REHEARSAL_SCENARIOS = PROJECT_ROOT / "rehearsal" / "scenarios"
DEFAULT_REHEARSAL_DRILLS = PROJECT_ROOT / "rehearsal" / "drills.yml"
DEFAULT_DATABASE_URL = f"sqlite:///{PROJECT_ROOT / 'var' / 'consultations.db'}"
DEFAULT_ENDPOINTS_FILE = PROJECT_ROOT / "endpoints.yml"
DEFAULT_SECRET_FILE = PROJECT_ROOT / "var" / "desk-secret"
DEFAULT_DESK_PORT = 5007
DEFAULT_RETENTION_DAYS = 1095
DEFAULT_WEBCHAT_SESSION_HOURS = 12


# Public emergency numbers: the same everywhere, so never an organisation's contact.
FIXED_NUMBERS = frozenset({Escalation.POLICE_110, Escalation.AMBULANCE_119, Escalation.POLICE_9110})


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
        if escalation in FIXED_NUMBERS:
            raise SettingsError(
                f"organization.yml: contacts.{code}: 110, 119 and #9110 are fixed numbers, not settings"
            )
        if not isinstance(entry, dict) or not entry.get("name"):
            raise SettingsError(f"organization.yml: contacts.{code}.name is required")
        contacts[escalation] = Contact(
            name=str(entry["name"]), phone=str(entry.get("phone", "")), note=str(entry.get("note", ""))
        )
    return OrganizationSettings(
        name=str(raw["name"]), time_limit_minutes=minutes, warn_before_minutes=warn, contacts=contacts
    )


def load_organization(path: str | None = None) -> OrganizationSettings:
    """Read the settings file (ORGANIZATION_FILE, else organization.yml). Each process's entry point
    reads it once and passes the result down."""
    file = Path(path or os.environ.get("ORGANIZATION_FILE") or DEFAULT_ORGANIZATION_FILE)
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsError(f"settings file not found: {file}") from None
    return parse_organization(raw)


def phrases_file() -> Path:
    return Path(os.environ.get("PHRASES_FILE") or DEFAULT_PHRASES_FILE)


@lru_cache(maxsize=4)
def load_phrases(path: str | None = None) -> PhraseLibrary:
    """The phrase library (PHRASES_FILE, else phrases.yml), checked once per path.

    PhraseFileError names the file and line of the first problem.
    """
    return read_phrase_file(Path(path) if path else phrases_file())


def rehearsal_files(environ: Mapping[str, str] = os.environ) -> tuple[Path, Path]:
    """The rehearsal mode's scenario folder (REHEARSAL_SCENARIOS) and drill file (REHEARSAL_DRILLS)."""
    return (Path(environ.get("REHEARSAL_SCENARIOS") or DEFAULT_REHEARSAL_SCENARIOS),
            Path(environ.get("REHEARSAL_DRILLS") or DEFAULT_REHEARSAL_DRILLS))


def database_url(environ: Mapping[str, str] = os.environ) -> str:
    return environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL


def endpoints_file(environ: Mapping[str, str] = os.environ) -> Path:
    """The endpoints file of the Rasa server (ENDPOINTS_FILE, else endpoints.yml; a relative path is
    taken from the project folder, where `make run` starts the server). Its tracker_store section is
    where the conversations are kept: the server reads it, and so does the desk's purge."""
    path = Path(environ.get("ENDPOINTS_FILE") or DEFAULT_ENDPOINTS_FILE)
    return path if path.is_absolute() else PROJECT_ROOT / path


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    sender: str
    recipients: tuple[str, ...]
    username: str = ""
    password: str = ""
    starttls: bool = False
    timeout: float = 10.0


@dataclass(frozen=True)
class Settings:
    """Everything one process reads from its environment (storage and the desk)."""

    database_url: str = DEFAULT_DATABASE_URL
    endpoints_file: Path = DEFAULT_ENDPOINTS_FILE
    desk_host: str = "127.0.0.1"
    desk_port: int = DEFAULT_DESK_PORT
    desk_base_url: str = f"http://127.0.0.1:{DEFAULT_DESK_PORT}"
    cookie_secure: bool = False
    smtp: SmtpSettings | None = None
    retention_days: int = DEFAULT_RETENTION_DAYS
    mask_at_write: bool = False
    customer_key_secret: str = ""
    secret_file: Path = DEFAULT_SECRET_FILE
    max_failed_logins: int = 5
    lockout_minutes: int = 15
    session_hours: int = 8


def _int(environ: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = environ.get(name, "")
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise SettingsError(f"{name} must be an integer of at least {minimum}, not {raw!r}")
    return value


def _flag(environ: Mapping[str, str], name: str) -> bool:
    raw = environ.get(name, "").strip().lower()
    if raw not in ("", "0", "1", "true", "false", "yes", "no"):
        raise SettingsError(f"{name} must be 0 or 1, not {raw!r}")
    return raw in ("1", "true", "yes")


def _smtp(environ: Mapping[str, str]) -> SmtpSettings | None:
    host = environ.get("DESK_SMTP_HOST", "")
    if not host:
        return None
    recipients = tuple(a.strip() for a in environ.get("DESK_ALERT_TO", "").split(",") if a.strip())
    sender = environ.get("DESK_ALERT_FROM", "")
    if not recipients or not sender:
        raise SettingsError("DESK_SMTP_HOST is set: DESK_ALERT_FROM and DESK_ALERT_TO are required too")
    return SmtpSettings(
        host=host,
        port=_int(environ, "DESK_SMTP_PORT", 25, minimum=1),
        sender=sender,
        recipients=recipients,
        username=environ.get("DESK_SMTP_USER", ""),
        password=environ.get("DESK_SMTP_PASSWORD", ""),
        starttls=_flag(environ, "DESK_SMTP_STARTTLS"),
    )


def load_settings(environ: Mapping[str, str] = os.environ) -> Settings:
    """The process's settings from the environment; SettingsError names a bad variable."""
    host = environ.get("DESK_HOST") or "127.0.0.1"
    port = _int(environ, "DESK_PORT", DEFAULT_DESK_PORT, minimum=1)
    return Settings(
        database_url=database_url(environ),
        endpoints_file=endpoints_file(environ),
        desk_host=host,
        desk_port=port,
        desk_base_url=(environ.get("DESK_BASE_URL") or f"http://{host}:{port}").rstrip("/"),
        cookie_secure=_flag(environ, "DESK_COOKIE_SECURE"),
        smtp=_smtp(environ),
        retention_days=_int(environ, "DESK_RETENTION_DAYS", DEFAULT_RETENTION_DAYS, minimum=1),
        mask_at_write=_flag(environ, "MASK_PERSONAL_DATA_AT_WRITE"),
        customer_key_secret=environ.get("DESK_CUSTOMER_KEY_SECRET", ""),
        secret_file=Path(environ.get("DESK_SECRET_FILE") or DEFAULT_SECRET_FILE),
    )


def customer_key_secret(settings: Settings) -> bytes:
    """The HMAC secret for customer keys: DESK_CUSTOMER_KEY_SECRET, else the secret file (made
    on first use, readable by its owner only). Changing it makes existing keys unmatchable."""
    if settings.customer_key_secret:
        return settings.customer_key_secret.encode("utf-8")
    return secret("DESK_CUSTOMER_KEY_SECRET", settings.secret_file).encode("utf-8")


VAR_DIR = PROJECT_ROOT / "var"
LOOPBACK_HOST_NAMES = ("localhost", "127.0.0.1", "::1")
API_TOKEN_FILE = VAR_DIR / "rasa-api-token"
WEBCHAT_SECRET_FILE = VAR_DIR / "webchat-session-secret"
ACTION_SERVER_TOKEN_FILE = VAR_DIR / "action_server.token"
DEFAULT_ACTION_TIMEOUT_SECONDS = 10.0


def secret(variable: str, generated_file: Path) -> str:
    """The secret in the environment variable; without one, the one in `generated_file`, which the
    first process to ask creates (random, mode 0600; git ignores var/). Processes started together
    agree on it without configuration."""
    value = (os.environ.get(variable) or "").strip()
    if value:
        return value
    try:
        return _read_secret(variable, generated_file)
    except FileNotFoundError:
        pass
    generated_file.parent.mkdir(parents=True, exist_ok=True)
    draft = generated_file.with_name(f".{generated_file.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(secrets.token_urlsafe(32))
    try:
        os.link(draft, generated_file)  # atomic, and fails when another process was first
    except FileExistsError:
        pass
    finally:
        draft.unlink()
    return _read_secret(variable, generated_file)


def _read_secret(variable: str, file: Path) -> str:
    value = file.read_text(encoding="utf-8").strip()
    if not value:
        raise SettingsError(f"{file} is empty: delete it (a new secret is generated) or set {variable}")
    return value


# --- the processes `make run` starts (bot/supervisor.py, bot/rasa/action_server.py) ---------------
def action_server_host() -> str:
    """Where the action server listens: SANIC_HOST (rasa_sdk's own variable), else loopback only."""
    return os.environ.get("SANIC_HOST") or "127.0.0.1"


def action_timeout_seconds() -> float:
    """How long Rasa waits for one custom action (ACTION_TIMEOUT_SECONDS; Rasa's own default is 300)."""
    raw = os.environ.get("ACTION_TIMEOUT_SECONDS")
    if raw in (None, ""):
        return DEFAULT_ACTION_TIMEOUT_SECONDS
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise SettingsError(f"ACTION_TIMEOUT_SECONDS must be a positive number of seconds, not {raw!r}")
    return value


def action_server_token(file: Path = ACTION_SERVER_TOKEN_FILE) -> str:
    """The secret Rasa sends the action server (``Authorization: Bearer …``)."""
    return secret("ACTION_SERVER_TOKEN", file)


# --- Rasa's HTTP API and the web chat (bot/rasa/server.py, bot/web, bot/channels/webchat.py) -------
def _names(value: str | None) -> tuple[str, ...]:
    return tuple(name.strip().lower() for name in (value or "").split(",") if name.strip())


@dataclass(frozen=True)
class HttpApiSettings:
    """Rasa's HTTP API (`--enable-api`): its token (RASA_AUTH_TOKEN, else none) and the host names
    requests may carry in Host (RASA_ALLOWED_HOSTS, comma-separated; empty: the server's defaults)."""

    token: str | None
    allowed_hosts: tuple[str, ...]


def http_api_settings() -> HttpApiSettings:
    return HttpApiSettings(
        token=(os.environ.get("RASA_AUTH_TOKEN") or "").strip() or None,
        allowed_hosts=_names(os.environ.get("RASA_ALLOWED_HOSTS")),
    )


def rasa_api_token() -> str:
    """The token for Rasa's HTTP API: RASA_AUTH_TOKEN, else the one generated under var/ (what the
    server uses on loopback when none is set, bot/rasa/server.py)."""
    return secret("RASA_AUTH_TOKEN", API_TOKEN_FILE)


@dataclass(frozen=True)
class WebchatSettings:
    """The web chat: the key that signs session tokens (WEBCHAT_SESSION_SECRET, else generated under
    var/), the page origins socket.io accepts (WEBCHAT_ALLOWED_ORIGINS, comma-separated; default
    the page server on loopback, WEBCHAT_PORT) and how long a session token is accepted after it
    was issued (WEBCHAT_SESSION_HOURS, default 12)."""

    session_secret: str
    allowed_origins: tuple[str, ...]
    session_lifetime_seconds: int = DEFAULT_WEBCHAT_SESSION_HOURS * 3600


def webchat_settings() -> WebchatSettings:
    port = os.environ.get("WEBCHAT_PORT") or "5006"
    origins = _names(os.environ.get("WEBCHAT_ALLOWED_ORIGINS")) or (
        f"http://127.0.0.1:{port}",
        f"http://localhost:{port}",
    )
    hours = _int(os.environ, "WEBCHAT_SESSION_HOURS", DEFAULT_WEBCHAT_SESSION_HOURS, minimum=1)
    return WebchatSettings(secret("WEBCHAT_SESSION_SECRET", WEBCHAT_SECRET_FILE), origins, hours * 3600)
