"""A turn that runs twice never makes a second record or message, and the turn after an
action-server outage records what the missed turns said (actions/facts.py, bot/records.py)."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import services
from actions.facts import ValidateSlotMappings
from bot.records import ConsultationStore
from bot.settings import PROJECT_ROOT
from tests.trackers import SLOT_NAMES, entity

DOMAIN = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
T1, T2, T3 = 1764580000.25, 1764580060.5, 1764580120.75
SENDER = "employee-7"


@pytest.fixture(autouse=True)
def isolated_services(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'records.db'}")
    services.process_services.cache_clear()
    yield
    services.process_services.cache_clear()


def user(text: str, at: float, intent: str, entities=()) -> dict:
    parse = {"text": text, "intent": {"name": intent, "confidence": 0.99}, "entities": list(entities)}
    return {"event": "user", "timestamp": at, "text": text, "parse_data": parse, "input_channel": "rest",
            "metadata": {}}


def tracker(events: list[dict], slots: dict | None = None) -> Tracker:
    all_slots = {name: None for name in SLOT_NAMES} | (slots or {})
    latest = next(e for e in reversed(events) if e["event"] == "user")
    return Tracker(SENDER, all_slots, latest["parse_data"], events, False, None, {}, "action_listen")


def validate(t: Tracker) -> dict:
    events = asyncio.run(ValidateSlotMappings().run(CollectingDispatcher(), t, DOMAIN))
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


def records_of(sender: str) -> list[dict]:
    return [r for r in services.consultation_store().list(limit=None) if r["conversation_id"] == sender]


FIRST = user("窓口で1時間も怒鳴られています", T1, "report_incident", [entity("behavior", "intimidation")])
SECOND = user("電話ではなく窓口です。土下座しろと言われました", T2, "inform", [entity("behavior", "dogeza_demand")])
UNAVAILABLE = {"event": "bot", "timestamp": T1 + 10, "text": "ただいまシステムの一部が応答できません。"}


def test_a_turn_rasa_gave_up_on_but_that_still_ran_is_not_recorded_twice():
    validate(tracker([FIRST]))  # ran here, but Rasa had timed out: its slot events were dropped
    # next turn: Rasa's tracker has neither consultation_id nor recorded_message_at from that turn
    slots = validate(tracker([FIRST, UNAVAILABLE, SECOND]))
    (record,) = records_of(SENDER)
    assert slots["consultation_id"] == record["id"] and slots["recorded_message_at"] == T2
    assert [m["text"] for m in record["messages"]] == [FIRST["text"], SECOND["text"]]
    assert record["behaviors"] == ["intimidation", "dogeza_demand"]


def test_the_turn_after_an_outage_records_the_missed_turns_facts_and_message():
    # FIRST reached Rasa while the action server was down: nothing was stored, no slot set.
    slots = validate(tracker([FIRST, UNAVAILABLE, SECOND]))
    (record,) = records_of(SENDER)
    assert [m["text"] for m in record["messages"]] == [FIRST["text"], SECOND["text"]]
    assert [m["sent_at"] for m in record["messages"]] == [
        datetime.fromtimestamp(T1, timezone.utc).isoformat(), datetime.fromtimestamp(T2, timezone.utc).isoformat()]
    assert record["behaviors"] == ["intimidation", "dogeza_demand"]  # the missed message's facts too
    assert slots["elapsed_minutes"] == 60 and record["started_at"] == datetime.fromtimestamp(T1, timezone.utc).isoformat()


def test_the_same_turn_replayed_adds_nothing():
    first = validate(tracker([FIRST]))
    second_turn = tracker([FIRST, SECOND], slots=first)
    after_second = validate(second_turn)
    validate(second_turn)  # replayed: the same tracker again
    validate(tracker([FIRST, SECOND], slots=first | after_second))  # and once more, with the slots it set
    (record,) = records_of(SENDER)
    assert [m["text"] for m in record["messages"]] == [FIRST["text"], SECOND["text"]]


def test_only_messages_after_the_last_recorded_one_are_caught_up():
    first = validate(tracker([FIRST]))
    third = user("もう帰りました", T3, "inform")
    # SECOND was missed; FIRST had been recorded
    validate(tracker([FIRST, SECOND, UNAVAILABLE, third], slots=first))
    (record,) = records_of(SENDER)
    assert [m["text"] for m in record["messages"]] == [FIRST["text"], SECOND["text"], third["text"]]


def test_messages_of_a_closed_consultation_are_not_taken_into_the_next():
    first = validate(tracker([FIRST]))
    closing = [{"event": "reset_slots", "timestamp": T1 + 30}]
    later = user("別の件で相談です。電話で怒鳴られています", T3, "report_incident")
    validate(tracker([FIRST, *closing, later], slots={"last_consultation_id": first["consultation_id"]}))
    old, new = sorted(records_of(SENDER), key=lambda r: r["id"])
    assert [m["text"] for m in old["messages"]] == [FIRST["text"]]
    assert [m["text"] for m in new["messages"]] == [later["text"]]


def test_timer_reminders_in_between_are_not_messages():
    reminder = {"event": "user", "timestamp": T2 - 1, "text": "EXTERNAL: ask_time_limit",
                "parse_data": {"text": "EXTERNAL: ask_time_limit", "intent": {"name": "ask_time_limit"}},
                "metadata": {}}
    first = validate(tracker([FIRST]))
    validate(tracker([FIRST, reminder, SECOND], slots=first))
    (record,) = records_of(SENDER)
    assert [m["text"] for m in record["messages"]] == [FIRST["text"], SECOND["text"]]


def test_a_turn_sent_again_after_its_server_died_mid_turn_is_recorded_once():
    # The first attempts at FIRST and SECOND reached this action server, but their Rasa server was
    # killed before saving the conversation; the employee sent each again (to another server), so
    # Rasa's tracker holds only the second attempt, with a later timestamp.
    # (Rasa saves nothing of a new conversation before its first turn ends: the retried first
    # turn's session start is later than the lost attempt)
    validate(tracker([FIRST]))
    greeting = {"event": "session_started", "timestamp": T1 + 19}
    retried_first = {**FIRST, "timestamp": T1 + 20}
    first = validate(tracker([greeting, retried_first]))
    bot_reply = {"event": "bot", "timestamp": T1 + 21, "text": "お話を聞かせてください。"}
    validate(tracker([greeting, retried_first, bot_reply, SECOND], slots=first))
    retried_second = {**SECOND, "timestamp": T2 + 30}
    second = validate(tracker([greeting, retried_first, bot_reply, retried_second], slots=first))
    (record,) = records_of(SENDER)
    assert [m["text"] for m in record["messages"]] == [FIRST["text"], SECOND["text"]]
    # the same words sent again once the conversation holds them are a new message
    again = user(SECOND["text"], T3, "inform", [entity("behavior", "dogeza_demand")])
    validate(tracker([greeting, retried_first, bot_reply, retried_second, bot_reply | {"timestamp": T2 + 31}, again],
                     slots=first | second))
    (record,) = records_of(SENDER)
    assert [m["text"] for m in record["messages"]] == [FIRST["text"], SECOND["text"], SECOND["text"]]


def test_the_same_words_again_are_stored_when_the_tracker_holds_no_earlier_message():
    # A compact tracker (bot/rasa/compact_store.py) may hold only the latest message: the record
    # already has the same words from minutes ago; the slot tells they were saved before this turn.
    yes = user("/affirm", T2, "affirm")
    first = validate(tracker([FIRST]))
    second = validate(tracker([FIRST, yes], slots=first))
    yes_again = {**yes, "timestamp": T3}
    validate(tracker([yes_again], slots=first | second))
    (record,) = records_of(SENDER)
    assert [m["text"] for m in record["messages"]] == [FIRST["text"], "/affirm", "/affirm"]


def test_a_first_message_long_after_an_open_record_of_the_same_conversation_starts_a_new_one():
    validate(tracker([FIRST]))  # never closed; its conversation expired from the tracker store
    later = {**FIRST, "timestamp": T1 + 3600}
    validate(tracker([later]))
    assert len(records_of(SENDER)) == 2


# --- the store, on SQLite and PostgreSQL ------------------------------------------------------------


def test_the_store_starts_a_record_once_per_start_time_and_stores_a_message_once(database_url):
    store = ConsultationStore(database_url)
    try:
        at = datetime(2026, 12, 1, 9, 0, 0, 123456, tzinfo=timezone.utc)
        first = store.start("conv-1", "rest", started_at=at)
        assert store.start("conv-1", "rest", started_at=at) == first
        assert store.start("conv-1", "rest", started_at=at + timedelta(microseconds=1)) != first
        assert store.start("conv-2", "rest", started_at=at) != first
        store.record_turn(first, "窓口です", sent_at=at)
        store.record_turn(first, "窓口です", sent_at=at, ongoing=True)
        store.add_message(first, "窓口です", sent_at=at)
        store.add_message(first, "窓口です", sent_at=at + timedelta(seconds=1))  # said again later: kept
        store.record_turn(first, "別の文", sent_at=at)
        record = store.get(first)
        assert [m["text"] for m in record["messages"]] == ["窓口です", "別の文", "窓口です"]
        assert record["ongoing"] is True
        store.close(first)
        assert store.start("conv-1", "rest", started_at=at) != first  # a closed record is not reopened
    finally:
        store.dispose()
