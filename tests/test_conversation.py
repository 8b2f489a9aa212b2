"""Slots in, facts and slot changes out: what one employee message does to the consultation."""
from __future__ import annotations

from bot.codes import Behavior, SituationChannel, Verdict
from bot.assessment import assess
from bot.conversation import (
    UNKNOWN,
    behaviors_confirmed,
    elapsed_minutes_now,
    facts_from_slots,
    gave_up_on,
    is_unknown_payload,
    quoted_words,
    record_fields,
    slot_changes_from_message,
    time_status,
    understood_behaviors,
    understood_facts,
)
from bot.prompts import selection_payload

NOW = 1_800_000_000.0


def behavior(code):
    return {"entity": "behavior", "value": code}


def changed(slots, *args, **kwargs):
    """The changes apart from conditional questions marked as not needed."""
    changes = slot_changes_from_message(slots, *args, **kwargs)
    return {name: value for name, value in changes.items() if value != "not_needed"}


def asked(slot, **slots):
    return {"requested_slot": slot, **slots}


def test_conduct_read_from_the_first_message_waits_for_confirmation():
    changes = changed(
        {}, "窓口で１時間半も怒鳴られ、土下座しろと言われた", "report_incident",
        [{"entity": "channel", "value": "counter"}, behavior("intimidation"), behavior("dogeza_demand")], NOW)
    assert changes == {"suggested_behaviors": ["intimidation", "dogeza_demand"], "situation_channel": "counter",
                       "elapsed_minutes": 90}
    assert not behaviors_confirmed(changes)


def test_the_confirmation_buttons_and_toggles():
    pending = asked("behaviors", suggested_behaviors=["intimidation", "threat"])
    confirmed = slot_changes_from_message(pending, "/affirm", "affirm", [], NOW)
    assert confirmed["behaviors"] == ["intimidation", "threat"] and confirmed["suggested_behaviors"] == []
    none = slot_changes_from_message(pending, "/deny", "deny", [], NOW)
    assert none["behaviors"] == [] and none["suggested_behaviors"] == []
    toggled = slot_changes_from_message(
        pending, selection_payload(["intimidation", "persistent"]), "inform",
        [behavior("intimidation"), behavior("persistent")], NOW)
    assert toggled["behaviors"] == ["intimidation", "persistent"]


def test_more_conduct_shows_the_groups_and_a_group_button_adds_one_code():
    pending = asked("behaviors", suggested_behaviors=["verbal_abuse"])
    more = changed(pending, '/inform{"behavior_group":"all"}', "inform",
                                     [{"entity": "behavior_group", "value": "all"}], NOW)
    assert more == {"behavior_group": "all"}
    assert "question_misses" not in more
    added = slot_changes_from_message(
        {**pending, **more}, '/inform{"behavior":["persistent"],"behavior_group":"other"}', "inform",
        [behavior("persistent"), {"entity": "behavior_group", "value": "other"}], NOW)
    assert added["behaviors"] == ["verbal_abuse", "persistent"] and added["behavior_group"] is None


def test_new_conduct_after_confirmation_is_confirmed_again_with_the_old():
    slots = {"behaviors": ["verbal_abuse"], "suggested_behaviors": []}
    assert changed(slots, "また怒鳴った", "report_incident", [behavior("verbal_abuse")], NOW) == {}
    changes = changed(slots, "何度も押しかけてくる", "report_incident", [behavior("persistent")], NOW)
    assert changes == {"behaviors": None, "suggested_behaviors": ["verbal_abuse", "persistent"]}


def test_unconfirmed_conduct_never_makes_a_crime():
    slots = {"suggested_behaviors": ["threat", "verbal_abuse"], "ongoing": True, "our_fault": False}
    facts = facts_from_slots(slots, NOW)
    assert facts.behaviors == frozenset({Behavior.VERBAL_ABUSE})
    assert assess(facts).verdict is not Verdict.CRIMINAL
    confirmed = facts_from_slots({**slots, "behaviors": ["threat", "verbal_abuse"], "suggested_behaviors": []}, NOW)
    assert assess(confirmed).verdict is Verdict.CRIMINAL


def test_conduct_read_from_text_is_not_danger_an_emergency_or_a_danger_cue_is():
    read = slot_changes_from_message({"ongoing": True}, "机をバンバンされた", "report_incident",
                                     [behavior("physical_attack")], NOW)
    assert "danger" not in read
    cue = slot_changes_from_message({"ongoing": True}, "刃物を出してきた", "report_incident", [], NOW)
    assert cue["danger"] is True
    quoted = slot_changes_from_message({}, "「クマを殺すな」という抗議の電話が続いています", "report_incident",
                                       [behavior("threat")], NOW)
    assert "danger" not in quoted
    emergency = slot_changes_from_message({}, "助けて", "emergency", [], NOW)
    assert emergency["danger"] is True and emergency["ongoing"] is True and emergency["case_started_at"] == NOW


def test_stated_facts_fill_their_slots_and_correct_earlier_answers():
    changes = slot_changes_from_message(
        {}, "こちらのミスで書類が届いておらず、録音しています。一人で対応しています", "report_incident", [], NOW)
    assert (changes["our_fault"], changes["recorded"], changes["alone"]) == (True, True, True)
    assert changes["demand_basis"] == "not_needed"  # our fault settles the demand's basis: not asked
    corrected = changed({"our_fault": True, "demand_basis": "not_needed"}, "やっぱり不備はなかった",
                                          "inform", [], NOW)
    assert corrected == {"our_fault": False, "demand_basis": None}
    longer = slot_changes_from_message({"elapsed_minutes": 30}, "いや、2時間です", "inform", [], NOW)
    assert longer["elapsed_minutes"] == 120


def test_warnings_and_what_followed_are_read_from_text():
    slots = {"behaviors": ["verbal_abuse"], "suggested_behaviors": []}
    changes = slot_changes_from_message(slots, "やめてくださいとお願いしたのに、まだ暴言が続いています", "report_incident",
                                        [behavior("verbal_abuse")], NOW)
    assert changes["warnings_given"] == "asked_to_stop" and changes["conduct_continued"] is True


def test_conditional_questions_apply_only_when_the_case_calls_for_them():
    none = slot_changes_from_message({}, "電話で苦情です", "report_incident", [], NOW)
    assert none["departure_step"] == none["warnings_given"] == none["conduct_continued"] == "not_needed"
    stays = slot_changes_from_message({"departure_step": "not_needed"}, "帰ってくださいと言ったのに居座っています",
                                      "report_incident", [], NOW)
    assert stays["refused_to_leave"] is True and stays["departure_step"] is None
    answered = slot_changes_from_message(asked("departure_step", refused_to_leave=True),
                                         '/inform{"departure_step": "ordered_to_leave"}', "inform",
                                         [{"entity": "departure_step", "value": "ordered_to_leave"}], NOW)
    assert answered["departure_step"] == "ordered_to_leave"


def test_the_demand_basis_settles_the_two_older_facts():
    changes = slot_changes_from_message(asked("demand_basis"), '/inform{"demand_basis": "opinion"}', "inform",
                                        [{"entity": "demand_basis", "value": "opinion"}], NOW)
    assert changes["demand_basis"] == "opinion" and changes["demand_related"] is True and "our_fault" not in changes


def test_a_self_harm_statement_is_kept():
    assert slot_changes_from_message({}, "相手が死んでやると言っています", "report_incident", [], NOW)["self_harm"] is True


def test_a_typed_answer_fills_the_question_being_asked():
    yes = slot_changes_from_message(asked("demand_related"), "業務に関係があります", "affirm", [], NOW)
    assert yes["demand_related"] is True
    stated = slot_changes_from_message(asked("demand_related"), "業務に関係があります", "inform", [], NOW)
    assert stated["demand_related"] is True and "question_misses" not in stated
    short = slot_changes_from_message(asked("our_fault"), "あった", "inform", [], NOW)
    assert short["our_fault"] is True
    dont_know = slot_changes_from_message(asked("our_fault"), "わかりません", "dont_know", [], NOW)
    assert dont_know["our_fault"] == UNKNOWN


def test_any_text_is_the_demand_but_a_question_is_answered_instead():
    for text, intent in (("訂正した通知がほしい", "inform"), ("特に要求はなく世間話です", "out_of_scope"),
                         ("上司を出せ", "report_incident")):
        assert slot_changes_from_message(asked("demand"), text, intent, [], NOW)["demand"] == text
    help_asked = slot_changes_from_message(asked("demand"), "使い方を教えて", "ask_help", [], NOW)
    assert "demand" not in help_asked and "question_misses" not in help_asked


def test_the_same_question_never_comes_a_third_time():
    first = changed(asked("our_fault"), "えーと", "out_of_scope", [], NOW)
    assert first == {"question_misses": {"our_fault": 1}}
    assert gave_up_on(first, asked("our_fault")) is None
    slots = {**asked("our_fault"), **first}
    second = slot_changes_from_message(slots, "さあ…", "nlu_fallback", [], NOW)
    assert second["our_fault"] == UNKNOWN
    assert gave_up_on(second, slots) == "our_fault"


def test_a_message_read_twice_is_one_miss():
    again = changed(asked("alone", question_misses={"alone": 1}), "えーと", "out_of_scope", [],
                                      NOW, new_message=False)
    assert again == {}


def test_skipping_the_rest_leaves_every_missing_fact_unknown():
    slots = asked("identified", ongoing=True, behaviors=[], our_fault=False)
    changes = slot_changes_from_message(slots, '/dont_know{"skip":"all"}', "dont_know",
                                        [{"entity": "skip", "value": "all"}], NOW)
    assert {changes[name] for name in ("identified", "recorded", "alone", "demand", "situation_channel")} == {UNKNOWN}
    assert "ongoing" not in changes and "our_fault" not in changes


def test_an_unknown_payload_is_recognised():
    assert is_unknown_payload("/no_such_intent", "restart")
    assert is_unknown_payload('/inform{"x": 1}', "report_incident")
    assert not is_unknown_payload('/inform{"channel": "phone"}', "inform")
    assert not is_unknown_payload("最初から", "restart")


def test_a_channel_answer_replaces_but_a_mention_does_not():
    mention = slot_changes_from_message({"situation_channel": "phone"}, "窓口にも来た", "report_incident",
                                        [{"entity": "channel", "value": "counter"}], NOW)
    assert "situation_channel" not in mention
    answer = slot_changes_from_message(asked("situation_channel", situation_channel=UNKNOWN),
                                       '/inform{"channel": "counter"}', "inform",
                                       [{"entity": "channel", "value": "counter"}], NOW)
    assert answer["situation_channel"] == "counter"


def test_a_new_duration_restarts_the_live_clock():
    changes = changed({"ongoing": True, "case_started_at": NOW - 60}, "もう40分です",
                                        "inform", [], NOW)
    assert changes == {"elapsed_minutes": 40, "case_started_at": NOW - 40 * 60}


def test_a_live_case_starts_its_clock_from_the_reported_duration():
    changes = changed(asked("ongoing", elapsed_minutes=25), "/affirm", "affirm", [], NOW)
    assert changes == {"ongoing": True, "case_started_at": NOW - 25 * 60}


def test_asked_to_leave_and_still_there():
    changes = slot_changes_from_message({}, "帰ってくださいと言ったのに居座っています", "report_incident", [], NOW)
    assert changes.get("refused_to_leave") is True


def test_dont_know_answers_count_as_unknown_facts():
    slots = {"behaviors": ["verbal_abuse"], "our_fault": UNKNOWN, "demand_related": False,
             "situation_channel": UNKNOWN, "ongoing": UNKNOWN, "elapsed_minutes": UNKNOWN}
    facts = facts_from_slots(slots, NOW)
    assert facts.behaviors == frozenset({Behavior.VERBAL_ABUSE})
    assert facts.our_fault is None and facts.demand_related is False
    assert facts.channel is None and facts.ongoing is False and facts.elapsed_minutes is None


def test_what_is_understood_as_codes():
    slots = {"behaviors": ["verbal_abuse"], "suggested_behaviors": ["verbal_abuse", "persistent"],
             "our_fault": UNKNOWN, "demand_related": True, "situation_channel": "phone", "elapsed_minutes": 45,
             "demand": "謝れ"}
    assert [b.value for b in understood_behaviors(slots)] == ["verbal_abuse", "persistent"]
    assert understood_facts(slots) == {"demand_related": True, "situation_channel": "phone",
                                       "elapsed_minutes": 45, "demand_given": True}
    assert understood_facts({"demand_basis": "not_needed", "warnings_given": "warned"}) == {"warnings_given": "warned"}


def test_live_elapsed_time_runs_on_from_the_start():
    slots = {"ongoing": True, "case_started_at": NOW - 31 * 60, "situation_channel": "phone"}
    assert elapsed_minutes_now(slots, NOW) == 31
    assert facts_from_slots(slots, NOW).channel == SituationChannel.PHONE


def test_time_status_near_and_over_the_limit():
    slots = {"ongoing": True, "case_started_at": NOW - 26 * 60}
    near = time_status(slots, NOW, limit=30, warn_before=5)
    assert near.near and not near.over and near.remaining_minutes == 4
    assert time_status({**slots, "case_started_at": NOW - 30 * 60}, NOW, 30, 5).over
    assert not time_status({**slots, "case_started_at": NOW - 10 * 60}, NOW, 30, 5).near
    assert time_status({"ongoing": False, "elapsed_minutes": 90}, NOW, 30, 5) is None


def test_record_fields_leave_unknown_answers_empty_and_keep_what_was_read():
    fields = record_fields({"demand": UNKNOWN, "identified": UNKNOWN, "alone": True, "behaviors": None,
                            "suggested_behaviors": ["persistent"]}, NOW)
    assert fields["demand"] is None and fields["identified"] is None and fields["alone"] is True
    assert fields["behaviors"] == ["persistent"]


def test_a_button_that_names_a_code_sets_it_even_when_something_else_is_asked():
    changes = slot_changes_from_message(asked("identified", refused_to_leave=True),
                                        '/inform{"departure_step": "final_warning"}', "inform",
                                        [{"entity": "departure_step", "value": "final_warning"}], NOW)
    assert changes["departure_step"] == "final_warning" and "question_misses" in changes


def test_quoted_words_are_the_customers_words_as_typed_each_once():
    texts = ["「税金泥棒」と言われました", "また「税金泥棒」『お前の家知ってるからな』って", "引用なしの文", None]
    assert quoted_words(texts) == ["税金泥棒", "お前の家知ってるからな"]


def test_the_record_gets_the_warning_given_and_a_police_call_from_the_slots():
    fields = record_fields({"warnings_given": "warned", "departure_step": "police_called"}, now=0.0)
    assert fields["warnings_given"] == "warned" and fields["police_called"] is True
    fields = record_fields({"warnings_given": "not_needed", "departure_step": "final_warning"}, now=0.0)
    assert fields["warnings_given"] is None and "police_called" not in fields


def test_the_judgement_facts_read_from_text_reach_the_verdict():
    slots = {"behaviors": ["physical_attack"], "ongoing": False}
    changes = slot_changes_from_message(slots, "殴られて同僚が腕にけがをしました", "report_incident", [], NOW)
    assert changes["injured"] is True
    facts = facts_from_slots({**slots, **changes}, NOW)
    assert facts.injured is True
    assert "injury" in [risk.value for risk in assess(facts).legal_risks]
    vulnerable = slot_changes_from_message({}, "話がかみ合わず寂しいとおっしゃっています", "report_incident", [], NOW)
    assert facts_from_slots(vulnerable, NOW).vulnerable is True
    exposed = {"behaviors": ["sns_exposure"], "public": False}
    assert assess(facts_from_slots(exposed, NOW)).verdict is Verdict.CRIMINAL  # a threat
    assert assess(facts_from_slots({**exposed, "public": True}, NOW)).verdict is Verdict.HARASSMENT


def test_the_questions_that_depend_on_the_time_limit_need_it():
    long_valid = {"ongoing": False, "elapsed_minutes": 60, "demand_basis": "within_service", "behaviors": []}
    assert slot_changes_from_message(long_valid, "はい", "affirm", [], NOW, limit_minutes=30).get("deadlock") is None
    assert slot_changes_from_message(long_valid, "はい", "affirm", [], NOW, limit_minutes=90)["deadlock"] == "not_needed"
    assert slot_changes_from_message(long_valid, "はい", "affirm", [], NOW)["deadlock"] == "not_needed"
    talk = slot_changes_from_message(long_valid, "はい", "affirm", [], NOW, limit_minutes=30)
    assert "vulnerable" not in talk  # long talk with nothing unacceptable: asked
    abuse = {**long_valid, "behaviors": ["verbal_abuse"]}
    assert slot_changes_from_message(abuse, "はい", "affirm", [], NOW, limit_minutes=30)["vulnerable"] == "not_needed"
    answered = slot_changes_from_message(asked("deadlock", **long_valid), "/affirm", "affirm", [], NOW, limit_minutes=30)
    assert answered["deadlock"] is True


def test_the_department_comes_from_the_channel_profile_else_the_typed_answer():
    profiled = slot_changes_from_message({}, "電話で苦情です", "report_incident", [], NOW,
                                         metadata={"user": {"department": "市民課"}})
    assert profiled["employee_department"] == "市民課"
    assert "employee_department" not in slot_changes_from_message(
        {"employee_department": "税務課"}, "電話です", "inform", [], NOW, metadata={"department": "市民課"})
    typed = slot_changes_from_message(asked("employee_department"), "福祉課です。", "inform", [], NOW)
    assert typed["employee_department"] == "福祉課"


def test_the_record_gets_staff_apologies_answers_condition_and_injuries():
    slots = {}
    for text, intent in (("係長と二人で対応しています。案内の誤りをお詫びしました", "report_incident"),
                         ("「期限は過ぎています」と2回説明しました", "inform"),
                         ("同じ説明を三回しました", "inform"),
                         ("手が震えてます", "express_distress"),
                         ("殴られて腕にけがをしました", "report_incident")):
        slots.update(slot_changes_from_message(slots, text, intent, [], NOW))
    fields = record_fields(slots, NOW)
    assert fields["staff_present"] == ["係長"]
    assert fields["apologised_for"] == "案内の誤り"
    assert fields["answers_given"] == ["期限は過ぎています"]
    assert fields["answer_count"] == 3
    assert fields["employee_condition"] == "手が震えてます"
    assert fields["injuries"] == "殴られて腕にけがをしました"
    assert record_fields({"injured": False}, NOW)["injuries"] == "なし"
    called = slot_changes_from_message(slots, "さきほど110番しました", "inform", [], NOW)
    assert record_fields({**slots, **called}, NOW)["police_called"] is True
    assert facts_from_slots({**slots, **called}, NOW).police_called is True
    assert "police_called" not in record_fields(slots, NOW)
    assert record_fields({"injured": UNKNOWN}, NOW)["injuries"] is None


def test_public_is_asked_for_abuse_only_once_it_counts():
    rude = {"behaviors": ["verbal_abuse"], "ongoing": True, "warnings_given": "none"}
    assert slot_changes_from_message(rude, "はい", "affirm", [], NOW, limit_minutes=30)["public"] == "not_needed"
    going_on = {**rude, "warnings_given": "asked_to_stop", "conduct_continued": True}
    assert "public" not in slot_changes_from_message(going_on, "はい", "affirm", [], NOW, limit_minutes=30)
    online = slot_changes_from_message({"behaviors": ["sns_exposure"], "situation_channel": "sns"}, "はい", "affirm",
                                       [], NOW, limit_minutes=30)
    assert online["public"] == "not_needed"  # posted on SNS: public already


def test_a_department_the_model_takes_for_a_greeting_is_still_the_answer():
    changes = changed(asked("employee_department"), "税務課です", "greet", [], NOW)
    assert changes["employee_department"] == "税務課"


def test_greetings_and_thanks_count_as_misses_so_a_question_is_not_asked_without_end():
    first = changed(asked("recorded"), "どうもです", "thank", [], NOW)
    assert first == {"question_misses": {"recorded": 1}}
    second = changed(asked("recorded", question_misses={"recorded": 1}), "こんにちは", "greet", [], NOW)
    assert second["recorded"] == "unknown"
    help_asked = changed(asked("recorded"), "使い方を教えて", "ask_help", [], NOW)
    assert "question_misses" not in help_asked
