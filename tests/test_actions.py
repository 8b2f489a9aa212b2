"""The custom actions against tracker fixtures: events returned, messages dispatched, records written."""
from __future__ import annotations

import asyncio
import time

import pytest
import yaml
from rasa_sdk import ActionExecutionRejection
from rasa_sdk.executor import CollectingDispatcher

from actions import services
from actions.consultation_form import ValidateConsultationForm, ValidateDetailsForm, questions_before_judgement
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
from bot.codes import CONSULTATION_FORM, DETAILS_FORM, Behavior
from bot.settings import PROJECT_ROOT
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
    services.process_services.cache_clear()
    yield
    services.process_services.cache_clear()


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
    assert slots["suggested_behaviors"] == ["intimidation", "dogeza_demand"]
    assert slots["situation_channel"] == "counter"
    assert slots["elapsed_minutes"] == 90
    record = services.consultation_store().get(slots["consultation_id"])
    assert record["status"] == "open"
    assert record["source_channel"] == "rest"
    assert record["behaviors"] == ["intimidation", "dogeza_demand"]
    assert record["situation_channel"] == "counter"
    assert [m["text"] for m in record["messages"]] == ["窓口で1時間半も怒鳴られ、土下座しろと言われた"]


def test_later_conduct_is_kept_with_the_earlier_and_awaits_confirmation():
    store = services.consultation_store()
    record_id = store.start("employee-1", "slack")
    tracker = make_tracker(
        "今度は何度も押しかけてきました",
        intent="report_incident",
        entities=[entity("behavior", "persistent")],
        slots={"consultation_id": record_id, "behaviors": ["verbal_abuse"], "ongoing": True},
    )
    events, _, _ = run(ValidateSlotMappings(), tracker)
    slots = slot_events(events)
    assert slots["suggested_behaviors"] == ["verbal_abuse", "persistent"] and slots["behaviors"] is None
    assert "consultation_id" not in slots
    assert store.get(record_id)["behaviors"] == ["verbal_abuse", "persistent"]


def test_an_unknown_payload_is_flagged_and_not_stored():
    store = services.consultation_store()
    record_id = store.start("employee-1", "rest")
    tracker = make_tracker("/no_such_button", intent="restart", slots={"consultation_id": record_id})
    events, _, _ = run(ValidateSlotMappings(), tracker)
    assert slot_events(events) == {"unreadable_payload": True}
    assert store.get(record_id)["messages"] == []


def test_an_unknown_payload_never_restarts_or_closes_the_consultation():
    from actions.restart import ActionRestart

    store = services.consultation_store()
    record_id = store.start("employee-1", "rest")
    slots = {"consultation_id": record_id, "unreadable_payload": True}
    for action in (ActionRestart(), ActionCloseConsultation()):
        events, _, messages = run(action, make_tracker("/no_such_button", intent="restart", slots=slots))
        assert events == [] and messages[0]["response"] == "utter_default"
    assert store.get(record_id)["status"] == "open"


def test_the_form_steps_aside_for_the_employees_own_questions_and_unknown_buttons():
    for intent, slots in (("ask_help", {}), ("finish", {}), ("deny", {"unreadable_payload": True})):
        tracker = make_tracker("x", intent=intent, active_loop="consultation_form",
                               slots={"requested_slot": "ongoing", **slots})
        with pytest.raises(ActionExecutionRejection) as rejected:
            run(ValidateConsultationForm(), tracker)
        assert rejected.value.action_name == "consultation_form"


def test_after_the_second_miss_the_bot_says_so_and_moves_on():
    store = services.consultation_store()
    record_id = store.start("employee-1", "rest")
    tracker = make_tracker("さあ…", intent="out_of_scope", active_loop="consultation_form", slots={
        "consultation_id": record_id, "requested_slot": "our_fault", "question_misses": {"our_fault": 1}})
    events, texts, _ = run(ValidateSlotMappings(), tracker)
    assert slot_events(events)["our_fault"] == "unknown"
    assert "先に進みます" in texts[0]


def test_small_talk_before_a_consultation_stores_nothing():
    events, _, _ = run(ValidateSlotMappings(), make_tracker("ありがとう", intent="thank"))
    assert "consultation_id" not in slot_events(events)
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
                           active_loop="details_form", set_this_turn=("demand",))
    events, texts, _ = run(ValidateDetailsForm(), tracker)
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
    assert "お疲れさまでした" in texts[1]
    assert {"event": "reset_slots"} in [{k: v for k, v in e.items() if k == "event"} for e in events]
    assert slot_events(events)["last_consultation_id"] == record_id


def test_show_record_without_a_consultation_says_so():
    _, texts, _ = run(ActionShowRecord(), make_tracker("記録見せて", intent="show_record"))
    assert "まだ記録はありません" in texts[0]


def ask(slot, slots=None, form=CONSULTATION_FORM):
    """actions.questions.ask as the forms' validation actions call it: slot changes, texts, messages."""
    from actions.questions import ask as send_question
    from tests.trackers import SLOT_NAMES

    dispatcher = CollectingDispatcher()
    changes = send_question(dispatcher, {**{name: None for name in SLOT_NAMES}, **(slots or {})}, slot, form)
    return changes, [message.get("text") or "" for message in dispatcher.messages], dispatcher.messages


def test_questions_show_the_elapsed_time_near_the_limit_and_offer_dont_know():
    _, texts, messages = ask("demand", {"ongoing": True, "case_started_at": time.time() - 16 * 60})
    assert "約16分" in texts[0]
    assert "要求" in texts[1]
    assert messages[1]["buttons"] == [{"title": "わからない", "payload": "/dont_know"}]


def test_every_form_slot_has_a_question_and_no_ask_action():
    for form in (CONSULTATION_FORM, DETAILS_FORM):
        for slot in DOMAIN["forms"][form]["required_slots"]:
            _, texts, _ = ask(slot, form=form)
            assert texts[-1], slot
    # the validation actions ask: Rasa's form must find no action or response to ask with
    assert not [name for name in DOMAIN["actions"] + list(DOMAIN["responses"])
                if name.startswith(("action_ask_", "utter_ask_")) and name != "action_ask_rehearsal_input"]


def test_the_form_validation_asks_the_next_question_itself():
    tracker = make_tracker("/deny", intent="deny", active_loop="consultation_form",
                           slots={"ongoing": False, "requested_slot": "ongoing"}, set_this_turn=("ongoing",))
    events, texts, messages = run(ValidateConsultationForm(), tracker)
    slots = slot_events(events)
    assert slots["requested_slot"] == "behaviors" and slots["asked"] == ["behaviors"]
    assert messages[-1]["buttons"][-1]["payload"] == "/dont_know"  # the conduct question, last
    details = make_tracker("/deny", intent="deny", active_loop="details_form",
                           slots={"verdict": "gray", "ongoing": False, "behaviors": [], "requested_slot": "recorded",
                                  "recorded": False}, set_this_turn=("recorded",))
    events, _, messages = run(ValidateDetailsForm(), details)
    assert slot_events(events)["requested_slot"] == "departure_step"
    assert slot_events(events)["details_asked"] is True
    assert messages[-1]["buttons"][-1]["title"] == "残りの質問はとばす"


CONSULTATION_SLOTS = DOMAIN["forms"]["consultation_form"]["required_slots"]


def first_questions(slots):
    return questions_before_judgement(slots, CONSULTATION_SLOTS, time.time(), 30)


def test_at_most_three_questions_before_the_first_judgement():
    assert first_questions({}) == ["ongoing", "behaviors", "demand_basis"]
    # stated unasked: costs no question (our fault also settles the demand's basis)
    stated = {"ongoing": True, "our_fault": True}
    assert first_questions(stated) == ["behaviors", "demand_related",
                                                                         "situation_channel"]
    # answered questions keep their place, so the list does not grow
    answered = {"ongoing": True, "behaviors": [], "asked": ["ongoing", "behaviors"]}
    assert first_questions(answered) == ["ongoing", "behaviors", "demand_basis"]
    # a refusal to leave or a remark to ask to stop brings its own question forward
    stays = {"ongoing": True, "behaviors": ["detention"], "refused_to_leave": True}
    assert first_questions(stays)[0] == "departure_step"
    rude = {"ongoing": True, "behaviors": ["verbal_abuse"]}
    assert first_questions(rude)[0] == "warnings_given"
    # after the judgement only new conduct is confirmed here
    assert first_questions({"verdict": "gray", "behaviors": None}) == ["behaviors"]
    assert first_questions({"verdict": "gray", "behaviors": []}) == []
    # a threat to expose online: whether it was public decides threat or defamation, so it is asked
    exposed = {"ongoing": False, "behaviors": ["sns_exposure"]}
    assert "public" in first_questions(exposed)
    # an insult label is no reason for a question before the first judgement
    assert "public" not in first_questions(rude)
    # past the limit with a valid demand: whether it is in deadlock decides time restraint
    long_valid = {"ongoing": False, "behaviors": [], "elapsed_minutes": 60, "demand_basis": "within_service"}
    assert first_questions(long_valid)[0] == "deadlock"
    assert "deadlock" not in first_questions({**long_valid, "elapsed_minutes": 20})
    assert "deadlock" not in first_questions({**long_valid, "demand_basis": "no_basis"})


def test_the_conduct_read_is_shown_as_toggles_to_confirm():
    changes, texts, messages = ask("behaviors", {"suggested_behaviors": ["intimidation"], "requested_slot": "behaviors"})
    assert "威圧的な言動" in texts[0]
    assert [b["title"] for b in messages[0]["buttons"]] == ["合っています", "ほかにもある", "どれも違う"]
    choices = messages[0]["custom"]["data"]["choices"]
    options = [option for group in choices["groups"] for option in group["options"]]
    assert sorted(o["code"] for o in options) == sorted(b.value for b in Behavior)
    assert [o["code"] for o in options if o["selected"]] == ["intimidation"]
    assert changes["asked"] == ["behaviors"]


def test_the_conduct_question_offers_the_groups_then_one_groups_codes():
    _, _, messages = ask("behaviors", {"requested_slot": "behaviors"})
    titles = [b["title"] for b in messages[0]["buttons"]]
    assert titles[:4] == ["暴力・脅し・居座り", "暴言・威圧・差別", "無理な要求・謝罪の強要", "しつこさ・ネット・性的な言動"]
    assert titles[-2:] == ["特にない", "わからない"]
    _, _, group = ask("behaviors", {"requested_slot": "behaviors", "behavior_group": "danger"})
    payloads = [b["payload"] for b in group[0]["buttons"]]
    assert '/inform{"behavior": ["threat"], "behavior_group": "danger"}' in payloads


def test_a_second_try_is_short_and_offers_dont_know():
    _, texts, messages = ask("demand_related", {"question_misses": {"demand_related": 1}})
    assert texts[0] == "要求がこちらの業務に関係するかどうかだけ、選んでください。"
    assert messages[0]["buttons"][-1] == {"title": "わからない", "payload": "/dont_know"}


def test_a_live_case_past_the_limit_gets_the_closing_script_at_once():
    tracker = make_tracker("窓口でもう40分怒鳴られています", intent="report_incident", slots={
        "ongoing": True, "situation_channel": "counter", "case_started_at": time.time() - 40 * 60})
    events, texts, _ = run(ActionTriage(), tracker)
    advice = "\n".join(texts)
    assert "終了の予告" in advice and "お礼を伝える" not in advice
    assert slot_events(events)["time_notice_shown"] == "over"


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


def test_the_tracker_fixture_knows_every_domain_slot():
    from tests.trackers import SLOT_NAMES

    assert set(DOMAIN["slots"]) | {"requested_slot"} == set(SLOT_NAMES)


def test_moments_with_their_own_words_are_answered_at_once_and_once():
    tracker = make_tracker("上司を出せと言われて、スマホで撮影されています", intent="report_incident",
                           slots={"ongoing": True, "situation_channel": "counter"})
    events, texts, _ = run(ActionTriage(), tracker)
    advice = "\n".join(texts)
    assert "「上司を出せ」の言い方の例" in advice and "撮影されたときの言い方の例" in advice
    advised = slot_events(events)["moments_advised"]
    assert advised == ["supervisor_demand", "filming"]
    again = make_tracker("また上司を出せと", intent="report_incident",
                         slots={"ongoing": True, "situation_channel": "counter", "moments_advised": advised,
                                "initial_response_given": True})
    _, texts, _ = run(ActionTriage(), again)
    assert not any("上司を出せ" in text for text in texts)


def test_a_customer_speaking_of_taking_their_life_gets_words_for_it_at_once():
    tracker = make_tracker("死んでやると言っています", intent="report_incident",
                           slots={"self_harm": True, "ongoing": True, "situation_channel": "phone"})
    _, texts, _ = run(ActionTriage(), tracker)
    assert any("命を守る声かけ" in text for text in texts)


def test_the_questions_after_the_judgement_can_be_skipped():
    changes, _, messages = ask("identified", {"verdict": "gray"}, form=DETAILS_FORM)
    assert messages[0]["buttons"][-1] == {"title": "残りの質問はとばす", "payload": '/dont_know{"skip":"all"}'}
    assert changes["details_asked"] is True
