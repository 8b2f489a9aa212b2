"""Danger now or told afterwards (bot/urgency.py) and the intent it decides (LiveDangerIntent)."""
from __future__ import annotations

import pytest
from rasa.shared.nlu.training_data.message import Message

from bot.rasa.nlu_components import LiveDangerIntent
from bot.urgency import danger_is_now

# (message, danger now?) — hand-written, none from the hold-outs
CASES = [
    ("カウンターの向こうで男性が包丁を握ってます", True),
    ("いま殴られた、助けて", True),
    ("「火をつけてやる」とライターを出してきた！", True),
    ("面談室のドアの前に立ちはだかられて、出してもらえません、どうしよう", True),
    ("まだ窓口にいます、さっき灰皿を投げつけられました", True),
    ("電話で「今夜お前の家に行って刺す」と言われました", True),
    ("裏口の扉を外から閉められて、倉庫から出られません", True),
    ("先月、シャッターを閉められて店から出られない状態にされた件を報告します", False),
    ("先週、訪問先で刃物を見せられた件で相談です", False),
    ("昨日の窓口で殴られたことを記録したいです", False),
    ("叩かれたけど、今は相手も帰って落ち着いてます", False),
    ("ボールペンを投げつけられました、手に当たりました", None),  # the tense does not tell
    ("窓口で大声を出されています", None),  # no explicit danger
    ("もし包丁を出されたらどうすればいいですか", None),  # a hypothetical is no danger
]


@pytest.mark.parametrize("text, now", CASES)
def test_danger_is_now(text, now):
    assert danger_is_now(text) is now


def _intent_after(text: str, intent: str, confidence: float = 0.9) -> tuple[str, float, list[str]]:
    ranking = [{"name": intent, "confidence": confidence}, {"name": "emergency", "confidence": 0.05}]
    message = Message(data={"text": text, "intent": {"name": intent, "confidence": confidence}, "intent_ranking": ranking})
    [message] = LiveDangerIntent(LiveDangerIntent.get_default_config()).process([message])
    result = message.get("intent")
    return result["name"], result["confidence"], [r["name"] for r in message.get("intent_ranking")]


def test_danger_now_becomes_an_emergency_first_in_the_ranking():
    name, confidence, ranking = _intent_after("カウンターの向こうで男性が包丁を握ってます", "report_incident")
    assert (name, confidence) == ("emergency", 1.0)
    assert ranking == ["emergency", "report_incident"]


def test_a_question_mid_danger_is_an_emergency():
    assert _intent_after("110番したほうがいい？ナイフ見せられてる", "ask_escalation")[0] == "emergency"


def test_danger_told_afterwards_is_a_report():
    assert _intent_after("先週、訪問先で刃物を見せられた件で相談です", "emergency")[0] == "report_incident"


@pytest.mark.parametrize(
    "text, intent",
    [
        ("ボールペンを投げつけられました、手に当たりました", "report_incident"),  # tense unclear: the model's
        ("窓口で大声を出されています", "report_incident"),  # no danger cue
        ("カウンターの向こうで男性が包丁を握ってます", "restart"),  # a navigation intent is never taken over
        ("いまも怖いです", "express_distress"),
    ],
)
def test_the_model_intent_stands(text, intent):
    assert _intent_after(text, intent)[0] == intent
