"""What the employee reads: the right advice for the channel and stage, never blame, never 'endure it'."""
from __future__ import annotations

import itertools

import pytest

from bot import guidance
from bot.assessment import Facts, assess
from bot.codes import Behavior, Escalation, SituationChannel
from bot.conversation import TimeStatus
from bot.settings import Contact, OrganizationSettings

SETTINGS = OrganizationSettings(
    name="テスト市",
    contacts={Escalation.SUPERVISOR: Contact("係長", "内線 10"), Escalation.CONSULTATION_DESK: Contact("相談窓口", "内線 20")},
)
CHANNELS = [None, *SituationChannel]


def all_texts():
    for channel in CHANNELS:
        yield guidance.safety_first(channel).text
        yield guidance.initial_response(channel, ongoing=True).text
        yield guidance.time_box(channel, 30, TimeStatus(31, 30, True, True)).text
    for behaviors, fault in itertools.product([[], [Behavior.VERBAL_ABUSE], [Behavior.PHYSICAL_ATTACK]],
                                              [True, False, None]):
        assessment = assess(Facts(behaviors=frozenset(behaviors), our_fault=fault, ongoing=True))
        yield guidance.judgement(assessment).text
        yield guidance.escalation(assessment, SETTINGS).text
    yield guidance.aftercare(SETTINGS)


@pytest.mark.parametrize("text", list(all_texts()))
def test_no_text_asks_the_employee_to_endure_or_blames_them(text):
    for phrase in ("我慢", "耐えて", "あなたのせい", "あなたの責任"):
        assert phrase not in text


def test_safety_comes_with_110_on_every_channel():
    for channel in CHANNELS:
        reply = guidance.safety_first(channel)
        assert "110" in reply.text and reply.buttons[0].payload == "/ask_escalation"


def test_initial_response_is_a_limited_apology_with_phrases_for_the_channel():
    phone = guidance.initial_response(SituationChannel.PHONE, ongoing=True).text
    assert "非を認める謝罪ではありません" in phone and "お電話ありがとうございます" in phone and "録音" in phone
    visit = guidance.initial_response(SituationChannel.VISIT, ongoing=True).text
    assert "一人で行かず" in visit


def test_written_channels_are_answered_later_by_the_organisation():
    text = guidance.initial_response(SituationChannel.EMAIL, ongoing=True).text
    assert "すぐに返信しなくて大丈夫" in text and "組織として回答" in text


def test_after_the_fact_skips_the_live_script():
    assert "お礼を伝える" not in guidance.initial_response(SituationChannel.COUNTER, ongoing=False).text


def test_time_box_wording_by_channel():
    counter = guidance.time_box(SituationChannel.COUNTER, 30, None).text
    assert "お引き取りをお願いします" in counter and "警察に通報します" in counter
    phone = guidance.time_box(SituationChannel.PHONE, 30, None).text
    assert "電話を切ります" in phone and "お引き取り" not in phone
    letter = guidance.time_box(SituationChannel.LETTER, 30, None).text
    assert "文書で回答" in letter and "110" not in letter


def test_time_notice_counts_down_then_warns():
    assert "あと約5分" in guidance.time_notice(TimeStatus(25, 30, True, False))
    assert "過ぎています" in guidance.time_notice(TimeStatus(35, 30, True, True))


def test_escalation_lists_the_organisations_contacts_then_the_police_with_what_they_ask():
    criminal = assess(Facts(behaviors=frozenset({Behavior.PHYSICAL_ATTACK}), ongoing=True))
    text = guidance.escalation(criminal, SETTINGS).text
    assert text.index("係長（内線 10）") < text.index("相談窓口（内線 20）") < text.index("110番")
    assert "凶器の有無" in text


def test_escalation_without_a_judgement_starts_with_the_supervisor():
    text = guidance.escalation(None, SETTINGS).text
    assert "1. 上司・現場責任者：係長" in text and "#9110" in text


def test_every_question_offers_dont_know_except_live_or_after():
    for slot in ("situation_channel", "elapsed_minutes", "demand", "our_fault", "demand_related",
                 "behaviors", "identified", "recorded", "alone"):
        assert "/dont_know" in [b.payload for b in guidance.question(slot, ongoing=True).buttons]
    assert "経ちました" in guidance.question("elapsed_minutes", ongoing=True).text
    assert "続きました" in guidance.question("elapsed_minutes", ongoing=False).text


def test_record_summary_reads_the_record_fields():
    summary = guidance.record_summary({
        "id": 7, "status": "closed", "situation_channel": "phone", "elapsed_minutes": 45, "demand": "返金しろ",
        "behaviors": ["verbal_abuse"], "our_fault": False, "demand_related": True, "identified": None,
        "recorded": True, "alone": False, "verdict": "harassment"})
    assert "No.7（終了）" in summary and "電話" in summary and "45分" in summary and "暴言・侮辱" in summary
    assert "相手の特定：不明" in summary and "カスタマーハラスメント" in summary
