"""A message the model was unsure of opens the consultation when it plainly describes a case
(CaseFactsIntent); anything else keeps the fallback and its choices."""
from __future__ import annotations

import pytest
from rasa.shared.nlu.training_data.message import Message

from bot.rasa.nlu_components import CaseFactsIntent


def _decided(text: str, intent: str = "nlu_fallback", entities: list | None = None) -> tuple[str, list[str]]:
    ranking = [{"name": intent, "confidence": 0.3}, {"name": "inform", "confidence": 0.3}, {"name": "report_incident", "confidence": 0.28}]
    message = Message(data={"text": text, "intent": ranking[0], "intent_ranking": ranking, "entities": entities or []})
    [message] = CaseFactsIntent(CaseFactsIntent.get_default_config()).process([message])
    return message.get("intent")["name"], [r["name"] for r in message.get("intent_ranking")]


@pytest.mark.parametrize(
    "text",
    [
        "いま電話対応中で、もう60分になります",  # live, phone, minutes
        "窓口で対応中、かれこれ四十分",
        "昨日の電話、２時間続きました",  # over, phone, minutes
    ],
)
def test_an_unsure_message_stating_the_situation_opens_the_consultation(text):
    name, ranking = _decided(text)
    assert name == "report_incident"
    assert ranking[0] == "report_incident" and ranking.count("report_incident") == 1


def test_an_unsure_message_with_the_customers_conduct_opens_the_consultation():
    conduct = [{"entity": "behavior", "value": "intimidation", "start": 0, "end": 3}]
    assert _decided("なんかすごい剣幕で", entities=conduct)[0] == "report_incident"


@pytest.mark.parametrize(
    "text",
    [
        "電話です",  # one fact is an answer, not a case
        "えーと",
        "60分",
    ],
)
def test_an_unsure_message_without_a_case_keeps_the_fallback(text):
    assert _decided(text)[0] == "nlu_fallback"


def test_a_decided_intent_is_left_alone():
    assert _decided("いま電話対応中で、もう60分になります", intent="ask_time_limit")[0] == "ask_time_limit"
