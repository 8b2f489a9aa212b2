"""The rehearsal mode (研修モード) in Rasa: a thin adapter over bot/rehearsal/session.py.

rehearsal_form loops on one from_text slot: every trainee message goes to
validate_rehearsal_input, which runs the session and keeps the slot empty (so the form asks
again) until the trainee leaves; the session's state lives in the rehearsal_state slot.
"""
from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any, Dict, List, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions.facts import source_channel
from bot.rehearsal import session
from bot.rehearsal.library import load_library
from bot.settings import database_url, load_phrases, rehearsal_files
from bot.training_records import TrainingStore

logger = logging.getLogger(__name__)
DONE = "done"


@lru_cache(maxsize=1)
def library() -> session.Library:
    scenarios, drills = rehearsal_files()
    return load_library(scenarios, drills, load_phrases())


@lru_cache(maxsize=1)
def training_store() -> TrainingStore:
    return TrainingStore(database_url())


def _send(dispatcher: CollectingDispatcher, messages: List[session.Message]) -> None:
    for message in messages:
        buttons = [{"title": title, "payload": payload} for title, payload in message.buttons]
        dispatcher.utter_message(text=message.text, buttons=buttons or None)


def _save(tracker: Tracker, results: List[dict], dispatcher: CollectingDispatcher) -> None:
    for result in results:
        try:
            training_store().save(result, tracker.sender_id, source_channel(tracker.get_latest_input_channel()).value)
        except (SQLAlchemyError, OSError, ValueError):
            logger.exception("training record not saved")
            dispatcher.utter_message(text="【研修】結果を保存できませんでした。画面の採点結果を控えてください。")


class AskRehearsalInput(Action):
    """Asked by the form each turn: the menu when the mode starts, otherwise nothing (the
    validation already answered)."""

    def name(self) -> Text:
        return "action_ask_rehearsal_input"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if tracker.get_slot("rehearsal_state") is not None:
            return []
        reply = session.begin()
        _send(dispatcher, reply.messages)
        return [SlotSet("rehearsal_state", reply.state)]


class ValidateRehearsalForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_rehearsal_form"

    async def validate_rehearsal_input(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        reply = session.respond(library(), tracker.get_slot("rehearsal_state"), value if isinstance(value, str) else "")
        _send(dispatcher, reply.messages)
        _save(tracker, reply.results, dispatcher)
        if reply.state is None:
            return {"rehearsal_input": DONE, "rehearsal_state": None}
        return {"rehearsal_input": None, "rehearsal_state": reply.state}


class EndRehearsal(Action):
    """After the form: empty the slot so the next 研修モード starts afresh."""

    def name(self) -> Text:
        return "action_end_rehearsal"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        return [SlotSet("rehearsal_input", None), SlotSet("rehearsal_state", None)]
