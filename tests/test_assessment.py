"""The judgement core: the two-axis test, the police flow, the time limit and the facts reader."""
from __future__ import annotations

import dataclasses
import json

import pytest

from bot.assessment import Assessment, Facts, FactsError, assess
from bot.codes import (
    ALWAYS_UNACCEPTABLE,
    DEPENDS_ON_VALIDITY,
    Behavior as B,
    Escalation as E,
    HarassmentType as T,
    LegalRisk as L,
    SituationChannel as C,
    Verdict as V,
)

HARASSMENT_ESCALATIONS = (E.SUPERVISOR, E.CONSULTATION_DESK, E.OCCUPATIONAL_HEALTH)
FAULTS = (True, False, None)


def facts(*behaviors: B, **fields) -> Facts:
    return Facts(behaviors=frozenset(behaviors), **fields)


# Written out here rather than derived from the code under test.
TYPE_OF = {
    B.VERBAL_ABUSE: (T.VERBAL_ABUSE,),
    B.INTIMIDATION: (T.THREAT,),
    B.DOGEZA_DEMAND: (),
    B.PERSISTENT: (T.REPEAT,),
    B.DETENTION: (T.TIME_RESTRAINT,),
    B.DISCRIMINATION: (),
    B.SEXUAL: (T.SEXUAL_HARASSMENT,),
    B.PERSONAL_ATTACK: (),
    B.SNS_EXPOSURE: (T.SNS_DEFAMATION,),
}
RISKS_OF = {
    B.VERBAL_ABUSE: (L.INSULT,),
    B.INTIMIDATION: (L.FORCIBLE_OBSTRUCTION,),
    B.DOGEZA_DEMAND: (L.COERCION,),
    B.PERSISTENT: (L.FORCIBLE_OBSTRUCTION,),
    B.DETENTION: (L.FORCIBLE_OBSTRUCTION,),
    B.DISCRIMINATION: (),
    B.SEXUAL: (),
    B.PERSONAL_ATTACK: (),
    B.SNS_EXPOSURE: (L.DEFAMATION,),
}
H = HARASSMENT_ESCALATIONS
P110 = (E.SUPERVISOR, E.CONSULTATION_DESK, E.POLICE_110, E.OCCUPATIONAL_HEALTH)
P9110 = (E.SUPERVISOR, E.CONSULTATION_DESK, E.POLICE_9110, E.OCCUPATIONAL_HEALTH)

# (facts, verdict, types, legal risks, escalations)
ALWAYS_UNACCEPTABLE_CASES = [
    (
        facts(behavior, our_fault=fault),
        V.HARASSMENT,
        TYPE_OF[behavior],
        RISKS_OF[behavior],
        (E.SUPERVISOR, E.CONSULTATION_DESK, E.LAWYER, E.OCCUPATIONAL_HEALTH) if behavior is B.SNS_EXPOSURE else H,
    )
    for behavior in sorted(ALWAYS_UNACCEPTABLE)
    for fault in FAULTS
]

DEPENDS_ON_VALIDITY_CASES = [
    # excessive money or service
    (facts(B.EXCESSIVE_DEMAND, our_fault=True), V.GRAY, (), (), (E.SUPERVISOR,)),
    (facts(B.EXCESSIVE_DEMAND, our_fault=False), V.HARASSMENT, (), (), H),
    (facts(B.EXCESSIVE_DEMAND), V.GRAY, (), (), (E.SUPERVISOR,)),
    (facts(B.EXCESSIVE_DEMAND, demand_related=False), V.HARASSMENT, (), (), H),
    (facts(B.EXCESSIVE_DEMAND, our_fault=True, demand_related=False), V.HARASSMENT, (), (), H),
    (facts(B.EXCESSIVE_DEMAND, our_fault=True, demand_related=True), V.GRAY, (), (), (E.SUPERVISOR,)),
    # apology other than dogeza
    (facts(B.APOLOGY_DEMAND, our_fault=True), V.GRAY, (), (), (E.SUPERVISOR,)),
    (facts(B.APOLOGY_DEMAND, our_fault=False), V.HARASSMENT, (), (L.COERCION,), H),
    (facts(B.APOLOGY_DEMAND), V.GRAY, (), (), (E.SUPERVISOR,)),
    (facts(B.APOLOGY_DEMAND, demand_related=False), V.HARASSMENT, (), (L.COERCION,), H),
    # authority
    (facts(B.AUTHORITY_PRESSURE, our_fault=True), V.GRAY, (), (), (E.SUPERVISOR,)),
    (facts(B.AUTHORITY_PRESSURE, our_fault=False), V.HARASSMENT, (T.AUTHORITY,), (), H),
    (facts(B.AUTHORITY_PRESSURE), V.GRAY, (), (), (E.SUPERVISOR,)),
    (facts(B.AUTHORITY_PRESSURE, demand_related=False), V.HARASSMENT, (T.AUTHORITY,), (), H),
    # with fault, conduct that depends on validity adds nothing to a harassment verdict
    (facts(B.VERBAL_ABUSE, B.AUTHORITY_PRESSURE, B.APOLOGY_DEMAND, our_fault=True),
     V.HARASSMENT, (T.VERBAL_ABUSE,), (L.INSULT,), H),
    (facts(B.VERBAL_ABUSE, B.AUTHORITY_PRESSURE, B.APOLOGY_DEMAND, our_fault=False),
     V.HARASSMENT, (T.VERBAL_ABUSE, T.AUTHORITY), (L.COERCION, L.INSULT), H),
]

NO_CONDUCT_CASES = [
    (facts(our_fault=True), V.LEGITIMATE, (), (), ()),
    (facts(our_fault=False), V.UNREASONABLE_REQUEST, (), (), ()),
    (facts(), V.GRAY, (), (), (E.SUPERVISOR,)),
    (facts(demand_related=False), V.UNREASONABLE_REQUEST, (), (), ()),
    (facts(our_fault=True, demand_related=False), V.UNREASONABLE_REQUEST, (), (), ()),
    (facts(our_fault=True, demand_related=True), V.LEGITIMATE, (), (), ()),
    (facts(demand_related=True), V.GRAY, (), (), (E.SUPERVISOR,)),
    # a loud but valid complaint, live and under the limit, stays legitimate
    (facts(our_fault=True, ongoing=True, elapsed_minutes=10, channel=C.COUNTER), V.LEGITIMATE, (), (), ()),
]

CRIMINAL_CASES = [
    (facts(B.PHYSICAL_ATTACK, ongoing=True), V.CRIMINAL, (T.VIOLENCE,), (L.ASSAULT,), P110),
    # after the fact: the consultation line, not 110
    (facts(B.PHYSICAL_ATTACK, our_fault=True), V.CRIMINAL, (T.VIOLENCE,), (L.ASSAULT,), P9110),
    (facts(danger=True), V.CRIMINAL, (), (), P110),
    (facts(our_fault=True, danger=True), V.CRIMINAL, (), (), P110),
    (facts(refused_to_leave=True, ongoing=True), V.CRIMINAL, (), (L.NON_DEPARTURE,), P110),
    (facts(refused_to_leave=True), V.CRIMINAL, (), (L.NON_DEPARTURE,), P9110),
    (facts(B.THREAT, our_fault=True), V.CRIMINAL, (T.THREAT,), (L.INTIMIDATION_CRIME,), P9110),
    (facts(B.THREAT, ongoing=True), V.CRIMINAL, (T.THREAT,), (L.INTIMIDATION_CRIME,), P110),
    (facts(B.THREAT, B.EXCESSIVE_DEMAND, our_fault=False), V.CRIMINAL, (T.THREAT,), (L.INTIMIDATION_CRIME, L.EXTORTION),
     P9110),
    (facts(B.THREAT, B.APOLOGY_DEMAND, B.AUTHORITY_PRESSURE, our_fault=False), V.CRIMINAL, (T.THREAT, T.AUTHORITY),
     (L.INTIMIDATION_CRIME, L.COERCION), P9110),
    (facts(B.SEXUAL, B.PHYSICAL_ATTACK, ongoing=True), V.CRIMINAL, (T.VIOLENCE, T.SEXUAL_HARASSMENT),
     (L.ASSAULT, L.SEXUAL_ASSAULT), P110),
    (facts(B.THREAT, B.SNS_EXPOSURE), V.CRIMINAL, (T.THREAT, T.SNS_DEFAMATION), (L.INTIMIDATION_CRIME, L.DEFAMATION),
     (E.SUPERVISOR, E.CONSULTATION_DESK, E.LAWYER, E.POLICE_9110, E.OCCUPATIONAL_HEALTH)),
]

OTHER_HARASSMENT_CASES = [
    (facts(B.INTIMIDATION, B.EXCESSIVE_DEMAND, our_fault=True), V.HARASSMENT, (T.THREAT,),
     (L.EXTORTION, L.FORCIBLE_OBSTRUCTION), H),
    (facts(B.DETENTION, channel=C.VISIT), V.HARASSMENT, (T.OFFSITE_RESTRAINT,), (L.CONFINEMENT, L.FORCIBLE_OBSTRUCTION), H),
    (facts(B.DETENTION, channel=C.PHONE), V.HARASSMENT, (T.TIME_RESTRAINT,), (L.FORCIBLE_OBSTRUCTION,), H),
    (facts(B.SEXUAL, our_fault=False), V.HARASSMENT, (T.SEXUAL_HARASSMENT,), (), H),
    (facts(B.VERBAL_ABUSE, B.PERSISTENT, B.DOGEZA_DEMAND, channel=C.PHONE), V.HARASSMENT, (T.REPEAT, T.VERBAL_ABUSE),
     (L.COERCION, L.FORCIBLE_OBSTRUCTION, L.INSULT), H),
]

TIME_LIMIT_CASES = [
    # live, over the limit, no fault: the restraint itself is harassment
    (facts(our_fault=False, ongoing=True, elapsed_minutes=30), V.HARASSMENT, (T.TIME_RESTRAINT,), (), H),
    (facts(demand_related=False, ongoing=True, elapsed_minutes=95), V.HARASSMENT, (T.TIME_RESTRAINT,), (), H),
    (facts(our_fault=False, ongoing=True, elapsed_minutes=40, channel=C.VISIT), V.HARASSMENT, (T.OFFSITE_RESTRAINT,), (), H),
    (facts(B.VERBAL_ABUSE, our_fault=False, ongoing=True, elapsed_minutes=40), V.HARASSMENT,
     (T.TIME_RESTRAINT, T.VERBAL_ABUSE), (L.INSULT,), H),
    # under the limit, not live, or minutes unknown: nothing changes
    (facts(our_fault=False, ongoing=True, elapsed_minutes=29), V.UNREASONABLE_REQUEST, (), (), ()),
    (facts(our_fault=False, elapsed_minutes=120), V.UNREASONABLE_REQUEST, (), (), ()),
    (facts(our_fault=False, ongoing=True), V.UNREASONABLE_REQUEST, (), (), ()),
    # with fault (or unknown) the verdict stays; the supervisor is called
    (facts(our_fault=True, ongoing=True, elapsed_minutes=45), V.LEGITIMATE, (), (), (E.SUPERVISOR,)),
    (facts(ongoing=True, elapsed_minutes=45), V.GRAY, (), (), (E.SUPERVISOR,)),
    (facts(B.EXCESSIVE_DEMAND, our_fault=True, ongoing=True, elapsed_minutes=45), V.GRAY, (), (), (E.SUPERVISOR,)),
    (facts(B.VERBAL_ABUSE, our_fault=True, ongoing=True, elapsed_minutes=45), V.HARASSMENT, (T.VERBAL_ABUSE,), (L.INSULT,), H),
]

ALL_CASES = (
    ALWAYS_UNACCEPTABLE_CASES
    + DEPENDS_ON_VALIDITY_CASES
    + NO_CONDUCT_CASES
    + CRIMINAL_CASES
    + OTHER_HARASSMENT_CASES
    + TIME_LIMIT_CASES
)
ALL_FACTS = [case[0] for case in ALL_CASES]


@pytest.mark.parametrize("given, verdict, types, risks, escalations", ALL_CASES)
def test_judgement_table(given: Facts, verdict: V, types, risks, escalations) -> None:
    result = assess(given)
    assert (result.verdict, result.types, result.legal_risks, result.escalations) == (
        verdict, types, risks, escalations
    )


def test_table_covers_every_code() -> None:
    table_behaviors = set().union(*(f.behaviors for f in ALL_FACTS))
    assert table_behaviors == set(B)
    assert {assess(f).verdict for f in ALL_FACTS} == set(V)


@pytest.mark.parametrize("given", ALL_FACTS)
def test_reasons_name_both_axes(given: Facts) -> None:
    text = "".join(assess(given).reasons)
    assert "要求内容の妥当性" in text
    assert "手段・態様" in text


@pytest.mark.parametrize("given", ALL_FACTS)
def test_wording_never_blames_or_asks_to_endure(given: Facts) -> None:
    result = assess(given)
    for sentence in result.reasons + result.steps:
        assert sentence.endswith("。")
        for word in ("我慢", "耐え", "あなたの責任", "あなたのせい", "あなたが悪"):
            assert word not in sentence
    for step in result.steps:
        assert "ください" in step


@pytest.mark.parametrize("behavior", sorted(ALWAYS_UNACCEPTABLE))
def test_valid_demand_with_unacceptable_means_is_harassment_handled_sincerely(behavior: B) -> None:
    result = assess(facts(behavior, our_fault=True))
    assert result.verdict is V.HARASSMENT
    assert any("誠実に対応" in r and "応じません" in r for r in result.reasons)
    assert "落ち度のある部分には誠実に対応してください。" in result.steps


@pytest.mark.parametrize("behavior", sorted(ALWAYS_UNACCEPTABLE))
def test_invalid_demand_with_unacceptable_means_does_not_promise_the_demand(behavior: B) -> None:
    result = assess(facts(behavior, our_fault=False))
    assert not any("誠実に対応" in s for s in result.reasons + result.steps)


@pytest.mark.parametrize("behavior", sorted(DEPENDS_ON_VALIDITY))
def test_with_fault_the_organisation_judges_proportionality(behavior: B) -> None:
    result = assess(facts(behavior, our_fault=True))
    assert result.verdict is V.GRAY
    assert any("組織で判断" in r and behavior.label in r for r in result.reasons)
    assert "上司に報告し、組織として判断してもらってください。" in result.steps
    assert "その場では約束や回答をしないでください。" in result.steps


def test_verbal_abuse_is_an_insult_only_in_public() -> None:
    reasons = assess(facts(B.VERBAL_ABUSE)).reasons
    assert any("公然と" in r and "侮辱罪" in r for r in reasons)
    assert not any("公然と" in r for r in assess(facts(B.PERSISTENT)).reasons)


def test_steps_per_verdict() -> None:
    criminal = assess(facts(B.PHYSICAL_ATTACK, ongoing=True)).steps
    assert criminal[0].startswith("身の安全を最優先")
    assert "すぐに110番通報してください。" in criminal
    assert any("一人で対応せず" in s for s in criminal)
    assert any("記録を残して" in s for s in criminal)
    later = assess(facts(B.PHYSICAL_ATTACK)).steps
    assert any("#9110" in s for s in later) and not any("110番" in s for s in later)

    harassment = assess(facts(B.PERSISTENT, our_fault=False)).steps
    assert any("できません" in s for s in harassment)
    assert any("対応時間を区切り" in s for s in harassment)
    assert any("記録して" in s for s in harassment)
    assert "上司とカスハラ相談窓口に報告してください。" in harassment
    assert any("産業医" in s for s in harassment)

    gray = assess(facts()).steps
    assert any("事実を確認" in s for s in gray)

    legitimate = assess(facts(our_fault=True)).steps
    assert any("お詫び" in s for s in legitimate)
    assert any("誠実に対応" in s for s in legitimate)
    assert any("是正" in s for s in legitimate)

    refusal = assess(facts(our_fault=False)).steps
    assert any("丁寧に" in s and "応じられない" in s for s in refusal)
    assert any("理由を説明" in s for s in refusal)


def test_sns_exposure_asks_for_the_lawyer() -> None:
    result = assess(facts(B.SNS_EXPOSURE, channel=C.SNS))
    assert E.LAWYER in result.escalations
    assert any("顧問弁護士" in s for s in result.steps)


def test_over_the_limit_with_fault_ends_now_and_answers_in_writing() -> None:
    result = assess(facts(our_fault=True, ongoing=True, elapsed_minutes=31))
    assert result.over_time_limit
    assert result.verdict is V.LEGITIMATE
    assert "書面" in result.steps[0] and "30分" in result.steps[0]
    assert "上司に状況を報告してください。" in result.steps
    assert any("経過31分" in r for r in result.reasons)


def test_over_the_limit_without_fault_ends_the_response() -> None:
    result = assess(facts(our_fault=False, ongoing=True, elapsed_minutes=31))
    assert "これ以上は対応できない" in result.steps[0]
    assert not any("対応時間を区切り" in s for s in result.steps)
    assert any("上限（30分）を超えて拘束" in r for r in result.reasons)


@pytest.mark.parametrize(
    "limit, elapsed, ongoing, over",
    [(30, 30, True, True), (30, 29, True, False), (45, 40, True, False), (45, 45, True, True),
     (0, 0, True, True), (30, 300, False, False), (30, None, True, False)],
)
def test_time_limit(limit: int, elapsed: int | None, ongoing: bool, over: bool) -> None:
    result = assess(facts(our_fault=False, ongoing=ongoing, elapsed_minutes=elapsed), limit)
    assert result.time_limit_minutes == limit
    assert result.over_time_limit is over
    assert result.verdict is (V.HARASSMENT if over else V.UNREASONABLE_REQUEST)


def test_criminal_over_the_limit_puts_safety_first() -> None:
    result = assess(facts(B.THREAT, our_fault=False, ongoing=True, elapsed_minutes=90))
    assert result.steps[0].startswith("身の安全を最優先")
    assert T.TIME_RESTRAINT in result.types


def test_output_order_follows_the_enums_whatever_the_input_order() -> None:
    behaviors = [B.SNS_EXPOSURE, B.VERBAL_ABUSE, B.THREAT, B.DETENTION, B.PERSISTENT, B.DOGEZA_DEMAND,
                 B.EXCESSIVE_DEMAND, B.SEXUAL, B.PHYSICAL_ATTACK]
    results = {assess(Facts(behaviors=frozenset(order), ongoing=True, channel=C.VISIT))
               for order in (behaviors, list(reversed(behaviors)), sorted(behaviors))}
    assert len(results) == 1
    result = results.pop()
    for values, enum in ((result.types, T), (result.legal_risks, L), (result.escalations, E)):
        assert list(values) == sorted(values, key=list(enum).index)
        assert len(set(values)) == len(values)
    assert result.types == (T.REPEAT, T.VERBAL_ABUSE, T.VIOLENCE, T.THREAT, T.OFFSITE_RESTRAINT,
                            T.SNS_DEFAMATION, T.SEXUAL_HARASSMENT)


def test_to_dict_round_trips_codes() -> None:
    result = assess(facts(B.THREAT, B.SNS_EXPOSURE, B.EXCESSIVE_DEMAND, ongoing=True, elapsed_minutes=40))
    data = json.loads(json.dumps(result.to_dict(), ensure_ascii=False))
    assert set(data) == {"verdict", "verdict_label", "types", "legal_risks", "escalations", "reasons", "steps",
                         "time_limit_minutes", "over_time_limit"}
    assert V(data["verdict"]) is result.verdict and data["verdict_label"] == result.verdict.label
    assert tuple(T(code) for code in data["types"]) == result.types
    assert tuple(L(risk["code"]) for risk in data["legal_risks"]) == result.legal_risks
    assert [risk["label"] for risk in data["legal_risks"]] == [r.label for r in result.legal_risks]
    assert tuple(E(code) for code in data["escalations"]) == result.escalations
    assert tuple(data["reasons"]) == result.reasons and tuple(data["steps"]) == result.steps
    assert data["time_limit_minutes"] == 30 and data["over_time_limit"] is True
    assert all(type(code) is str for code in [data["verdict"], *data["types"], *data["escalations"]])


def test_assess_is_pure() -> None:
    given = facts(B.VERBAL_ABUSE, our_fault=True)
    assert assess(given) == assess(given)
    assert isinstance(assess(given), Assessment)
    with pytest.raises(dataclasses.FrozenInstanceError):
        assess(given).verdict = V.LEGITIMATE  # type: ignore[misc]


# --- reading facts -------------------------------------------------------------------------

def test_from_dict_reads_every_field() -> None:
    data = {
        "behaviors": ["verbal_abuse", "detention", "verbal_abuse"],
        "our_fault": False,
        "demand_related": True,
        "channel": "visit",
        "ongoing": True,
        "elapsed_minutes": 45,
        "refused_to_leave": True,
        "danger": False,
    }
    assert set(data) == {f.name for f in dataclasses.fields(Facts)}
    assert Facts.from_dict(data) == Facts(
        behaviors=frozenset({B.VERBAL_ABUSE, B.DETENTION}), our_fault=False, demand_related=True,
        channel=C.VISIT, ongoing=True, elapsed_minutes=45, refused_to_leave=True, danger=False,
    )


def test_from_dict_defaults_and_nulls() -> None:
    assert Facts.from_dict({}) == Facts()
    nulls = {"our_fault": None, "demand_related": None, "channel": None, "elapsed_minutes": None, "behaviors": []}
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
        ({"behaviors": {"threat": True}}, "behaviors"),
        ({"behaviors": ["threat", "shouting"]}, "behaviors[1]"),
        ({"behaviors": ["threat", 3]}, "behaviors[1]"),
        ({"behaviors": ["THREAT"]}, "behaviors[0]"),
        ({"our_fault": "yes"}, "our_fault"),
        ({"our_fault": 1}, "our_fault"),
        ({"demand_related": "false"}, "demand_related"),
        ({"channel": "fax"}, "channel"),
        ({"channel": 1}, "channel"),
        ({"ongoing": None}, "ongoing"),
        ({"ongoing": "true"}, "ongoing"),
        ({"refused_to_leave": 0}, "refused_to_leave"),
        ({"danger": None}, "danger"),
        ({"elapsed_minutes": "30"}, "elapsed_minutes"),
        ({"elapsed_minutes": -1}, "elapsed_minutes"),
        ({"elapsed_minutes": 1.5}, "elapsed_minutes"),
        ({"elapsed_minutes": True}, "elapsed_minutes"),
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
