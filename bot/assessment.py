"""The judgement: facts about a case in, verdict, types, risks, escalations and next steps out.

Follows the MHLW two-axis test (要求内容の妥当性 and 手段・態様, judged separately), the
注意 → 警告 → 中止 sequence (Iwamizawa, Tokyo) and the police flow of the Tokyo common manual.
The rules are documented in docs/judgement.md. Pure and deterministic: outputs follow enum order,
and the same facts give the same verdict live or after the fact (being live changes the advice).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from bot.codes import (
    ALWAYS_UNACCEPTABLE,
    CAUTION_FIRST,
    CRIMINAL_CONDUCT,
    DEPENDS_ON_VALIDITY,
    INVALID_BASES,
    VALID_BASES,
    Behavior,
    Coded,
    DemandBasis,
    DemandValidity,
    DepartureStep,
    Escalation,
    HarassmentType,
    LegalRisk,
    Route,
    SituationChannel,
    Verdict,
    WarningLevel,
)

AXIS_DEMAND = "要求内容の妥当性"
AXIS_MEANS = "手段・態様"


class FactsError(ValueError):
    """A facts field that cannot be read; names the field, in Japanese and English."""

    def __init__(self, field: str, message_ja: str, message_en: str) -> None:
        self.field = field
        self.message_ja = message_ja
        self.message_en = message_en
        super().__init__(f"{field}: {message_ja} / {message_en}")


def _shown(value: Any) -> str:
    """A value as it may appear inside a one-line message."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if text.isprintable() else json.dumps(text, ensure_ascii=False)


def _code(enum: type[Coded], field: str, value: Any) -> Any:
    if not isinstance(value, str):
        raise FactsError(field, "コード（文字列）で指定してください", "must be a code (string)")
    try:
        return enum(value)
    except ValueError:
        known = ", ".join(member.value for member in enum)
        raise FactsError(
            field,
            f"不明なコード「{_shown(value)}」です（使用可能: {known}）",
            f"unknown code {_shown(value)!r} (known: {known})",
        ) from None


def _behaviors(field: str, value: Any) -> frozenset[Behavior]:
    if not isinstance(value, (list, tuple)):
        raise FactsError(field, "コードの配列で指定してください", "must be a list of codes")
    return frozenset(_code(Behavior, f"{field}[{index}]", item) for index, item in enumerate(value))


def _flag(field: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise FactsError(field, "true か false で指定してください", "must be true or false")
    return value


def _optional_flag(field: str, value: Any) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise FactsError(field, "true・false・null のいずれかで指定してください", "must be true, false or null")
    return value


def _channel(field: str, value: Any) -> SituationChannel | None:
    return None if value is None else _code(SituationChannel, field, value)


def _optional_code(enum: type[Coded]) -> Callable[[str, Any], Any]:
    return lambda field, value: None if value is None else _code(enum, field, value)


def _minutes(field: str, value: Any) -> int | None:
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
        raise FactsError(
            field, "0以上の整数（分）か null で指定してください", "must be a non-negative integer (minutes) or null"
        )
    return value


_PARSERS: dict[str, Callable[[str, Any], Any]] = {
    "behaviors": _behaviors,
    "our_fault": _optional_flag,
    "demand_related": _optional_flag,
    "channel": _channel,
    "ongoing": _flag,
    "elapsed_minutes": _minutes,
    "refused_to_leave": _flag,
    "danger": _flag,
    "demand_basis": _optional_code(DemandBasis),
    "money_demanded": _optional_flag,
    "warnings_given": _optional_code(WarningLevel),
    "conduct_continued": _optional_flag,
    "deadlock": _optional_flag,
    "departure_step": _optional_code(DepartureStep),
    "public": _optional_flag,
    "injured": _flag,
    "property_damaged": _flag,
    "self_harm": _flag,
    "vulnerable": _flag,
    "police_called": _flag,
    "identified": _optional_flag,
    "recorded": _optional_flag,
    "alone": _optional_flag,
}


@dataclass(frozen=True)
class Facts:
    """What the employee reported. None means not known (yet)."""

    behaviors: frozenset[Behavior] = frozenset()
    our_fault: bool | None = None
    demand_related: bool | None = None
    channel: SituationChannel | None = None
    ongoing: bool = False
    elapsed_minutes: int | None = None
    refused_to_leave: bool = False  # asked to leave and still there
    danger: bool = False  # violence, a weapon or danger to someone now
    # The demand axis as the guidance defines it; None: derived from our_fault / demand_related.
    demand_basis: DemandBasis | None = None
    money_demanded: bool | None = None  # the demand is for money or goods (恐喝 needs it)
    # The means: how far 注意 → 警告 → 中止 has gone, and whether the conduct went on after it.
    warnings_given: WarningLevel | None = None
    conduct_continued: bool | None = None
    deadlock: bool | None = None  # the same point repeated after our explanation (膠着)
    departure_step: DepartureStep | None = None  # the Tokyo sequence for refusal to leave
    public: bool | None = None  # said or posted where others see it (名誉毀損・侮辱 need it)
    injured: bool = False  # someone of ours was hurt
    property_damaged: bool = False  # the office's or staff's property was damaged
    self_harm: bool = False  # the customer speaks of harming or killing themselves
    vulnerable: bool = False  # signs of confusion, dementia or loneliness behind the talk
    police_called: bool = False
    identified: bool | None = None  # the customer's name and contact are known
    recorded: bool | None = None  # a recording or notes are being kept
    alone: bool | None = None  # the employee is dealing with it alone

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Facts":
        """Strict reading of a JSON object: missing keys take the defaults, anything odd is a FactsError."""
        if not isinstance(data, Mapping):
            raise FactsError("(json)", "JSONオブジェクト（{…}）で指定してください", "must be a JSON object")
        for key in data:
            if key not in _PARSERS:
                known = ", ".join(_PARSERS)
                raise FactsError(
                    _shown(key), f"不明な項目です（使用可能: {known}）", f"unknown key (known: {known})"
                )
        return cls(**{key: _PARSERS[key](key, value) for key, value in data.items()})


@dataclass(frozen=True)
class Assessment:
    verdict: Verdict
    types: tuple[HarassmentType, ...]
    legal_risks: tuple[LegalRisk, ...]
    escalations: tuple[Escalation, ...]
    reasons: tuple[str, ...]
    steps: tuple[str, ...]  # most urgent first; the first three are 「いますること」
    time_limit_minutes: int
    over_time_limit: bool
    demand_basis: DemandBasis = DemandBasis.UNKNOWN
    demand_validity: DemandValidity = DemandValidity.UNKNOWN
    routes: tuple[Route, ...] = ()
    next_warning: WarningLevel | None = None  # the next step of 注意 → 警告 → 中止 to give now
    next_departure_step: DepartureStep | None = None  # the next step of the Tokyo sequence
    follow_up: tuple[str, ...] = ()  # afterwards: 出入禁止, a lawyer's letter, sharing with the desk

    @property
    def now(self) -> tuple[str, ...]:
        """What to do now: the three most urgent steps."""
        return self.steps[:3]

    def to_dict(self) -> dict:
        return {
            "verdict": self.verdict.value,
            "verdict_label": self.verdict.label,
            "demand_basis": self.demand_basis.value,
            "demand_validity": self.demand_validity.value,
            "types": [code.value for code in self.types],
            "legal_risks": [
                {"code": risk.value, "label": risk.label, "note": LEGAL_NOTES[risk]} for risk in self.legal_risks
            ],
            "escalations": [code.value for code in self.escalations],
            "routes": [code.value for code in self.routes],
            "next_warning": self.next_warning and self.next_warning.value,
            "next_departure_step": self.next_departure_step and self.next_departure_step.value,
            "reasons": list(self.reasons),
            "steps": list(self.steps),
            "follow_up": list(self.follow_up),
            "time_limit_minutes": self.time_limit_minutes,
            "over_time_limit": self.over_time_limit,
        }


# One plain line per offence: what it needs. The police and lawyers decide; we name possibilities.
LEGAL_NOTES: dict[LegalRisk, str] = {
    LegalRisk.ASSAULT: "暴行罪：人に対して力を加えること（物を投げつけて当たらなかった場合も含みます）。",
    LegalRisk.INJURY: "傷害罪：暴行などでけがをさせること。",
    LegalRisk.INTIMIDATION_CRIME: "脅迫罪：命・体・自由・名誉・財産に害を加えると告げること（「晒すぞ」「家に行くぞ」も含みます）。",
    LegalRisk.COERCION: "強要罪：暴行や脅迫によって、義務のないこと（土下座・念書など）をさせること。要求だけではまだ成立しません。",
    LegalRisk.EXTORTION: "恐喝罪：脅して金銭や物を出させようとすること。",
    LegalRisk.NON_DEPARTURE: "不退去罪：退去を求められたのに、その場にとどまり続けること。",
    LegalRisk.CONFINEMENT: "監禁罪：人をその場から出られないようにすること。",
    LegalRisk.FORCIBLE_OBSTRUCTION: "威力業務妨害罪：大声・居座り・執拗な電話などの威力で業務を妨げること。",
    LegalRisk.DEFAMATION: "名誉毀損罪：人前やネット上など公然と、事実を挙げて人の評価を下げること。",
    LegalRisk.INSULT: "侮辱罪：人前やネット上など公然と、人をばかにすること（一対一の暴言だけでは成立しません）。",
    LegalRisk.SEXUAL_ASSAULT: "不同意わいせつ罪：同意のない性的な接触をすること。",
    LegalRisk.PROPERTY_DAMAGE: "器物損壊罪：他人の物（庁舎の備品や職員の持ち物）を壊したり使えなくしたりすること。",
}

_WARNING_ORDER = tuple(WarningLevel)
_DEPARTURE_ORDER = tuple(DepartureStep)
IN_PERSON_CHANNELS = frozenset({SituationChannel.COUNTER, SituationChannel.VISIT})
REMOTE_CHANNELS = frozenset({SituationChannel.EMAIL, SituationChannel.SNS, SituationChannel.LETTER})
_HARM = frozenset({Behavior.PHYSICAL_ATTACK, Behavior.THREAT})
# Remarks the 注意 → 警告 → 中止 requests are about.
STOPPABLE_REMARKS = CAUTION_FIRST | {Behavior.SEXUAL, Behavior.DISCRIMINATION, Behavior.DOGEZA_DEMAND}
# A valid basis that keeps long talk from being time restraint: the dialogue itself is the duty.
_NO_TIME_RESTRAINT_BASES = frozenset({DemandBasis.REASONABLE_ACCOMMODATION})


def demand_basis_of(facts: Facts) -> DemandBasis:
    """The demand's basis: as reported, else read from today's our_fault / demand_related.

    No fault alone does not make a demand invalid (a request within the service or an opinion is
    valid without any mistake of ours), except for compensation and apology demands, whose only
    basis is a fault of ours.
    """
    if facts.demand_basis is not None:
        return facts.demand_basis
    if facts.demand_related is False:
        return DemandBasis.UNRELATED
    if facts.our_fault is True:
        return DemandBasis.OUR_FAULT
    if facts.our_fault is False and facts.behaviors & {Behavior.EXCESSIVE_DEMAND, Behavior.APOLOGY_DEMAND}:
        return DemandBasis.NO_BASIS
    return DemandBasis.UNKNOWN


def validity_of(basis: DemandBasis) -> DemandValidity:
    if basis in VALID_BASES:
        return DemandValidity.VALID
    if basis in INVALID_BASES:
        return DemandValidity.INVALID
    return DemandValidity.UNKNOWN


@dataclass(frozen=True)
class _Case:
    """What the rules derive from the facts before wording anything."""

    facts: Facts
    basis: DemandBasis
    validity: DemandValidity
    limit: int
    over: bool
    restraint: bool  # long restraint counted as a means (時間拘束型)
    counted: frozenset[Behavior]  # conduct that counts on the means axis now
    cautioned: frozenset[Behavior]  # caution-first conduct still at the request-to-stop stage
    stopped: bool  # the conduct stopped after a request
    public: bool
    threat_to_expose: bool
    stays: bool  # still there after being asked to leave
    departure_step: DepartureStep | None
    past_final_warning: bool
    emergency: bool  # danger, or violence, a threat of harm, injury or damage going on now
    police_now: bool  # 110 now


def _later(order: tuple, value: Any, than: Any) -> bool:
    return order.index(value) > order.index(than)


def _case(facts: Facts, limit: int) -> _Case:
    conduct = facts.behaviors
    basis = demand_basis_of(facts)
    validity = validity_of(basis)
    over = facts.elapsed_minutes is not None and facts.elapsed_minutes >= limit
    restraint = (
        over
        and not facts.vulnerable
        and basis not in _NO_TIME_RESTRAINT_BASES
        and (validity is DemandValidity.INVALID or facts.deadlock is True)
    )
    warned = facts.warnings_given not in (None, WarningLevel.NONE)
    caution = conduct & CAUTION_FIRST
    immediate = (conduct & ALWAYS_UNACCEPTABLE) - CAUTION_FIRST
    stopped = bool(caution) and warned and facts.conduct_continued is False
    continued = warned and facts.conduct_continued is True
    stays = facts.refused_to_leave
    step = facts.departure_step
    if stays and step in (None, DepartureStep.NONE):
        step = DepartureStep.ASKED_TO_STOP  # asked to leave once: keep asking, 2–3 times, not 110 yet
    past_final = stays and step in (DepartureStep.FINAL_WARNING, DepartureStep.POLICE_CALLED)
    public = facts.public if facts.public is not None else facts.channel is SituationChannel.SNS
    threat_to_expose = Behavior.SNS_EXPOSURE in conduct and not public
    invalid_claim = validity is DemandValidity.INVALID and bool(conduct & DEPENDS_ON_VALIDITY)
    serious = bool(immediate or conduct & CRIMINAL_CONDUCT or facts.danger or facts.injured
                   or facts.property_damaged or stays or restraint or invalid_claim)
    counts = caution if (continued or serious) else frozenset()
    live_harm = facts.ongoing and bool(conduct & _HARM or facts.injured or facts.property_damaged)
    return _Case(
        facts=facts, basis=basis, validity=validity, limit=limit, over=over, restraint=restraint,
        counted=frozenset(immediate | (conduct & CRIMINAL_CONDUCT) | counts),
        cautioned=frozenset() if counts or stopped else frozenset(caution),
        stopped=stopped, public=public, threat_to_expose=threat_to_expose, stays=stays,
        departure_step=step, past_final_warning=past_final, emergency=facts.danger or live_harm,
        police_now=facts.danger or live_harm or (past_final and facts.ongoing),
    )


def assess(facts: Facts, time_limit_minutes: int = 30) -> Assessment:
    case = _case(facts, time_limit_minutes)
    verdict = _verdict(case)
    risks = _legal_risks(case, verdict)
    escalations = _escalations(case, verdict, risks)
    routes = _routes(case)
    next_warning = _next_warning(case, verdict, routes)
    next_departure = _next_departure_step(case, routes)
    return Assessment(
        verdict=verdict,
        types=_types(case, verdict),
        legal_risks=risks,
        escalations=escalations,
        reasons=_reasons(case, verdict),
        steps=_steps(case, verdict, escalations, routes, next_warning, next_departure),
        time_limit_minutes=time_limit_minutes,
        over_time_limit=case.over,
        demand_basis=case.basis,
        demand_validity=case.validity,
        routes=routes,
        next_warning=next_warning,
        next_departure_step=next_departure,
        follow_up=_follow_up(case, verdict),
    )


def _verdict(case: _Case) -> Verdict:
    facts, conduct = case.facts, case.facts.behaviors
    if (conduct & CRIMINAL_CONDUCT or facts.danger or facts.injured or facts.property_damaged
            or case.threat_to_expose or case.past_final_warning):
        return Verdict.CRIMINAL
    if case.counted or case.restraint or case.stays:
        return Verdict.HARASSMENT
    if case.validity is DemandValidity.INVALID and conduct & DEPENDS_ON_VALIDITY:
        return Verdict.HARASSMENT
    if case.cautioned:
        return Verdict.CAUTION
    if conduct & DEPENDS_ON_VALIDITY:
        return Verdict.GRAY
    return {
        DemandValidity.VALID: Verdict.LEGITIMATE,
        DemandValidity.INVALID: Verdict.UNREASONABLE_REQUEST,
        DemandValidity.UNKNOWN: Verdict.GRAY,
    }[case.validity]


def _ordered(enum: type[Coded], found: set) -> tuple:
    return tuple(member for member in enum if member in found)


_TYPE_OF: tuple[tuple[Behavior, HarassmentType], ...] = (
    (Behavior.PERSISTENT, HarassmentType.REPEAT),
    (Behavior.VERBAL_ABUSE, HarassmentType.VERBAL_ABUSE),
    (Behavior.PERSONAL_ATTACK, HarassmentType.VERBAL_ABUSE),
    (Behavior.PHYSICAL_ATTACK, HarassmentType.VIOLENCE),
    (Behavior.THREAT, HarassmentType.THREAT),
    (Behavior.INTIMIDATION, HarassmentType.THREAT),
    (Behavior.SEXUAL, HarassmentType.SEXUAL_HARASSMENT),
)


def _types(case: _Case, verdict: Verdict) -> tuple[HarassmentType, ...]:
    if verdict not in (Verdict.HARASSMENT, Verdict.CRIMINAL):
        return ()
    facts, counted = case.facts, case.counted
    found = {kind for behavior, kind in _TYPE_OF if behavior in counted}
    if facts.injured or facts.property_damaged:
        found.add(HarassmentType.VIOLENCE)
    if Behavior.SNS_EXPOSURE in counted:
        found.add(HarassmentType.THREAT if case.threat_to_expose else HarassmentType.SNS_DEFAMATION)
    if Behavior.DETENTION in counted or case.restraint or case.stays:
        found.add(
            HarassmentType.OFFSITE_RESTRAINT if facts.channel is SituationChannel.VISIT
            else HarassmentType.TIME_RESTRAINT
        )
    # Pressure from authority is improper only behind a demand that is not valid.
    if Behavior.AUTHORITY_PRESSURE in facts.behaviors and case.validity is DemandValidity.INVALID:
        found.add(HarassmentType.AUTHORITY)
    return _ordered(HarassmentType, found)


def _legal_risks(case: _Case, verdict: Verdict) -> tuple[LegalRisk, ...]:
    facts, counted = case.facts, case.counted
    if verdict not in (Verdict.HARASSMENT, Verdict.CRIMINAL):
        return ()
    force = bool(counted & _HARM)  # 暴行 or 脅迫, which 強要 and 恐喝 need
    found: set[LegalRisk] = set()
    if Behavior.PHYSICAL_ATTACK in counted:
        found.add(LegalRisk.ASSAULT)
        if Behavior.SEXUAL in counted:
            found.add(LegalRisk.SEXUAL_ASSAULT)
    if facts.injured:
        found.add(LegalRisk.INJURY)
    if Behavior.THREAT in counted or case.threat_to_expose:
        found.add(LegalRisk.INTIMIDATION_CRIME)
    # An apology owed for our own fault is not coerced; a bare demand is not 強要 without 暴行・脅迫.
    unowed_apology = Behavior.APOLOGY_DEMAND in facts.behaviors and case.validity is DemandValidity.INVALID
    if force and (Behavior.DOGEZA_DEMAND in counted or unowed_apology):
        found.add(LegalRisk.COERCION)
    if force and facts.money_demanded is True:
        found.add(LegalRisk.EXTORTION)
    if case.stays:
        found.add(LegalRisk.NON_DEPARTURE)
    if Behavior.DETENTION in counted and facts.channel is SituationChannel.VISIT:
        found.add(LegalRisk.CONFINEMENT)
    if counted & {Behavior.INTIMIDATION, Behavior.PERSISTENT, Behavior.DETENTION} or case.restraint:
        found.add(LegalRisk.FORCIBLE_OBSTRUCTION)
    if Behavior.SNS_EXPOSURE in counted and case.public:
        found.add(LegalRisk.DEFAMATION)
    if counted & {Behavior.VERBAL_ABUSE, Behavior.PERSONAL_ATTACK} and case.public:
        found.add(LegalRisk.INSULT)
    if facts.property_damaged:
        found.add(LegalRisk.PROPERTY_DAMAGE)
    return _ordered(LegalRisk, found)


def _escalations(case: _Case, verdict: Verdict, risks: tuple[LegalRisk, ...]) -> tuple[Escalation, ...]:
    facts = case.facts
    found: set[Escalation] = set()
    if case.police_now:
        found.add(Escalation.POLICE_110)
    elif verdict is Verdict.CRIMINAL:
        found.add(Escalation.POLICE_9110)
    if facts.ongoing and facts.injured:
        found.add(Escalation.AMBULANCE_119)
    if facts.self_harm:
        found.add(Escalation.SUPERVISOR)
        if facts.ongoing:
            found |= {Escalation.POLICE_110, Escalation.AMBULANCE_119}
    if verdict in (Verdict.HARASSMENT, Verdict.CRIMINAL):
        found |= {Escalation.SUPERVISOR, Escalation.CONSULTATION_DESK, Escalation.OCCUPATIONAL_HEALTH}
        if Behavior.SNS_EXPOSURE in case.counted:
            found.add(Escalation.LAWYER)
    if verdict in (Verdict.GRAY, Verdict.CAUTION) or case.over or case.stays:
        found.add(Escalation.SUPERVISOR)
    if case.basis is DemandBasis.REASONABLE_ACCOMMODATION:
        found.add(Escalation.SUPERVISOR)
    if facts.vulnerable:
        found.add(Escalation.WELFARE)
    return _ordered(Escalation, found)


def _routes(case: _Case) -> tuple[Route, ...]:
    facts = case.facts
    found: set[Route] = set()
    if case.emergency:
        found.add(Route.EMERGENCY)
    if facts.self_harm:
        found.add(Route.PROTECT_LIFE)
    if facts.vulnerable:
        found.add(Route.VULNERABLE_CALLER)
    if case.basis is DemandBasis.REASONABLE_ACCOMMODATION:
        found.add(Route.REASONABLE_ACCOMMODATION)
    if case.basis is DemandBasis.OPINION:
        found.add(Route.OPINION)
    holding_office = Behavior.DETENTION in facts.behaviors and facts.channel is not SituationChannel.VISIT
    on_site = facts.channel in (None, SituationChannel.COUNTER)
    if case.stays or (facts.departure_step not in (None, DepartureStep.NONE)) or (holding_office and on_site):
        found.add(Route.DEPARTURE)
    if case.over or facts.deadlock is True:
        found.add(Route.TIME_LIMIT)
    return _ordered(Route, found)


def _next_warning(case: _Case, verdict: Verdict, routes: tuple[Route, ...]) -> WarningLevel | None:
    """The next request to give now, for remarks that are still going on (the departure route has its own)."""
    facts = case.facts
    if not facts.ongoing or case.stopped or facts.channel in REMOTE_CHANNELS or Route.DEPARTURE in routes:
        return None
    if not (case.cautioned or case.counted & STOPPABLE_REMARKS) or verdict is Verdict.CRIMINAL:
        return None
    given = facts.warnings_given or WarningLevel.NONE
    if given is WarningLevel.TOLD_RESPONSE_ENDS:
        return None
    if given is not WarningLevel.NONE and facts.conduct_continued is not True:
        return None  # not known to go on: nothing new to say yet
    return _WARNING_ORDER[_WARNING_ORDER.index(given) + 1]


def _next_departure_step(case: _Case, routes: tuple[Route, ...]) -> DepartureStep | None:
    if Route.DEPARTURE not in routes or not case.facts.ongoing:
        return None
    step = case.departure_step or DepartureStep.NONE
    if step is DepartureStep.POLICE_CALLED:
        return None
    if not case.stays and _later(_DEPARTURE_ORDER, step, DepartureStep.ASKED_TO_STOP):
        return None  # they left
    return _DEPARTURE_ORDER[_DEPARTURE_ORDER.index(step) + 1]


def _labels(behaviors: frozenset[Behavior]) -> str:
    return "、".join(f"「{b.label}」" for b in Behavior if b in behaviors)


_BASIS_REASONS: dict[DemandBasis, str] = {
    DemandBasis.OUR_FAULT: "こちらに誤りや不備があるため、要求には正当な部分があります。",
    DemandBasis.WITHIN_SERVICE: "業務の範囲内の要望・問い合わせで、妥当な要求です。",
    DemandBasis.OPINION: "施策や業務へのご意見・ご提案で、業務改善のきっかけになる貴重なものです。",
    DemandBasis.REASONABLE_ACCOMMODATION: "障害者差別解消法にもとづく合理的配慮の申し出で、妥当な要求です（カスハラではありません）。",
    DemandBasis.NO_BASIS: "事実や根拠のない要求のため、妥当とはいえません。",
    DemandBasis.UNRELATED: "当方の業務と関係のない要求・話のため、妥当とはいえません。",
    DemandBasis.BEYOND_RULES: "規則や制度で認められる範囲を超える要求のため、妥当とはいえません。",
}


def _demand_reason(case: _Case) -> str:
    if case.basis is DemandBasis.UNKNOWN:
        if case.facts.our_fault is False:
            return (f"{AXIS_DEMAND}：こちらに落ち度がないことだけでは、妥当でないとはいえません。"
                    "業務の範囲内の要望やご意見かどうかを確かめます。")
        return f"{AXIS_DEMAND}：要求に根拠があるかどうかは、まだわかりません。"
    return f"{AXIS_DEMAND}：{_BASIS_REASONS[case.basis]}"


def _means_reasons(case: _Case) -> list[str]:
    facts, conduct = case.facts, case.facts.behaviors
    reasons = []
    if facts.danger:
        reasons.append(f"{AXIS_MEANS}：身に危険が迫っているため、判断より安全の確保を優先します。")
    harm = (conduct & CRIMINAL_CONDUCT)
    if harm or facts.injured or facts.property_damaged:
        acts = [_labels(harm)] if harm else []
        acts += ["けがをさせたこと"] * facts.injured + ["物を壊したこと"] * facts.property_damaged
        reasons.append(f"{AXIS_MEANS}：{'、'.join(acts)}は、要求内容にかかわらず犯罪にあたるおそれがあります。")
    if case.threat_to_expose:
        reasons.append(f"{AXIS_MEANS}：ネットに晒すと告げることは、名誉への害を告げる脅迫にあたるおそれがあります。")
    if case.stays:
        reasons.append(
            f"{AXIS_MEANS}：最終警告の後も立ち去らないため、警察への通報を考える段階です。"
            if case.past_final_warning
            else f"{AXIS_MEANS}：退去を求めても立ち去らないことは許されませんが、すぐの通報ではなく、順を追って退去を求めます。"
        )
    shown = (case.counted & ALWAYS_UNACCEPTABLE) - ({Behavior.SNS_EXPOSURE} if case.threat_to_expose else set())
    if shown:
        reasons.append(f"{AXIS_MEANS}：{_labels(shown)}は、要求内容にかかわらず社会通念上許されない手段です。")
    if case.cautioned:
        reasons.append(f"{AXIS_MEANS}：{_labels(case.cautioned)}は、まずやめるようお願いし、その後も続くかどうかで判断します。")
    if case.stopped:
        reasons.append(f"{AXIS_MEANS}：お願いの後、{_labels(conduct & CAUTION_FIRST)}はおさまっています。")
    if conduct & DEPENDS_ON_VALIDITY:
        labels = _labels(conduct & DEPENDS_ON_VALIDITY)
        reasons.append({
            DemandValidity.INVALID: f"{AXIS_MEANS}：妥当性のない要求に対する{labels}は、社会通念上相当とはいえません。",
            DemandValidity.VALID: f"{AXIS_MEANS}：{labels}は、こちらの誤りに見合った内容・程度なら正当になり得るため、相当かどうかを組織で判断します。",
            DemandValidity.UNKNOWN: f"{AXIS_MEANS}：{labels}が相当かどうかは、要求の根拠がわかってから判断します。",
        }[case.validity])
    if case.restraint:
        why = "説明の後も同じ話の繰り返しが続き" if facts.deadlock else "妥当性のない要求のために"
        reasons.append(f"{AXIS_MEANS}：{why}対応時間の上限（{case.limit}分）を超えて拘束することは、社会通念上相当とはいえません。")
    elif case.over and facts.vulnerable:
        reasons.append(f"{AXIS_MEANS}：長いお話の背景に、支援が必要な事情がありそうです。カスハラとはせず、やさしく区切ります。")
    if not reasons:
        reasons.append(f"{AXIS_MEANS}：不相当な手段は挙げられていません。口調や態度だけでカスハラとは判断しません。")
    if facts.self_harm:
        reasons.append("自分を傷つけるという発言は、職員への脅しではなく、命を守る対応が必要なサインです。")
    return reasons


_CONCLUSIONS: dict[Verdict, str] = {
    Verdict.CRIMINAL: "結論：犯罪のおそれがあるため、警察への通報・相談を含めて組織で対応します。",
    Verdict.HARASSMENT: "結論：手段・態様が不相当なため、カスタマーハラスメントにあたります。",
    Verdict.CAUTION: "結論：いまはカスハラとはせず、まずやめるようお願いします。続く場合はカスハラとして対応します。",
    Verdict.GRAY: "結論：この場では判断せず、組織として判断します。",
    Verdict.LEGITIMATE: "結論：正当なお申し出です。カスハラではありません。",
    Verdict.UNREASONABLE_REQUEST: "結論：要求には応じられませんが、手段に問題はないためカスハラではありません。",
}


def _reasons(case: _Case, verdict: Verdict) -> tuple[str, ...]:
    reasons = [_demand_reason(case), *_means_reasons(case), _CONCLUSIONS[verdict]]
    if verdict in (Verdict.HARASSMENT, Verdict.CRIMINAL) and case.validity is DemandValidity.VALID:
        reasons.append("要求の正当な部分には誠実に対応し、不相当な手段には応じません。")
    if case.over:
        reasons.append(f"対応時間：{case.facts.elapsed_minutes}分で、上限の{case.limit}分に達しています。")
    return tuple(reasons)


_REPORT = "上司とカスハラ相談窓口に報告してください。"
_RECORD = "日時・言葉どおりの発言・行為を記録してください（録音するときはその旨を伝えてください）。"


def _safety_steps(case: _Case) -> list[str]:
    """Physical safety fits only where the customer is (or may come) near; never for written channels."""
    channel = case.facts.channel
    if channel in REMOTE_CHANNELS:
        return ["すぐに返信せず、画面や文面をそのまま保存してください。", "すぐに110番通報してください（危害の予告があるとき）。"]
    if channel is SituationChannel.VISIT:
        return ["すぐにその場を離れて外に出て、安全な場所から110番してください。", "職場に電話して状況を伝えてください。"]
    if channel is SituationChannel.PHONE:
        return ["身の危険が迫っていれば電話を切り、すぐに110番通報してください。", "周りの職員に合図し、上司にすぐ知らせてください。"]
    return ["相手から離れ、出口に近い安全な場所へ移動してください。", "すぐに110番通報してください。",
            "大きな声でほかの職員を呼び、一人で対応しないでください。"]


_WARNING_STEPS: dict[WarningLevel, str] = {
    WarningLevel.ASKED_TO_STOP: "「そのようなお言葉はおやめください」と、落ち着いてお願いしてください。",
    WarningLevel.WARNED: "「続くようでしたら、対応を終了します」と、はっきり警告してください。",
    WarningLevel.TOLD_RESPONSE_ENDS: "上司と相談のうえ「本日の対応は終了します」と伝え、対応を終えてください。",
}
_DEPARTURE_STEPS: dict[DepartureStep, str] = {
    DepartureStep.ASKED_TO_STOP: "まず、大声や居座りをやめるよう2〜3回お願いしてください（上司に同席を頼んでください）。",
    DepartureStep.ORDERED_TO_LEAVE: "上司と決めたうえで、施設管理権にもとづき「お引き取りください」と2〜3回求めてください。",
    DepartureStep.FINAL_WARNING: "「お引き取りいただけない場合は、警察に通報します」と最終警告してください。",
    DepartureStep.POLICE_CALLED: "それでも退去しないので、110番してください（急を要しないときは最寄りの警察署か#9110）。",
}


def _ending_step(case: _Case) -> str:
    """After 「対応を終了します」 and still going on: end it in the channel's way."""
    channel = case.facts.channel
    if channel is SituationChannel.PHONE:
        return "「これで失礼いたします」と伝えて、電話を切ってください。"
    if channel is SituationChannel.VISIT:
        return "「本日はこれで失礼いたします」と伝え、その場を離れてください。"
    return "対応を終え、続くときは上司と退去を求める手順に進んでください。"


def _steps(
    case: _Case,
    verdict: Verdict,
    escalations: tuple[Escalation, ...],
    routes: tuple[Route, ...],
    next_warning: WarningLevel | None,
    next_departure: DepartureStep | None,
) -> tuple[str, ...]:
    facts, limit = case.facts, case.limit
    steps: list[str] = []
    if facts.self_harm:
        steps += (
            ["電話（会話）を切らずに、ゆっくり話を聴き続けてください。",
             "近くの職員に合図し、119番・110番に通報してもらってください。",
             "上司にすぐ知らせてください。"]
            if facts.ongoing
            else ["上司にすぐ伝え、相手の安否確認が必要か組織で判断してもらってください。"]
        )
    if Route.EMERGENCY in routes:
        steps += _safety_steps(case)
    if next_departure is not None:
        steps.append(_DEPARTURE_STEPS[next_departure])
    elif facts.departure_step is DepartureStep.POLICE_CALLED or (facts.police_called and case.stays):
        steps.append("警察が来たら経緯を説明し、録音やメモを渡してください。")
    if next_warning is not None:
        steps.append(_WARNING_STEPS[next_warning])
    elif (facts.ongoing and facts.warnings_given is WarningLevel.TOLD_RESPONSE_ENDS and facts.conduct_continued
          and not case.stays):
        steps.append(_ending_step(case))
    if facts.vulnerable:
        steps += ["「今日はこのあたりで失礼しますね」とやさしく区切ってください。",
                  "困りごとがありそうなら、地域包括支援センターなど福祉の相談先を案内してください。"]
    if case.over and not facts.vulnerable:
        if case.basis is DemandBasis.REASONABLE_ACCOMMODATION:
            steps.append(f"上限（{limit}分）を過ぎたので、続きの話し合いの日時を決めて、いったん区切ってください。")
        elif facts.ongoing:
            steps.append(
                f"上限（{limit}分）を過ぎました。本日の対応はここまでと伝え、回答は後日文書でお伝えしてください。"
                if case.validity is not DemandValidity.INVALID
                else f"上限（{limit}分）を過ぎました。「これ以上はお話を伺えません」と伝え、対応を終えてください。"
            )
        else:
            steps.append(f"上限（{limit}分）を超えていたため、次回は最初に対応できる時間を伝えてください。")
    if Route.REASONABLE_ACCOMMODATION in routes:
        steps += ["どんな配慮が必要か、ご本人と話し合ってください（建設的対話）。",
                  "できないときは理由を説明し、代わりの方法を一緒に考えてください。"]
    if Route.OPINION in routes:
        steps += ["ご意見へのお礼を伝え、「担当課に伝えます」とお答えしてください（議論や約束はしないでください）。",
                  f"録音していることを伝え、{limit}分を目安に区切ってください。",
                  "同じ内容の電話が続くときは上司に知らせ、組織として対応してもらってください（録音・回答の統一）。"]
    if verdict in (Verdict.CRIMINAL, Verdict.HARASSMENT):
        if Route.EMERGENCY not in routes and facts.alone is not False and facts.ongoing and facts.channel not in REMOTE_CHANNELS:
            steps.append("一人で対応せず、ほかの職員に来てもらってください。")
        if Escalation.POLICE_9110 in escalations:
            steps.append("警察相談専用電話（#9110）か最寄りの警察署に相談してください。")
        if case.validity is DemandValidity.VALID:
            steps.append("要求の正当な部分には誠実に対応してください。")
        else:
            steps.append("応じられないことは「いたしかねます」とはっきり伝えてください。")
        if Route.TIME_LIMIT not in routes and facts.ongoing and not case.stays:
            steps.append("対応時間を区切り、同じ話の繰り返しになったら対応を終えると伝えてください。")
        steps += [_RECORD, _REPORT]
        if Escalation.LAWYER in escalations:
            steps.append("投稿や文面の画面・URLを保存し、顧問弁護士への相談を相談窓口に依頼してください。")
        steps.append("一人で抱え込まず、つらいときは産業医・健康相談を利用してください。")
    elif verdict is Verdict.CAUTION:
        if case.validity is DemandValidity.VALID:
            steps.append("要求の正当な部分には、落ち着いて誠実に対応してください。")
        steps += ["お願いの後も続くかどうかを、言葉どおりメモしてください。",
                  "続くようなら、近くの上司に来てもらってください。"]
    elif verdict is Verdict.GRAY and not (facts.self_harm and facts.ongoing):
        steps += ["上司に報告し、組織として判断してもらってください。", "その場では約束や回答をしないでください。"]
        if case.validity is DemandValidity.UNKNOWN:
            steps.append("要求に根拠があるか（こちらの誤りか、業務の範囲内か）、事実を確認してください。")
    elif verdict is Verdict.LEGITIMATE:
        if case.basis is DemandBasis.OUR_FAULT:
            steps += ["こちらの誤りについて、はっきりお詫びしてください。", "原因を確かめ、改善・是正してください。"]
        elif Route.OPINION not in routes and Route.REASONABLE_ACCOMMODATION not in routes:
            steps.append("ご不便をおかけした点に限ってお詫びし、誠実に対応してください。")
        steps.append("要求をおだやかな言葉で復唱し、確かめてください。")
    elif verdict is Verdict.UNREASONABLE_REQUEST and not facts.vulnerable:
        steps += ["要求には応じられないことを、丁寧にはっきりと伝えてください。", "応じられない理由を説明してください。"]
    if case.over and verdict in (Verdict.LEGITIMATE, Verdict.UNREASONABLE_REQUEST, Verdict.CAUTION):
        steps.append("上司に状況を報告してください。")
    if facts.recorded is False and facts.ongoing and verdict is not Verdict.LEGITIMATE:
        steps.append("録音できるなら「記録のため録音します」と伝えて録音し、難しければメモをとってください。")
    return tuple(dict.fromkeys(steps))


def _follow_up(case: _Case, verdict: Verdict) -> tuple[str, ...]:
    """After-stage advice where the verdict calls for it (Tokyo manual 発生後)."""
    if verdict not in (Verdict.HARASSMENT, Verdict.CRIMINAL):
        return ()
    facts = case.facts
    found = ["相談窓口に記録を共有し、同じ相手からの次の連絡に備えて情報を共有してください。"]
    if facts.channel in (None, SituationChannel.COUNTER) and (case.stays or case.counted & _HARM or facts.property_damaged
                                                              or Behavior.DETENTION in case.counted):
        found.append("繰り返すときは、施設管理権にもとづく出入禁止を組織で検討してもらってください。")
    if Behavior.PERSISTENT in case.counted or case.restraint or Behavior.SNS_EXPOSURE in case.counted:
        found.append("続くときは、顧問弁護士からの警告文（内容証明）や法的手続きを相談窓口と検討してください。")
    if case.validity is DemandValidity.VALID:
        found.append("お申し出の正当な部分は、業務の改善につなげてください。")
    return tuple(found)


def legal_notes(risks: tuple[LegalRisk, ...]) -> tuple[str, ...]:
    """One plain line per possible offence, for 「くわしく」 and criminal verdicts."""
    return tuple(LEGAL_NOTES[risk] for risk in risks)
