"""What the assistant says at each stage: short, calm Japanese for a stressed employee.

Content follows the public guidance in the domain brief (MHLW manual, Tokyo common
manual, lawyer's hard-claim course, 消費者庁/札幌市 time limits). Pure functions:
facts in, a Reply out.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from bot.assessment import Assessment
from bot.codes import Behavior, Escalation, SituationChannel, Verdict
from bot.conversation import TimeStatus
from bot.settings import OrganizationSettings

REMOTE_CHANNELS = {SituationChannel.EMAIL, SituationChannel.SNS, SituationChannel.LETTER}


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


NEXT_STEP_BUTTONS = (
    Button("時間の区切り方", "/ask_time_limit"),
    Button("誰に連絡するか", "/ask_escalation"),
    Button("相談を終える", "/finish"),
)


def safety_first(channel: SituationChannel | None) -> Reply:
    if channel == SituationChannel.PHONE:
        steps = (
            "・危害を加えると言われたら、その言葉をそのままメモしてください",
            "・周りの職員に合図し、上司にすぐ知らせてください",
            "・差し迫った危険があれば、電話を切って110番してください",
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


_PHRASES: dict[SituationChannel | None, tuple[str, ...]] = {
    SituationChannel.PHONE: (
        "「お電話ありがとうございます。ご不便をおかけしている点は申し訳ございません。」",
        "「確認のため、お名前とご連絡先を伺ってもよろしいでしょうか。」",
        "「〇〇ということでよろしいでしょうか。念のため復唱いたします。」",
    ),
    SituationChannel.COUNTER: (
        "「お申し出いただき、ありがとうございます。」",
        "「お待たせしてご不快な思いをおかけしたことは、申し訳ございません。」",
        "「〇〇ということでよろしいでしょうか。確認のため復唱いたします。」",
    ),
    SituationChannel.VISIT: (
        "「お時間をいただき、ありがとうございます。」",
        "「ご心配をおかけしている点は申し訳ございません。」",
        "「本日は〇〇について伺いました。△時までとさせていただきます。」",
    ),
    None: (
        "「ご意見をいただき、ありがとうございます。」",
        "「ご不便をおかけしたことは、申し訳ございません。」",
        "「〇〇ということでよろしいでしょうか。確認のため復唱いたします。」",
    ),
}

_CHANNEL_TIPS: dict[SituationChannel, str] = {
    SituationChannel.PHONE: "録音する場合は「対応品質向上のため録音しています」と伝えてください。",
    SituationChannel.COUNTER: "できればもう一人に同席してもらい、一人は話す役、一人は記録役にしてください。",
    SituationChannel.VISIT: "訪問は一人で行かず、出口に近い席に座ってください。",
}


def initial_response(channel: SituationChannel | None, ongoing: bool) -> Reply:
    if not ongoing:
        return Reply("お疲れさまでした。記録に残すため、いくつか確認させてください。")
    if channel in REMOTE_CHANNELS:
        return Reply(
            "文書やメッセージには、すぐに返信しなくて大丈夫です。\n"
            "・原文はそのまま保存してください（スクリーンショットも）\n"
            "・個人として返信せず、上司と相談のうえ組織として回答してください\n"
            "・回答では、お礼と、ご不便へのお詫びにとどめ、約束はしないでください"
        )
    phrases = _PHRASES.get(channel, _PHRASES[None])
    lines = [
        "落ち着いて、次の順で対応しましょう。",
        "1. お礼を伝える",
        "2. ご不便やご不快な気持ちに限ってお詫びする（非を認める謝罪ではありません）",
        "3. 最後まで聞き、要求を復唱して確かめる",
        "言わないこと：できない約束／「検討します」などのあいまいな返事／反論",
        "言い方の例：",
        *phrases,
    ]
    if channel in _CHANNEL_TIPS:
        lines.append(_CHANNEL_TIPS[channel])
    return Reply("\n".join(lines))


def demand_echo(demand: str) -> str:
    return f"要求は「{demand}」ですね。相手にもこの言葉で復唱して確かめてください。"


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


def judgement(assessment: Assessment) -> Reply:
    lines = [f"判断の目安：{assessment.verdict.label}"]
    lines += [f"・{reason}" for reason in assessment.reasons]
    if assessment.types:
        lines.append("類型：" + "、".join(t.label for t in assessment.types))
    lines.append("おすすめの対応：")
    lines += [f"・{step}" for step in assessment.steps]
    lines.append("※最終的な判断は組織で行います。あなたが悪いわけではありません。"
                 if assessment.verdict in (Verdict.HARASSMENT, Verdict.CRIMINAL)
                 else "※最終的な判断は組織で行います。")
    return Reply("\n".join(lines), NEXT_STEP_BUTTONS)


def time_box(channel: SituationChannel | None, limit_minutes: int, status: TimeStatus | None) -> Reply:
    lines = [
        f"1回の対応は{limit_minutes}分を目安に区切ります。同じ話の繰り返しになったら、終える準備をしてください。",
        "終えるときは、現場の上司と相談して決めてください。",
    ]
    if status is not None:
        lines.insert(0, time_notice(status))
    lines.append("伝え方の例（順に）：")
    lines.append("1. 終了の予告「これ以上お話を伺っても、お答えは変わりません。本日はここまでとさせていただきます。」")
    lines.append("2. 中止のお願い（2〜3回）「大きな声（そのような言葉）はおやめください。続く場合は対応を終了します。」")
    if channel == SituationChannel.PHONE:
        lines.append("3. 終話「同じお話の繰り返しになっていますので、これで失礼いたします。」と伝えて電話を切ります。")
        lines.append("次にかかってきたときは、最初に「お話しできるのは〇分までです」と伝えてください。")
    elif channel in REMOTE_CHANNELS:
        lines = [
            "文書やメッセージには時間の区切りはありませんが、やり取りを続ける必要もありません。",
            "同じ要求が続くときは、組織として一度だけ文書で回答し、「これ以上のやり取りは控えます」と伝えてください。",
        ]
    else:
        lines.append("3. 退去のお願い（2〜3回）「施設の管理者として、お引き取りをお願いします。」")
        lines.append("4. 最終警告「お引き取りいただけない場合は、警察に通報します。」")
        lines.append("それでも帰らないときは110番してください（不退去罪にあたるおそれがあります）。")
    return Reply("\n".join(lines), NEXT_STEP_BUTTONS[1:])


_WHAT_TO_TELL = "伝えること：いつ・どこで・相手は誰か・要求の内容・相手の言動（言葉どおり）・いまの状況"
_POLICE_ASKS = "警察に聞かれること：場所（住所）、何が起きているか、相手の人数と特徴、凶器の有無、けが人の有無、あなたの名前と連絡先"


def escalation(assessment: Assessment | None, settings: OrganizationSettings) -> Reply:
    codes = list(assessment.escalations) if assessment else [Escalation.SUPERVISOR]
    if Escalation.SUPERVISOR not in codes:
        codes.insert(0, Escalation.SUPERVISOR)
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


def _contact_line(code: Escalation, settings: OrganizationSettings) -> str:
    if code == Escalation.POLICE_110:
        return "警察 110番（いま危険がある、暴力・凶器・退去しないとき）"
    if code == Escalation.POLICE_9110:
        return "警察相談専用電話 #9110（緊急ではないが、警察に相談したいとき）"
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


def aftercare(settings: OrganizationSettings) -> str:
    health = settings.contact(Escalation.OCCUPATIONAL_HEALTH)
    desk = settings.contact(Escalation.CONSULTATION_DESK)
    lines = [
        "お疲れさまでした。つらい対応だったと思います。",
        "・一人で抱え込まず、今日のうちに上司か同僚に話してください",
        f"・{desk.name if desk else 'カスハラ相談窓口'}にこの記録を共有してください",
        "・眠れない、思い出してつらいなどが続くときは"
        + (f"{health.name}（{health.phone}）" if health else "産業医や健康相談")
        + "を利用してください",
        "これからすること：上司への報告／録音・メモの保存／必要なら文書での回答",
    ]
    return "\n".join(lines)


_YES_NO_UNKNOWN = ("/affirm", "/deny", "/dont_know")
_CHANNEL_BUTTONS = tuple(
    Button(channel.label, f'/inform{{"channel": "{channel.value}"}}') for channel in SituationChannel
) + (Button("わからない", "/dont_know"),)
_DONT_KNOW = (Button("わからない", "/dont_know"),)


def _choices(*titles: str) -> tuple[Button, ...]:
    return tuple(Button(title, payload) for title, payload in zip(titles, _YES_NO_UNKNOWN))


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
        "demand": Reply("相手の要求を、一言で教えてください。（例：「謝罪しろ」「返金しろ」「上司を出せ」）", _DONT_KNOW),
        "our_fault": Reply("こちら（組織）側に、ミスや不備はありましたか？", _choices("あった", "なかった", "わからない")),
        "demand_related": Reply(
            "その要求は、こちらの業務やサービスに関係する内容ですか？", _choices("関係がある", "関係がない", "わからない")
        ),
        "behaviors": Reply(
            "相手の言動で当てはまるものを教えてください。（例：怒鳴る、暴言、土下座の要求、居座り、何度も電話）",
            (Button("特にない", "/deny"), Button("わからない", "/dont_know")),
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
