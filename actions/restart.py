"""Start over: a new consultation on the next message; the old record stays open as abandoned."""
from __future__ import annotations

from typing import List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, Restarted
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.stages import unreadable


class ActionRestart(Action):
    def name(self) -> Text:
        return "action_restart"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if unreadable(dispatcher, tracker):  # an unknown button never wipes the consultation
            return []
        dispatcher.utter_message(text="最初からやり直します。いまの状況を教えてください。")
        return [Restarted()]
