"""Every code the system exchanges, in one place, each with its Japanese label.

Codes are the stable vocabulary shared by the NLU (entity values), the judgement,
the consultation record and the REST payloads. Japanese labels are for people;
integrators rely on the codes.
"""
from __future__ import annotations

from enum import Enum


class Coded(str, Enum):
    """A string enum whose members carry a Japanese label."""

    label: str

    def __new__(cls, code: str, label: str) -> "Coded":
        member = str.__new__(cls, code)
        member._value_ = code
        member.label = label
        return member

    def __str__(self) -> str:
        return self.value

    @classmethod
    def parse(cls, value: str) -> "Coded":
        """The member for a code; ValueError names the unknown code."""
        try:
            return cls(value)
        except ValueError:
            known = ", ".join(m.value for m in cls)
            raise ValueError(f"unknown code '{value}' (known: {known})") from None


class Behavior(Coded):
    """The customer's conduct, as the employee describes it (entity `behavior`)."""

    PHYSICAL_ATTACK = ("physical_attack", "身体的な攻撃（暴行・物を投げる等）")
    THREAT = ("threat", "脅迫（危害の告知）")
    VERBAL_ABUSE = ("verbal_abuse", "暴言・侮辱")
    INTIMIDATION = ("intimidation", "威圧的な言動")
    DOGEZA_DEMAND = ("dogeza_demand", "土下座の要求")
    PERSISTENT = ("persistent", "継続的・執拗な言動")
    DETENTION = ("detention", "拘束的な行動（居座り・不退去・長時間拘束）")
    DISCRIMINATION = ("discrimination", "差別的な言動")
    SEXUAL = ("sexual", "性的な言動")
    PERSONAL_ATTACK = ("personal_attack", "職員個人への攻撃・要求")
    SNS_EXPOSURE = ("sns_exposure", "SNS・ネットでの晒し・中傷")
    EXCESSIVE_DEMAND = ("excessive_demand", "過剰な金銭・サービスの要求")
    APOLOGY_DEMAND = ("apology_demand", "謝罪（土下座以外）の強要")
    AUTHORITY_PRESSURE = ("authority_pressure", "権威を持ち出した圧力")


# Conduct that is unacceptable whatever the demand (MHLW manual).
ALWAYS_UNACCEPTABLE: frozenset[Behavior] = frozenset(
    {
        Behavior.VERBAL_ABUSE,
        Behavior.INTIMIDATION,
        Behavior.DOGEZA_DEMAND,
        Behavior.PERSISTENT,
        Behavior.DETENTION,
        Behavior.DISCRIMINATION,
        Behavior.SEXUAL,
        Behavior.PERSONAL_ATTACK,
        Behavior.SNS_EXPOSURE,
    }
)
# Conduct whose acceptability depends on whether the demand is valid.
DEPENDS_ON_VALIDITY: frozenset[Behavior] = frozenset(
    {Behavior.EXCESSIVE_DEMAND, Behavior.APOLOGY_DEMAND, Behavior.AUTHORITY_PRESSURE}
)
# Conduct that is a crime in itself and a reason to think of the police first.
CRIMINAL_CONDUCT: frozenset[Behavior] = frozenset({Behavior.PHYSICAL_ATTACK, Behavior.THREAT})


class SituationChannel(Coded):
    """Where the exchange with the customer happens (entity `channel`)."""

    PHONE = ("phone", "電話")
    COUNTER = ("counter", "窓口・対面")
    VISIT = ("visit", "訪問先")
    EMAIL = ("email", "メール")
    SNS = ("sns", "SNS")
    LETTER = ("letter", "手紙・文書")


class DangerCue(Coded):
    """An explicit sign of danger to staff right now: safety first comes at once on any of them."""

    WEAPON = ("weapon", "凶器を見せている・持っている")
    VIOLENCE = ("violence", "暴力を受けている・振るわれかけた")
    FIRE = ("fire", "火・爆発物を使うと言っている")
    THREAT_TO_HARM = ("threat_to_harm", "危害を加えるとはっきり言っている")
    LOCKED_IN = ("locked_in", "閉じ込められている・出口を塞がれている")


class Verdict(Coded):
    LEGITIMATE = ("legitimate", "正当なクレーム")
    UNREASONABLE_REQUEST = ("unreasonable_request", "応じられない要求（カスハラではない）")
    GRAY = ("gray", "判断保留（組織で判断）")
    HARASSMENT = ("harassment", "カスタマーハラスメント")
    CRIMINAL = ("criminal", "犯罪の可能性（警察対応）")


class HarassmentType(Coded):
    """The MHLW manual's nine types."""

    TIME_RESTRAINT = ("time_restraint", "時間拘束型")
    REPEAT = ("repeat", "リピート型")
    VERBAL_ABUSE = ("verbal_abuse", "暴言型")
    VIOLENCE = ("violence", "暴力型")
    THREAT = ("threat", "威嚇・脅迫型")
    AUTHORITY = ("authority", "権威型")
    OFFSITE_RESTRAINT = ("offsite_restraint", "店舗外拘束型")
    SNS_DEFAMATION = ("sns_defamation", "SNS/インターネット上での誹謗中傷型")
    SEXUAL_HARASSMENT = ("sexual_harassment", "セクシュアルハラスメント型")


class LegalRisk(Coded):
    ASSAULT = ("assault", "暴行罪")
    INJURY = ("injury", "傷害罪")
    INTIMIDATION_CRIME = ("intimidation_crime", "脅迫罪")
    COERCION = ("coercion", "強要罪")
    EXTORTION = ("extortion", "恐喝罪")
    NON_DEPARTURE = ("non_departure", "不退去罪")
    CONFINEMENT = ("confinement", "監禁罪")
    FORCIBLE_OBSTRUCTION = ("forcible_obstruction", "威力業務妨害罪")
    DEFAMATION = ("defamation", "名誉毀損罪")
    INSULT = ("insult", "侮辱罪")
    SEXUAL_ASSAULT = ("sexual_assault", "不同意わいせつ罪")


class Escalation(Coded):
    SUPERVISOR = ("supervisor", "上司・現場責任者")
    CONSULTATION_DESK = ("consultation_desk", "カスハラ相談窓口")
    LAWYER = ("lawyer", "顧問弁護士")
    POLICE_110 = ("police_110", "警察（110番）")
    POLICE_9110 = ("police_9110", "警察相談専用電話（#9110）")
    OCCUPATIONAL_HEALTH = ("occupational_health", "産業医・健康相談")


class Stage(Coded):
    """Where the consultation is; sent to integrators in every reply."""

    START = ("start", "開始")
    SAFETY = ("safety", "安全確保")
    INITIAL_RESPONSE = ("initial_response", "初期対応")
    FACT_FINDING = ("fact_finding", "事実確認")
    JUDGEMENT = ("judgement", "判断")
    TIME_BOX = ("time_box", "時間の区切り")
    ESCALATION = ("escalation", "エスカレーション")
    CLOSING = ("closing", "終了とアフターケア")


class RecordStatus(Coded):
    OPEN = ("open", "対応中")
    CLOSED = ("closed", "終了")


class SourceChannel(Coded):
    """The chat channel the employee used to reach the bot."""

    REST = ("rest", "REST")
    SLACK = ("slack", "Slack")
    BOTFRAMEWORK = ("botframework", "Microsoft Teams")
    SOCKETIO = ("socketio", "Webチャット")
    SHELL = ("shell", "ターミナル")
    OTHER = ("other", "その他")
