"""Keeping the time-box deadline with the consultation record, so that reminders survive restarts.

ValidateSlotMappings (actions/facts.py) writes these fields with every message: the deadline is
recomputed whenever ``ongoing`` or ``case_started_at`` change, and cleared when the exchange is
not (or no longer) live. bot/timer_service.py reads the open records' deadlines and sends the
reminders through Rasa's HTTP API.
"""
from __future__ import annotations

from typing import Any, Mapping


from actions.services import organization
from bot.timers import deadline_at

# bot/timer_service.py triggers intents; Rasa records them as user messages with this text prefix
# (rasa.shared.constants.EXTERNAL_MESSAGE_PREFIX). They are not the employee's words.
EXTERNAL_MESSAGE_PREFIX = "EXTERNAL: "


def deadline_fields(slots: Mapping[str, Any]) -> dict[str, Any]:
    """The record field ``deadline_at`` as the slots define it now (None clears it)."""
    return {"deadline_at": deadline_at(slots, organization().time_limit_minutes)}


def is_external(message: Mapping[str, Any]) -> bool:
    """A message triggered through the HTTP API (a timer reminder), not typed by the employee."""
    if (message.get("metadata") or {}).get("is_external"):
        return True
    return (message.get("text") or "").startswith(EXTERNAL_MESSAGE_PREFIX)
