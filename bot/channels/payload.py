"""The machine-readable state sent with every reply: `custom.kasuhara` in the REST answer.

Integrators (a web front end, a case-management system) read codes, never Japanese
labels: the stage and verdict codes of bot/codes.py, the minutes since the exchange
began and whether the organisation's time limit is passed.
"""
from __future__ import annotations

from typing import Any, Mapping, Optional

from bot.codes import Stage, Verdict
from bot.conversation import (
    behaviors_confirmed,
    elapsed_minutes_now,
    time_status,
    understood_behaviors,
    understood_facts,
)
from bot.settings import OrganizationSettings

PAYLOAD_KEY = "kasuhara"


def _code(value: Any, enum: type) -> Optional[str]:
    """The code a slot holds, or None when it holds nothing (or something that is not a code)."""
    if not isinstance(value, str):
        return None
    try:
        return enum(value).value
    except ValueError:
        return None


def reply_metadata(slots: Mapping[str, Any], now: float, settings: OrganizationSettings) -> dict:
    """The consultation's state as codes, for one reply.

    - stage / verdict: a code of bot.codes.Stage / Verdict, or None before there is one
    - elapsed_minutes: minutes since the exchange began (live while it goes on, else as
      reported), None when not known
    - over_time_limit: a live exchange has reached the organisation's limit (False after the fact)
    - time_limit_minutes: the organisation's limit (organization.yml)
    - asking: the fact the bot is asking for (a slot code such as `our_fault`), None when none
    - understood: what the bot holds so far: `behaviors` (codes), `behaviors_confirmed` (the
      employee confirmed them) and `facts` (only the facts known, as codes, booleans, minutes)
    """
    status = time_status(slots, now, settings.time_limit_minutes, settings.warn_before_minutes)
    return {
        "stage": _code(slots.get("stage"), Stage),
        "verdict": _code(slots.get("verdict"), Verdict),
        "elapsed_minutes": elapsed_minutes_now(slots, now),
        "over_time_limit": bool(status and status.over),
        "time_limit_minutes": settings.time_limit_minutes,
        "asking": slots.get("requested_slot") if isinstance(slots.get("requested_slot"), str) else None,
        "understood": {
            "behaviors": [code.value for code in understood_behaviors(slots)],
            "behaviors_confirmed": behaviors_confirmed(slots),
            "facts": understood_facts(slots),
        },
    }


def with_metadata(reply: dict, metadata: Mapping[str, Any]) -> dict:
    """A copy of one reply with `custom.kasuhara` added; a custom payload already there is kept."""
    merged = dict(reply)
    custom = merged.get("custom")
    if custom is None:
        merged["custom"] = {PAYLOAD_KEY: dict(metadata)}
    elif isinstance(custom, dict):
        merged["custom"] = {**custom, PAYLOAD_KEY: dict(metadata)}
    # A custom payload that is not an object (domain responses cannot produce one) is left as is.
    return merged
