"""The rehearsal mode's Rasa actions (actions/rehearsal.py) against tracker fixtures, and the
consultation record left alone while rehearsing."""
from __future__ import annotations

import asyncio

import pytest
import yaml
from rasa_sdk.executor import CollectingDispatcher

from actions import rehearsal, services
from actions.facts import ValidateSlotMappings
from bot.codes import REHEARSAL_FORM
from bot.records import ConsultationStore
from bot.settings import PROJECT_ROOT
from bot.training_records import TrainingStore
from tests.rehearsal_runs import GOOD_RUNS
from tests.trackers import make_tracker

DOMAIN = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
SLACK_MAX_BUTTONS = 25
CACHED = (services.process_services, rehearsal.training_store, rehearsal.library)


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'records.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    for cached in CACHED:
        cached.cache_clear()
    yield url
    for cached in CACHED:
        cached.cache_clear()


def run(action, tracker):
    dispatcher = CollectingDispatcher()
    return asyncio.run(action.run(dispatcher, tracker, DOMAIN)), dispatcher.messages


def slots(events):
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def turn(state, text, sender="trainee-1"):
    tracker = make_tracker(text, intent="inform", active_loop=REHEARSAL_FORM, sender_id=sender,
                           slots={"rehearsal_state": state, "rehearsal_input": text, "requested_slot": "rehearsal_input"},
                           set_this_turn=("rehearsal_input",))
    events, messages = run(rehearsal.ValidateRehearsalForm(), tracker)
    return slots(events), messages


def test_the_form_asks_with_the_menu_once_then_stays_quiet():
    events, messages = run(rehearsal.AskRehearsalInput(), make_tracker("研修モード", intent="rehearsal_start"))
    assert slots(events) == {"rehearsal_state": {"mode": "menu"}}
    assert messages[0]["text"].startswith("【研修】研修モードです")
    assert [b["payload"] for b in messages[0]["buttons"]] == ["ロールプレイ", "事例検討", "正当なクレームとの違い", "研修を終える"]
    events, messages = run(rehearsal.AskRehearsalInput(), make_tracker("x", slots={"rehearsal_state": {"mode": "menu"}}))
    assert events == [] and messages == []


def test_a_role_play_through_the_validation_keeps_the_form_going_and_saves_the_score(isolated):
    state = {"mode": "menu"}
    every_message = []
    for text in ["ロールプレイ", "1", *GOOD_RUNS["01_time_restraint"]]:
        changes, messages = turn(state, text)
        assert changes["rehearsal_input"] is None  # the form asks again: the mode goes on
        state = changes["rehearsal_state"]
        every_message += messages
    assert state["mode"] == "after"
    assert all(set(m) <= {"text", "buttons", "template", "response", "image", "json_message", "elements",
                          "attachment", "custom"} for m in every_message)
    assert all(len(m.get("buttons") or []) <= SLACK_MAX_BUTTONS for m in every_message)
    [record] = TrainingStore(isolated).list()
    assert (record["trainee"], record["kind"], record["grade"], record["source_channel"]) == ("trainee-1", "roleplay", "A", "rest")
    changes, messages = turn(state, "研修を終える")
    assert changes == {"rehearsal_input": rehearsal.DONE, "rehearsal_state": None}
    events, _ = run(rehearsal.EndRehearsal(), make_tracker("研修を終える"))
    assert slots(events) == {"rehearsal_input": None, "rehearsal_state": None}


def test_nothing_of_the_rehearsal_reaches_the_consultation_record(isolated):
    tracker = make_tracker("研修モード", intent="rehearsal_start", slots={"consultation_id": None})
    assert run(ValidateSlotMappings(), tracker)[0] == []
    tracker = make_tracker("窓口で1時間も怒鳴られています。いつまで対応すれば？", intent="report_incident",
                           active_loop=REHEARSAL_FORM)
    assert run(ValidateSlotMappings(), tracker)[0] == []
    assert ConsultationStore(isolated).list() == []


def test_a_training_record_that_cannot_be_saved_is_said_and_the_mode_goes_on(monkeypatch):
    class BrokenStore:
        def save(self, *args, **kwargs):
            raise OSError("disk full")

    monkeypatch.setattr(rehearsal, "training_store", lambda: BrokenStore())
    state = {"mode": "menu"}
    for text in ["ロールプレイ", "1", *GOOD_RUNS["01_time_restraint"]]:
        changes, messages = turn(state, text)
        state = changes["rehearsal_state"]
    assert state["mode"] == "after"
    assert messages[-1]["text"] == "【研修】結果を保存できませんでした。画面の採点結果を控えてください。"
