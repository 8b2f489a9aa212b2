"""Conversation scripts for the REST load: what an employee sends, turn by turn.

Each script follows the consultation form of domain.yml (ongoing, situation_channel,
elapsed_minutes, demand, our_fault, demand_related, behaviors, identified, recorded, alone)
and then asks for the time limit and escalation and closes the record, the way the stories in
tests/stories go. Button answers are sent as the payloads the bot's buttons carry (/affirm,
/inform{"channel": "counter"}, …); free text goes through the NLU pipeline.

None of these texts is taken from tests/nlu_holdout.yml or data/ (the hold-out set is for
evaluation only and is used only by the /model/parse measurement).
"""
from __future__ import annotations

import itertools
import json
from typing import Iterator, List, Tuple

# (kind, message): kind "text" goes through NLU, "button" is a /intent payload.
Turn = Tuple[str, str]

FIRST_MESSAGES = [
    "市役所の窓口で中年の男性に30分以上怒鳴られています。机を叩いて、責任者を出せと言っています",
    "電話でもう1時間近く同じ話を繰り返されていて、切らせてもらえません",
    "お客様から土下座して謝れと言われました。レジの前で大声を出されています",
    "昨日の夕方、訪問先で2時間帰してもらえませんでした。今思い出しても怖いです",
    "メールで毎日のように担当を代えろ、お前はクビだという内容が届きます",
    "窓口で書類を投げつけられて、SNSに晒してやると言われました",
    "コールセンターで慰謝料を払えと言われ続けています。通話は45分を超えました",
    "受付で男性が居座っていて、念書を書くまで帰らないと言っています",
    "相談させてください。さっき電話で殺すぞと言われました",
    "カウンター越しに身を乗り出して詰め寄られています。もう20分くらいです",
    "同じ人から手紙が何通も届いていて、担当者の住所を調べたと書いてありました",
    "お疲れさまです、いま窓口で対応中の件で相談したいです",
]
ELAPSED = ["40分くらいです", "1時間半", "だいたい2時間", "20分ほど", "もう3時間近く", "15分"]
DEMANDS = [
    "土下座して謝れと言っています",
    "慰謝料として10万円払えと",
    "担当者をクビにしろという要求です",
    "規定外の返金をしろと言われています",
    "上司を連れて家まで謝りに来いと",
    "謝罪文を書けと言っています",
]
CHANNELS = ["counter", "phone", "visit", "email"]


def script(index: int) -> List[Turn]:
    """The index-th conversation: a first message, the form's answers, two questions, /finish."""
    yes_no = ["/affirm", "/deny"]
    pick = lambda seq, k=0: seq[(index + k) % len(seq)]  # noqa: E731
    return [
        ("text", pick(FIRST_MESSAGES)),
        ("button", pick(yes_no)),  # ongoing
        ("button", "/inform" + json.dumps({"channel": pick(CHANNELS)}, separators=(", ", ": "))),
        ("text", pick(ELAPSED)),  # elapsed_minutes
        ("text", pick(DEMANDS)),  # demand
        ("button", pick(yes_no, 1)),  # our_fault
        ("button", pick(yes_no)),  # demand_related
        ("button", "/deny" if index % 3 else "/dont_know"),  # behaviors: nothing more
        ("button", pick(yes_no, 1)),  # identified
        ("button", "/affirm"),  # recorded
        ("button", pick(yes_no)),  # alone
        ("button", "/ask_time_limit"),
        ("button", "/ask_escalation"),
        ("button", "/finish"),
    ]


def conversations(prefix: str) -> Iterator[Tuple[str, List[Turn]]]:
    """Endless (sender id, script) pairs; callers bound them by count and time."""
    for index in itertools.count():
        yield f"{prefix}-{index:05d}", script(index)


# After the form: what an employee keeps adding in a consultation that goes on and on (new facts,
# the same questions again), never /finish or /restart, so that the tracker keeps growing.
FOLLOW_UPS: List[Turn] = [
    ("text", "また大きな声を出し始めました"),
    ("button", "/ask_time_limit"),
    ("text", "今度は机を何度も叩いています"),
    ("text", "この後どう対応すればいいでしょうか"),
    ("button", "/ask_judgement"),
    ("text", "同じ説明をもう三回しました"),
    ("button", "/ask_escalation"),
    ("text", "録音していることは伝えました"),
    ("button", "/ask_initial_response"),
    ("text", "上司がもうすぐ来てくれるそうです"),
]


def long_script(turns: int) -> Iterator[Turn]:
    """`turns` turns of one consultation: script(0) without its /finish, then FOLLOW_UPS in a cycle."""
    opening = script(0)[:-1]
    follow_ups = itertools.cycle(FOLLOW_UPS)
    for number in range(turns):
        yield opening[number] if number < len(opening) else next(follow_ups)
