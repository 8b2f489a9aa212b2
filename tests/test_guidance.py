"""What the employee reads: short, the right advice for the channel and stage, never blame, never 'endure it'."""
from __future__ import annotations

import itertools

import pytest

from bot import guidance
from bot.assessment import Facts, assess
from bot.codes import (
    DETAILS_INTENT,
    HANDOVER_INTENT,
    Behavior as B,
    DemandBasis as D,
    DepartureStep as S,
    Escalation,
    Situation,
    SituationChannel as C,
    TimeThreshold,
    WarningLevel as W,
)
from bot.conversation import TimeStatus
from bot.paraphrase import paraphrase
from bot.phrases import parse_phrases
from bot.settings import Contact, OrganizationSettings, load_phrases

SETTINGS = OrganizationSettings(
    name="テスト市",
    contacts={
        Escalation.SUPERVISOR: Contact("係長", "内線 10"),
        Escalation.CONSULTATION_DESK: Contact("相談窓口", "内線 20"),
        Escalation.WELFARE: Contact("地域包括支援センター", "内線 40"),
    },
)
CHANNELS = [None, *C]


def facts(*behaviors: B, **fields) -> Facts:
    return Facts(behaviors=frozenset(behaviors), **fields)


SAMPLE_FACTS = [
    Facts(behaviors=frozenset(conduct), our_fault=fault, channel=channel, ongoing=ongoing)
    for conduct, fault, channel, ongoing in itertools.product(
        [(), (B.VERBAL_ABUSE,), (B.PHYSICAL_ATTACK,), (B.SEXUAL,), (B.SNS_EXPOSURE,)], [True, False, None],
        [C.PHONE, C.COUNTER, C.EMAIL], [True, False])
] + [
    facts(demand_basis=D.OPINION, channel=C.PHONE, ongoing=True),
    facts(self_harm=True, channel=C.PHONE, ongoing=True),
    facts(demand_basis=D.UNRELATED, vulnerable=True, elapsed_minutes=60, ongoing=True, channel=C.PHONE),
    facts(B.DETENTION, refused_to_leave=True, departure_step=S.ORDERED_TO_LEAVE, channel=C.COUNTER, ongoing=True),
]


def all_texts():
    for channel in CHANNELS:
        yield guidance.safety_first(channel).text
        yield guidance.initial_response(channel, ongoing=True).text
        yield guidance.time_box(channel, 30, TimeStatus(31, 30, True, True)).text
    for given in SAMPLE_FACTS:
        assessment = assess(given)
        yield guidance.judgement(assessment, given.channel, given.ongoing).text
        yield guidance.judgement_details(assessment).text
        yield guidance.escalation(assessment, SETTINGS).text
        yield guidance.aftercare(SETTINGS, given, assessment)
        yield guidance.handover_summary(given, assessment, {"id": 1, "demand": "返金しろ"})
    yield guidance.aftercare(SETTINGS)
    yield guidance.opening()


@pytest.mark.parametrize("text", list(all_texts()))
def test_no_text_asks_the_employee_to_endure_or_blames_them(text):
    for phrase in ("我慢", "耐えて", "あなたのせい", "あなたの責任"):
        assert phrase not in text


def test_the_opening_is_neutral():
    assert "カスハラ" not in guidance.opening() and "ハラスメント" not in guidance.opening()


# --- the short judgement ---------------------------------------------------------------------

@pytest.mark.parametrize("given", SAMPLE_FACTS)
def test_judgement_is_the_verdict_and_three_things_to_do(given: Facts):
    assessment = assess(given)
    reply = guidance.judgement(assessment, given.channel, given.ongoing)
    lines = reply.text.splitlines()
    assert lines[0].startswith("判断の目安：")
    assert lines[1] == "いますること："
    numbered = [line for line in lines if line[:1] in "①②③④"]
    assert [line[0] for line in numbered] == list("①②③")[:len(assessment.now)]
    assert len(lines) <= 8 and len(reply.text) <= 320
    assert "要求内容の妥当性" not in reply.text and "罪：" not in reply.text  # reasons and notes: on request
    names_crimes = "犯罪の可能性：" in reply.text
    assert names_crimes is (assessment.verdict.value == "criminal" and bool(assessment.legal_risks))
    assert reply.buttons[0].title == "くわしく" and reply.buttons[0].payload == f"/{DETAILS_INTENT}"


def test_details_give_both_axes_types_and_legal_notes():
    assessment = assess(facts(B.SNS_EXPOSURE, channel=C.PHONE, ongoing=True))
    text = guidance.judgement_details(assessment).text
    assert "要求内容の妥当性" in text and "手段・態様" in text
    assert "脅迫罪：" in text and "名誉毀損" not in text
    assert "威嚇・脅迫型" in text
    calm = guidance.judgement_details(assess(facts(our_fault=True))).text
    assert "関係しうる法律" not in calm


def test_a_criminal_judgement_names_the_offences_in_one_line():
    text = guidance.judgement(assess(facts(B.SNS_EXPOSURE, channel=C.PHONE, ongoing=True)), C.PHONE, True).text
    assert "犯罪の可能性：脅迫罪（成立するかは警察が判断します）" in text and "名誉毀損" not in text


def test_handover_button_only_while_live():
    live = guidance.judgement(assess(facts(B.SEXUAL, ongoing=True)), C.COUNTER, ongoing=True)
    assert f"/{HANDOVER_INTENT}" in [b.payload for b in live.buttons]
    later = guidance.judgement(assess(facts(B.SEXUAL)), C.COUNTER, ongoing=False)
    assert f"/{HANDOVER_INTENT}" not in [b.payload for b in later.buttons]


@pytest.mark.parametrize(
    "given, words",
    [
        (facts(B.VERBAL_ABUSE, our_fault=True, channel=C.PHONE, ongoing=True), "おやめください"),
        (facts(B.VERBAL_ABUSE, our_fault=True, channel=C.PHONE, ongoing=True, warnings_given=W.ASKED_TO_STOP,
               conduct_continued=True), "対応を終了いたします"),
        (facts(B.DETENTION, refused_to_leave=True, channel=C.COUNTER, ongoing=True), "お引き取り"),
        (facts(B.DETENTION, refused_to_leave=True, departure_step=S.ORDERED_TO_LEAVE, channel=C.COUNTER, ongoing=True),
         "警察に通報いたします"),
        (facts(demand_basis=D.OPINION, channel=C.PHONE, ongoing=True), "貴重なご意見"),
        (facts(our_fault=True, channel=C.COUNTER, ongoing=True), "誤り"),
        (facts(self_harm=True, channel=C.PHONE, ongoing=True), "お話ししてくださって"),
        (facts(demand_basis=D.REASONABLE_ACCOMMODATION, channel=C.COUNTER, ongoing=True), "配慮"),
        (facts(our_fault=True, channel=C.PHONE, ongoing=True, elapsed_minutes=40), "文書"),
    ],
)
def test_judgement_offers_the_words_for_now_from_the_library(given: Facts, words: str):
    reply = guidance.judgement(assess(given), given.channel, given.ongoing)
    phrase_line = next(line for line in reply.text.splitlines() if line.startswith("言い方："))
    assert words in phrase_line


def test_no_words_to_say_in_an_emergency_or_in_writing():
    for given in (facts(B.PHYSICAL_ATTACK, channel=C.COUNTER, ongoing=True), facts(B.VERBAL_ABUSE, channel=C.EMAIL, ongoing=True)):
        assert "言い方：" not in guidance.judgement(assess(given), given.channel, given.ongoing).text


def test_guidance_reads_the_phrase_library_it_is_given():
    custom = load_phrases().phrases
    text = "situations:\n" + "".join(
        f"  {s}:\n    phrases:\n" + "".join(
            f"      - code: {p.code}\n        text: \"{'「当市の言い方です。」' if p.code == 'thanks.phone' else p.text}\"\n"
            + (f"        channels: [{', '.join(sorted(c.value for c in p.channels))}]\n" if p.channels else "")
            for p in custom if p.situation == s)
        for s in dict.fromkeys(p.situation for p in custom))
    library = parse_phrases(text)
    reply = guidance.initial_response(C.PHONE, ongoing=True, phrases=library)
    assert "「当市の言い方です。」" in reply.text and "「お電話ありがとうございます。」" not in reply.text


# --- stages -----------------------------------------------------------------------------------

def test_safety_comes_with_110_on_every_channel():
    for channel in CHANNELS:
        reply = guidance.safety_first(channel)
        assert "110" in reply.text and reply.buttons[0].payload == "/ask_escalation"


def test_safety_fits_the_channel():
    assert "外に出て" in guidance.safety_first(C.VISIT).text and "職場に電話" in guidance.safety_first(C.VISIT).text
    for channel in (C.EMAIL, C.SNS, C.LETTER):
        text = guidance.safety_first(channel).text
        assert "保存" in text and not any(word in text for word in ("離れ", "移動", "外に出"))


def test_initial_response_is_a_limited_apology_with_phrases_for_the_channel():
    phone = guidance.initial_response(C.PHONE, ongoing=True).text
    assert "非を認める謝罪ではありません" in phone and "お電話ありがとうございます" in phone and "録音" in phone
    assert "一人で行かず" in guidance.initial_response(C.VISIT, ongoing=True).text


def test_written_channels_are_answered_later_by_the_organisation():
    text = guidance.initial_response(C.EMAIL, ongoing=True).text
    assert "すぐに返信しなくて大丈夫" in text and "組織として回答" in text


def test_after_the_fact_skips_the_live_script():
    assert "お礼を伝える" not in guidance.initial_response(C.COUNTER, ongoing=False).text


def test_time_box_wording_by_channel():
    counter = guidance.time_box(C.COUNTER, 30, None).text
    assert "お引き取りをお願いいたします" in counter and "警察に通報いたします" in counter and "施設" in counter
    assert counter.index("お引き取り") < counter.index("警察に通報いたします") < counter.index("110番")
    phone = guidance.time_box(C.PHONE, 30, None).text
    assert "電話を切ります" in phone and "お引き取り" not in phone
    visit = guidance.time_box(C.VISIT, 30, None).text
    assert "その場を離れます" in visit and "110" not in visit
    letter = guidance.time_box(C.LETTER, 30, None).text
    assert "文書で回答" in letter and "110" not in letter


def test_time_notice_counts_down_then_warns():
    assert "あと約5分" in guidance.time_notice(TimeStatus(25, 30, True, False))
    assert "過ぎています" in guidance.time_notice(TimeStatus(35, 30, True, True))


# (status, last shown, the threshold expected now or None)
TIME_NOTICES = [
    (None, None, None),  # after the fact
    (TimeStatus(10, 30, False, False), None, None),
    (TimeStatus(25, 30, True, False), None, TimeThreshold.NEAR),
    (TimeStatus(27, 30, True, False), TimeThreshold.NEAR, None),  # not again on the next turn
    (TimeStatus(31, 30, True, True), TimeThreshold.NEAR, TimeThreshold.OVER),
    (TimeStatus(45, 30, True, True), TimeThreshold.OVER, None),
    (TimeStatus(40, 30, True, True), None, TimeThreshold.OVER),  # first seen past the limit
]


@pytest.mark.parametrize("status, last, expected", TIME_NOTICES)
def test_time_notice_only_when_a_threshold_is_crossed(status, last, expected):
    notice = guidance.time_notice_due(status, last, C.PHONE)
    assert (notice and notice.threshold) == expected
    if expected is TimeThreshold.NEAR:
        assert "⏱" in notice.text and "あと5分ほどでお電話を終え" in notice.text
    if expected is TimeThreshold.OVER:
        assert "過ぎています" in notice.text


def test_escalation_puts_110_first_then_the_organisation():
    criminal = assess(facts(B.PHYSICAL_ATTACK, ongoing=True))
    text = guidance.escalation(criminal, SETTINGS).text
    assert text.index("110番") < text.index("係長（内線 10）") < text.index("相談窓口（内線 20）")
    assert "1. 警察 110番" in text and "凶器の有無" in text


def test_escalation_names_119_and_the_welfare_contact():
    assert "救急 119番" in guidance.escalation(assess(facts(self_harm=True, ongoing=True)), SETTINGS).text
    vulnerable = assess(facts(demand_basis=D.UNRELATED, vulnerable=True, elapsed_minutes=60))
    assert "地域包括支援センター（内線 40）" in guidance.escalation(vulnerable, SETTINGS).text


def test_escalation_without_a_judgement_starts_with_the_supervisor():
    text = guidance.escalation(None, SETTINGS).text
    assert "1. 上司・現場責任者：係長" in text and "#9110" in text


def test_say_gives_the_channels_words_for_a_situation():
    name = guidance.say(Situation.NAME_DEMAND).text
    assert "名字" in name and "フルネーム" in name
    assert "録音" in guidance.say(Situation.RECORDING_OBJECTION, C.PHONE).text


# --- saying the demand back -------------------------------------------------------------------

@pytest.mark.parametrize(
    "typed, expected",
    [
        ("返金しろ", "返金"),
        ("返金しろよ！", "返金"),
        ("謝罪しろ", "謝罪"),
        ("上司を出せ", "上司からのご説明"),
        ("通知を訂正してほしい", "通知の訂正"),
        ("書類を再送して", "書類の再送"),
        ("金を返せ", "返金"),
        ("相手が返金しろと言っています", "返金"),
        ("「書類の再発行」", "書類の再発行"),
        ("クマの駆除をやめろ", "クマの駆除の中止"),
        ("手続きの説明", "手続きの説明"),
        # never said back: abuse, sexual words, threats, staff details, questions, long sentences
        ("お前バカか", None),
        ("ホテルに行こうと誘われた", None),
        ("付き合ってよ", None),
        ("土下座しろ", None),
        ("名前を名乗れ", None),
        ("ネットに晒すぞ", None),
        ("クマを殺すな", None),
        ("返金できますか？", None),
        ("どうすればいいですか", None),
        ("特に要求はなく世間話です", None),
        ("こちらのミスで書類が届いておらず、再送してほしいとのことです", None),
        ("もっと丁寧に対応しろ", None),
        ("", None),
    ],
)
def test_paraphrase(typed: str, expected: str | None):
    assert paraphrase(typed) == expected


def test_demand_echo_says_it_back_politely_or_falls_back_to_a_neutral_line():
    polite = guidance.demand_echo("返金しろ")
    assert "「返金をご希望ということで、よろしいでしょうか。」" in polite and "しろ" not in polite
    for rough in ("ホテルに行こうと誘われた", "お前バカか", "相手は何度も同じことを言っていて、いつ終わるかわからないのですが"):
        neutral = guidance.demand_echo(rough)
        assert rough not in neutral and "ホテル" not in neutral and "バカ" not in neutral
        assert "そのまま繰り返さず" in neutral and "ご要望" in neutral


# --- afterwards -------------------------------------------------------------------------------

def test_aftercare_for_a_calm_call_is_light():
    calm = facts(our_fault=True, channel=C.PHONE)
    text = guidance.aftercare(SETTINGS, calm, assess(calm))
    assert "落ち着いた対応" in text and "眠れない" not in text and "つらい対応" not in text


def test_aftercare_after_a_threat_plans_the_way_home():
    threat = facts(B.THREAT, channel=C.COUNTER, ongoing=True)
    assert "帰り道は一人にならない" in guidance.aftercare(SETTINGS, threat, assess(threat))


def test_aftercare_after_a_sexual_remark_decides_who_serves_next():
    sexual = facts(B.SEXUAL, channel=C.COUNTER, ongoing=True)
    text = guidance.aftercare(SETTINGS, sexual, assess(sexual))
    assert "誰が対応するか" in text and "帰り道" not in text


def test_aftercare_for_a_past_threat_gives_9110_and_what_to_keep():
    past = facts(B.THREAT, channel=C.PHONE, ongoing=False)
    text = guidance.aftercare(SETTINGS, past, assess(past))
    assert "#9110" in text and "録音・メモ" in text and "保存" in text and "出口" not in text


def test_handover_summary_is_short_and_asks_for_what_is_needed():
    live = facts(B.DETENTION, refused_to_leave=True, departure_step=S.ORDERED_TO_LEAVE, channel=C.COUNTER,
                 ongoing=True, elapsed_minutes=50, warnings_given=W.WARNED)
    text = guidance.handover_summary(live, assess(live), {"id": 12, "demand": "返金しろ", "employee_department": "市民課"})
    assert text.startswith("【二次対応のお願い】相談記録 No.12（市民課）")
    assert "窓口・対面／対応中・約50分" in text and "要求：返金" in text
    assert "退去のお願い（施設管理権、2〜3回）" in text and "続くなら対応を終えると伝えた（警告）" in text
    assert "退去を求める判断" in text and len(text) < 300
    danger = facts(B.PHYSICAL_ATTACK, channel=C.COUNTER, ongoing=True)
    assert "すぐに来てください" in guidance.handover_summary(danger, assess(danger), {"id": 1})
    past = facts(B.SEXUAL, channel=C.PHONE)
    past_text = guidance.handover_summary(past, assess(past), {"id": 2, "demand": "ホテルに行こうと誘われたので断りたいのですがどうすれば"})
    assert "今後の対応の相談" in past_text and "…" in past_text


# --- questions --------------------------------------------------------------------------------

def test_every_question_offers_dont_know_except_live_or_after():
    for slot in ("situation_channel", "elapsed_minutes", "demand", "our_fault", "demand_related", "demand_basis",
                 "behaviors", "identified", "recorded", "alone", "warnings_given", "conduct_continued", "deadlock",
                 "departure_step"):
        assert "/dont_know" in [b.payload for b in guidance.question(slot, ongoing=True).buttons]
    assert "経ちました" in guidance.question("elapsed_minutes", ongoing=True).text
    assert "続きました" in guidance.question("elapsed_minutes", ongoing=False).text


def test_new_questions_offer_every_code_in_plain_words():
    basis = [b.payload for b in guidance.question("demand_basis", ongoing=True).buttons]
    assert '/inform{"demand_basis": "reasonable_accommodation"}' in basis and len(basis) == len(D)
    warnings = [b.payload for b in guidance.question("warnings_given", ongoing=True).buttons]
    assert len(warnings) == len(W) + 1
    steps = [b.payload for b in guidance.question("departure_step", ongoing=True).buttons]
    assert len(steps) == len(S) + 1


def test_record_summary_reads_the_record_fields():
    summary = guidance.record_summary({
        "id": 7, "status": "closed", "situation_channel": "phone", "elapsed_minutes": 45, "demand": "返金しろ",
        "behaviors": ["verbal_abuse"], "our_fault": False, "demand_related": True, "identified": None,
        "recorded": True, "alone": False, "verdict": "caution"})
    assert "No.7（終了）" in summary and "電話" in summary and "45分" in summary and "暴言・侮辱" in summary
    assert "相手の特定：不明" in summary and "注意をお願いする段階" in summary
