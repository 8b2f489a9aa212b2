"""Every employee message: pick up the facts it carries and keep the consultation record."""
from __future__ import annotations

import time
from typing import Any, Dict, List, Text

from rasa_sdk import Tracker, ValidationAction
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.services import consultation_store
from actions.timers import deadline_fields, is_external
from bot.codes import REHEARSAL_FORM, REHEARSAL_INTENT, SourceChannel
from bot.conversation import record_fields, slot_changes_from_message

# Messages with these intents open a consultation record; small talk before one does not.
CONSULTATION_INTENTS = frozenset(
    {
        "greet",
        "report_incident",
        "inform",
        "emergency",
        "ask_initial_response",
        "ask_judgement",
        "ask_time_limit",
        "ask_escalation",
    }
)
_INPUT_CHANNEL_NAMES = {"cmdline": SourceChannel.SHELL, "teams": SourceChannel.BOTFRAMEWORK}


def source_channel(input_channel: str | None) -> SourceChannel:
    if input_channel in _INPUT_CHANNEL_NAMES:
        return _INPUT_CHANNEL_NAMES[input_channel]
    try:
        return SourceChannel(input_channel or "")
    except ValueError:
        return SourceChannel.OTHER


def latest_user_event_time(tracker: Tracker) -> float | None:
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return event.get("timestamp")
    return None


class ValidateSlotMappings(ValidationAction):
    """Rasa runs this after every user message (action_validate_slot_mappings)."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        now = time.time()
        message = tracker.latest_message or {}
        if is_external(message):
            return []  # a timer reminder (bot/timer_service.py): no facts, no record, no message
        intent_name = (message.get("intent") or {}).get("name")
        if tracker.active_loop_name == REHEARSAL_FORM or intent_name == REHEARSAL_INTENT:
            return []  # the rehearsal mode: a trainee's practice is not a consultation
        text = message.get("text") or ""
        intent = (message.get("intent") or {}).get("name")
        changes = slot_changes_from_message(tracker.slots, text, intent, message.get("entities") or [], now)
        slots: Dict[Text, Any] = {**tracker.slots, **changes}

        record_id = slots.get("consultation_id")
        if record_id is None and (intent in CONSULTATION_INTENTS or tracker.active_loop_name):
            record_id = consultation_store().start(
                tracker.sender_id, source_channel(tracker.get_latest_input_channel()).value
            )
            changes["consultation_id"] = record_id
        if record_id is not None:
            # Rasa extracts slots a second time when a form activates; store each message once.
            message_at = latest_user_event_time(tracker)
            is_new_message = message_at != slots.get("recorded_message_at")
            if is_new_message:
                changes["recorded_message_at"] = message_at
            consultation_store().record_turn(
                record_id, text if is_new_message else None, **record_fields(slots, now), **deadline_fields(slots)
            )
        return [SlotSet(name, value) for name, value in changes.items()]
