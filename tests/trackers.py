"""Tracker fixtures for the custom-action tests: the state Rasa would send to the action server."""
from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker

SLOT_NAMES = (
    "ongoing situation_channel elapsed_minutes demand our_fault demand_related behaviors identified "
    "recorded alone danger refused_to_leave consultation_id last_consultation_id case_started_at stage "
    "verdict initial_response_given safety_given recorded_message_at requested_slot suggested_behaviors behavior_group "
    "question_misses asked time_notice_shown details_asked demand_basis warnings_given conduct_continued "
    "departure_step self_harm moments_advised unreadable_payload rehearsal_input rehearsal_state "
    "deadlock public money_demanded injured property_damaged vulnerable employee_department record_notes"
).split()


def entity(name: str, value: str) -> dict[str, Any]:
    return {"entity": name, "value": value, "extractor": "DIETClassifier"}


def make_tracker(
    text: str = "",
    intent: str | None = None,
    entities: list[dict[str, Any]] | None = None,
    slots: dict[str, Any] | None = None,
    active_loop: str | None = None,
    sender_id: str = "employee-1",
    input_channel: str = "rest",
    set_this_turn: tuple[str, ...] = (),
) -> Tracker:
    """`set_this_turn` names slots that Rasa's slot extraction set from this message."""
    all_slots = {name: None for name in SLOT_NAMES}
    all_slots.update(slots or {})
    latest_message = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.99} if intent else {},
        "entities": entities or [],
    }
    events = [{"event": "user", "timestamp": 1700000000.0, "text": text, "parse_data": latest_message,
               "input_channel": input_channel}]
    events += [{"event": "slot", "name": name, "value": all_slots[name]} for name in set_this_turn]
    return Tracker(
        sender_id=sender_id,
        slots=all_slots,
        latest_message=latest_message,
        events=events,
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )
