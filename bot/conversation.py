"""The consultation's state between turns: slots in, facts and slot changes out.

Slots hold what the employee has told the bot. A form answer of わからない is
stored as UNKNOWN so that the form moves on; it counts as "not known" in the facts.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from bot import lexicon
from bot.assessment import Facts
from bot.codes import CRIMINAL_CONDUCT, Behavior, SituationChannel
from bot.durations import parse_minutes

UNKNOWN = "unknown"
EMERGENCY_INTENT = "emergency"


def known(value: Any) -> bool | None:
    """A yes/no/わからない answer as True, False or None."""
    return value if isinstance(value, bool) else None


def behaviors_of(slots: Mapping[str, Any]) -> list[Behavior]:
    return [Behavior(code) for code in slots.get("behaviors") or []]


def channel_of(slots: Mapping[str, Any]) -> SituationChannel | None:
    value = slots.get("situation_channel")
    return SituationChannel(value) if value and value != UNKNOWN else None


def elapsed_minutes_now(slots: Mapping[str, Any], now: float) -> int | None:
    """Minutes since the exchange began: live from the start time, else as reported."""
    started = slots.get("case_started_at")
    if slots.get("ongoing") is True and isinstance(started, (int, float)):
        return max(0, int((now - started) // 60))
    reported = slots.get("elapsed_minutes")
    return reported if isinstance(reported, int) and not isinstance(reported, bool) else None


def facts_from_slots(slots: Mapping[str, Any], now: float) -> Facts:
    return Facts(
        behaviors=frozenset(behaviors_of(slots)),
        our_fault=known(slots.get("our_fault")),
        demand_related=known(slots.get("demand_related")),
        channel=channel_of(slots),
        ongoing=slots.get("ongoing") is True,
        elapsed_minutes=elapsed_minutes_now(slots, now),
        refused_to_leave=bool(slots.get("refused_to_leave")),
        danger=bool(slots.get("danger")),
    )


@dataclass(frozen=True)
class TimeStatus:
    elapsed_minutes: int
    limit_minutes: int
    near: bool
    over: bool

    @property
    def remaining_minutes(self) -> int:
        return max(0, self.limit_minutes - self.elapsed_minutes)


def time_status(slots: Mapping[str, Any], now: float, limit: int, warn_before: int) -> TimeStatus | None:
    """Where a live exchange stands against the organisation's limit; None after the fact."""
    if slots.get("ongoing") is not True:
        return None
    elapsed = elapsed_minutes_now(slots, now)
    if elapsed is None:
        return None
    return TimeStatus(
        elapsed_minutes=elapsed,
        limit_minutes=limit,
        near=elapsed >= limit - warn_before,
        over=elapsed >= limit,
    )


def _entity_values(entities: Iterable[Mapping[str, Any]], name: str) -> list[str]:
    return [str(e.get("value")) for e in entities if e.get("entity") == name and e.get("value")]


def _codes(values: Iterable[str], enum: type) -> list:
    found = []
    for value in values:
        try:
            code = enum(value)
        except ValueError:
            continue
        if code not in found:
            found.append(code)
    return found


def slot_changes_from_message(
    slots: Mapping[str, Any],
    text: str,
    intent: str | None,
    entities: Iterable[Mapping[str, Any]],
    now: float,
) -> dict[str, Any]:
    """The slots one employee message changes; unchanged slots are left out.

    Behaviours accumulate over the consultation, the channel is kept once known,
    a newly reported duration restarts the live clock, and danger is raised by an
    emergency or by criminal conduct in a case that is not known to be over.
    """
    entities = list(entities)
    changes: dict[str, Any] = {}

    previous = behaviors_of(slots)
    mentioned = _codes(_entity_values(entities, "behavior"), Behavior)
    combined = previous + [code for code in mentioned if code not in previous]
    if combined != previous:
        changes["behaviors"] = [code.value for code in combined]

    if channel_of(slots) is None:
        channels = _codes(_entity_values(entities, "channel"), SituationChannel)
        if channels:
            changes["situation_channel"] = channels[0].value

    minutes = parse_minutes(text) if text and not text.startswith("/") else None
    if minutes is not None and minutes != slots.get("elapsed_minutes"):
        changes["elapsed_minutes"] = minutes

    ongoing = slots.get("ongoing")
    if intent == EMERGENCY_INTENT and ongoing is None:
        ongoing = changes["ongoing"] = True
    if ongoing is True:
        if "elapsed_minutes" in changes:
            changes["case_started_at"] = now - changes["elapsed_minutes"] * 60
        elif slots.get("case_started_at") is None:
            reported = slots.get("elapsed_minutes")
            changes["case_started_at"] = now - (reported * 60 if isinstance(reported, int) else 0)

    new_danger = intent == EMERGENCY_INTENT or (
        ongoing is not False and any(code in CRIMINAL_CONDUCT for code in mentioned)
    )
    if new_danger and not slots.get("danger"):
        changes["danger"] = True

    if not slots.get("refused_to_leave") and text and lexicon.mentions_refusal_to_leave(text):
        changes["refused_to_leave"] = True
    return changes


def record_fields(slots: Mapping[str, Any], now: float) -> dict[str, Any]:
    """The consultation record's fact fields as the slots hold them now."""
    demand = slots.get("demand")
    return {
        "situation_channel": (channel := channel_of(slots)) and channel.value,
        "ongoing": known(slots.get("ongoing")),
        "elapsed_minutes": elapsed_minutes_now(slots, now),
        "behaviors": [code.value for code in behaviors_of(slots)],
        "demand": demand if demand and demand != UNKNOWN else None,
        "our_fault": known(slots.get("our_fault")),
        "demand_related": known(slots.get("demand_related")),
        "identified": known(slots.get("identified")),
        "recorded": known(slots.get("recorded")),
        "alone": known(slots.get("alone")),
    }

