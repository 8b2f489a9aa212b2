"""The judgement: facts about a case in, verdict, types, risks, escalations and next steps out.

Follows the MHLW two-axis test (要求内容の妥当性 and 手段・態様, judged separately), the
注意 → 警告 → 中止 sequence (Iwamizawa, Tokyo) and the police flow of the Tokyo common manual.
The rules are documented in docs/judgement.md. Pure and deterministic: outputs follow enum order,
and the same facts give the same verdict live or after the fact (being live changes the advice).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot import advice
from bot.advice import LEGAL_NOTES, legal_notes
from bot.codes import (
    ALWAYS_UNACCEPTABLE,
    CAUTION_FIRST,
    CRIMINAL_CONDUCT,
    DEPENDS_ON_VALIDITY,
    INVALID_BASES,
    REMOTE_CHANNELS,
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
    Situation,
    SituationChannel,
    Verdict,
    WarningLevel,
)
from bot.facts import Facts, FactsError

__all__ = [
    "LEGAL_NOTES", "REMOTE_CHANNELS", "STOPPABLE_REMARKS", "Assessment", "Case", "Facts", "FactsError",
    "assess", "demand_basis_of", "legal_notes", "validity_of",
]


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
    situation: Situation | None = None  # what the employee most likely needs words for now (phrases.yml)

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
            "situation": self.situation and self.situation.value,
            "time_limit_minutes": self.time_limit_minutes,
            "over_time_limit": self.over_time_limit,
        }


_WARNING_ORDER = tuple(WarningLevel)
_DEPARTURE_ORDER = tuple(DepartureStep)
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
class Case:
    """What the rules derive from the facts before wording anything (bot/advice.py words it)."""

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


def _case(facts: Facts, limit: int) -> Case:
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
    live_harm = facts.ongoing and bool(conduct & CRIMINAL_CONDUCT or facts.injured or facts.property_damaged)
    return Case(
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
        reasons=advice.reasons_for(case, verdict),
        steps=advice.steps_for(case, verdict, escalations, routes, next_warning, next_departure),
        time_limit_minutes=time_limit_minutes,
        over_time_limit=case.over,
        demand_basis=case.basis,
        demand_validity=case.validity,
        routes=routes,
        next_warning=next_warning,
        next_departure_step=next_departure,
        follow_up=advice.follow_up_for(case, verdict),
        situation=_situation_now(case, verdict, routes, next_warning, next_departure),
    )


def _verdict(case: Case) -> Verdict:
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


def _types(case: Case, verdict: Verdict) -> tuple[HarassmentType, ...]:
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


def _legal_risks(case: Case, verdict: Verdict) -> tuple[LegalRisk, ...]:
    facts, counted = case.facts, case.counted
    if verdict not in (Verdict.HARASSMENT, Verdict.CRIMINAL):
        return ()
    force = bool(counted & CRIMINAL_CONDUCT)  # 暴行 or 脅迫, which 強要 and 恐喝 need
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


def _escalations(case: Case, verdict: Verdict, risks: tuple[LegalRisk, ...]) -> tuple[Escalation, ...]:
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


def _routes(case: Case) -> tuple[Route, ...]:
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


def _next_warning(case: Case, verdict: Verdict, routes: tuple[Route, ...]) -> WarningLevel | None:
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


def _next_departure_step(case: Case, routes: tuple[Route, ...]) -> DepartureStep | None:
    if Route.DEPARTURE not in routes or not case.facts.ongoing:
        return None
    step = case.departure_step or DepartureStep.NONE
    if step is DepartureStep.POLICE_CALLED:
        return None
    if not case.stays and _later(_DEPARTURE_ORDER, step, DepartureStep.ASKED_TO_STOP):
        return None  # they left
    return _DEPARTURE_ORDER[_DEPARTURE_ORDER.index(step) + 1]


_WARNING_SITUATIONS: dict[WarningLevel, Situation] = {
    WarningLevel.ASKED_TO_STOP: Situation.ASK_TO_STOP,
    WarningLevel.WARNED: Situation.WARNING,
    WarningLevel.TOLD_RESPONSE_ENDS: Situation.RESPONSE_ENDS,
}
_DEPARTURE_SITUATIONS: dict[DepartureStep, Situation] = {
    DepartureStep.ASKED_TO_STOP: Situation.ASK_TO_STOP,
    DepartureStep.ORDERED_TO_LEAVE: Situation.ORDER_TO_LEAVE,
    DepartureStep.FINAL_WARNING: Situation.FINAL_WARNING,
}
# A first request to stop, in the words that fit the remark.
_FIRST_REQUEST: tuple[tuple[Behavior, Situation], ...] = (
    (Behavior.SEXUAL, Situation.SEXUAL_REMARK),
    (Behavior.DOGEZA_DEMAND, Situation.DOGEZA_DEMAND),
)


def _situation_now(
    case: Case,
    verdict: Verdict,
    routes: tuple[Route, ...],
    next_warning: WarningLevel | None,
    next_departure: DepartureStep | None,
) -> Situation | None:
    """What the employee most likely needs words for right now; None after the fact, in writing or in danger."""
    facts = case.facts
    if not facts.ongoing or facts.channel in REMOTE_CHANNELS or Route.EMERGENCY in routes:
        return None
    if Route.PROTECT_LIFE in routes:
        return Situation.SELF_HARM
    if next_departure in _DEPARTURE_SITUATIONS:
        return _DEPARTURE_SITUATIONS[next_departure]
    if next_warning is WarningLevel.ASKED_TO_STOP:
        return next((situation for behavior, situation in _FIRST_REQUEST if behavior in facts.behaviors),
                    Situation.ASK_TO_STOP)
    if next_warning is not None:
        return _WARNING_SITUATIONS[next_warning]
    if Route.VULNERABLE_CALLER in routes:
        return Situation.GENTLE_CLOSE
    if case.over:
        if verdict is Verdict.HARASSMENT:
            return Situation.END_CALL if facts.channel is SituationChannel.PHONE else Situation.RESPONSE_ENDS
        return Situation.CLOSE_OVERLONG
    if Route.REASONABLE_ACCOMMODATION in routes:
        return Situation.REASONABLE_ACCOMMODATION
    if Route.OPINION in routes:
        return Situation.OPINION_THANKS
    if case.basis is DemandBasis.OUR_FAULT:
        return Situation.CLEAR_APOLOGY
    return None
