"""The form's questions (action_ask_<slot>): asked from bot/guidance, with the elapsed time near the limit."""
from __future__ import annotations

from typing import List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.replies import send, send_time_notice
from bot import guidance

FORM_SLOTS = (
    "ongoing",
    "situation_channel",
    "elapsed_minutes",
    "demand",
    "our_fault",
    "demand_related",
    "behaviors",
    "identified",
    "recorded",
    "alone",
)


def ask_action(slot: Text) -> type[Action]:
    class AskForSlot(Action):
        def name(self) -> Text:
            return f"action_ask_{slot}"

        def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
            send_time_notice(dispatcher, tracker.slots)
            send(dispatcher, guidance.question(slot, ongoing=tracker.get_slot("ongoing") is True))
            return []

    return AskForSlot


ASK_ACTIONS = [ask_action(slot) for slot in FORM_SLOTS]
