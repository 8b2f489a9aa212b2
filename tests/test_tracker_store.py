"""bot/rasa/tracker_store.py: the SQL tracker store that hands the slots it saved to the REST channel
(the channel's side: tests/test_channel_rest.py)."""
from __future__ import annotations

import asyncio

import pytest
from rasa.core.tracker_store import TrackerStore
from rasa.core.utils import AvailableEndpoints
from rasa.shared.core.events import SlotSet, UserUttered

from bot.settings import PROJECT_ROOT
from bot.rasa.compact_store import CompactingSQLTrackerStore
from bot.rasa.tracker_store import HANDOVER_LIMIT, SlotHandoverSQLTrackerStore
from tests.channel_stand_ins import kasuhara_domain


@pytest.fixture
def store(tmp_path):
    return SlotHandoverSQLTrackerStore(kasuhara_domain(), dialect="sqlite", db=str(tmp_path / "tracker.db"))


async def _turn(store, sender_id: str, **slots) -> None:
    tracker = await store.get_or_create_tracker(sender_id)
    tracker.update(UserUttered("窓口で怒鳴られています"))
    for name, value in slots.items():
        tracker.update(SlotSet(name, value))
    await store.save(tracker)


def test_saved_slots_are_handed_over_once_and_the_events_are_stored(store):
    asyncio.run(_turn(store, "employee-1", stage="fact_finding", ongoing=True))
    slots = store.take_saved_slots("employee-1")
    assert slots["stage"] == "fact_finding" and slots["ongoing"] is True
    assert store.take_saved_slots("employee-1") is None  # once
    assert store.take_saved_slots("employee-2") is None  # never saved here

    stored = asyncio.run(store.retrieve("employee-1"))
    assert stored.latest_message.text == "窓口で怒鳴られています"
    assert stored.get_slot("stage") == "fact_finding"


def test_the_next_save_replaces_what_was_not_taken(store):
    asyncio.run(_turn(store, "employee-1", stage="fact_finding"))
    asyncio.run(_turn(store, "employee-1", stage="judgement"))
    assert store.take_saved_slots("employee-1")["stage"] == "judgement"


def test_slots_nobody_takes_do_not_pile_up(store, monkeypatch):
    monkeypatch.setattr("bot.rasa.tracker_store.HANDOVER_LIMIT", 3)
    for number in range(5):
        asyncio.run(_turn(store, f"employee-{number}", stage="fact_finding"))
    assert store.take_saved_slots("employee-0") is None
    assert store.take_saved_slots("employee-4")["stage"] == "fact_finding"
    assert HANDOVER_LIMIT >= 100  # the real limit leaves room for many conversations in flight


def test_endpoints_yml_builds_this_store(tmp_path, monkeypatch):
    endpoints = AvailableEndpoints.read_endpoints(str(PROJECT_ROOT / "endpoints.yml"))
    endpoints.tracker_store.kwargs["db"] = str(tmp_path / "tracker.db")
    created = TrackerStore.create(endpoints.tracker_store, kasuhara_domain())  # as `rasa run` does
    assert isinstance(created, CompactingSQLTrackerStore)  # a SlotHandoverSQLTrackerStore


# --- no database error exits the server ------------------------------------------------------------


@pytest.fixture
def postgres_store():
    """The store on a PostgreSQL database of its own, dropped afterwards."""
    from tests.conftest import postgres_database

    with postgres_database("test_tracker") as url:
        store = SlotHandoverSQLTrackerStore(
            kasuhara_domain(), dialect="postgresql", host=url.host, port=url.port, db=url.database,
            username=url.username, password=url.password,
        )
        try:
            yield store
        finally:
            store.engine.dispose()


def _refused_without_exit(store, sender_id: str) -> None:
    from rasa.core.tracker_store import FailSafeTrackerStore

    from bot.rasa.tracker_store import TrackerStoreError

    with pytest.raises(TrackerStoreError):  # Rasa's own store raises SystemExit here
        asyncio.run(store.retrieve(sender_id))
    wrapped = FailSafeTrackerStore(store)  # as the agent wraps it
    assert asyncio.run(wrapped.retrieve(sender_id)) is None
    tracker = asyncio.run(wrapped.get_or_create_tracker(sender_id))
    asyncio.run(wrapped.save(tracker))  # kept in memory for this turn
    with pytest.raises(TrackerStoreError):
        store.take_saved_slots(sender_id)  # the REST channel answers 503 storage_error
    assert store.take_saved_slots(sender_id) is None  # once
    asyncio.run(_turn(store, "employee-1", stage="fact_finding"))  # the next request is served
    assert store.take_saved_slots("employee-1")["stage"] == "fact_finding"


def test_a_lone_surrogate_sender_fails_that_request_only(store):
    _refused_without_exit(store, "\udfff")


def test_a_nul_in_a_sender_fails_that_request_only_on_postgresql(postgres_store):
    _refused_without_exit(postgres_store, "employee\x00-1")
    asyncio.run(_turn(postgres_store, "employee-2", stage="judgement"))
    assert asyncio.run(postgres_store.retrieve("employee-2")).get_slot("stage") == "judgement"


def test_a_nul_in_a_message_is_stored_on_postgresql(postgres_store):
    """Event data is JSON (NUL escaped as \\u0000): only columns holding raw strings refuse NUL."""
    tracker = asyncio.run(postgres_store.get_or_create_tracker("employee-1"))
    tracker.update(UserUttered("窓口\x00で"))
    asyncio.run(postgres_store.save(tracker))
    assert asyncio.run(postgres_store.retrieve("employee-1")).latest_message.text == "窓口\x00で"


def test_rasa_still_exits_on_value_errors_so_the_override_is_still_needed():
    """Fails when Rasa changes under bot/rasa/tracker_store.py: re-check session_scope then."""
    import inspect

    import rasa
    from rasa.core.tracker_store import SQLTrackerStore

    from bot.rasa.tracker_store import RASA_VERSION_CHECKED

    assert rasa.__version__ == RASA_VERSION_CHECKED
    source = inspect.getsource(SQLTrackerStore.session_scope)
    assert "except ValueError" in source and "print_error_and_exit" in source
    assert "ensure_schema_exists(session)" in source and "self.sessionmaker()" in source
    assert SlotHandoverSQLTrackerStore.session_scope is not SQLTrackerStore.session_scope
