"""The settings file and the endpoint files the servers start with."""
from __future__ import annotations

import pytest

from bot.codes import Escalation
from bot.settings import PROJECT_ROOT, SettingsError, load_organization, parse_organization, webchat_settings


def test_the_shipped_organisation_file_is_valid():
    settings = load_organization(str(PROJECT_ROOT / "organization.yml"))
    assert settings.time_limit_minutes == 30
    assert settings.contact(Escalation.SUPERVISOR) is not None
    assert "地域包括支援センター" in settings.contact(Escalation.WELFARE).name


def test_the_welfare_contact_is_read():
    settings = parse_organization({"name": "x", "contacts": {"welfare": {"name": "地域包括支援センター", "phone": "1"}}})
    assert settings.contact(Escalation.WELFARE).phone == "1"


@pytest.mark.parametrize(
    "raw, message",
    [
        ({}, "'name' is required"),
        ({"name": "x", "time_limit": {"minutes": "30"}}, "time_limit.minutes"),
        ({"name": "x", "time_limit": {"warn_before_minutes": -1}}, "warn_before_minutes"),
        ({"name": "x", "contacts": {"mayor": {"name": "市長"}}}, "unknown code 'mayor'"),
        ({"name": "x", "contacts": {"supervisor": {"phone": "1"}}}, "contacts.supervisor.name"),
        ({"name": "x", "contacts": {"police_110": {"name": "警察"}}}, "contacts.police_110: 110, 119 and #9110 are fixed"),
    ],
)
def test_bad_settings_name_the_field(raw, message):
    with pytest.raises(SettingsError, match=message):
        parse_organization(raw)


def test_missing_settings_file_is_a_clear_error(tmp_path):
    with pytest.raises(SettingsError, match="not found"):
        load_organization(str(tmp_path / "nope.yml"))


def test_production_endpoints_share_conversations_and_locks_across_servers(monkeypatch):
    """Two servers built from endpoints.production.yml see the same tracker (PostgreSQL) and lock (Redis)."""
    import asyncio
    import uuid

    import sqlalchemy
    from rasa.core.lock_store import LockStore, RedisLockStore
    from rasa.core.tracker_store import TrackerStore
    from rasa.core.utils import AvailableEndpoints
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import UserUttered

    database = f"kasuhara_endpoints_{uuid.uuid4().hex[:8]}"
    for name, value in {"ACTION_ENDPOINT_URL": "http://127.0.0.1:5055/webhook", "POSTGRES_HOST": "127.0.0.1",
                        "POSTGRES_PORT": "5432", "POSTGRES_DB": database, "POSTGRES_USER": "postgres",
                        "POSTGRES_PASSWORD": "", "REDIS_HOST": "127.0.0.1", "REDIS_PORT": "6379"}.items():
        monkeypatch.setenv(name, value)
    endpoints = AvailableEndpoints.read_endpoints(str(PROJECT_ROOT / "endpoints.production.yml"))
    domain = Domain.load(str(PROJECT_ROOT / "domain.yml"))
    admin = sqlalchemy.create_engine("postgresql://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sqlalchemy.text(f'CREATE DATABASE "{database}"'))
    try:
        first, second = (TrackerStore.create(endpoints.tracker_store, domain) for _ in range(2))
        tracker = asyncio.run(first.get_or_create_tracker("employee-1"))
        tracker.update(UserUttered("窓口で怒鳴られています"))
        asyncio.run(first.save(tracker))
        shared = asyncio.run(second.retrieve("employee-1"))
        assert shared.latest_message.text == "窓口で怒鳴られています"

        locks = [LockStore.create(endpoints.lock_store) for _ in range(2)]
        assert all(isinstance(lock, RedisLockStore) for lock in locks)
        conversation = f"employee-{uuid.uuid4().hex[:8]}"
        held = locks[0].issue_ticket(conversation, lock_lifetime=30)
        waiting = locks[1].issue_ticket(conversation, lock_lifetime=30)
        try:
            assert locks[1].get_lock(conversation).is_locked(waiting), "the second server must wait its turn"
            assert not locks[1].get_lock(conversation).is_locked(held)
        finally:
            locks[0].cleanup(conversation, held)
            locks[1].cleanup(conversation, waiting)
        for store in (first, second):
            store.engine.dispose()
    finally:
        with admin.connect() as connection:
            connection.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()


def test_web_chat_sessions_last_twelve_hours_unless_set(monkeypatch):
    monkeypatch.setenv("WEBCHAT_SESSION_SECRET", "s")
    monkeypatch.delenv("WEBCHAT_SESSION_HOURS", raising=False)
    assert webchat_settings().session_lifetime_seconds == 12 * 3600
    monkeypatch.setenv("WEBCHAT_SESSION_HOURS", "2")
    assert webchat_settings().session_lifetime_seconds == 2 * 3600
