"""The judgement core: the two axes, warnings, time restraint, the police sequence, legal labels, routes.

Expectations are written out by hand from the guidance (docs/judgement.md), not derived from the code.
"""
from __future__ import annotations

import dataclasses
import json

import pytest

from bot.assessment import LEGAL_NOTES, Assessment, Facts, FactsError, assess, legal_notes
from bot.codes import (
    ALWAYS_UNACCEPTABLE,
    CAUTION_FIRST,
    CRIMINAL_CONDUCT,
    Behavior as B,
    DemandBasis as D,
    DemandValidity,
    DepartureStep as S,
    Escalation as E,
    HarassmentType as T,
    LegalRisk as L,
    Route as R,
    Situation as Sit,
    SituationChannel as C,
    Verdict as V,
    WarningLevel as W,
)


def facts(*behaviors: B, **fields) -> Facts:
    return Facts(behaviors=frozenset(behaviors), **fields)


H = (E.SUPERVISOR, E.CONSULTATION_DESK, E.OCCUPATIONAL_HEALTH)
HL = (E.SUPERVISOR, E.CONSULTATION_DESK, E.LAWYER, E.OCCUPATIONAL_HEALTH)
P110 = (E.POLICE_110, E.SUPERVISOR, E.CONSULTATION_DESK, E.OCCUPATIONAL_HEALTH)
P9110 = (E.SUPERVISOR, E.CONSULTATION_DESK, E.POLICE_9110, E.OCCUPATIONAL_HEALTH)
SUP = (E.SUPERVISOR,)
FAULTS = (True, False, None)
CONTINUED = {"warnings_given": W.ASKED_TO_STOP, "conduct_continued": True}

# Unacceptable at once, whatever the demand: (verdict, types, legal risks, escalations).
IMMEDIATE = {
    B.DOGEZA_DEMAND: (V.HARASSMENT, (), (), H),  # a bare dogeza demand is not yet 強要罪
    B.PERSISTENT: (V.HARASSMENT, (T.REPEAT,), (L.FORCIBLE_OBSTRUCTION,), H),
    B.DETENTION: (V.HARASSMENT, (T.TIME_RESTRAINT,), (L.FORCIBLE_OBSTRUCTION,), H),
    B.DISCRIMINATION: (V.HARASSMENT, (), (), H),
    B.SEXUAL: (V.HARASSMENT, (T.SEXUAL_HARASSMENT,), (), H),
    # 「ネットに晒すぞ」 without a post: a threat to expose (脅迫), not 名誉毀損
    B.SNS_EXPOSURE: (V.CRIMINAL, (T.THREAT,), (L.INTIMIDATION_CRIME,),
                     (E.SUPERVISOR, E.CONSULTATION_DESK, E.LAWYER, E.POLICE_9110, E.OCCUPATIONAL_HEALTH)),
}
# Caution first: harassment once it goes on after a request to stop.
AFTER_CONTINUING = {
    B.VERBAL_ABUSE: (V.HARASSMENT, (T.VERBAL_ABUSE,), (), H),
    B.INTIMIDATION: (V.HARASSMENT, (T.THREAT,), (L.FORCIBLE_OBSTRUCTION,), H),
    B.PERSONAL_ATTACK: (V.HARASSMENT, (T.VERBAL_ABUSE,), (), H),
}

CASES = [
    *[(facts(b, our_fault=fault), *IMMEDIATE[b]) for b in IMMEDIATE for fault in FAULTS],
    *[(facts(b, our_fault=fault), V.CAUTION, (), (), SUP) for b in AFTER_CONTINUING for fault in FAULTS],
    *[(facts(b, our_fault=fault, **CONTINUED), *AFTER_CONTINUING[b]) for b in AFTER_CONTINUING for fault in FAULTS],
    # stopped after the request: judged on the demand alone
    (facts(B.VERBAL_ABUSE, our_fault=True, warnings_given=W.ASKED_TO_STOP, conduct_continued=False),
     V.LEGITIMATE, (), (), ()),
    # going on, but nobody has asked them to stop yet: still the request-to-stop stage
    (facts(B.VERBAL_ABUSE, our_fault=True, warnings_given=W.NONE, conduct_continued=True), V.CAUTION, (), (), SUP),
    # posted, or said on SNS: 名誉毀損, and the lawyer
    (facts(B.SNS_EXPOSURE, public=True), V.HARASSMENT, (T.SNS_DEFAMATION,), (L.DEFAMATION,), HL),
    (facts(B.SNS_EXPOSURE, channel=C.SNS), V.HARASSMENT, (T.SNS_DEFAMATION,), (L.DEFAMATION,), HL),
    # 侮辱罪 only in public
    (facts(B.VERBAL_ABUSE, public=True, **CONTINUED), V.HARASSMENT, (T.VERBAL_ABUSE,), (L.INSULT,), H),
    # demands whose acceptability depends on a fault of ours
    (facts(B.EXCESSIVE_DEMAND, our_fault=True), V.GRAY, (), (), SUP),
    (facts(B.EXCESSIVE_DEMAND, our_fault=False), V.HARASSMENT, (), (), H),
    (facts(B.EXCESSIVE_DEMAND), V.GRAY, (), (), SUP),
    (facts(B.EXCESSIVE_DEMAND, demand_related=False), V.HARASSMENT, (), (), H),
    (facts(B.APOLOGY_DEMAND, our_fault=True), V.GRAY, (), (), SUP),
    (facts(B.APOLOGY_DEMAND, our_fault=False), V.HARASSMENT, (), (), H),  # no 強要罪 without 暴行・脅迫
    (facts(B.AUTHORITY_PRESSURE, our_fault=True), V.GRAY, (), (), SUP),
    (facts(B.AUTHORITY_PRESSURE, our_fault=False), V.GRAY, (), (), SUP),  # no fault alone: basis unknown
    (facts(B.AUTHORITY_PRESSURE, demand_basis=D.BEYOND_RULES), V.HARASSMENT, (T.AUTHORITY,), (), H),
    (facts(B.VERBAL_ABUSE, B.AUTHORITY_PRESSURE, B.APOLOGY_DEMAND, our_fault=False),
     V.HARASSMENT, (T.VERBAL_ABUSE, T.AUTHORITY), (), H),
    # no conduct: the demand axis alone, and no fault is not the same as invalid
    (facts(our_fault=True), V.LEGITIMATE, (), (), ()),
    (facts(our_fault=False), V.GRAY, (), (), SUP),
    (facts(), V.GRAY, (), (), SUP),
    (facts(demand_related=False), V.UNREASONABLE_REQUEST, (), (), ()),
    (facts(our_fault=True, demand_related=False), V.UNREASONABLE_REQUEST, (), (), ()),
    (facts(our_fault=False, demand_basis=D.WITHIN_SERVICE), V.LEGITIMATE, (), (), ()),
    (facts(demand_basis=D.OPINION), V.LEGITIMATE, (), (), ()),
    (facts(demand_basis=D.REASONABLE_ACCOMMODATION), V.LEGITIMATE, (), (), SUP),
    (facts(demand_basis=D.NO_BASIS), V.UNREASONABLE_REQUEST, (), (), ()),
    (facts(demand_basis=D.UNRELATED), V.UNREASONABLE_REQUEST, (), (), ()),
    (facts(demand_basis=D.BEYOND_RULES), V.UNREASONABLE_REQUEST, (), (), ()),
    (facts(demand_basis=D.UNKNOWN), V.GRAY, (), (), SUP),
    # a loud but valid complaint, live and under the limit, stays legitimate
    (facts(our_fault=True, ongoing=True, elapsed_minutes=10, channel=C.COUNTER), V.LEGITIMATE, (), (), ()),
    # violence, threats, injury, damage
    (facts(B.PHYSICAL_ATTACK, ongoing=True), V.CRIMINAL, (T.VIOLENCE,), (L.ASSAULT,), P110),
    (facts(B.PHYSICAL_ATTACK, our_fault=True), V.CRIMINAL, (T.VIOLENCE,), (L.ASSAULT,), P9110),
    (facts(danger=True), V.CRIMINAL, (), (), P110),
    (facts(B.THREAT, our_fault=True), V.CRIMINAL, (T.THREAT,), (L.INTIMIDATION_CRIME,), P9110),
    (facts(B.THREAT, ongoing=True), V.CRIMINAL, (T.THREAT,), (L.INTIMIDATION_CRIME,), P110),
    (facts(B.THREAT, B.EXCESSIVE_DEMAND, our_fault=False), V.CRIMINAL, (T.THREAT,), (L.INTIMIDATION_CRIME,), P9110),
    (facts(B.THREAT, B.EXCESSIVE_DEMAND, our_fault=False, money_demanded=True), V.CRIMINAL, (T.THREAT,),
     (L.INTIMIDATION_CRIME, L.EXTORTION), P9110),
    (facts(B.THREAT, B.DOGEZA_DEMAND), V.CRIMINAL, (T.THREAT,), (L.INTIMIDATION_CRIME, L.COERCION), P9110),
    (facts(B.THREAT, B.APOLOGY_DEMAND, B.AUTHORITY_PRESSURE, our_fault=False), V.CRIMINAL, (T.THREAT, T.AUTHORITY),
     (L.INTIMIDATION_CRIME, L.COERCION), P9110),
    (facts(B.SEXUAL, B.PHYSICAL_ATTACK, ongoing=True), V.CRIMINAL, (T.VIOLENCE, T.SEXUAL_HARASSMENT),
     (L.ASSAULT, L.SEXUAL_ASSAULT), P110),
    (facts(B.INTIMIDATION, B.EXCESSIVE_DEMAND, our_fault=True, money_demanded=True), V.CAUTION, (), (), SUP),
    (facts(injured=True, ongoing=True), V.CRIMINAL, (T.VIOLENCE,), (L.INJURY,),
     (E.POLICE_110, E.AMBULANCE_119, E.SUPERVISOR, E.CONSULTATION_DESK, E.OCCUPATIONAL_HEALTH)),
    (facts(B.PHYSICAL_ATTACK, injured=True), V.CRIMINAL, (T.VIOLENCE,), (L.ASSAULT, L.INJURY), P9110),
    (facts(property_damaged=True), V.CRIMINAL, (T.VIOLENCE,), (L.PROPERTY_DAMAGE,), P9110),
    # restraint
    (facts(B.DETENTION, channel=C.VISIT), V.HARASSMENT, (T.OFFSITE_RESTRAINT,), (L.CONFINEMENT, L.FORCIBLE_OBSTRUCTION), H),
    (facts(B.VERBAL_ABUSE, B.PERSISTENT, B.DOGEZA_DEMAND, channel=C.PHONE), V.HARASSMENT, (T.REPEAT, T.VERBAL_ABUSE),
     (L.FORCIBLE_OBSTRUCTION,), H),
    # refusal to leave: harassment, not yet a police case, until the final warning has been given
    (facts(refused_to_leave=True, ongoing=True), V.HARASSMENT, (T.TIME_RESTRAINT,), (L.NON_DEPARTURE,), H),
    (facts(refused_to_leave=True, departure_step=S.FINAL_WARNING, ongoing=True), V.CRIMINAL, (T.TIME_RESTRAINT,),
     (L.NON_DEPARTURE,), P110),
    (facts(refused_to_leave=True, departure_step=S.FINAL_WARNING), V.CRIMINAL, (T.TIME_RESTRAINT,),
     (L.NON_DEPARTURE,), P9110),
    # time: the same live or after the fact
    (facts(demand_basis=D.UNRELATED, ongoing=True, elapsed_minutes=60), V.HARASSMENT, (T.TIME_RESTRAINT,),
     (L.FORCIBLE_OBSTRUCTION,), H),
    (facts(demand_basis=D.UNRELATED, elapsed_minutes=60), V.HARASSMENT, (T.TIME_RESTRAINT,),
     (L.FORCIBLE_OBSTRUCTION,), H),
    (facts(demand_related=False, channel=C.VISIT, elapsed_minutes=40), V.HARASSMENT, (T.OFFSITE_RESTRAINT,),
     (L.FORCIBLE_OBSTRUCTION,), H),
    (facts(demand_basis=D.UNRELATED, ongoing=True, elapsed_minutes=29), V.UNREASONABLE_REQUEST, (), (), ()),
    (facts(demand_basis=D.UNRELATED, ongoing=True), V.UNREASONABLE_REQUEST, (), (), ()),
    (facts(our_fault=True, ongoing=True, elapsed_minutes=45), V.LEGITIMATE, (), (), SUP),
    (facts(our_fault=True, elapsed_minutes=45, deadlock=True), V.HARASSMENT, (T.TIME_RESTRAINT,),
     (L.FORCIBLE_OBSTRUCTION,), H),
    (facts(demand_basis=D.OPINION, ongoing=True, elapsed_minutes=50, deadlock=True), V.HARASSMENT,
     (T.TIME_RESTRAINT,), (L.FORCIBLE_OBSTRUCTION,), H),
    (facts(our_fault=True, ongoing=True, elapsed_minutes=20, deadlock=True), V.LEGITIMATE, (), (), ()),
    # 合理的配慮 is never harassment for the demand or the time it takes
    (facts(demand_basis=D.REASONABLE_ACCOMMODATION, ongoing=True, elapsed_minutes=70, deadlock=True),
     V.LEGITIMATE, (), (), SUP),
    # a vulnerable caller: a gentle close and a welfare contact, not a label
    (facts(demand_basis=D.UNRELATED, vulnerable=True, ongoing=True, elapsed_minutes=60),
     V.UNREASONABLE_REQUEST, (), (), (E.SUPERVISOR, E.WELFARE)),
    # self-harm: protect life, never a threat to staff
    (facts(self_harm=True, ongoing=True), V.GRAY, (), (), (E.POLICE_110, E.AMBULANCE_119, E.SUPERVISOR)),
    (facts(self_harm=True, our_fault=True, ongoing=True), V.LEGITIMATE, (), (),
     (E.POLICE_110, E.AMBULANCE_119, E.SUPERVISOR)),
    (facts(self_harm=True, our_fault=True), V.LEGITIMATE, (), (), SUP),
]
ALL_FACTS = [case[0] for case in CASES]


@pytest.mark.parametrize("given, verdict, types, risks, escalations", CASES)
def test_judgement_table(given: Facts, verdict: V, types, risks, escalations) -> None:
    result = assess(given)
    assert (result.verdict, result.types, result.legal_risks, result.escalations) == (
        verdict, types, risks, escalations
    )


def test_table_covers_every_code() -> None:
    assert set().union(*(f.behaviors for f in ALL_FACTS)) == set(B)
    assert {assess(f).verdict for f in ALL_FACTS} == set(V)
    assert {assess(f).demand_basis for f in ALL_FACTS} == set(D)
    assert set().union(*(assess(f).legal_risks for f in ALL_FACTS)) == set(L)
    assert set().union(*(assess(f).escalations for f in ALL_FACTS)) == set(E)


def test_caution_first_is_a_documented_subset() -> None:
    assert CAUTION_FIRST == {B.VERBAL_ABUSE, B.INTIMIDATION, B.PERSONAL_ATTACK}
    assert CAUTION_FIRST < ALWAYS_UNACCEPTABLE and not CAUTION_FIRST & CRIMINAL_CONDUCT


@pytest.mark.parametrize(
    "basis, validity",
    [(D.OUR_FAULT, "valid"), (D.WITHIN_SERVICE, "valid"), (D.OPINION, "valid"), (D.REASONABLE_ACCOMMODATION, "valid"),
     (D.NO_BASIS, "invalid"), (D.UNRELATED, "invalid"), (D.BEYOND_RULES, "invalid"), (D.UNKNOWN, "unknown")],
)
def test_demand_validity_follows_the_basis(basis: D, validity: str) -> None:
    result = assess(facts(demand_basis=basis))
    assert (result.demand_basis, result.demand_validity) == (basis, DemandValidity(validity))


@pytest.mark.parametrize(
    "fields, basis",
    [({"our_fault": True}, D.OUR_FAULT), ({"our_fault": False}, D.UNKNOWN), ({"demand_related": False}, D.UNRELATED),
     ({"our_fault": True, "demand_related": True}, D.OUR_FAULT), ({"demand_related": True}, D.UNKNOWN),
     ({"our_fault": True, "demand_basis": D.BEYOND_RULES}, D.BEYOND_RULES)],
)
def test_todays_fields_still_give_the_basis(fields: dict, basis: D) -> None:
    assert assess(facts(**fields)).demand_basis is basis


def test_compensation_without_fault_has_no_basis() -> None:
    assert assess(facts(B.EXCESSIVE_DEMAND, our_fault=False)).demand_basis is D.NO_BASIS
    assert assess(facts(B.APOLOGY_DEMAND, our_fault=False)).demand_basis is D.NO_BASIS


# --- the cases, at the level of facts -------------------------------------------------

def test_bear_culling_callers_are_valid_opinions_handled_by_the_organisation() -> None:
    call = facts(demand_basis=D.OPINION, channel=C.PHONE, ongoing=True, elapsed_minutes=12)
    result = assess(call)
    assert result.verdict is V.LEGITIMATE and result.demand_validity is DemandValidity.VALID
    assert result.legal_risks == () and E.POLICE_110 not in result.escalations and E.POLICE_9110 not in result.escalations
    assert R.OPINION in result.routes
    text = "".join(result.steps)
    assert "録音" in text and "30分" in text and "組織として" in text
    assert any("貴重" in reason for reason in result.reasons)
    assert not any("カスタマーハラスメント" in s or "妥当とはいえません" in s for s in result.reasons)


def test_loud_complaint_where_we_were_at_fault_is_legitimate_with_a_clear_apology() -> None:
    result = assess(facts(our_fault=True, channel=C.COUNTER, ongoing=True, elapsed_minutes=15))
    assert result.verdict is V.LEGITIMATE and result.escalations == ()
    assert any("はっきりお詫び" in s for s in result.steps)
    assert any("口調や態度だけでカスハラとは判断しません" in r for r in result.reasons)


def test_one_rude_word_is_cautioned_then_continuing_abuse_is_harassment() -> None:
    base = {"our_fault": True, "channel": C.PHONE, "ongoing": True}
    first = assess(facts(B.VERBAL_ABUSE, **base))
    assert first.verdict is V.CAUTION and first.legal_risks == () and first.types == ()
    assert first.next_warning is W.ASKED_TO_STOP
    assert "おやめください" in first.steps[0]

    after_request = assess(facts(B.VERBAL_ABUSE, warnings_given=W.ASKED_TO_STOP, conduct_continued=True, **base))
    assert after_request.verdict is V.HARASSMENT and after_request.types == (T.VERBAL_ABUSE,)
    assert after_request.next_warning is W.WARNED
    assert "対応を終了します" in after_request.steps[0]
    assert "要求の正当な部分には誠実に対応してください。" in after_request.steps

    after_warning = assess(facts(B.VERBAL_ABUSE, warnings_given=W.WARNED, conduct_continued=True, **base))
    assert after_warning.next_warning is W.TOLD_RESPONSE_ENDS
    assert "本日の対応は終了します" in after_warning.steps[0]

    ended = assess(facts(B.VERBAL_ABUSE, warnings_given=W.TOLD_RESPONSE_ENDS, conduct_continued=True, **base))
    assert ended.next_warning is None
    assert "電話を切って" in ended.steps[0]


def test_sixty_minutes_of_small_talk_gets_the_same_verdict_live_and_after() -> None:
    live = assess(facts(demand_basis=D.UNRELATED, channel=C.PHONE, ongoing=True, elapsed_minutes=60))
    later = assess(facts(demand_basis=D.UNRELATED, channel=C.PHONE, ongoing=False, elapsed_minutes=60))
    assert (live.verdict, live.types, live.legal_risks) == (later.verdict, later.types, later.legal_risks)
    assert live.verdict is V.HARASSMENT and live.types == (T.TIME_RESTRAINT,)
    assert live.over_time_limit and later.over_time_limit
    assert "対応を終えてください" in live.steps[0]
    assert "次回は最初に" in later.steps[0]


@pytest.mark.parametrize("given", ALL_FACTS)
def test_being_live_never_changes_the_verdict(given: Facts) -> None:
    live, later = (assess(dataclasses.replace(given, ongoing=flag)) for flag in (True, False))
    assert (live.verdict, live.types, live.legal_risks) == (later.verdict, later.types, later.legal_risks)


def test_reasonable_accommodation_gets_constructive_dialogue_never_harassment() -> None:
    for extra in ({}, {"elapsed_minutes": 90, "deadlock": True}, {"our_fault": False}):
        result = assess(facts(demand_basis=D.REASONABLE_ACCOMMODATION, ongoing=True, channel=C.COUNTER, **extra))
        assert result.verdict is V.LEGITIMATE and result.types == ()
        assert R.REASONABLE_ACCOMMODATION in result.routes
        assert any("建設的対話" in s for s in result.steps)
        assert any("合理的配慮" in r and "カスハラではありません" in r for r in result.reasons)


# (departure step reached, still there, next step, verdict, 110 now, words in the first step)
DEPARTURE_SEQUENCE = [
    (None, False, S.ASKED_TO_STOP, V.HARASSMENT, False, "2〜3回お願い"),  # sitting in at the counter
    (None, True, S.ORDERED_TO_LEAVE, V.HARASSMENT, False, "施設管理権"),  # asked to leave once: not 110
    (S.ASKED_TO_STOP, True, S.ORDERED_TO_LEAVE, V.HARASSMENT, False, "施設管理権"),
    (S.ORDERED_TO_LEAVE, True, S.FINAL_WARNING, V.HARASSMENT, False, "警察に通報します"),
    (S.FINAL_WARNING, True, S.POLICE_CALLED, V.CRIMINAL, True, "110番"),
    (S.POLICE_CALLED, True, None, V.CRIMINAL, True, "警察が来たら"),
]


@pytest.mark.parametrize("step, stays, next_step, verdict, police_now, words", DEPARTURE_SEQUENCE)
def test_refusal_to_leave_follows_the_tokyo_sequence(step, stays, next_step, verdict, police_now, words) -> None:
    result = assess(facts(B.DETENTION, channel=C.COUNTER, ongoing=True, refused_to_leave=stays, departure_step=step))
    assert R.DEPARTURE in result.routes
    assert result.next_departure_step is next_step
    assert result.verdict is verdict
    assert (E.POLICE_110 in result.escalations) is police_now
    assert words in result.steps[0]
    assert result.next_warning is None  # the departure sequence replaces the general one
    if not police_now:
        assert not any("110" in s for s in result.steps)


def test_refusal_to_leave_after_the_fact_is_the_consultation_line() -> None:
    result = assess(facts(refused_to_leave=True, departure_step=S.FINAL_WARNING, channel=C.COUNTER))
    assert result.next_departure_step is None
    assert E.POLICE_9110 in result.escalations and E.POLICE_110 not in result.escalations


def test_self_harm_statement_protects_life_and_is_no_threat() -> None:
    result = assess(facts(self_harm=True, channel=C.PHONE, ongoing=True))
    assert result.verdict not in (V.CRIMINAL, V.HARASSMENT) and result.legal_risks == ()
    assert R.PROTECT_LIFE in result.routes and R.EMERGENCY not in result.routes
    assert "切らずに" in result.steps[0] and "119番" in result.steps[1] and "上司" in result.steps[2]
    assert any("命を守る" in r for r in result.reasons)


def test_threat_to_expose_online_is_a_threat_not_defamation() -> None:
    result = assess(facts(B.SNS_EXPOSURE, channel=C.PHONE, ongoing=True))
    assert L.INTIMIDATION_CRIME in result.legal_risks and L.DEFAMATION not in result.legal_risks
    assert E.POLICE_110 not in result.escalations and E.POLICE_9110 in result.escalations
    assert any("脅迫" in r for r in result.reasons)
    posted = assess(facts(B.SNS_EXPOSURE, public=True))
    assert L.DEFAMATION in posted.legal_risks and L.INTIMIDATION_CRIME not in posted.legal_risks


def test_vulnerable_caller_is_closed_gently_with_a_welfare_contact() -> None:
    result = assess(facts(demand_basis=D.UNRELATED, vulnerable=True, channel=C.PHONE, ongoing=True, elapsed_minutes=60))
    assert result.verdict is V.UNREASONABLE_REQUEST and result.types == ()
    assert R.VULNERABLE_CALLER in result.routes and E.WELFARE in result.escalations
    assert "やさしく区切って" in result.steps[0] and "地域包括支援センター" in result.steps[1]


# --- emergencies ------------------------------------------------------------------------------

@pytest.mark.parametrize("given", ALL_FACTS)
def test_110_comes_first_whenever_it_is_listed(given: Facts) -> None:
    escalations = assess(given).escalations
    if E.POLICE_110 in escalations:
        assert escalations[0] is E.POLICE_110


@pytest.mark.parametrize(
    "channel, present, absent",
    [
        (C.VISIT, ["外に出て", "職場に電話"], []),
        (C.COUNTER, ["相手から離れ", "110番"], []),
        (C.PHONE, ["電話を切り", "110番"], []),
        (C.EMAIL, ["保存"], ["離れ", "移動", "外に出"]),
        (C.LETTER, ["保存"], ["離れ", "移動", "外に出"]),
    ],
)
def test_safety_steps_fit_the_channel(channel: C, present: list[str], absent: list[str]) -> None:
    result = assess(facts(B.THREAT, channel=channel, ongoing=True))
    assert R.EMERGENCY in result.routes
    text = "".join(result.now)
    assert all(word in text for word in present)
    assert not any(word in "".join(result.steps) for word in absent)


def test_no_safety_steps_without_danger() -> None:
    for given in (facts(B.SNS_EXPOSURE, ongoing=True), facts(refused_to_leave=True, ongoing=True), facts(B.SEXUAL, ongoing=True)):
        result = assess(given)
        assert R.EMERGENCY not in result.routes
        assert not any("安全な場所" in s for s in result.steps)


# --- wording ----------------------------------------------------------------------------------

@pytest.mark.parametrize("given", ALL_FACTS)
def test_reasons_name_both_axes(given: Facts) -> None:
    text = "".join(assess(given).reasons)
    assert "要求内容の妥当性" in text and "手段・態様" in text


@pytest.mark.parametrize("given", ALL_FACTS)
def test_wording_never_blames_or_asks_to_endure(given: Facts) -> None:
    result = assess(given)
    for sentence in result.reasons + result.steps + result.follow_up:
        assert sentence.endswith("。")
        for word in ("我慢", "耐え", "あなたの責任", "あなたのせい", "あなたが悪"):
            assert word not in sentence
    for step in result.steps + result.follow_up:
        assert "ください" in step
    assert len(result.now) == min(3, len(result.steps)) and result.now


@pytest.mark.parametrize("basis", [D.OUR_FAULT, D.WITHIN_SERVICE, D.OPINION, D.REASONABLE_ACCOMMODATION])
def test_a_valid_demand_without_bad_means_is_never_called_harassment(basis: D) -> None:
    for ongoing in (True, False):
        result = assess(facts(demand_basis=basis, ongoing=ongoing, elapsed_minutes=10, channel=C.PHONE))
        assert result.verdict is V.LEGITIMATE
        assert not any("ハラスメント" in s for s in result.reasons + result.steps)


@pytest.mark.parametrize("behavior", sorted(IMMEDIATE))
def test_valid_demand_with_unacceptable_means_is_still_handled_sincerely(behavior: B) -> None:
    result = assess(facts(behavior, our_fault=True))
    assert any("誠実に対応" in r and "応じません" in r for r in result.reasons)
    assert "要求の正当な部分には誠実に対応してください。" in result.steps


def test_legal_notes_are_one_plain_line_each() -> None:
    assert set(LEGAL_NOTES) == set(L)
    for risk, note in LEGAL_NOTES.items():
        assert note.startswith(risk.label + "：") and note.endswith("。") and "\n" not in note
    assert "公然" in LEGAL_NOTES[L.INSULT] and "公然" in LEGAL_NOTES[L.DEFAMATION]
    assert "暴行や脅迫" in LEGAL_NOTES[L.COERCION] and "金銭" in LEGAL_NOTES[L.EXTORTION]
    assert legal_notes((L.INJURY, L.PROPERTY_DAMAGE)) == (LEGAL_NOTES[L.INJURY], LEGAL_NOTES[L.PROPERTY_DAMAGE])


def test_follow_up_only_where_the_verdict_calls_for_it() -> None:
    assert assess(facts(our_fault=True)).follow_up == ()
    assert assess(facts(B.VERBAL_ABUSE, our_fault=True)).follow_up == ()
    sit_in = assess(facts(B.DETENTION, refused_to_leave=True, channel=C.COUNTER))
    assert any("出入禁止" in item and "施設管理権" in item for item in sit_in.follow_up)
    repeat = assess(facts(B.PERSISTENT, channel=C.PHONE))
    assert any("弁護士" in item for item in repeat.follow_up)
    assert any("情報を共有" in item for item in repeat.follow_up)
    assert not any("出入禁止" in item for item in repeat.follow_up)
    deadlock = assess(facts(demand_basis=D.WITHIN_SERVICE, deadlock=True, ongoing=True,
                            elapsed_minutes=60, channel=C.PHONE))
    assert any("文書" in item for item in deadlock.follow_up)
    assert not any("文書" in item for item in assess(facts(B.PERSISTENT, channel=C.PHONE)).follow_up)
    hurt = assess(facts(B.PHYSICAL_ATTACK, injured=True, channel=C.COUNTER))
    assert any("被害届" in item for item in hurt.follow_up)
    assert not any("被害届" in item for item in repeat.follow_up)


def test_over_the_limit_with_a_valid_demand_ends_now_and_answers_in_writing() -> None:
    result = assess(facts(our_fault=True, ongoing=True, elapsed_minutes=31))
    assert result.over_time_limit and result.verdict is V.LEGITIMATE
    assert any("後日文書" in s and "30分" in s for s in result.steps)
    assert "上司に状況を報告してください。" in result.steps
    assert any("31分" in r for r in result.reasons)


@pytest.mark.parametrize(
    "limit, elapsed, over", [(30, 30, True), (30, 29, False), (45, 40, False), (45, 45, True), (0, 0, True), (30, None, False)]
)
def test_time_limit(limit: int, elapsed: int | None, over: bool) -> None:
    for ongoing in (True, False):
        result = assess(facts(demand_basis=D.NO_BASIS, ongoing=ongoing, elapsed_minutes=elapsed), limit)
        assert result.time_limit_minutes == limit and result.over_time_limit is over
        assert result.verdict is (V.HARASSMENT if over else V.UNREASONABLE_REQUEST)


@pytest.mark.parametrize(
    "given, situation",
    [
        (facts(B.VERBAL_ABUSE, ongoing=True, channel=C.PHONE), Sit.ASK_TO_STOP),
        (facts(B.SEXUAL, ongoing=True, channel=C.COUNTER), Sit.SEXUAL_REMARK),
        (facts(B.DOGEZA_DEMAND, ongoing=True, channel=C.COUNTER), Sit.DOGEZA_DEMAND),
        (facts(B.VERBAL_ABUSE, ongoing=True, channel=C.PHONE, **CONTINUED), Sit.WARNING),
        (facts(refused_to_leave=True, ongoing=True, channel=C.COUNTER), Sit.ORDER_TO_LEAVE),
        (facts(self_harm=True, ongoing=True, channel=C.PHONE), Sit.SELF_HARM),
        (facts(demand_basis=D.UNRELATED, ongoing=True, elapsed_minutes=40, channel=C.PHONE), Sit.END_CALL),
        (facts(our_fault=True, ongoing=True, elapsed_minutes=40, channel=C.PHONE), Sit.CLOSE_OVERLONG),
        (facts(demand_basis=D.UNRELATED, vulnerable=True, ongoing=True, elapsed_minutes=40), Sit.GENTLE_CLOSE),
        (facts(demand_basis=D.OPINION, ongoing=True, channel=C.PHONE), Sit.OPINION_THANKS),
        (facts(our_fault=True, ongoing=True, channel=C.COUNTER), Sit.CLEAR_APOLOGY),
        (facts(B.PHYSICAL_ATTACK, ongoing=True, channel=C.COUNTER), None),
        (facts(B.VERBAL_ABUSE, ongoing=True, channel=C.EMAIL), None),
        (facts(B.VERBAL_ABUSE, channel=C.PHONE), None),
    ],
)
def test_the_words_needed_now(given: Facts, situation) -> None:
    assert assess(given).situation is situation


def test_recording_and_company_facts_change_the_advice() -> None:
    alone = assess(facts(B.SEXUAL, ongoing=True, channel=C.COUNTER, alone=True, recorded=False))
    assert any("ほかの職員に来てもらって" in s for s in alone.steps)
    assert any("録音します" in s for s in alone.steps)
    with_colleague = assess(facts(B.SEXUAL, ongoing=True, channel=C.COUNTER, alone=False, recorded=True))
    assert not any("ほかの職員に来てもらって" in s or "録音します" in s for s in with_colleague.steps)


def test_output_order_follows_the_enums_whatever_the_input_order() -> None:
    behaviors = [B.SNS_EXPOSURE, B.VERBAL_ABUSE, B.THREAT, B.DETENTION, B.PERSISTENT, B.DOGEZA_DEMAND,
                 B.EXCESSIVE_DEMAND, B.SEXUAL, B.PHYSICAL_ATTACK]
    results = {assess(Facts(behaviors=frozenset(order), ongoing=True, channel=C.VISIT))
               for order in (behaviors, list(reversed(behaviors)), sorted(behaviors))}
    assert len(results) == 1
    result = results.pop()
    assert result.types == (T.REPEAT, T.VERBAL_ABUSE, T.VIOLENCE, T.THREAT, T.OFFSITE_RESTRAINT, T.SEXUAL_HARASSMENT)
    assert result.escalations == (E.POLICE_110, E.SUPERVISOR, E.CONSULTATION_DESK, E.LAWYER, E.OCCUPATIONAL_HEALTH)


def test_to_dict_round_trips_codes() -> None:
    result = assess(facts(B.THREAT, B.SNS_EXPOSURE, demand_basis=D.NO_BASIS, ongoing=True, elapsed_minutes=40))
    data = json.loads(json.dumps(result.to_dict(), ensure_ascii=False))
    assert set(data) == {"verdict", "verdict_label", "demand_basis", "demand_validity", "types", "legal_risks",
                         "escalations", "routes", "next_warning", "next_departure_step", "reasons", "steps",
                         "follow_up", "situation", "time_limit_minutes", "over_time_limit"}
    assert V(data["verdict"]) is result.verdict and data["verdict_label"] == result.verdict.label
    assert (data["demand_basis"], data["demand_validity"]) == ("no_basis", "invalid")
    assert tuple(T(code) for code in data["types"]) == result.types
    assert [risk["code"] for risk in data["legal_risks"]] == ["intimidation_crime", "forcible_obstruction"]
    assert data["legal_risks"][0]["note"].startswith("脅迫罪：")
    assert tuple(E(code) for code in data["escalations"]) == result.escalations
    assert data["routes"] == ["emergency", "time_limit"] and data["next_warning"] is None
    assert data["situation"] is None  # in danger: safety, not words
    assert tuple(data["steps"]) == result.steps and data["over_time_limit"] is True


def test_assess_is_pure() -> None:
    given = facts(B.VERBAL_ABUSE, our_fault=True)
    assert assess(given) == assess(given)
    assert isinstance(assess(given), Assessment)
    with pytest.raises(dataclasses.FrozenInstanceError):
        assess(given).verdict = V.LEGITIMATE  # type: ignore[misc]


# --- reading facts -------------------------------------------------------------------------

TODAY = {
    "behaviors": ["verbal_abuse", "detention", "verbal_abuse"],
    "our_fault": False,
    "demand_related": True,
    "channel": "visit",
    "ongoing": True,
    "elapsed_minutes": 45,
    "refused_to_leave": True,
    "danger": False,
}
NEW = {
    "demand_basis": "beyond_rules",
    "money_demanded": True,
    "warnings_given": "warned",
    "conduct_continued": True,
    "deadlock": True,
    "departure_step": "final_warning",
    "public": False,
    "injured": True,
    "property_damaged": True,
    "self_harm": False,
    "vulnerable": True,
    "police_called": True,
    "identified": True,
    "recorded": False,
    "alone": True,
}


def test_from_dict_reads_todays_fields_unchanged() -> None:
    assert Facts.from_dict(TODAY) == Facts(
        behaviors=frozenset({B.VERBAL_ABUSE, B.DETENTION}), our_fault=False, demand_related=True,
        channel=C.VISIT, ongoing=True, elapsed_minutes=45, refused_to_leave=True, danger=False,
    )


def test_from_dict_reads_every_new_field() -> None:
    assert set(TODAY) | set(NEW) == {f.name for f in dataclasses.fields(Facts)}
    read = Facts.from_dict({**TODAY, **NEW})
    assert (read.demand_basis, read.warnings_given, read.departure_step) == (D.BEYOND_RULES, W.WARNED, S.FINAL_WARNING)
    assert (read.money_demanded, read.conduct_continued, read.deadlock, read.public) == (True, True, True, False)
    assert (read.injured, read.property_damaged, read.self_harm, read.vulnerable, read.police_called) == (
        True, True, False, True, True)
    assert (read.identified, read.recorded, read.alone) == (True, False, True)


def test_from_dict_defaults_and_nulls() -> None:
    assert Facts.from_dict({}) == Facts()
    nulls = {"our_fault": None, "demand_related": None, "channel": None, "elapsed_minutes": None, "behaviors": [],
             "demand_basis": None, "warnings_given": None, "departure_step": None, "conduct_continued": None,
             "deadlock": None, "public": None, "money_demanded": None, "identified": None}
    assert Facts.from_dict(nulls) == Facts()


@pytest.mark.parametrize(
    "data, field",
    [
        ([], "(json)"),
        ("{}", "(json)"),
        (None, "(json)"),
        ({"behaviour": []}, "behaviour"),
        ({"ongoing": True, "extra": 1}, "extra"),
        ({"behaviors": "threat"}, "behaviors"),
        ({"behaviors": None}, "behaviors"),
        ({"behaviors": ["threat", "shouting"]}, "behaviors[1]"),
        ({"behaviors": ["THREAT"]}, "behaviors[0]"),
        ({"our_fault": "yes"}, "our_fault"),
        ({"demand_related": "false"}, "demand_related"),
        ({"channel": "fax"}, "channel"),
        ({"ongoing": None}, "ongoing"),
        ({"refused_to_leave": 0}, "refused_to_leave"),
        ({"danger": None}, "danger"),
        ({"elapsed_minutes": "30"}, "elapsed_minutes"),
        ({"elapsed_minutes": -1}, "elapsed_minutes"),
        ({"elapsed_minutes": True}, "elapsed_minutes"),
        ({"demand_basis": "our fault"}, "demand_basis"),
        ({"demand_basis": True}, "demand_basis"),
        ({"warnings_given": "twice"}, "warnings_given"),
        ({"departure_step": 2}, "departure_step"),
        ({"conduct_continued": "yes"}, "conduct_continued"),
        ({"deadlock": 1}, "deadlock"),
        ({"public": "posted"}, "public"),
        ({"injured": None}, "injured"),
        ({"self_harm": "true"}, "self_harm"),
        ({"vulnerable": 0}, "vulnerable"),
        ({"money_demanded": "money"}, "money_demanded"),
        ({"alone": "yes"}, "alone"),
    ],
)
def test_from_dict_errors_name_the_field(data, field: str) -> None:
    with pytest.raises(FactsError) as caught:
        Facts.from_dict(data)
    error = caught.value
    assert isinstance(error, ValueError)
    assert error.field == field
    assert error.message_ja and error.message_en
    assert str(error) == f"{field}: {error.message_ja} / {error.message_en}"
    assert "\n" not in str(error)


def test_unknown_code_error_lists_the_known_codes_on_one_line() -> None:
    with pytest.raises(FactsError) as caught:
        Facts.from_dict({"channel": "fa\nx"})
    assert "\n" not in str(caught.value)
    assert "phone" in caught.value.message_en and "phone" in caught.value.message_ja
    with pytest.raises(FactsError) as caught:
        Facts.from_dict({"demand_basis": "x"})
    assert "reasonable_accommodation" in caught.value.message_en
