"""What to say now, before any question: the advice that fits what the employee reported.

In a live exchange past the organisation's time limit that is the closing script; in any
other live exchange the initial response (thanks, a limited apology, listening); after the
fact, a short word before the record is completed. Some reported moments need their own
words at once, live or not: a demand for a supervisor, being filmed, a customer speaking of
taking their own life (the phrase library's situations).
"""
from __future__ import annotations

import re

from bot import guidance
from bot.codes import Situation, SituationChannel
from bot.conversation import TimeStatus

# The moments the employee reports in their own words that have ready phrases.
_MOMENTS: tuple[tuple[Situation, re.Pattern], ...] = (
    (
        Situation.SUPERVISOR_DEMAND,
        re.compile(r"(?:上司|責任者|上の者|上の人|課長|所長|店長|部長|担当者を変え)(?:を|に|と)?(?:出せ|出して|呼べ|呼んで|代われ|かわれ|代わって|話させ)"),
    ),
    (Situation.FILMING, re.compile(r"撮影|録画|撮ら(?:れ|せ)|撮って(?:い|る)|スマホ(?:を)?向け|動画を?撮|カメラを?向け")),
)


def moments_in(text: str) -> tuple[Situation, ...]:
    """The moments with their own phrases that a typed message reports."""
    return tuple(situation for situation, pattern in _MOMENTS if pattern.search(text or ""))


def advice_now(
    ongoing: bool | None, channel: SituationChannel | None, status: TimeStatus | None, limit_minutes: int
) -> guidance.Reply:
    """`ongoing` None (not known yet) is advised as live: the advice is harmless afterwards."""
    if ongoing is not False and status is not None and status.over:
        return guidance.time_box(channel, limit_minutes, status)
    return guidance.initial_response(channel, ongoing is not False)
