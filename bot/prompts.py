"""What the dialogue itself asks: confirming the customer's conduct, the grouped conduct question,
and the short second try at a question the employee's answer did not settle.

A prompt is a guidance.Reply (text and buttons, which every channel can show) plus, for the
conduct questions, `Choices`: toggles that Teams (Adaptive Card), Slack (checkboxes), the web
chat and REST clients render. Submitting the toggles sends `selection_payload(codes)`, which
the bot reads as the confirmed conduct; the buttons work on any channel without toggles.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Iterable

from bot.codes import Behavior
from bot.guidance import Button, Reply

CHOICES_NAME = "behaviors"
SUBMIT_TITLE = "この内容で確定"
NONE_PAYLOAD = "/deny"
DONT_KNOW = Button("わからない", "/dont_know")


@dataclass(frozen=True)
class BehaviorGroup:
    code: str
    title: str
    behaviors: tuple[Behavior, ...]


# The 14 codes in four groups an employee can scan quickly.
BEHAVIOR_GROUPS: tuple[BehaviorGroup, ...] = (
    BehaviorGroup(
        "danger", "暴力・脅し・居座り", (Behavior.PHYSICAL_ATTACK, Behavior.THREAT, Behavior.DETENTION)
    ),
    BehaviorGroup(
        "words",
        "暴言・威圧・差別",
        (Behavior.VERBAL_ABUSE, Behavior.INTIMIDATION, Behavior.DISCRIMINATION, Behavior.PERSONAL_ATTACK),
    ),
    BehaviorGroup(
        "demands",
        "無理な要求・謝罪の強要",
        (Behavior.DOGEZA_DEMAND, Behavior.APOLOGY_DEMAND, Behavior.EXCESSIVE_DEMAND, Behavior.AUTHORITY_PRESSURE),
    ),
    BehaviorGroup("other", "しつこさ・ネット・性的な言動", (Behavior.PERSISTENT, Behavior.SNS_EXPOSURE, Behavior.SEXUAL)),
)
GROUPS_BY_CODE = {group.code: group for group in BEHAVIOR_GROUPS}


@dataclass(frozen=True)
class Option:
    code: str
    label: str
    selected: bool


@dataclass(frozen=True)
class OptionGroup:
    title: str
    options: tuple[Option, ...]


@dataclass(frozen=True)
class Choices:
    """Toggles for a set of codes; the channel sends selection_payload(selected codes) on submit."""

    groups: tuple[OptionGroup, ...]
    name: str = CHOICES_NAME
    submit_title: str = SUBMIT_TITLE

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "submit_title": self.submit_title,
            "groups": [
                {
                    "title": group.title,
                    "options": [
                        {"code": o.code, "label": o.label, "selected": o.selected} for o in group.options
                    ],
                }
                for group in self.groups
            ],
        }


@dataclass(frozen=True)
class Prompt:
    reply: Reply
    choices: Choices | None = None


def selection_payload(codes: Iterable[str]) -> str:
    """The message a submitted set of toggles sends: the chosen codes, or 「どれも違う」 when none."""
    chosen = [code for code in dict.fromkeys(codes) if code in Behavior._value2member_map_]
    if not chosen:
        return NONE_PAYLOAD
    return "/inform" + json.dumps({"behavior": chosen}, ensure_ascii=False, separators=(",", ":"))


def _group_options(group: BehaviorGroup, selected: frozenset[Behavior]) -> OptionGroup:
    return OptionGroup(group.title, tuple(Option(b.value, b.label, b in selected) for b in group.behaviors))


def confirm_behaviors(understood: Iterable[Behavior]) -> Prompt:
    """What was understood of the customer's conduct, each item a toggle the employee can correct."""
    understood = list(dict.fromkeys(understood))
    lines = ["相手の言動を、このように受け取りました。違うところがあれば直してください。"]
    lines += [f"・{b.label}" for b in understood]
    selected = frozenset(understood)
    groups = tuple(_group_options(g, selected) for g in BEHAVIOR_GROUPS if selected & set(g.behaviors))
    others = tuple(_group_options(g, selected) for g in BEHAVIOR_GROUPS if not selected & set(g.behaviors))
    return Prompt(
        Reply(
            "\n".join(lines),
            (
                Button("合っています", "/affirm"),
                Button("ほかにもある", '/inform{"behavior_group":"all"}'),
                Button("どれも違う", NONE_PAYLOAD),
            ),
        ),
        Choices(groups + others),
    )


def behavior_question(group_code: str | None = None, selected: Iterable[Behavior] = ()) -> Prompt:
    """The conduct question: the four groups as buttons (then one group's codes), all codes as toggles."""
    selected = frozenset(selected)
    group = GROUPS_BY_CODE.get(group_code or "")
    if group is not None:
        # Each button adds its code to what is already understood (the group marks the addition).
        buttons = tuple(
            Button(b.label, "/inform" + json.dumps({"behavior": [b.value], "behavior_group": group.code}))
            for b in group.behaviors
        )
        return Prompt(
            Reply(f"「{group.title}」のうち、当てはまるものを選んでください。", buttons + (Button("この中にはない", '/inform{"behavior_group":"none"}'),))
        )
    buttons = tuple(Button(g.title, f'/inform{{"behavior_group":"{g.code}"}}') for g in BEHAVIOR_GROUPS)
    return Prompt(
        Reply(
            "相手の言動で当てはまるものを選んでください（いくつでも）。文章で書いていただいても大丈夫です。",
            buttons + (Button("特にない", NONE_PAYLOAD), DONT_KNOW),
        ),
        Choices(tuple(_group_options(g, selected) for g in BEHAVIOR_GROUPS)),
    )


# What each question needs, said briefly when the first answer did not settle it.
NEEDS: dict[str, str] = {
    "ongoing": "いま対応中か、もう終わったかだけ教えてください。",
    "situation_channel": "電話・窓口など、やり取りの場所だけ教えてください。",
    "elapsed_minutes": "おおよその時間を「30分」「1時間半」のように教えてください。",
    "demand": "相手が求めていることを、短く書いてください（なければ「特になし」で大丈夫です）。",
    "our_fault": "こちらにミスや不備があったかどうかだけ、選んでください。",
    "demand_related": "要求がこちらの業務に関係するかどうかだけ、選んでください。",
    "behaviors": "相手の言動に近いものを、ボタンから選んでください。",
    "identified": "相手の名前や連絡先がわかっているかどうかだけ、選んでください。",
    "recorded": "録音やメモがあるかどうかだけ、選んでください。",
    "alone": "お一人で対応しているかどうかだけ、選んでください。",
    "demand_basis": "要求がどんな内容か、いちばん近いものを選んでください。",
    "warnings_given": "やめるようお願いや警告をしたかどうかだけ、選んでください。",
    "conduct_continued": "お願いの後も続いているかどうかだけ、選んでください。",
    "departure_step": "退去について、どこまで伝えたかだけ選んでください。",
    "public": "ほかの人がいる場やネット上でのことかどうかだけ、選んでください。",
    "deadlock": "説明の後も同じ話の繰り返しかどうかだけ、選んでください。",
    "injured": "けがをした人がいるかどうかだけ、選んでください。",
    "money_demanded": "お金や物を求められたかどうかだけ、選んでください。",
    "vulnerable": "支援が必要そうな様子があるかどうかだけ、選んでください。",
    "employee_department": "所属の課や係を、短く書いてください（答えなくても大丈夫です）。",
}
GAVE_UP = "わからないものとして、先に進みます。あとでわかったら、いつでも教えてください。"


def second_try(slot: str, question: Reply) -> Reply:
    """The same question once more, shorter: what is needed, the buttons and 「わからない」."""
    buttons = question.buttons
    if all(button.payload != DONT_KNOW.payload for button in buttons):
        buttons = buttons + (DONT_KNOW,)
    return Reply(NEEDS.get(slot, question.text), buttons)


# --- for the channels: a bot message's toggles, and what a channel that shows them sends back

CHOICES_KEY = "choices"
# The value a channel's 「確定」 control sends; the channel replaces it with selection_payload(...).
SUBMIT_VALUE = "kasuhara_choices:behaviors"


def choices_of(message: dict) -> dict | None:
    """The toggles of a bot message (`custom.data.choices`, as send_prompt puts them), if any."""
    custom = message.get("custom")
    data = custom.get("data") if isinstance(custom, dict) else None
    choices = data.get(CHOICES_KEY) if isinstance(data, dict) else None
    return choices if isinstance(choices, dict) and isinstance(choices.get("groups"), list) else None


def buttons_beside_toggles(buttons: Iterable[dict]) -> list[dict]:
    """The buttons a channel shows next to the toggles: the group buttons only lead to the same
    choices, which the toggles already show."""
    return [b for b in buttons if '"behavior_group"' not in str(b.get("payload", ""))]
