"""Time-box reminders, the pure part: when a live exchange must end and which reminders are due.

A live exchange (slot ``ongoing`` True with ``case_started_at`` set) has a deadline of
``case_started_at + time_limit``. Two reminders belong to it: NEAR at ``deadline - warn_before``
and REACHED at the deadline. bot/timer_service.py sends them; this module only decides.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import Enum
from typing import Any, Iterable, Mapping


class ReminderKind(str, Enum):
    NEAR = "near"
    REACHED = "reached"


# The intent the scheduler triggers through Rasa's HTTP API. It is the employee's own
# 「いつまで対応する？」 intent: its rules (data/rules/questions.yml, with and without the form
# active) run action_time_box, whose reply starts with the elapsed-time notice (near / over the
# limit) and gives the closing wording. Reusing it needs no new intent without NLU examples
# (which `rasa data validate --fail-on-warnings` refuses) and no retraining.
TRIGGER_INTENT = "ask_time_limit"


def deadline_at(slots: Mapping[str, Any], limit_minutes: int) -> datetime | None:
    """When the live exchange the slots describe reaches the limit; None if there is none."""
    started = slots.get("case_started_at")
    if slots.get("ongoing") is not True or isinstance(started, bool) or not isinstance(started, (int, float)):
        return None
    return datetime.fromtimestamp(started, timezone.utc) + timedelta(minutes=limit_minutes)


def reminder_times(deadline: datetime, warn_before: timedelta) -> dict[ReminderKind, datetime]:
    """When each reminder is due. A negative warn_before counts as zero."""
    return {
        ReminderKind.NEAR: deadline - max(warn_before, timedelta(0)),
        ReminderKind.REACHED: deadline,
    }


@dataclass(frozen=True)
class Due:
    """One reminder to act on now: send it, or (when ``send`` is False) only mark it done."""

    kind: ReminderKind
    due_at: datetime
    send: bool
    reason: str = ""


def due_reminders(
    deadline: datetime,
    now: datetime,
    warn_before: timedelta,
    done: Iterable[ReminderKind | str] = (),
    max_late: timedelta | None = None,
) -> list[Due]:
    """The reminders of one deadline that are due at ``now`` and not yet done.

    - Once the deadline has passed, REACHED supersedes a NEAR that was never sent: NEAR is only
      marked done (the employee gets one message, the one that matters).
    - With warn_before 0 the two coincide: only REACHED is sent.
    - A reminder more than ``max_late`` overdue (e.g. the scheduler was down for hours) is marked
      done without being sent: a stale "time is up" helps nobody.
    """
    finished = {ReminderKind(kind) for kind in done}
    times = reminder_times(deadline, warn_before)
    result: list[Due] = []
    reached_due = now >= times[ReminderKind.REACHED]
    for kind in (ReminderKind.NEAR, ReminderKind.REACHED):
        at = times[kind]
        if kind in finished or now < at:
            continue
        if max_late is not None and now - at > max_late:
            result.append(Due(kind, at, send=False, reason="expired"))
        elif kind is ReminderKind.NEAR and reached_due:
            result.append(Due(kind, at, send=False, reason="superseded"))
        else:
            result.append(Due(kind, at, send=True))
    return result


def next_due_at(deadline: datetime, warn_before: timedelta, done: Iterable[ReminderKind | str] = ()) -> datetime | None:
    """The earliest reminder of the deadline that is not done yet (None when both are)."""
    finished = {ReminderKind(kind) for kind in done}
    pending = [at for kind, at in reminder_times(deadline, warn_before).items() if kind not in finished]
    return min(pending) if pending else None
