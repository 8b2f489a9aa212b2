"""Every employee message: pick up the facts it carries and keep the consultation record."""
from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any, Dict, List, Text

from rasa_sdk import Tracker, ValidationAction
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.services import consultation_store, organization
from actions.timers import deadline_fields, is_external
from bot.codes import REHEARSAL_FORM, REHEARSAL_INTENT, SourceChannel
from bot.conversation import UNREADABLE_SLOT, gave_up_on, quoted_words, record_fields, slot_changes_from_message
from bot.prompts import GAVE_UP

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


# Events after which earlier messages belong to another consultation (or none).
_BOUNDARY_EVENTS = frozenset({"restart", "session_started", "reset_slots"})


def consultation_texts(tracker: Tracker) -> List[Text]:
    """What the employee has typed in this consultation (since the last restart), oldest first."""
    texts: List[Text] = []
    for event in reversed(tracker.events):
        if event.get("event") in _BOUNDARY_EVENTS:
            break
        if event.get("event") == "user" and not is_external(event):
            texts.append(event.get("text") or "")
    return texts[::-1]


def unrecorded_messages(tracker: Tracker, recorded_at: float | None) -> List[Dict[Text, Any]]:
    """The employee's messages (user events) the record has not got yet, oldest first: the latest,
    and any earlier one whose turn the action server missed (it was down, or Rasa gave up on it).
    `recorded_at` is the time of the last message recorded; timer reminders are not messages."""
    messages: List[Dict[Text, Any]] = []
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind in _BOUNDARY_EVENTS:
            break
        if kind != "user" or is_external(event):
            continue
        timestamp = event.get("timestamp")
        if messages and recorded_at is not None and (timestamp is None or timestamp <= recorded_at):
            break
        messages.append(event)
    return messages[::-1]


# A conversation's first message sent again after its server died: how far back its lost attempt
# may lie (Rasa frees the dead server's lock after 60 s; the employee retries within minutes).
RETRY_WINDOW_S = 600


def saved_until(tracker: Tracker) -> float | None:
    """A time after which the conversation, as Rasa had saved it when this turn began, holds no
    message of the employee: the latest of the message before this one and the last recorded one
    (`recorded_message_at`; a compact tracker may hold no earlier message); for a first message
    (Rasa saves nothing of a new conversation before its first turn ends), RETRY_WINDOW_S before it.
    A record or message of this conversation written later comes from an attempt at this turn
    whose Rasa server died before saving it; the employee then sent the message again."""
    times = [event.get("timestamp") for event in tracker.events if event.get("event") == "user"]
    latest = times[-1] if times else None
    if latest is None:
        return None
    earlier = [t for t in (*times[:-1], tracker.slots.get("recorded_message_at")) if t is not None and t < latest]
    return max(earlier) if earlier else latest - RETRY_WINDOW_S


class ValidateSlotMappings(ValidationAction):
    """Rasa runs this after every user message (action_validate_slot_mappings).

    Each message is stored once, with the time Rasa received it, and a record is started once per
    opening message: a turn that runs again (Rasa retried it, or gave up waiting while it still ran
    here) changes nothing, and the first turn after an action-server outage also takes in the facts
    and messages of the turns it missed."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        now = time.time()
        message = tracker.latest_message or {}
        if is_external(message):
            return []  # a timer reminder (bot/timer_service.py): no facts, no record, no message
        text = message.get("text") or ""
        intent = (message.get("intent") or {}).get("name")
        if tracker.active_loop_name == REHEARSAL_FORM or intent == REHEARSAL_INTENT:
            return []  # the rehearsal mode: a trainee's practice is not a consultation
        recorded_at = tracker.slots.get("recorded_message_at")
        *missed, latest = unrecorded_messages(tracker, recorded_at) or [{"timestamp": None}]
        # Rasa extracts slots a second time when a form activates: the message may be stored already.
        is_new_message = latest["timestamp"] != recorded_at
        record_id = tracker.slots.get("consultation_id")
        channel = source_channel(tracker.get_latest_input_channel()).value
        limit = organization().time_limit_minutes
        unsaved_after = _utc(saved_until(tracker))
        changes: Dict[Text, Any] = {}
        for event in missed:  # as of when each was sent
            parsed = event.get("parse_data") or {}
            missed_text = parsed.get("text") or event.get("text") or ""
            missed_intent = (parsed.get("intent") or {}).get("name")
            missed_changes = slot_changes_from_message(
                {**tracker.slots, **changes}, missed_text, missed_intent, parsed.get("entities") or [],
                event.get("timestamp") or now, limit_minutes=limit, metadata=event.get("metadata"),
            )
            missed_changes.pop(UNREADABLE_SLOT, None)
            changes.update(missed_changes)
            received_at = _utc(event.get("timestamp"))
            if record_id is None and (missed_intent in CONSULTATION_INTENTS or tracker.active_loop_name):
                record_id = changes["consultation_id"] = consultation_store().start(tracker.sender_id, channel, received_at)
            if record_id is not None:
                consultation_store().add_message(record_id, missed_text, received_at)
                changes["recorded_message_at"] = event.get("timestamp")

        before = {**tracker.slots, **changes}
        latest_changes = slot_changes_from_message(
            before, text, intent, message.get("entities") or [], now, new_message=is_new_message,
            limit_minutes=limit, metadata=message.get("metadata"),
        )
        if latest_changes.get(UNREADABLE_SLOT):  # nothing read, nothing stored (actions/stages.py)
            return [SlotSet(name, value) for name, value in changes.items()] + [SlotSet(UNREADABLE_SLOT, True)]
        if gave_up_on(latest_changes, before):
            dispatcher.utter_message(text=GAVE_UP)
        changes.update(latest_changes)
        if record_id is None and (intent in CONSULTATION_INTENTS or tracker.active_loop_name):
            received_at = _utc(latest["timestamp"])
            record_id = changes["consultation_id"] = consultation_store().start(
                tracker.sender_id, channel, received_at, unsaved_after=unsaved_after
            )
        if record_id is not None:
            if is_new_message:
                changes["recorded_message_at"] = latest["timestamp"]
            slots = {**tracker.slots, **changes}
            consultation_store().record_turn(
                record_id,
                text if is_new_message else None,
                sent_at=_utc(latest["timestamp"]),
                unsaved_after=unsaved_after,
                add_exact_words=quoted_words(consultation_texts(tracker)),
                **record_fields(slots, now),
                **deadline_fields(slots),
            )
        return [SlotSet(name, value) for name, value in changes.items()]


def _utc(timestamp: float | None) -> datetime | None:
    return datetime.fromtimestamp(timestamp, timezone.utc) if timestamp is not None else None
