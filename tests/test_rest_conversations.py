"""Whole conversations over REST with the trained model and the real action server (issues 8 and 9).

One pair of servers for the module (tests/rest_conversations.py); each test is one or two
employees' conversations, checked on what an integrator sees: the replies' text, the buttons
and `custom.kasuhara` (stage, verdict, asking, understood).
"""
from __future__ import annotations

import pytest

from bot.codes import Escalation
from bot.records import ConsultationStore
from bot.settings import load_organization
from tests.rest_conversations import Chat, servers  # noqa: F401 - the module-scoped fixture

SAFETY = "安全を最優先"
# Answers an employee taps; anything not listed is answered 「わからない」.
TAPS = {
    "ongoing": "/affirm",
    "behaviors": "/affirm",
    "situation_channel": '/inform{"channel": "phone"}',
    "our_fault": "/deny",
    "demand_related": "/affirm",
    "warnings_given": '/inform{"warnings_given": "none"}',
    "departure_step": '/inform{"departure_step": "none"}',
}


@pytest.fixture
def chat(servers):  # noqa: F811
    return Chat(servers.url)


def no_crime(chat: Chat) -> None:
    text = chat.all_text()
    assert SAFETY not in text and "110番" not in text and "犯罪" not in text, text
    assert chat.state["verdict"] != "criminal"


def test_a_citizen_who_fell_on_the_stairs_gets_no_safety_message_and_no_crime(chat):
    chat.say("庁舎の階段で転んでケガをしたという苦情の電話です")
    assert not chat.state["understood"]["behaviors"]
    chat.answer({**TAPS, "behaviors": "/deny", "demand_basis": '/inform{"demand_basis": "within_service"}'})
    no_crime(chat)
    assert chat.state["verdict"] == "legitimate"


def test_the_bear_culling_callers_get_an_organisational_answer_not_a_crime(chat):
    chat.say("「クマを殺すな」という抗議の電話が朝から何本も来ています")
    chat.answer({**TAPS, "demand_basis": '/inform{"demand_basis": "opinion"}'})
    no_crime(chat)
    assert chat.state["verdict"] in ("legitimate", "gray")
    details = chat.say("/ask_details")
    assert "犯罪" not in chat.text() and details


def test_an_explicit_threat_is_safety_first_and_confirmed_a_crime(chat):
    chat.say("窓口で「殺すぞ」と言われています")
    assert SAFETY in chat.text(0)
    assert "threat" in chat.state["understood"]["behaviors"]
    chat.answer(TAPS)
    assert chat.state["verdict"] == "criminal"
    assert chat.state["understood"]["behaviors_confirmed"] is True


def test_repetition_is_picked_up_and_offered_for_confirmation(chat):
    chat.say("同じ人が同じ内容で毎日何度も電話してきます")
    assert "persistent" in chat.state["understood"]["behaviors"]
    assert any(b["payload"] == "/affirm" for b in chat.buttons()) or chat.asking == "ongoing"


def test_what_was_said_is_never_asked_and_no_question_comes_a_third_time(chat):
    chat.say("こちらのミスで書類が届いておらず、電話で苦情を言われています。録音しています")
    chat.answer(TAPS, until_verdict=False, max_turns=16)
    askings = [a for a in chat.askings() if a]
    assert "our_fault" not in askings and "recorded" not in askings and "situation_channel" not in askings
    assert "ミスや不備はありましたか" not in chat.all_text()
    assert max(askings.count(code) for code in set(askings)) <= 2


def test_a_live_case_past_the_limit_gets_the_closing_script_first(chat):
    replies = chat.say("いま電話対応中で、もう40分も怒鳴られ続けています")
    first = chat.text(0)
    assert "終了の予告" in first, first
    assert "お礼を伝える" not in first
    assert replies[-1]["custom"]["kasuhara"]["over_time_limit"] is True


def test_help_and_finish_are_answered_in_the_middle_of_the_questions(chat):
    chat.say("窓口で長時間怒鳴られました")
    asked = chat.asking
    assert asked is not None
    chat.say("使い方を教えて")
    assert "いつでも" in chat.text() and chat.asking == asked
    chat.say("/no_such_button")
    assert chat.buttons() and chat.asking == asked  # the fallback with buttons, nothing wiped
    chat.say("これで相談を終わりにします")  # (「やめます」 alone the NLU reads as a no: see the report)
    assert chat.state["stage"] == "closing" and "相談記録" in chat.text()


def test_typed_answers_are_understood_and_any_text_is_the_demand(chat):
    chat.say("昨日、電話で長い苦情がありました")
    chat.answer({**TAPS, "ongoing": "終わった後です", "behaviors": "特にないです",
                 "demand_basis": "業務に関係があります"}, until_verdict=True)
    assert chat.state["verdict"]
    chat.answer({"demand": "特に要求はなく世間話です", "elapsed_minutes": "1時間くらい"}, until_verdict=False,
                max_turns=10)
    askings = [a for a in chat.askings() if a]
    assert askings.count("demand") <= 1 and askings.count("demand_basis") <= 2


def test_fear_gets_a_caring_line_and_a_safety_check_first(chat):
    chat.say("窓口で怒鳴られています")
    asked = chat.asking
    chat.say("手が震えてます")
    assert "身の危険" in chat.text() and chat.asking == asked


# --- issue 9: the judgement as the guidance gives it ---------------------------------------


def test_a_loud_complaint_where_we_were_at_fault_is_legitimate(chat):
    chat.say("こちらのミスで書類が届いておらず、電話で強い口調で苦情を言われました")
    chat.answer({**TAPS, "ongoing": "/deny", "behaviors": "/deny"})  # the employee: a loud voice, nothing more
    assert chat.state["verdict"] == "legitimate"
    assert "カスタマーハラスメント" not in chat.all_text()


def test_one_rude_word_then_abuse_after_a_request_to_stop(chat):
    chat.say("いま窓口で説明中に一度だけ「バカ」と言われました")
    chat.answer({**TAPS, "demand_basis": '/inform{"demand_basis": "within_service"}'})
    assert chat.state["verdict"] == "caution", chat.all_text()
    chat.say("やめてくださいとお願いしたのに、まだ暴言が続いています")
    chat.answer(TAPS, until_verdict=False)
    assert chat.state["verdict"] == "harassment", chat.all_text()


def test_sixty_minutes_of_small_talk_live_and_after_the_fact_give_the_same_verdict(servers):  # noqa: F811
    verdicts = []
    for first, when in (("いま電話で60分、業務と関係ない世間話が続いています", "/affirm"),
                        ("昨日、電話で60分、業務と関係ない世間話が続きました", "/deny")):
        chat = Chat(servers.url)
        chat.say(first)
        chat.answer({**TAPS, "ongoing": when, "behaviors": "/deny",
                     "demand_basis": '/inform{"demand_basis": "unrelated"}'})
        verdicts.append(chat.state["verdict"])
    assert verdicts[0] == verdicts[1]


def test_a_request_for_reasonable_accommodation_is_never_harassment(chat):
    chat.say("耳が聞こえにくいので筆談で対応してほしいと窓口で言われました")
    chat.answer({**TAPS, "behaviors": "/deny",
                 "demand_basis": '/inform{"demand_basis": "reasonable_accommodation"}'})
    assert chat.state["verdict"] == "legitimate"
    assert "建設的" in chat.all_text() or "配慮" in chat.all_text()


def test_a_refusal_to_leave_goes_through_each_step_of_the_sequence(chat):
    chat.say("いま窓口で、帰ってくださいと言っても帰らずに居座っています")
    chat.answer({**TAPS, "departure_step": '/inform{"departure_step": "asked_to_stop"}'})
    assert "110番" not in chat.all_text()  # one refusal is not yet a matter for the police
    assert "お引き取り" in chat.all_text()  # the next step: asking them to leave, as the manager of the premises
    chat.say('/inform{"departure_step": "ordered_to_leave"}')
    chat.say('/inform{"departure_step": "final_warning"}')
    assert "110" in chat.text() or "警察" in chat.text(), chat.all_text()


def test_a_customer_who_speaks_of_taking_their_life_gets_the_protect_life_route(chat):
    chat.say("電話の相手が「もう死んでやる」と言っています")
    assert "命" in chat.all_text()


def test_a_threat_to_expose_online_is_a_threat_not_defamation(chat):
    chat.say("窓口で「ネットに晒すぞ」と言われました")
    chat.answer({**TAPS, "demand_basis": '/inform{"demand_basis": "no_basis"}'})
    chat.say("/ask_details")
    details = chat.text()
    assert "脅迫" in details and "名誉毀損" not in details


def test_the_hand_over_summary_is_one_tap_away(chat):
    chat.say("いま窓口で土下座しろと怒鳴られています")
    chat.answer(TAPS)
    assert any(b["payload"] == "/ask_handover" for b in chat.buttons())
    chat.say("/ask_handover")
    assert "二次対応" in chat.text()


# --- issue 9: the facts the judgement needs, read or asked where it needs them ---------------

EXPOSURE = '/inform{"behavior": ["sns_exposure"]}'


def record_of(servers, chat: Chat) -> dict:  # noqa: F811
    store = ConsultationStore(servers.database_url)
    try:
        return next(record for record in store.list() if record["conversation_id"] == chat.sender)
    finally:
        store.dispose()


def test_a_live_sixty_minute_call_in_deadlock_on_a_valid_demand_is_ended_and_answered_in_writing(chat):
    chat.say("いま電話対応中で、もう60分になります")
    chat.answer({**TAPS, "behaviors": "/deny", "demand_basis": '/inform{"demand_basis": "within_service"}',
                 "deadlock": "はい、説明しても同じ話の繰り返しです"})
    assert chat.askings().count("deadlock") == 1  # asked once, answered in words
    assert chat.state["verdict"] == "harassment", chat.all_text()
    assert chat.state["understood"]["facts"]["deadlock"] is True
    assert "後日文書" in chat.all_text()


def test_a_long_call_on_a_valid_demand_that_moves_on_is_no_time_restraint(chat):
    chat.say("いま電話対応中で、もう60分になります")
    chat.answer({**TAPS, "behaviors": "/deny", "demand_basis": '/inform{"demand_basis": "within_service"}',
                 "deadlock": "/deny"})
    assert chat.state["verdict"] == "legitimate", chat.all_text()


def test_a_customer_who_injured_staff_is_recorded_with_the_injury_and_the_label_injury(chat, servers):  # noqa: F811
    chat.say("さっき窓口で相手に殴られて、同僚が腕にけがをしました。相手はもう帰りました")
    assert "injured" not in chat.askings()  # stated: not asked
    chat.answer({**TAPS, "ongoing": "/deny"})
    assert chat.state["verdict"] == "criminal"
    assert chat.state["understood"]["facts"]["injured"] is True
    assert "傷害罪" in chat.all_text()
    record = record_of(servers, chat)
    assert "けが" in record["injuries"]
    assert any("被害届" in item for item in record["follow_up_items"])


def test_damaged_property_gives_the_label_property_damage(chat):
    chat.say("昨日、窓口のパソコンを相手に叩き割られました")
    chat.answer({**TAPS, "ongoing": "/deny", "behaviors": "/deny"})
    assert chat.state["verdict"] == "criminal", chat.all_text()
    assert "器物損壊罪" in chat.all_text()


def test_a_confused_elderly_caller_in_long_small_talk_gets_the_gentle_close_and_the_welfare_contact(chat):
    chat.say("昨日、ご高齢の方から電話で1時間、世間話が続きました。話がかみ合わず、寂しいとおっしゃっていました")
    chat.answer({**TAPS, "ongoing": "/deny", "behaviors": "/deny",
                 "demand_basis": '/inform{"demand_basis": "unrelated"}'})
    assert chat.state["verdict"] not in ("harassment", "criminal"), chat.all_text()
    assert "やさしく区切" in chat.all_text() and "カスタマーハラスメント" not in chat.all_text()
    chat.say("/ask_escalation")
    welfare = load_organization().contact(Escalation.WELFARE)
    assert welfare.name in chat.text() and welfare.phone in chat.text()


def test_a_threat_to_post_online_said_on_the_phone_is_a_threat_posted_publicly_defamation(servers):  # noqa: F811
    said = Chat(servers.url)
    said.say("電話で「お前のことをネットに晒すぞ」と言われました")
    said.answer({**TAPS, "ongoing": "/deny", "behaviors": EXPOSURE, "public": "一対一です",
                 "demand_basis": '/inform{"demand_basis": "no_basis"}'})
    assert said.state["verdict"] == "criminal"
    said.say("/ask_details")
    assert "脅迫" in said.text() and "名誉毀損" not in said.text()

    posted = Chat(servers.url)
    posted.say("ネットの掲示板に、私の実名を出して悪口を書き込まれました")
    posted.answer({**TAPS, "ongoing": "/deny", "behaviors": EXPOSURE,
                   "demand_basis": '/inform{"demand_basis": "no_basis"}'})
    assert "public" not in posted.askings()  # stated: posted for others to read
    assert posted.state["verdict"] == "harassment"
    posted.say("/ask_details")
    assert "名誉毀損" in posted.text() and "脅迫罪" not in posted.text()


def test_the_record_keeps_staff_apologies_answers_condition_and_department(chat, servers):  # noqa: F811
    chat.say("いま窓口で係長と二人で対応しています。書類の送付が遅れたことについてお詫びしました。"
             "「再発行には1週間かかります」と3回説明しました", metadata={"department": "市民課"})
    chat.say("手が震えてます")
    chat.answer({**TAPS, "behaviors": "/deny"}, until_verdict=False, max_turns=16)
    assert "employee_department" not in chat.askings()  # the channel's profile gave it
    chat.say("/finish")
    record = record_of(servers, chat)
    assert record["staff_present"] == ["係長"]
    assert record["apologised_for"] == "書類の送付が遅れたこと"
    assert record["answers_given"] == ["再発行には1週間かかります"]
    assert record["answer_count"] == 3
    assert "手が震えてます" in record["employee_condition"]
    assert record["employee_department"] == "市民課"


def test_the_department_is_asked_once_at_the_end_when_no_profile_gives_it(chat, servers):  # noqa: F811
    chat.say("昨日、電話で返金の件で苦情がありました")
    chat.answer({**TAPS, "ongoing": "/deny", "behaviors": "/deny", "employee_department": "税務課です"},
                until_verdict=False, max_turns=20)
    assert chat.askings().count("employee_department") == 1
    assert record_of(servers, chat)["employee_department"] == "税務課"
