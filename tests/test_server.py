"""bot/rasa/server.py: action-reply validation and model loading as Rasa does them, only cheaper."""
from __future__ import annotations

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

from bot.rasa import server

VALID_REPLIES = [
    {},
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "channel", "value": "phone"}], "responses": [{"text": "はい"}]},
    {"events": [{"event": "active_loop", "name": None}], "responses": [{"response": "utter_ask", "buttons": []}]},
]
INVALID_REPLIES = [
    {"events": "slot"},
    {"events": [{"name": "channel"}]},
    {"events": [{"event": "slot", "name": "channel", "value": "phone"}], "responses": "はい"},
    {"events": [{"event": 3}]},
]


@pytest.fixture
def rasa_validation():
    """Rasa's own validation, and the server's, on the same RemoteAction (restored afterwards)."""
    action = RemoteAction("action_test", None)
    original = RemoteAction._validate_action_result
    server.validate_action_replies_with_one_validator()
    try:
        yield (lambda reply: original(action, reply)), (lambda reply: action._validate_action_result(reply))
    finally:
        RemoteAction._validate_action_result = original


@pytest.mark.parametrize("reply", VALID_REPLIES)
def test_valid_replies_pass_as_with_rasa(rasa_validation, reply):
    rasa_validate, ours = rasa_validation
    assert rasa_validate(reply) is True
    assert ours(reply) is True


@pytest.mark.parametrize("reply", INVALID_REPLIES)
def test_invalid_replies_fail_with_rasas_error(rasa_validation, reply):
    rasa_validate, ours = rasa_validation
    with pytest.raises(ValidationError) as expected:
        rasa_validate(reply)
    with pytest.raises(ValidationError) as got:
        ours(reply)
    assert got.value.message == expected.value.message
    assert list(got.value.path) == list(expected.value.path)
    assert "Failed to validate Action server response" in got.value.message


# --- DIET/TED loaded straight into their prediction graph predict exactly as Rasa's loading does

TEXTS = [
    "窓口で１時間以上怒鳴られています",
    "電話で「土下座しろ」と言われ、もう三十分になります",
    "はい",
    "わからない",
    "上司に代わってもらっていいですか",
    "市長を出せ、ネットにさらすぞと言われた。担当者の名前も聞かれています",
]


def _nlu_and_policy_outputs(agent, texts):
    import asyncio

    from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    async def parse_all():
        return [await agent.parse_message(text) for text in texts]

    outputs = []
    for text, parsed in zip(texts, asyncio.run(parse_all())):
        tracker = DialogueStateTracker.from_events(
            "employee-1",
            [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen"),
             UserUttered(text, parsed["intent"], parsed["entities"], parse_data=parsed)],
            slots=agent.domain.slots,
        )
        prediction = agent.processor._predict_next_with_tracker(tracker)
        entities = sorted((e["entity"], str(e.get("value")), e["start"], e["end"]) for e in parsed["entities"])
        outputs.append((parsed["intent"], entities, prediction.policy_name, prediction.probabilities))
    return outputs


def test_models_loaded_for_prediction_predict_exactly_as_rasa_loads_them():
    from rasa.core.agent import Agent
    from rasa.utils.tensorflow.models import RasaModel

    from bot.nlu_evaluation import newest_model

    model = newest_model("models")
    if model is None:
        pytest.fail("no trained model in models/: run make train", pytrace=False)
    as_rasa_loads = _nlu_and_policy_outputs(Agent.load(model), TEXTS)

    load_by_training_one_step = RasaModel.load
    server.load_tensorflow_models_for_prediction()
    try:
        assert RasaModel.load.__func__ is not load_by_training_one_step.__func__
        as_the_server_loads = _nlu_and_policy_outputs(Agent.load(model), TEXTS)
    finally:
        RasaModel.load = load_by_training_one_step

    for (intent_a, entities_a, policy_a, probs_a), (intent_b, entities_b, policy_b, probs_b) in zip(
        as_rasa_loads, as_the_server_loads
    ):
        assert intent_b["name"] == intent_a["name"]
        assert intent_b["confidence"] == pytest.approx(intent_a["confidence"], abs=1e-6)
        assert entities_b == entities_a
        assert policy_b == policy_a
        assert probs_b == pytest.approx(probs_a, abs=1e-6)


def test_event_types_resolve_from_the_table_as_rasa_resolves_them():
    from rasa.shared.core.events import Event, SlotSet, UserUttered
    from rasa.shared.utils.common import all_subclasses

    walking = Event.resolve_by_type
    server.resolve_event_types_from_a_table()
    try:
        for cls in all_subclasses(Event):
            assert Event.resolve_by_type(cls.type_name) is walking(cls.type_name)
        assert Event.resolve_by_type("topic") is None
        assert Event.resolve_by_type("no_such_event", SlotSet) is SlotSet
        with pytest.raises(ValueError, match="Unknown event name"):
            Event.resolve_by_type("no_such_event")

        class LaterEvent(UserUttered):  # imported after the table was built
            type_name = "later_event_for_this_test"

        assert Event.resolve_by_type("later_event_for_this_test") is LaterEvent
        read = Event.from_parameters({"event": "user", "text": "こんにちは", "parse_data": {"intent": {"name": "greet"}}})
        assert isinstance(read, UserUttered) and read.intent_name == "greet"
    finally:
        Event.resolve_by_type = staticmethod(walking)
