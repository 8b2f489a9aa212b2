"""Time-box deadlines and which reminders are due (bot/timers.py), and the deadline the actions store."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions import services
from actions.facts import ValidateSlotMappings
from actions.timers import deadline_fields, is_external
from bot.timers import ReminderKind, deadline_at, due_reminders, next_due_at, reminder_times
from tests.trackers import make_tracker

NEAR, REACHED = ReminderKind.NEAR, ReminderKind.REACHED
T0 = datetime(2025, 1, 6, 1, 0, tzinfo=timezone.utc)
DEADLINE = T0 + timedelta(minutes=30)
WARN = timedelta(minutes=5)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def kinds(dues, sent=True):
    return [d.kind for d in dues if d.send is sent]


# --- deadline --------------------------------------------------------------------------------
def test_deadline_of_a_live_exchange_is_start_plus_limit():
    started = T0.timestamp()
    assert deadline_at({"ongoing": True, "case_started_at": started}, 30) == DEADLINE
    assert deadline_at({"ongoing": True, "case_started_at": int(started)}, 0) == T0


@pytest.mark.parametrize(
    "slots",
    [
        {"ongoing": False, "case_started_at": 1700000000.0},
        {"ongoing": "unknown", "case_started_at": 1700000000.0},
        {"ongoing": None, "case_started_at": 1700000000.0},
        {"ongoing": True, "case_started_at": None},
        {"ongoing": True, "case_started_at": True},
        {"ongoing": True, "case_started_at": "1700000000"},
        {},
    ],
)
def test_no_deadline_unless_the_exchange_is_live_with_a_start_time(slots):
    assert deadline_at(slots, 30) is None


def test_deadline_is_timezone_aware_utc():
    deadline = deadline_at({"ongoing": True, "case_started_at": 1700000000.0}, 30)
    assert deadline.utcoffset() == timedelta(0)
    assert deadline.timestamp() == 1700000000.0 + 1800


def test_reminder_times_warn_before_the_deadline_and_at_it():
    assert reminder_times(DEADLINE, WARN) == {NEAR: at(25), REACHED: at(30)}
    assert reminder_times(DEADLINE, timedelta(minutes=-3)) == {NEAR: DEADLINE, REACHED: DEADLINE}


# --- which reminders are due -------------------------------------------------------------------
def test_nothing_is_due_before_the_warning_time():
    assert due_reminders(DEADLINE, at(24.99), WARN) == []


def test_near_is_due_from_the_warning_time_until_the_deadline():
    dues = due_reminders(DEADLINE, at(25), WARN)
    assert kinds(dues) == [NEAR] and dues[0].due_at == at(25)
    assert kinds(due_reminders(DEADLINE, at(29.9), WARN)) == [NEAR]


def test_a_sent_near_is_not_due_again():
    assert due_reminders(DEADLINE, at(27), WARN, done=[NEAR]) == []
    assert due_reminders(DEADLINE, at(27), WARN, done=["near"]) == []


def test_reached_is_due_at_the_deadline_once_near_was_sent():
    dues = due_reminders(DEADLINE, at(30), WARN, done=[NEAR])
    assert kinds(dues) == [REACHED] and dues[0].due_at == DEADLINE
    assert due_reminders(DEADLINE, at(45), WARN, done=[NEAR, REACHED]) == []


def test_after_the_deadline_an_unsent_near_is_superseded_by_reached():
    dues = due_reminders(DEADLINE, at(31), WARN)
    assert kinds(dues) == [REACHED]
    assert [(d.kind, d.reason) for d in dues if not d.send] == [(NEAR, "superseded")]


def test_without_a_warning_period_only_reached_is_sent():
    dues = due_reminders(DEADLINE, at(30), timedelta(0))
    assert kinds(dues) == [REACHED] and kinds(dues, sent=False) == [NEAR]
    assert due_reminders(DEADLINE, at(29.99), timedelta(0)) == []


def test_a_warning_period_longer_than_the_limit_warns_at_once():
    # limit 3 min, warn 5 min: the exchange started 3 min before the deadline, near is due already.
    assert kinds(due_reminders(at(3), at(0), WARN)) == [NEAR]


def test_reminders_too_late_are_marked_done_without_sending():
    late = timedelta(minutes=10)
    assert kinds(due_reminders(DEADLINE, at(39), WARN, done=[NEAR], max_late=late)) == [REACHED]
    dues = due_reminders(DEADLINE, at(41), WARN, max_late=late)
    assert kinds(dues) == []
    assert {(d.kind, d.reason) for d in dues} == {(NEAR, "expired"), (REACHED, "expired")}


def test_next_due_at():
    assert next_due_at(DEADLINE, WARN) == at(25)
    assert next_due_at(DEADLINE, WARN, done=[NEAR]) == DEADLINE
    assert next_due_at(DEADLINE, WARN, done=[NEAR, REACHED]) is None


# --- the deadline the actions keep with the record ----------------------------------------------
@pytest.fixture
def isolated_services(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'records.db'}")
    organization_file = tmp_path / "organization.yml"
    organization_file.write_text("name: テスト町役場\ntime_limit: {minutes: 20, warn_before_minutes: 5}\n", encoding="utf-8")
    monkeypatch.setenv("ORGANIZATION_FILE", str(organization_file))
    services.process_services.cache_clear()
    yield services
    services.process_services.cache_clear()


def validate(tracker):
    return asyncio.run(ValidateSlotMappings().run(CollectingDispatcher(), tracker, {}))


def slot_values(events):
    return {event["name"]: event["value"] for event in events if event.get("event") == "slot"}


def test_deadline_fields_use_the_organisations_limit(isolated_services):
    started = T0.timestamp()
    assert deadline_fields({"ongoing": True, "case_started_at": started}) == {"deadline_at": at(20)}
    assert deadline_fields({"ongoing": False, "case_started_at": started}) == {"deadline_at": None}


def test_a_live_case_stores_its_deadline_and_a_new_duration_moves_it(isolated_services):
    store = isolated_services.consultation_store()
    record_id = store.start("employee-1", "rest")
    slots = {"consultation_id": record_id, "ongoing": True}
    slots.update(slot_values(validate(make_tracker("窓口で10分ほど怒鳴られています", intent="report_incident", slots=slots))))
    first = datetime.fromisoformat(store.get(record_id)["deadline_at"])
    assert first.timestamp() == pytest.approx(slots["case_started_at"] + 20 * 60)
    assert store.open_deadlines() == [(record_id, "employee-1", first)]

    # "もう25分経った": the live clock restarts from the new duration, and so does the deadline.
    slots.update(slot_values(validate(make_tracker("もう25分経ちました", intent="inform", slots=slots))))
    second = datetime.fromisoformat(store.get(record_id)["deadline_at"])
    assert (first - second).total_seconds() == pytest.approx(15 * 60, abs=5)


def test_an_exchange_that_is_over_has_no_deadline(isolated_services):
    store = isolated_services.consultation_store()
    record_id = store.start("employee-1", "rest")
    store.update(record_id, deadline_at=at(20))
    validate(make_tracker("もう終わりました", intent="inform",
                          slots={"consultation_id": record_id, "ongoing": False, "elapsed_minutes": 40}))
    assert store.get(record_id)["deadline_at"] is None
    assert store.open_deadlines() == []


def test_a_triggered_reminder_is_not_an_employee_message(isolated_services):
    store = isolated_services.consultation_store()
    record_id = store.start("employee-1", "rest")
    tracker = make_tracker("EXTERNAL: ask_time_limit", intent="ask_time_limit",
                           slots={"consultation_id": record_id, "ongoing": True, "case_started_at": T0.timestamp()})
    assert validate(tracker) == []
    assert store.get(record_id)["messages"] == []
    # ... and it never opens a record of its own (e.g. right after the consultation was closed).
    assert validate(make_tracker("EXTERNAL: ask_time_limit", intent="ask_time_limit")) == []
    assert [r["id"] for r in store.list()] == [record_id]


def test_is_external():
    assert is_external({"text": "EXTERNAL: ask_time_limit"})
    assert is_external({"text": "", "metadata": {"is_external": True}})
    assert not is_external({"text": "いつまで対応すればいい？"})
    assert not is_external({})
