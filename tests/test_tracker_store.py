"""bot/rasa/tracker_store.py: the SQL tracker store that hands the slots it saved to the REST channel
(the channel's side: tests/test_channel_rest.py)."""
from __future__ import annotations

import asyncio

import pytest
from rasa.core.tracker_store import TrackerStore
from rasa.core.utils import AvailableEndpoints
from rasa.shared.core.events import SlotSet, UserUttered

from bot.settings import PROJECT_ROOT
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
    assert isinstance(created, SlotHandoverSQLTrackerStore)
