"""What the assistant says at each stage: short, calm Japanese for a stressed employee.

Content follows the public guidance in the domain brief (MHLW manual, Tokyo common
manual, lawyer's hard-claim course, 消費者庁/札幌市 time limits). What the employee can say
to the customer comes from the phrase library (phrases.yml, bot/phrases.py); this module
adds the instructions around it. Pure functions: facts in, a Reply out.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from bot.advice import legal_notes
from bot.assessment import Assessment, Facts
from bot.codes import (
    DETAILS_INTENT,
    HANDOVER_INTENT,
    REMOTE_CHANNELS,
    Behavior,
    DemandBasis,
    DepartureStep,
    Escalation,
    Route,
    Situation,
    SituationChannel,
    TimeThreshold,
    Verdict,
    WarningLevel,
)
from bot.conversation import TimeStatus
from bot.paraphrase import paraphrase
from bot.phrases import PhraseLibrary
from bot.settings import OrganizationSettings, load_phrases


@dataclass(frozen=True)
class Button:
    title: str
    payload: str

    def to_dict(self) -> dict[str, str]:
        return {"title": self.title, "payload": self.payload}


@dataclass(frozen=True)
class Reply:
    text: str
    buttons: tuple[Button, ...] = field(default_factory=tuple)


DETAILS_BUTTON = Button("くわしく", f"/{DETAILS_INTENT}")
HANDOVER_BUTTON = Button("上司に引き継ぐ", f"/{HANDOVER_INTENT}")
NEXT_STEP_BUTTONS = (
    Button("時間の区切り方", "/ask_time_limit"),
    Button("誰に連絡するか", "/ask_escalation"),
    Button("相談を終える", "/finish"),
)
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩"


def _library(phrases: PhraseLibrary | None) -> PhraseLibrary:
    return phrases if phrases is not None else load_phrases()


def opening() -> str:
    """The first line of a consultation: no label before any judgement."""
    return "状況を一緒に整理します。わかるところから、短く教えてください。"


def safety_first(channel: SituationChannel | None) -> Reply:
    if channel in REMOTE_CHANNELS:
        steps = (
            "・すぐに返信せず、文面や画面をそのまま保存してください",
            "・上司にすぐ見せて、一人で判断しないでください",
            "・日時や場所を挙げて危害を予告しているときは、110番してください",
        )
    elif channel == SituationChannel.PHONE:
        steps = (
            "・危害を加えると言われたら、その言葉をそのままメモしてください",
            "・周りの職員に合図し、上司にすぐ知らせてください",
            "・差し迫った危険があれば、電話を切って110番してください",
        )
    elif channel == SituationChannel.VISIT:
        steps = (
            "・すぐにその場を離れ、建物の外に出てください",
            "・安全な場所から職場に電話し、状況を伝えてください",
            "・暴力や凶器、身の危険があれば、ためらわず110番してください",
        )
    else:
        steps = (
            "・相手から離れ、出口に近い安全な場所へ移動してください",
            "・大きな声で周りの職員を呼び、一人で対応しないでください",
            "・暴力や凶器、身の危険があれば、ためらわず110番してください",
        )
    return Reply(
        "まず、あなたの安全を最優先にしてください。\n" + "\n".join(steps)
        + "\n安全が確保できたら、続きを一緒に整理しましょう。",
        (Button("110番で伝えること", "/ask_escalation"),),
    )


_CHANNEL_TIPS: dict[SituationChannel, str] = {
    SituationChannel.COUNTER: "できればもう一人に同席してもらい、一人は話す役、一人は記録役にしてください。",
    SituationChannel.VISIT: "訪問は一人で行かず、出口に近い席に座ってください。",
}


def initial_response(channel: SituationChannel | None, ongoing: bool, phrases: PhraseLibrary | None = None) -> Reply:
    if not ongoing:
        return Reply("お疲れさまでした。記録に残すため、いくつか確認させてください。")
    if channel in REMOTE_CHANNELS:
        return Reply(
            "文書やメッセージには、すぐに返信しなくて大丈夫です。\n"
            "・原文はそのまま保存してください（スクリーンショットも）\n"
            "・個人として返信せず、上司と相談のうえ組織として回答してください\n"
            "・回答では、お礼と、ご不便へのお詫びにとどめ、約束はしないでください"
        )
    library = _library(phrases)
    lines = [
        "落ち着いて、次の順で対応しましょう。",
        "1. お礼を伝える",
        "2. ご不便やご不快な気持ちに限ってお詫びする（非を認める謝罪ではありません）",
        "3. 最後まで聞き、要求をおだやかな言葉で復唱して確かめる",
        "言わないこと：できない約束／「検討します」などのあいまいな返事／反論",
        "言い方の例：",
        library.text(Situation.THANKS, channel),
        library.text(Situation.LIMITED_APOLOGY, channel),
        library.text(Situation.EMPATHY, channel),
    ]
    if channel == SituationChannel.PHONE:
        lines.append("録音する場合は、最初に伝えてください：" + library.text(Situation.RECORDING_NOTICE, channel))
    elif channel in _CHANNEL_TIPS:
        lines.append(_CHANNEL_TIPS[channel])
    return Reply("\n".join(lines))


def demand_echo(demand: str, phrases: PhraseLibrary | None = None) -> str:
    """How to confirm the demand: a polite paraphrase, never the customer's own words."""
    library = _library(phrases)
    wanted = paraphrase(demand)
    if wanted is not None:
        return "確かめる言い方：" + library.text(Situation.CONFIRM_DEMAND, demand=wanted)
    return ("要求は、相手の言葉をそのまま繰り返さず、おだやかな言い方で確かめてください。\n例："
            + library.text(Situation.CONFIRM_DEMAND))


def time_notice(status: TimeStatus) -> str:
    if status.over:
        return (
            f"⏱ 対応開始から約{status.elapsed_minutes}分です（目安{status.limit_minutes}分を過ぎています）。"
            "上司と相談して、対応を終える準備をしてください。"
        )
    return (
        f"⏱ 対応開始から約{status.elapsed_minutes}分です（目安{status.limit_minutes}分まで"
        f"あと約{status.remaining_minutes}分）。"
    )


@dataclass(frozen=True)
class TimeNotice:
    threshold: TimeThreshold  # keep it (e.g. in a slot) and pass it back next turn
    text: str


_THRESHOLDS = tuple(TimeThreshold)


def time_notice_due(
    status: TimeStatus | None,
    last_shown: TimeThreshold | None,
    channel: SituationChannel | None = None,
    phrases: PhraseLibrary | None = None,
) -> TimeNotice | None:
    """The ⏱ notice once per threshold crossed (near the limit, then over it); None on other turns."""
    if status is None or not status.near:
        return None
    reached = TimeThreshold.OVER if status.over else TimeThreshold.NEAR
    if last_shown is not None and _THRESHOLDS.index(last_shown) >= _THRESHOLDS.index(reached):
        return None
    text = time_notice(status)
    if reached is TimeThreshold.NEAR and status.remaining_minutes > 0:
        text += "\n相手への予告の例：" + _library(phrases).text(
            Situation.TIME_NOTICE, channel, minutes=str(status.remaining_minutes)
        )
    return TimeNotice(reached, text)


_VERDICT_LINES: dict[Verdict, str] = {
    Verdict.LEGITIMATE: "判断の目安：正当なお申し出です（カスハラではありません）。",
    Verdict.UNREASONABLE_REQUEST: "判断の目安：応じられない要求ですが、カスハラではありません。",
    Verdict.CAUTION: "判断の目安：まずはやめるようお願いする段階です。",
    Verdict.GRAY: "判断の目安：この場では決めず、組織で判断します。",
    Verdict.HARASSMENT: "判断の目安：カスタマーハラスメントにあたります。",
    Verdict.CRIMINAL: "判断の目安：犯罪のおそれがあります。",
}
def judgement(
    assessment: Assessment,
    channel: SituationChannel | None = None,
    ongoing: bool = False,
    phrases: PhraseLibrary | None = None,
) -> Reply:
    """The judgement in three lines: the verdict, then 「いますること」 ①②③; 「くわしく」 gives the rest."""
    first = _VERDICT_LINES[assessment.verdict]
    if Route.PROTECT_LIFE in assessment.routes and assessment.verdict is Verdict.GRAY:
        first = "判断の目安：いまは、相手の命を守ることを優先します。"
    lines = [first, "いますること："]
    lines += [f"{_CIRCLED[number]}{step.removesuffix('。')}" for number, step in enumerate(assessment.now)]
    if assessment.situation is not None:
        lines.append("言い方：" + _library(phrases).text(assessment.situation, channel))
    if assessment.verdict is Verdict.CRIMINAL and assessment.legal_risks:
        labels = "、".join(risk.label for risk in assessment.legal_risks)
        lines.append(f"犯罪の可能性：{labels}（成立するかは警察が判断します）")
    if assessment.verdict in (Verdict.HARASSMENT, Verdict.CRIMINAL):
        lines.append("あなたが悪いわけではありません。")
    handover = (HANDOVER_BUTTON,) if ongoing else ()
    buttons = (DETAILS_BUTTON, *handover, *NEXT_STEP_BUTTONS[1:])
    return Reply("\n".join(lines), buttons)


def judgement_details(assessment: Assessment) -> Reply:
    """For 「くわしく」: the reasons on both axes, the types, the legal notes and the rest of the steps."""
    lines = [f"判断の目安：{assessment.verdict.label}", "理由："]
    lines += [f"・{reason}" for reason in assessment.reasons]
    if assessment.types:
        lines.append("類型：" + "、".join(t.label for t in assessment.types))
    if assessment.legal_risks:
        lines.append("関係しうる法律（成立するかは警察・弁護士が判断します）：")
        lines += [f"・{note}" for note in legal_notes(assessment.legal_risks)]
    rest = assessment.steps[len(assessment.now):]
    if rest:
        lines.append("ほかにすること：")
        lines += [f"・{step}" for step in rest]
    if assessment.follow_up:
        lines.append("あとで組織として：")
        lines += [f"・{item}" for item in assessment.follow_up]
    lines.append("※最終的な判断は組織で行います。")
    return Reply("\n".join(lines), NEXT_STEP_BUTTONS)


def say(situation: Situation, channel: SituationChannel | None = None, phrases: PhraseLibrary | None = None) -> Reply:
    """Words for one situation (「上司を出せ」「録音するな」…), the channel's own first."""
    texts = _library(phrases).texts(situation, channel)
    return Reply(f"{situation.label}の言い方の例：\n" + "\n".join(texts[:3]))


def time_box(
    channel: SituationChannel | None,
    limit_minutes: int,
    status: TimeStatus | None,
    phrases: PhraseLibrary | None = None,
) -> Reply:
    library = _library(phrases)
    if channel in REMOTE_CHANNELS:
        return Reply(
            "文書やメッセージには時間の区切りはありませんが、やり取りを続ける必要もありません。\n"
            "同じ要求が続くときは、組織として一度だけ文書で回答し、「これ以上のやり取りは控えます」と伝えてください。",
            NEXT_STEP_BUTTONS[1:],
        )
    lines = [
        f"1回の対応は{limit_minutes}分を目安に区切ります。同じ話の繰り返しになったら、終える準備をしてください。",
        "終えるときは、現場の上司と相談して決めてください。正当なお申し出でも、回答は後日文書にできます。",
    ]
    if status is not None:
        lines.insert(0, time_notice(status))
    lines += [
        "伝え方の例（順に）：",
        "1. 終了の予告 " + library.text(Situation.TIME_NOTICE, channel, minutes="5"),
        "2. 区切る " + library.text(Situation.CLOSE_OVERLONG, channel),
        "3. 中止のお願い（2〜3回） " + library.text(Situation.ASK_TO_STOP, channel)
        + " " + library.text(Situation.WARNING, channel),
    ]
    if channel == SituationChannel.PHONE:
        lines.append("4. 終話 " + library.text(Situation.END_CALL, channel) + " と伝えて電話を切ります。")
        lines.append("次にかかってきたときは、最初に「お話しできるのは〇分までです」と伝えてください。")
    elif channel == SituationChannel.VISIT:
        lines.append("4. 辞去 " + library.text(Situation.LEAVE_VISIT, channel) + " と伝えて、その場を離れます。")
    else:
        lines.append("4. 退去のお願い（上司と決めて、2〜3回） " + library.text(Situation.ORDER_TO_LEAVE, channel))
        lines.append("5. 最終警告 " + library.text(Situation.FINAL_WARNING, channel))
        lines.append("それでも帰らないときは110番してください（急を要しないときは最寄りの警察署か#9110）。")
    return Reply("\n".join(lines), NEXT_STEP_BUTTONS[1:])


_WHAT_TO_TELL = "伝えること：いつ・どこで・相手は誰か・要求の内容・相手の言動（言葉どおり）・いまの状況"
_POLICE_ASKS = "警察に聞かれること：場所（住所）、何が起きているか、相手の人数と特徴、凶器の有無、けが人の有無、あなたの名前と連絡先"
_EMERGENCY_NUMBERS = (Escalation.POLICE_110, Escalation.AMBULANCE_119)


def escalation(assessment: Assessment | None, settings: OrganizationSettings) -> Reply:
    """Who to contact, in order: 110/119 first whenever they apply, then the organisation's contacts."""
    codes = list(assessment.escalations) if assessment else [Escalation.SUPERVISOR]
    if Escalation.SUPERVISOR not in codes:
        codes.insert(sum(code in _EMERGENCY_NUMBERS for code in codes), Escalation.SUPERVISOR)
    lines = ["連絡する順番："]
    for number, code in enumerate(codes, start=1):
        lines.append(f"{number}. {_contact_line(code, settings)}")
    lines.append(_WHAT_TO_TELL)
    if Escalation.POLICE_110 in codes or Escalation.POLICE_9110 in codes:
        lines.append(_POLICE_ASKS)
        lines.append("録音やメモがあれば、警察に渡せるよう保存しておいてください。")
    else:
        lines.append("身の危険を感じたら、いつでも110番してください。緊急でない相談は #9110 です。")
    return Reply("\n".join(lines), (Button("相談を終える", "/finish"),))


_FIXED_LINES: dict[Escalation, str] = {
    Escalation.POLICE_110: "警察 110番（暴力・凶器・身の危険があるとき）",
    Escalation.AMBULANCE_119: "救急 119番（けが人や、命に関わるとき）",
    Escalation.POLICE_9110: "警察相談専用電話 #9110 か最寄りの警察署（緊急ではないが、警察に相談したいとき）",
}


def _contact_line(code: Escalation, settings: OrganizationSettings) -> str:
    if code in _FIXED_LINES:
        return _FIXED_LINES[code]
    contact = settings.contact(code)
    if contact is None:
        return code.label
    line = f"{code.label}：{contact.name}"
    if contact.phone:
        line += f"（{contact.phone}）"
    if contact.note:
        line += f" — {contact.note}"
    return line


def _yes_no(value: bool | None) -> str:
    return {True: "はい", False: "いいえ"}.get(value, "不明")


def record_summary(record: Mapping[str, Any]) -> str:
    channel = record.get("situation_channel")
    behaviors = record.get("behaviors") or []
    verdict = record.get("verdict")
    lines = [
        f"相談記録 No.{record['id']}（{'終了' if record.get('status') == 'closed' else '対応中'}）",
        f"・場所：{SituationChannel(channel).label if channel else '不明'}",
        f"・時間：{str(record['elapsed_minutes']) + '分' if record.get('elapsed_minutes') is not None else '不明'}",
        f"・要求：{record.get('demand') or '不明'}",
        f"・相手の言動：{'、'.join(Behavior(b).label for b in behaviors) if behaviors else 'なし・不明'}",
        f"・こちらの不備：{_yes_no(record.get('our_fault'))}／業務との関係：{_yes_no(record.get('demand_related'))}",
        f"・相手の特定：{_yes_no(record.get('identified'))}／記録：{_yes_no(record.get('recorded'))}"
        f"／一人で対応：{_yes_no(record.get('alone'))}",
    ]
    if verdict:
        lines.append(f"・判断の目安：{Verdict(verdict).label}")
    return "\n".join(lines)


_HANDOVER_ASKS: tuple[tuple[Route, str], ...] = (
    (Route.EMERGENCY, "すぐに来てください。110番通報の判断をお願いします。"),
    (Route.PROTECT_LIFE, "相手が命に関わる発言をしています。119番・110番の判断をお願いします。"),
    (Route.DEPARTURE, "退去を求める判断と、同席をお願いします。"),
    (Route.TIME_LIMIT, "対応を終える判断をお願いします。"),
)


_DEMAND_CHARS = 20  # the record keeps the exact words; the hand-over only needs the gist


def handover_summary(facts: Facts, assessment: Assessment, record: Mapping[str, Any]) -> str:
    """A short text for the supervisor (二次対応), to forward in one tap; no customer details."""
    channel = facts.channel.label if facts.channel else "場所不明"
    when = "対応中" if facts.ongoing else "対応後"
    minutes = f"・約{facts.elapsed_minutes}分" if facts.elapsed_minutes is not None else ""
    number = f" No.{record['id']}" if record.get("id") is not None else ""
    department = f"（{record['employee_department']}）" if record.get("employee_department") else ""
    demand = record.get("demand")
    wanted = paraphrase(demand) if demand else None
    if wanted:
        demand_line = f"・要求：{wanted}"
    elif demand:
        demand_line = "・要求：" + (demand if len(demand) <= _DEMAND_CHARS else demand[:_DEMAND_CHARS] + "…")
    else:
        demand_line = "・要求：未確認"
    lines = [f"【二次対応のお願い】相談記録{number}{department}", f"・{channel}／{when}{minutes}", demand_line]
    if facts.behaviors:
        lines.append("・相手の言動：" + "、".join(b.label for b in Behavior if b in facts.behaviors))
    types = f"（{'、'.join(t.label for t in assessment.types)}）" if assessment.types else ""
    lines.append(f"・判断の目安：{assessment.verdict.label}{types}")
    done = []
    if facts.warnings_given not in (None, WarningLevel.NONE):
        done.append(facts.warnings_given.label)
    if facts.departure_step not in (None, DepartureStep.NONE):
        done.append(facts.departure_step.label)
    if facts.police_called and facts.departure_step is not DepartureStep.POLICE_CALLED:
        done.append("警察に通報済み")
    if done:
        lines.append("・ここまで：" + "、".join(done))
    ask = next((text for route, text in _HANDOVER_ASKS if route in assessment.routes), None)
    if ask is None:
        if not facts.ongoing:
            ask = "記録の確認と、今後の対応の相談をお願いします。"
        elif assessment.verdict in (Verdict.HARASSMENT, Verdict.CRIMINAL, Verdict.CAUTION):
            ask = "同席か、対応の交代をお願いします。"
        else:
            ask = "組織としての判断をお願いします。"
    lines.append(f"・お願い：{ask}")
    return "\n".join(lines)


_HARM_CONDUCT = frozenset({Behavior.PHYSICAL_ATTACK, Behavior.THREAT, Behavior.SNS_EXPOSURE, Behavior.PERSONAL_ATTACK})


def aftercare(settings: OrganizationSettings, facts: Facts | None = None, assessment: Assessment | None = None) -> str:
    """Closing words that fit the case: a calm call, a threat, a sexual remark, an event in the past."""
    health = settings.contact(Escalation.OCCUPATIONAL_HEALTH)
    desk = settings.contact(Escalation.CONSULTATION_DESK)
    desk_name = desk.name if desk else "カスハラ相談窓口"
    health_name = f"{health.name}（{health.phone}）" if health else "産業医や健康相談"
    verdict = assessment.verdict if assessment else None
    conduct = facts.behaviors if facts else frozenset()
    hard = verdict in (Verdict.HARASSMENT, Verdict.CRIMINAL, Verdict.CAUTION) or bool(conduct)
    if facts is not None and not hard and not facts.self_harm:
        lines = [
            "お疲れさまでした。落ち着いた対応でした。",
            "・約束したことや、あとで回答することがあれば、忘れないうちにメモしてください",
            "・気になることがあれば、上司に一言伝えておくと安心です",
        ]
        if facts.vulnerable:
            lines.append("・福祉の相談先を案内したときは、そのことを記録に残してください")
        return "\n".join(lines)
    lines = [
        "お疲れさまでした。つらい対応だったと思います。",
        "・一人で抱え込まず、今日のうちに上司か同僚に話してください",
        f"・{desk_name}にこの記録を共有してください",
    ]
    if facts is not None and facts.self_harm:
        lines.append("・命に関わる話を受け止めるのは重いことです。あなた一人の責任ではありません")
    if conduct & _HARM_CONDUCT or (facts is not None and (facts.danger or facts.injured)):
        lines.append("・帰り道は一人にならないよう、上司と相談してください（同僚と帰る、時間や経路を変えるなど）")
    if Behavior.SEXUAL in conduct:
        lines.append("・次にこの相手が来たとき（電話のとき）に誰が対応するか、上司と決めておいてください")
    if facts is not None and not facts.ongoing and verdict is Verdict.CRIMINAL:
        lines.append("・警察への相談は #9110 か最寄りの警察署へ。録音・メモ・メールや写真・日時を保存しておいてください")
    lines.append(f"・眠れない、思い出してつらいなどが続くときは{health_name}を利用してください")
    todo = ["上司への報告", "録音・メモの保存"]
    if facts is None or (assessment is not None and assessment.over_time_limit):
        todo.append("必要なら文書での回答")
    lines.append("これからすること：" + "／".join(todo))
    return "\n".join(lines)


_YES_NO_UNKNOWN = ("/affirm", "/deny", "/dont_know")
_CHANNEL_BUTTONS = tuple(
    Button(channel.label, f'/inform{{"channel": "{channel.value}"}}') for channel in SituationChannel
) + (Button("わからない", "/dont_know"),)
_DONT_KNOW = (Button("わからない", "/dont_know"),)


def _choices(*titles: str) -> tuple[Button, ...]:
    return tuple(Button(title, payload) for title, payload in zip(titles, _YES_NO_UNKNOWN))


def _inform(slot: str, choices: tuple[tuple[str, str], ...]) -> tuple[Button, ...]:
    return tuple(Button(title, f'/inform{{"{slot}": "{code}"}}') for title, code in choices) + _DONT_KNOW


# Plain words for the new facts' codes, in the order they are offered.
_BASIS_CHOICES = (
    ("こちらのミス・不備", DemandBasis.OUR_FAULT.value),
    ("業務の中のお願い・問い合わせ", DemandBasis.WITHIN_SERVICE.value),
    ("施策へのご意見", DemandBasis.OPINION.value),
    ("障害などによる配慮のお願い", DemandBasis.REASONABLE_ACCOMMODATION.value),
    ("根拠のない要求", DemandBasis.NO_BASIS.value),
    ("業務と関係ない話", DemandBasis.UNRELATED.value),
    ("決まりを超える要求", DemandBasis.BEYOND_RULES.value),
)
_WARNING_CHOICES = (
    ("まだ伝えていない", WarningLevel.NONE.value),
    ("やめるようお願いした", WarningLevel.ASKED_TO_STOP.value),
    ("続くなら終えると警告した", WarningLevel.WARNED.value),
    ("対応の終了を伝えた", WarningLevel.TOLD_RESPONSE_ENDS.value),
)
_DEPARTURE_CHOICES = (
    ("まだ何もしていない", DepartureStep.NONE.value),
    ("やめるようお願いした", DepartureStep.ASKED_TO_STOP.value),
    ("退去をお願いした", DepartureStep.ORDERED_TO_LEAVE.value),
    ("最終警告をした", DepartureStep.FINAL_WARNING.value),
    ("警察に通報した", DepartureStep.POLICE_CALLED.value),
)


def question(slot: str, ongoing: bool) -> Reply:
    """The fact-finding question for one slot; live cases are asked in the present tense."""
    questions = {
        "ongoing": Reply(
            "いま、まさに対応中ですか？ それとも対応が終わった後ですか？",
            (Button("いま対応中です", "/affirm"), Button("終わった後です", "/deny")),
        ),
        "situation_channel": Reply("どこでのやり取りですか？", _CHANNEL_BUTTONS),
        "elapsed_minutes": Reply(
            ("始まってから、どのくらい経ちましたか？" if ongoing else "どのくらいの時間、続きましたか？")
            + "（例：30分、1時間半）",
            _DONT_KNOW,
        ),
        "demand": Reply("相手の要求を、一言で教えてください。（例：返金、説明、担当の交代）", _DONT_KNOW),
        "our_fault": Reply("こちら（組織）側に、ミスや不備はありましたか？", _choices("あった", "なかった", "わからない")),
        "demand_related": Reply(
            "その要求は、こちらの業務やサービスに関係する内容ですか？", _choices("関係がある", "関係がない", "わからない")
        ),
        "demand_basis": Reply("その要求は、次のどれにいちばん近いですか？", _inform("demand_basis", _BASIS_CHOICES)),
        "behaviors": Reply(
            "相手の言動で当てはまるものを教えてください。（例：怒鳴る、暴言、土下座の要求、居座り、何度も電話）",
            (Button("特にない", "/deny"), Button("わからない", "/dont_know")),
        ),
        "warnings_given": Reply(
            "相手に、やめるようお願いや警告をしましたか？" if ongoing else "そのとき、やめるようお願いや警告をしましたか？",
            _inform("warnings_given", _WARNING_CHOICES),
        ),
        "conduct_continued": Reply(
            "お願いの後も、同じ言動は続いていますか？" if ongoing else "お願いの後も、同じ言動は続きましたか？",
            _choices("続いている" if ongoing else "続いた", "おさまった", "わからない"),
        ),
        "deadlock": Reply(
            "説明した後も、同じ話の繰り返しになっていますか？" if ongoing else "説明した後も、同じ話の繰り返しになっていましたか？",
            _choices("繰り返しになっている", "話は進んでいる", "わからない"),
        ),
        "departure_step": Reply(
            "居座っている相手に、どこまで伝えましたか？", _inform("departure_step", _DEPARTURE_CHOICES)
        ),
        "public": Reply(
            "ほかのお客様がいる場や、ネット上でのことですか？（一対一の電話や窓口なら「一対一」を選んでください）",
            _choices("人前・ネット上", "一対一", "わからない"),
        ),
        "injured": Reply(
            "あなたや周りの職員に、けがをした人はいますか？" if ongoing else "そのとき、けがをした人はいましたか？",
            _choices("けがをした", "けがはない", "わからない"),
        ),
        "money_demanded": Reply(
            "お金や物（返金・弁償・慰謝料など）を求められましたか？",
            _choices("求められた", "求められていない", "わからない"),
        ),
        "vulnerable": Reply(
            "お話の様子から、もの忘れや混乱、寂しさなど、支援が必要そうな様子はありますか？",
            _choices("ありそう", "なさそう", "わからない"),
        ),
        "employee_department": Reply(
            "最後に、記録のため、あなたの所属（課や係）を教えてください。", (Button("答えない", "/dont_know"),)
        ),
        "identified": Reply(
            "相手の氏名や連絡先はわかっていますか？", _choices("わかっている", "わかっていない", "不明")
        ),
        "recorded": Reply("録音やメモなど、記録はとれていますか？", _choices("とれている", "とれていない", "わからない")),
        "alone": Reply(
            "いま、お一人で対応していますか？" if ongoing else "そのとき、お一人で対応していましたか？",
            _choices("一人です", "複数です", "わからない"),
        ),
    }
    return questions[slot]
