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
# Of those, conduct where one remark is first met with a request to stop (注意 → 警告 → 中止,
# Iwamizawa and Tokyo): it counts as harassment once it continues after the request.
# Everything else in ALWAYS_UNACCEPTABLE, and all criminal conduct, counts at once.
CAUTION_FIRST: frozenset[Behavior] = frozenset(
    {Behavior.VERBAL_ABUSE, Behavior.INTIMIDATION, Behavior.PERSONAL_ATTACK}
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


# Written exchanges: no physical safety advice, no time box, answered later by the organisation.
REMOTE_CHANNELS: frozenset[SituationChannel] = frozenset(
    {SituationChannel.EMAIL, SituationChannel.SNS, SituationChannel.LETTER}
)


class Verdict(Coded):
    LEGITIMATE = ("legitimate", "正当なクレーム")
    UNREASONABLE_REQUEST = ("unreasonable_request", "応じられない要求（カスハラではない）")
    CAUTION = ("caution", "注意をお願いする段階（まだカスハラとはしない）")
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
    PROPERTY_DAMAGE = ("property_damage", "器物損壊罪")


class Escalation(Coded):
    """Who to contact, in the order they are listed: emergency numbers first whenever they apply."""

    POLICE_110 = ("police_110", "警察（110番）")
    AMBULANCE_119 = ("ambulance_119", "救急（119番）")
    SUPERVISOR = ("supervisor", "上司・現場責任者")
    CONSULTATION_DESK = ("consultation_desk", "カスハラ相談窓口")
    LAWYER = ("lawyer", "顧問弁護士")
    POLICE_9110 = ("police_9110", "警察相談専用電話（#9110）")
    WELFARE = ("welfare", "福祉の相談先（地域包括支援センター等）")
    OCCUPATIONAL_HEALTH = ("occupational_health", "産業医・健康相談")


class DemandBasis(Coded):
    """What the demand rests on: the first axis (要求内容の妥当性) as the guidance defines it."""

    OUR_FAULT = ("our_fault", "こちらの誤り・不備への申し出")
    WITHIN_SERVICE = ("within_service", "業務の範囲内の要望・問い合わせ")
    OPINION = ("opinion", "施策や業務への意見・提案")
    REASONABLE_ACCOMMODATION = ("reasonable_accommodation", "合理的配慮の申し出（障害者差別解消法）")
    NO_BASIS = ("no_basis", "事実・根拠のない要求")
    UNRELATED = ("unrelated", "業務と関係のない要求・話")
    BEYOND_RULES = ("beyond_rules", "規則・制度で認められる範囲を超える要求")
    UNKNOWN = ("unknown", "まだわからない")


class DemandValidity(Coded):
    VALID = ("valid", "妥当な要求")
    INVALID = ("invalid", "妥当性のない要求")
    UNKNOWN = ("unknown", "まだわからない")


VALID_BASES: frozenset[DemandBasis] = frozenset(
    {DemandBasis.OUR_FAULT, DemandBasis.WITHIN_SERVICE, DemandBasis.OPINION, DemandBasis.REASONABLE_ACCOMMODATION}
)
INVALID_BASES: frozenset[DemandBasis] = frozenset(
    {DemandBasis.NO_BASIS, DemandBasis.UNRELATED, DemandBasis.BEYOND_RULES}
)


class WarningLevel(Coded):
    """How far the employee has gone in 注意 → 警告 → 中止 (Iwamizawa, Tokyo); in this order."""

    NONE = ("none", "まだ伝えていない")
    ASKED_TO_STOP = ("asked_to_stop", "やめるようお願いした（注意）")
    WARNED = ("warned", "続くなら対応を終えると伝えた（警告）")
    TOLD_RESPONSE_ENDS = ("told_response_ends", "対応を終えると伝えた（中止）")


class DepartureStep(Coded):
    """The Tokyo manual's sequence for someone who will not leave; the last step given, in this order."""

    NONE = ("none", "まだ始めていない")
    ASKED_TO_STOP = ("asked_to_stop", "中止のお願い（2〜3回）")
    ORDERED_TO_LEAVE = ("ordered_to_leave", "退去のお願い（施設管理権、2〜3回）")
    FINAL_WARNING = ("final_warning", "最終警告")
    POLICE_CALLED = ("police_called", "警察に通報した")


class Route(Coded):
    """Special paths the advice takes besides the verdict."""

    EMERGENCY = ("emergency", "緊急・安全確保")
    PROTECT_LIFE = ("protect_life", "命を守る対応（自殺をほのめかす発言）")
    VULNERABLE_CALLER = ("vulnerable_caller", "支援が必要そうな相手（やさしい区切りと福祉へのつなぎ）")
    REASONABLE_ACCOMMODATION = ("reasonable_accommodation", "合理的配慮（建設的対話）")
    OPINION = ("opinion", "ご意見・ご提案として受け止める")
    DEPARTURE = ("departure", "退去を求める手順")
    TIME_LIMIT = ("time_limit", "対応時間の区切り")


class TimeThreshold(Coded):
    """The points of a live exchange at which the time notice is shown (once each)."""

    NEAR = ("near", "上限が近い")
    OVER = ("over", "上限を過ぎた")


class Situation(Coded):
    """What the employee needs words for; the keys of the phrase library (phrases.yml)."""

    THANKS = ("thanks", "お礼")
    LIMITED_APOLOGY = ("limited_apology", "限定的なお詫び")
    CLEAR_APOLOGY = ("clear_apology", "こちらの誤りへのお詫び")
    EMPATHY = ("empathy", "気持ちへの共感（マザリング）")
    CONFIRM_IDENTITY = ("confirm_identity", "お名前・ご連絡先の確認")
    CONFIRM_DEMAND = ("confirm_demand", "ご要望の確認（復唱）")
    RECORDING_NOTICE = ("recording_notice", "録音のお知らせ")
    OPINION_THANKS = ("opinion_thanks", "ご意見として受け止める")
    REASONABLE_ACCOMMODATION = ("reasonable_accommodation", "合理的配慮の建設的対話")
    REFUSE = ("refuse", "お断り")
    SUPERVISOR_DEMAND = ("supervisor_demand", "「上司を出せ」")
    NAME_DEMAND = ("name_demand", "「名前を名乗れ」")
    RECORDING_OBJECTION = ("recording_objection", "「録音するな」")
    FILMING = ("filming", "撮影されたとき")
    SEXUAL_REMARK = ("sexual_remark", "性的な発言")
    DOGEZA_DEMAND = ("dogeza_demand", "土下座・念書の要求")
    ASK_TO_STOP = ("ask_to_stop", "やめるようお願いする（注意）")
    WARNING = ("warning", "警告")
    RESPONSE_ENDS = ("response_ends", "対応の終了（中止）")
    TIME_NOTICE = ("time_notice", "終了時刻の予告")
    CLOSE_OVERLONG = ("close_overlong", "正当だが長いお申し出を区切る")
    END_CALL = ("end_call", "電話を終える")
    LEAVE_VISIT = ("leave_visit", "訪問先から辞去する")
    ORDER_TO_LEAVE = ("order_to_leave", "退去のお願い（施設管理権）")
    FINAL_WARNING = ("final_warning", "最終警告")
    WRITTEN_ANSWER = ("written_answer", "後日文書で回答する")
    SELF_HARM = ("self_harm", "命を守る声かけ")
    GENTLE_CLOSE = ("gentle_close", "やさしい区切り")


# Intents the judgement's buttons send (as "/intent"); the dialogue answers them.
DETAILS_INTENT = "ask_details"  # 「くわしく」: reasons, types and legal notes of the last judgement
HANDOVER_INTENT = "ask_handover"  # 「上司に引き継ぐ」: the hand-over summary to forward


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


class InputProblem(Coded):
    """Why a message was refused before the bot saw it (bot/text_input.py); the label is the
    reply an employee gets on a chat channel, the code what a REST client gets."""

    INVALID_CHARACTERS = (
        "invalid_characters",
        "読み取れない文字が含まれていたため、メッセージを受け付けられませんでした。お手数ですが、入力し直して送ってください。",
    )
    INVALID_MESSAGE = ("invalid_message", "メッセージが空でした。状況を一言でも入力して送ってください。")
    MESSAGE_TOO_LONG = (
        "message_too_long",
        "メッセージが長すぎるため受け付けられませんでした。いくつかに分けて送ってください。",
    )
    INVALID_SENDER = (
        "invalid_sender",
        "会話を確認できなかったため、メッセージを受け付けられませんでした。画面を開き直して、もう一度お試しください。",
    )
    INVALID_METADATA = (
        "invalid_metadata",
        "メッセージに付いた情報を読み取れませんでした。画面を開き直して、もう一度お試しください。",
    )


class ReadinessCheck(Coded):
    """What a Rasa server needs before a load balancer sends it turns; GET /webhooks/rest/ready
    (bot/channels/readiness.py) names the failing ones by these codes."""

    ACTION_SERVER = ("action_server", "アクションサーバー")
    TRACKER_STORE = ("tracker_store", "会話履歴のデータベース（tracker store）")
    LOCK_STORE = ("lock_store", "会話のロック（lock store の Redis）")
    MODEL = ("model", "学習済みモデル")


class Move(Coded):
    """What a trainee's reply does, in the rehearsal mode (研修モード); a reply can do several."""

    THANKS = ("thanks", "お礼")
    LIMITED_APOLOGY = ("limited_apology", "限定的なお詫び")
    CLEAR_APOLOGY = ("clear_apology", "こちらの誤りを認めたお詫び")
    EMPATHY = ("empathy", "共感・傾聴（マザリング）")
    REPEAT_DEMAND = ("repeat_demand", "要求の復唱")
    FACT_QUESTION = ("fact_question", "事実の確認（5W1H）")
    IDENTITY_CONFIRMATION = ("identity_confirmation", "お名前・ご連絡先の確認")
    RECORDING_NOTICE = ("recording_notice", "録音・記録のお知らせ")
    CLEAR_REFUSAL = ("clear_refusal", "できないことをはっきり伝える")
    ALTERNATIVE_OFFER = ("alternative_offer", "代わりの案を示す")
    TIME_BOX = ("time_box", "対応時間の区切り")
    REQUEST_TO_STOP = ("request_to_stop", "やめるようお願いする")
    REQUEST_TO_LEAVE = ("request_to_leave", "退去のお願い（施設管理権）")
    HANDOVER_SUPERVISOR = ("handover_supervisor", "上司・責任者への引き継ぎ")
    POLICE_NOTICE = ("police_notice", "警察への通報を告げる")
    FULL_ADMISSION = ("full_admission", "全面的な非・賠償責任の承認")
    PROMISE_OR_CONSIDER = ("promise_or_consider", "その場での約束・「検討します」")
    ARGUING = ("arguing", "反論・挑発")
    PERSONAL_INFO_DISCLOSURE = ("personal_info_disclosure", "個人情報を教える")
    EMOTIONAL_RETORT = ("emotional_retort", "感情的な言い返し")


# Moves that are mistakes whatever the scenario (the rest are good moves where they fit).
MISTAKE_MOVES: frozenset[Move] = frozenset(
    {
        Move.FULL_ADMISSION,
        Move.PROMISE_OR_CONSIDER,
        Move.ARGUING,
        Move.PERSONAL_INFO_DISCLOSURE,
        Move.EMOTIONAL_RETORT,
    }
)


class RehearsalGrade(Coded):
    """The overall grade of a role-play's score sheet."""

    A = ("A", "よくできました")
    B = ("B", "おおむねできています")
    C = ("C", "もう一歩です")
    D = ("D", "もう一度練習しましょう")


class NextStep(Coded):
    """What to do next, as a trainee answers it in a case study (事例検討)."""

    SINCERE_FIX = ("sincere_fix", "誠実に対応し、原因を改める")
    POLITE_REFUSAL = ("polite_refusal", "丁寧に断り、理由を説明する")
    STOP_AND_END = ("stop_and_end", "やめるよう求め、続けば対応を終える（上司・窓口に報告）")
    POLICE = ("police", "安全を確保し、警察に通報・相談する")


# The consultation's question forms: before the first judgement, and the details after it.
CONSULTATION_FORM = "consultation_form"
DETAILS_FORM = "details_form"
# The form that runs the rehearsal mode; while it is active, nothing is a consultation.
REHEARSAL_FORM = "rehearsal_form"
REHEARSAL_INTENT = "rehearsal_start"


class DeskRole(Coded):
    """Who signs in to the consultation desk's web app (bot/desk)."""

    DESK = ("desk", "相談窓口担当")
    SUPERVISOR = ("supervisor", "所属長（自部署のみ）")
    ADMIN = ("admin", "管理者")
    TRAINER = ("trainer", "研修担当")


class DeskAction(Coded):
    """What the desk did about a consultation (marked on its record)."""

    SUPERVISOR_INFORMED = ("supervisor_informed", "所属長に報告した")
    POLICE_CONSULTED = ("police_consulted", "警察に相談した")
    LAWYER_CONSULTED = ("lawyer_consulted", "弁護士に相談した")
    BAN_NOTICE = ("ban_notice", "出入禁止を通知した")


class FollowUpState(Coded):
    """Where the desk's follow-up of a record stands (derived; bot/desk_rules.py)."""

    UNASSIGNED = ("unassigned", "担当未定")
    ASSIGNED = ("assigned", "担当あり")
    OVERDUE = ("overdue", "期限切れ")
    DONE = ("done", "終了")


class AlertReason(Coded):
    """Why a consultation reached the desk at once, most urgent first."""

    DANGER = ("danger", "身の危険")
    CRIMINAL = ("criminal", "犯罪の可能性")
    HARASSMENT = ("harassment", "カスタマーハラスメント")


class DeliveryStatus(Coded):
    """An alert e-mail in the outbox."""

    PENDING = ("pending", "送信待ち")
    CLAIMED = ("claimed", "送信中")
    SENT = ("sent", "送信済み")
    FAILED = ("failed", "失敗（再送します）")
    GAVE_UP = ("gave_up", "失敗（再送を中止）")
