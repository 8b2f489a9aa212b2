"""Keeping the time-box deadline with the consultation record, so that reminders survive restarts.

ValidateSlotMappings (actions/facts.py) writes these fields with every message: the deadline is
recomputed whenever ``ongoing`` or ``case_started_at`` change, and cleared when the exchange is
not (or no longer) live. bot/timer_service.py reads the open records' deadlines and sends the
reminders through Rasa's HTTP API.
"""
from __future__ import annotations

from typing import Any, Mapping

from actions.services import organization
from bot.text_input import EXTERNAL_MESSAGE_PREFIX
from bot.timers import deadline_at


def deadline_fields(slots: Mapping[str, Any]) -> dict[str, Any]:
    """The record field ``deadline_at`` as the slots define it now (None clears it)."""
    return {"deadline_at": deadline_at(slots, organization().time_limit_minutes)}


def is_external(message: Mapping[str, Any]) -> bool:
    """A message triggered through the HTTP API (a timer reminder, bot/timer_service.py): Rasa records
    it as a user message with the EXTERNAL prefix. The channels strip that prefix and `is_external`
    from what clients send (bot/text_input.py), so only Rasa itself can mark a message so."""
    if (message.get("metadata") or {}).get("is_external"):
        return True
    return (message.get("text") or "").startswith(EXTERNAL_MESSAGE_PREFIX)
