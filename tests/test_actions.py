"""The custom actions against tracker fixtures: events returned, messages dispatched, records written."""
from __future__ import annotations

import asyncio
import time

import pytest
import yaml
from rasa_sdk.executor import CollectingDispatcher

from actions import services
from actions.consultation_form import ValidateConsultationForm
from actions.facts import ValidateSlotMappings
from actions.stages import (
    ActionAssess,
    ActionCloseConsultation,
    ActionEscalation,
    ActionSafety,
    ActionShowRecord,
    ActionTimeBox,
    ActionTriage,
)
from bot.settings import PROJECT_ROOT, load_organization
from tests.trackers import entity, make_tracker

DOMAIN = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def isolated_services(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'records.db'}")
    organization_file = tmp_path / "organization.yml"
    organization_file.write_text(
        "name: テスト町役場\n"
        "time_limit: {minutes: 20, warn_before_minutes: 5}\n"
        "contacts:\n"
        "  supervisor: {name: 総務課長, phone: 内線 101}\n"
        "  consultation_desk: {name: 人事課 相談窓口, phone: 内線 202}\n"
        "  occupational_health: {name: 健康管理室, phone: 内線 303}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("ORGANIZATION_FILE", str(organization_file))
    services.consultation_store.cache_clear()
    load_organization.cache_clear()
    yield
    services.consultation_store.cache_clear()
    load_organization.cache_clear()


def run(action, tracker, domain=None):
    dispatcher = CollectingDispatcher()
    result = action.run(dispatcher, tracker, domain or DOMAIN)
    events = asyncio.run(result) if asyncio.iscoroutine(result) else result
    return events, [message.get("text") or "" for message in dispatcher.messages], dispatcher.messages


def slot_events(events):
    return {event["name"]: event["value"] for event in events if event.get("event") == "slot"}


def test_first_message_fills_every_fact_it_carries_and_opens_a_record():
    tracker = make_tracker(
        "窓口で1時間半も怒鳴られ、土下座しろと言われた",
        intent="report_incident",
        entities=[entity("channel", "counter"), entity("behavior", "intimidation"),
                  entity("behavior", "dogeza_demand")],
    )
    events, _, _ = run(ValidateSlotMappings(), tracker)
    slots = slot_events(events)
    assert slots["behaviors"] == ["intimidation", "dogeza_demand"]
    assert slots["situation_channel"] == "counter"
    assert slots["elapsed_minutes"] == 90
    record = services.consultation_store().get(slots["consultation_id"])
    assert record["status"] == "open"
    assert record["source_channel"] == "rest"
    assert record["behaviors"] == ["intimidation", "dogeza_demand"]
    assert record["situation_channel"] == "counter"
    assert [m["text"] for m in record["messages"]] == ["窓口で1時間半も怒鳴られ、土下座しろと言われた"]


def test_later_messages_add_behaviours_without_losing_earlier_ones():
    store = services.consultation_store()
    record_id = store.start("employee-1", "slack")
    tracker = make_tracker(
        "今度は殺すぞと言われました",
        intent="report_incident",
        entities=[entity("behavior", "threat")],
        slots={"consultation_id": record_id, "behaviors": ["verbal_abuse"], "ongoing": True},
    )
    events, _, _ = run(ValidateSlotMappings(), tracker)
    slots = slot_events(events)
    assert slots["behaviors"] == ["verbal_abuse", "threat"]
    assert slots["danger"] is True
    assert "consultation_id" not in slots
    assert store.get(record_id)["behaviors"] == ["verbal_abuse", "threat"]


def test_small_talk_before_a_consultation_stores_nothing():
    events, _, _ = run(ValidateSlotMappings(), make_tracker("ありがとう", intent="thank"))
    assert events == []
    assert services.consultation_store().list() == []


def test_emergency_marks_danger_and_a_live_case():
    events, _, _ = run(ValidateSlotMappings(), make_tracker("助けて、刃物を出してきた", intent="emergency"))
    slots = slot_events(events)
    assert slots["danger"] is True
    assert slots["ongoing"] is True
    assert isinstance(slots["case_started_at"], float)


def test_form_repeats_the_demand_back():
    tracker = make_tracker("市長を出せ", intent="report_incident",
                           slots={"demand": "市長を出せ", "requested_slot": "demand", "ongoing": False,
                                  "situation_channel": "phone", "initial_response_given": True},
                           active_loop="consultation_form", set_this_turn=("demand",))
    events, texts, _ = run(ValidateConsultationForm(), tracker)
    assert slot_events(events)["demand"] == "市長を出せ"
    assert any("ご希望ということで" in text for text in texts)
    assert not any("「市長を出せ」" in text for text in texts)  # a polite paraphrase, never the rough words


def test_form_gives_the_initial_response_once_live_and_channel_are_known():
    tracker = make_tracker("/affirm", intent="affirm",
                           slots={"ongoing": True, "situation_channel": "phone", "requested_slot": "ongoing"},
                           active_loop="consultation_form", set_this_turn=("ongoing",))
    events, texts, _ = run(ValidateConsultationForm(), tracker)
    assert slot_events(events)["initial_response_given"] is True
    advice = "\n".join(texts)
    assert "お礼" in advice and "検討します" in advice and "お電話ありがとうございます" in advice


def test_triage_puts_safety_first_when_there_is_danger():
    tracker = make_tracker("胸ぐらをつかまれた", intent="report_incident",
                           slots={"danger": True, "behaviors": ["physical_attack"], "situation_channel": "counter"})
    events, texts, _ = run(ActionTriage(), tracker)
    assert "安全" in texts[0] and "110" in texts[0]
    assert slot_events(events)["stage"] == "safety"


def test_safety_action_offers_what_to_tell_the_police():
    events, texts, messages = run(ActionSafety(), make_tracker("助けて", intent="emergency"))
    assert "110" in texts[0]
    assert messages[0]["buttons"][0]["payload"] == "/ask_escalation"
    assert slot_events(events)["safety_given"] is True


def test_assessment_reaches_the_record_and_the_employee():
    store = services.consultation_store()
    record_id = store.start("employee-1", "rest")
    tracker = make_tracker("/deny", intent="deny", slots={
        "consultation_id": record_id, "ongoing": False, "situation_channel": "counter",
        "behaviors": ["verbal_abuse", "dogeza_demand"], "our_fault": True, "demand_related": True})
    events, texts, messages = run(ActionAssess(), tracker)
    assert slot_events(events) == {"verdict": "harassment", "stage": "judgement"}
    record = store.get(record_id)
    assert record["verdict"] == "harassment"
    assert "supervisor" in record["escalations"] and "consultation_desk" in record["escalations"]
    assert "カスタマーハラスメント" in texts[0]
    assert [b["payload"] for b in messages[0]["buttons"]][0] == "/ask_details"


def test_time_box_for_a_phone_call_near_the_limit_shows_elapsed_time_and_closing_words():
    started = time.time() - 18 * 60
    tracker = make_tracker("いつまで続ければ", intent="ask_time_limit",
                           slots={"ongoing": True, "situation_channel": "phone", "case_started_at": started})
    _, texts, _ = run(ActionTimeBox(), tracker)
    assert "約18分" in texts[0] and "20分" in texts[0]
    assert "電話を切" in texts[0]
    assert "施設の管理者" not in texts[0]


def test_time_box_at_the_counter_includes_leaving_and_final_warning():
    tracker = make_tracker("いつまで", intent="ask_time_limit", slots={"ongoing": True, "situation_channel": "counter"})
    _, texts, _ = run(ActionTimeBox(), tracker)
    assert "施設の管理者として" in texts[0] and "警察に通報いたします" in texts[0]


def test_escalation_names_the_organisations_own_contacts():
    tracker = make_tracker("誰に言えば", intent="ask_escalation",
                           slots={"ongoing": True, "behaviors": ["physical_attack"], "danger": True})
    _, texts, _ = run(ActionEscalation(), tracker)
    assert "総務課長（内線 101）" in texts[0]
    assert "人事課 相談窓口" in texts[0]
    assert "110番" in texts[0]


def test_closing_closes_the_record_and_resets_for_the_next_case():
    store = services.consultation_store()
    record_id = store.start("employee-1", "rest")
    tracker = make_tracker("終わりました", intent="finish", slots={
        "consultation_id": record_id, "ongoing": False, "situation_channel": "phone", "demand": "返金しろ",
        "behaviors": [], "our_fault": False, "demand_related": True})
    events, texts, _ = run(ActionCloseConsultation(), tracker)
    record = store.get(record_id)
    assert record["status"] == "closed" and record["closed_at"]
    assert record["verdict"] == "gray"  # no fault of ours says nothing yet about the demand's basis
    assert f"No.{record_id}" in texts[0] and "返金しろ" in texts[0]
    assert "健康管理室（内線 303）" in texts[1]
    assert {"event": "reset_slots"} in [{k: v for k, v in e.items() if k == "event"} for e in events]
    assert slot_events(events)["last_consultation_id"] == record_id


def test_show_record_without_a_consultation_says_so():
    _, texts, _ = run(ActionShowRecord(), make_tracker("記録見せて", intent="show_record"))
    assert "まだ記録はありません" in texts[0]


def test_questions_show_the_elapsed_time_near_the_limit_and_offer_dont_know():
    from actions.questions import ASK_ACTIONS

    ask_demand = next(action for action in ASK_ACTIONS if action().name() == "action_ask_demand")
    tracker = make_tracker("/affirm", intent="affirm",
                           slots={"ongoing": True, "case_started_at": time.time() - 16 * 60})
    _, texts, messages = run(ask_demand(), tracker)
    assert "約16分" in texts[0]
    assert "要求" in texts[1]
    assert messages[1]["buttons"] == [{"title": "わからない", "payload": "/dont_know"}]


def test_every_form_slot_has_a_question():
    from actions.questions import ASK_ACTIONS, FORM_SLOTS

    assert sorted(action().name() for action in ASK_ACTIONS) == sorted(f"action_ask_{s}" for s in FORM_SLOTS)
    assert list(FORM_SLOTS) == DOMAIN["forms"]["consultation_form"]["required_slots"]


def test_restart_starts_a_new_conversation():
    from actions.restart import ActionRestart

    events, texts, _ = run(ActionRestart(), make_tracker("最初から", intent="restart"))
    assert events == [{"event": "restart", "timestamp": None}]
    assert "最初から" in texts[0]


def test_a_message_extracted_twice_is_stored_once():
    """Rasa runs slot extraction again when the form activates on the same message."""
    tracker = make_tracker("窓口で怒鳴られています", intent="report_incident",
                           entities=[entity("behavior", "intimidation")])
    first, _, _ = run(ValidateSlotMappings(), tracker)
    slots = slot_events(first)
    again = make_tracker("窓口で怒鳴られています", intent="report_incident",
                         entities=[entity("behavior", "intimidation")], slots=slots)
    second, _, _ = run(ValidateSlotMappings(), again)
    record = services.consultation_store().get(slots["consultation_id"])
    assert [m["text"] for m in record["messages"]] == ["窓口で怒鳴られています"]
    assert slot_events(second) == {}
