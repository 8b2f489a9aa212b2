"""The judgement: facts about a case in, verdict, types, risks, escalations and next steps out.

Follows the MHLW two-axis test (要求内容の妥当性 and 手段・態様, judged separately) and the
police flow of the Tokyo common manual. Pure and deterministic: outputs follow enum order.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, Literal, Mapping

from bot.codes import (
    ALWAYS_UNACCEPTABLE,
    CRIMINAL_CONDUCT,
    DEPENDS_ON_VALIDITY,
    Behavior,
    Coded,
    DemandBasis,
    DepartureStep,
    Escalation,
    HarassmentType,
    LegalRisk,
    SituationChannel,
    Verdict,
    WarningLevel,
)

# The first axis: is the demand valid? "invalid" = no fault on our side or unrelated to us.
Validity = Literal["valid", "invalid", "unknown"]

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
    steps: tuple[str, ...]
    time_limit_minutes: int
    over_time_limit: bool

    def to_dict(self) -> dict:
        return {
            "verdict": self.verdict.value,
            "verdict_label": self.verdict.label,
            "types": [code.value for code in self.types],
            "legal_risks": [{"code": risk.value, "label": risk.label} for risk in self.legal_risks],
            "escalations": [code.value for code in self.escalations],
            "reasons": list(self.reasons),
            "steps": list(self.steps),
            "time_limit_minutes": self.time_limit_minutes,
            "over_time_limit": self.over_time_limit,
        }


def assess(facts: Facts, time_limit_minutes: int = 30) -> Assessment:
    validity = _validity(facts)
    over = (
        facts.ongoing and facts.elapsed_minutes is not None and facts.elapsed_minutes >= time_limit_minutes
    )
    verdict = _verdict(facts, validity, over)
    risks = _legal_risks(facts, validity)
    escalations = _escalations(facts, verdict, risks, over)
    return Assessment(
        verdict=verdict,
        types=_types(facts, verdict, validity, over),
        legal_risks=risks,
        escalations=escalations,
        reasons=_reasons(facts, verdict, validity, risks, over, time_limit_minutes),
        steps=_steps(verdict, validity, escalations, over, time_limit_minutes),
        time_limit_minutes=time_limit_minutes,
        over_time_limit=over,
    )


def _validity(facts: Facts) -> Validity:
    if facts.our_fault is False or facts.demand_related is False:
        return "invalid"
    return "valid" if facts.our_fault else "unknown"


def _verdict(facts: Facts, validity: Validity, over: bool) -> Verdict:
    conduct = facts.behaviors
    if conduct & CRIMINAL_CONDUCT or facts.danger or facts.refused_to_leave:
        return Verdict.CRIMINAL
    if conduct & ALWAYS_UNACCEPTABLE:
        return Verdict.HARASSMENT
    if validity == "invalid" and (conduct & DEPENDS_ON_VALIDITY or over):
        return Verdict.HARASSMENT
    if conduct & DEPENDS_ON_VALIDITY:
        return Verdict.GRAY
    return {
        "valid": Verdict.LEGITIMATE,
        "invalid": Verdict.UNREASONABLE_REQUEST,
        "unknown": Verdict.GRAY,
    }[validity]


def _ordered(enum: type[Coded], found: set) -> tuple:
    return tuple(member for member in enum if member in found)


def _types(facts: Facts, verdict: Verdict, validity: Validity, over: bool) -> tuple[HarassmentType, ...]:
    if verdict not in (Verdict.HARASSMENT, Verdict.CRIMINAL):
        return ()
    conduct = facts.behaviors
    restraint = (
        HarassmentType.OFFSITE_RESTRAINT if facts.channel is SituationChannel.VISIT else HarassmentType.TIME_RESTRAINT
    )
    found = {
        kind
        for behavior, kind in (
            (Behavior.PERSISTENT, HarassmentType.REPEAT),
            (Behavior.VERBAL_ABUSE, HarassmentType.VERBAL_ABUSE),
            (Behavior.PHYSICAL_ATTACK, HarassmentType.VIOLENCE),
            (Behavior.THREAT, HarassmentType.THREAT),
            (Behavior.INTIMIDATION, HarassmentType.THREAT),
            (Behavior.SNS_EXPOSURE, HarassmentType.SNS_DEFAMATION),
            (Behavior.SEXUAL, HarassmentType.SEXUAL_HARASSMENT),
        )
        if behavior in conduct
    }
    if Behavior.DETENTION in conduct or (over and validity == "invalid"):
        found.add(restraint)
    # Pressure from authority is improper only behind a demand that is not valid.
    if Behavior.AUTHORITY_PRESSURE in conduct and validity == "invalid":
        found.add(HarassmentType.AUTHORITY)
    return _ordered(HarassmentType, found)


def _legal_risks(facts: Facts, validity: Validity) -> tuple[LegalRisk, ...]:
    conduct = facts.behaviors
    found: set[LegalRisk] = set()
    if Behavior.PHYSICAL_ATTACK in conduct:
        found.add(LegalRisk.ASSAULT)
        if Behavior.SEXUAL in conduct:
            found.add(LegalRisk.SEXUAL_ASSAULT)
    if Behavior.THREAT in conduct:
        found.add(LegalRisk.INTIMIDATION_CRIME)
    # An apology owed for our own fault is not coerced.
    if Behavior.DOGEZA_DEMAND in conduct or (Behavior.APOLOGY_DEMAND in conduct and validity == "invalid"):
        found.add(LegalRisk.COERCION)
    if Behavior.EXCESSIVE_DEMAND in conduct and conduct & {Behavior.THREAT, Behavior.INTIMIDATION}:
        found.add(LegalRisk.EXTORTION)
    if facts.refused_to_leave:
        found.add(LegalRisk.NON_DEPARTURE)
    if Behavior.DETENTION in conduct and facts.channel is SituationChannel.VISIT:
        found.add(LegalRisk.CONFINEMENT)
    if conduct & {Behavior.INTIMIDATION, Behavior.PERSISTENT, Behavior.DETENTION}:
        found.add(LegalRisk.FORCIBLE_OBSTRUCTION)
    if Behavior.SNS_EXPOSURE in conduct:
        found.add(LegalRisk.DEFAMATION)
    if Behavior.VERBAL_ABUSE in conduct:
        found.add(LegalRisk.INSULT)
    return _ordered(LegalRisk, found)


def _escalations(
    facts: Facts, verdict: Verdict, risks: tuple[LegalRisk, ...], over: bool
) -> tuple[Escalation, ...]:
    found: set[Escalation] = set()
    if verdict in (Verdict.HARASSMENT, Verdict.CRIMINAL):
        found |= {Escalation.SUPERVISOR, Escalation.CONSULTATION_DESK, Escalation.OCCUPATIONAL_HEALTH}
        if LegalRisk.DEFAMATION in risks:  # sns_exposure always carries it
            found.add(Escalation.LAWYER)
    if verdict is Verdict.CRIMINAL:
        found.add(Escalation.POLICE_110 if facts.ongoing or facts.danger else Escalation.POLICE_9110)
    if verdict is Verdict.GRAY or over:
        found.add(Escalation.SUPERVISOR)
    return _ordered(Escalation, found)


def _labels(behaviors: frozenset[Behavior]) -> str:
    return "、".join(f"「{b.label}」" for b in Behavior if b in behaviors)


def _demand_reason(facts: Facts, validity: Validity) -> str:
    if validity == "valid":
        return f"{AXIS_DEMAND}：こちらに落ち度があるため、要求には正当な部分があります。"
    if validity == "unknown":
        return f"{AXIS_DEMAND}：こちらに落ち度があったかどうかは、まだわかりません。"
    cause = {
        (True, False): "こちらに落ち度（事実・根拠）がないため",
        (False, True): "要求が当方の業務と関係がないため",
        (True, True): "こちらに落ち度がなく、要求も当方の業務と関係がないため",
    }[(facts.our_fault is False, facts.demand_related is False)]
    return f"{AXIS_DEMAND}：{cause}、要求は妥当とはいえません。"


def _means_reasons(facts: Facts, validity: Validity, over: bool, limit: int) -> list[str]:
    conduct = facts.behaviors
    reasons = []
    if facts.danger:
        reasons.append(f"{AXIS_MEANS}：身に危険が迫っているため、判断より安全の確保を優先します。")
    if conduct & CRIMINAL_CONDUCT:
        reasons.append(f"{AXIS_MEANS}：{_labels(conduct & CRIMINAL_CONDUCT)}は、要求内容にかかわらず犯罪にあたるおそれがあります。")
    if facts.refused_to_leave:
        reasons.append(f"{AXIS_MEANS}：退去を求めても立ち去らないことは、要求内容にかかわらず許されません。")
    if conduct & ALWAYS_UNACCEPTABLE:
        reasons.append(f"{AXIS_MEANS}：{_labels(conduct & ALWAYS_UNACCEPTABLE)}は、要求内容にかかわらず社会通念上許されない手段です。")
    if conduct & DEPENDS_ON_VALIDITY:
        labels = _labels(conduct & DEPENDS_ON_VALIDITY)
        reasons.append({
            "invalid": f"{AXIS_MEANS}：妥当性のない要求に対する{labels}は、社会通念上相当とはいえません。",
            "valid": f"{AXIS_MEANS}：{labels}は、落ち度に見合った内容・程度なら正当になり得るため、相当かどうかを組織で判断します。",
            "unknown": f"{AXIS_MEANS}：{labels}が相当かどうかは、落ち度の有無がわかってから判断します。",
        }[validity])
    if over and validity == "invalid":
        reasons.append(f"{AXIS_MEANS}：妥当性のない要求のために対応時間の上限（{limit}分）を超えて拘束することは、社会通念上相当とはいえません。")
    if not reasons:
        reasons.append(f"{AXIS_MEANS}：不相当な手段は挙げられていません。口調や態度だけでカスハラとは判断しません。")
    return reasons


_CONCLUSIONS: dict[Verdict, str] = {
    Verdict.CRIMINAL: "結論：犯罪のおそれがあるため、警察への通報・相談を含めて組織で対応します。",
    Verdict.HARASSMENT: "結論：手段・態様が不相当なため、カスタマーハラスメントにあたります。",
    Verdict.GRAY: "結論：この場では判断せず、組織として判断します。",
    Verdict.LEGITIMATE: "結論：正当なクレームです。カスハラではありません。",
    Verdict.UNREASONABLE_REQUEST: "結論：要求には応じられませんが、手段に問題はないためカスハラではありません。",
}


def _reasons(
    facts: Facts, verdict: Verdict, validity: Validity, risks: tuple[LegalRisk, ...], over: bool, limit: int
) -> tuple[str, ...]:
    reasons = [_demand_reason(facts, validity), *_means_reasons(facts, validity, over, limit), _CONCLUSIONS[verdict]]
    if verdict in (Verdict.HARASSMENT, Verdict.CRIMINAL) and validity == "valid":
        reasons.append("落ち度のある部分には誠実に対応し、不相当な手段には応じません。")
    if risks:
        reasons.append(
            f"関係しうる犯罪：{'、'.join(r.label for r in risks)}のおそれがあります（成立するかは警察・弁護士が判断します）。"
        )
    if LegalRisk.INSULT in risks:
        reasons.append("暴言が侮辱罪になり得るのは、公然と（人前やネット上で）行われた場合です。")
    if over:
        reasons.append(f"対応時間：経過{facts.elapsed_minutes}分で、上限の{limit}分に達しています。")
    return tuple(reasons)


_REPORT = "上司とカスハラ相談窓口に報告してください。"


def _steps(
    verdict: Verdict, validity: Validity, escalations: tuple[Escalation, ...], over: bool, limit: int
) -> tuple[str, ...]:
    steps: list[str] = []
    if verdict is Verdict.CRIMINAL:
        steps += [
            "身の安全を最優先し、相手から距離をとってください。",
            "すぐに110番通報してください。"
            if Escalation.POLICE_110 in escalations
            else "警察相談専用電話（#9110）か最寄りの警察署に相談してください。",
            "一人で対応せず、ほかの職員に来てもらってください。",
            "録音・メモ・写真などの記録を残してください。",
            _REPORT,
        ]
    elif over:
        steps.append(
            f"対応時間の上限（{limit}分）を超えています。これ以上は対応できないと伝え、対応を終了してください。"
            if validity == "invalid"
            else f"対応時間の上限（{limit}分）を超えています。本日の対応はここで終え、回答は後日書面でお伝えすると伝えてください。"
        )
    if verdict is Verdict.HARASSMENT:
        if validity == "valid":
            steps.append("落ち度のある部分には誠実に対応してください。")
        steps.append("応じられないことは「できません」とはっきり伝えてください。")
        if not over:
            steps.append("対応時間を区切り、同じ話の繰り返しになったら対応を終えると伝えてください。")
        steps += ["日時・発言・行為を記録してください（録音するときはその旨を伝えてください）。", _REPORT]
    elif verdict is Verdict.GRAY:
        steps += ["上司に報告し、組織として判断してもらってください。", "その場では約束や回答をしないでください。"]
        if validity == "unknown":
            steps.append("こちらに落ち度があったかどうか、事実を確認してください。")
    elif verdict is Verdict.LEGITIMATE:
        steps += [
            "ご不便・ご不快をおかけしたことに限って、お詫びを伝えてください。",
            "要求を復唱して確認し、誠実に対応してください。",
            "原因を確かめ、改善・是正してください。",
        ]
    elif verdict is Verdict.UNREASONABLE_REQUEST:
        steps += ["要求には応じられないことを、丁寧にはっきりと伝えてください。", "応じられない理由を説明してください。"]
    if over and verdict in (Verdict.LEGITIMATE, Verdict.UNREASONABLE_REQUEST):
        steps.append("上司に状況を報告してください。")
    if Escalation.LAWYER in escalations:
        steps.append("投稿の画面やURLを保存し、顧問弁護士への相談を相談窓口に依頼してください。")
    if Escalation.OCCUPATIONAL_HEALTH in escalations:
        steps.append("一人で抱え込まず、つらいときは産業医・健康相談を利用してください。")
    return tuple(steps)
