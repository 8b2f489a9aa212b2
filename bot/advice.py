"""What to say now, before any question: the advice that fits what the employee reported.

In a live exchange past the organisation's time limit that is the closing script; in any
other live exchange the initial response (thanks, a limited apology, listening); after the
fact, a short word before the record is completed.
"""
from __future__ import annotations

from bot import guidance
from bot.codes import SituationChannel
from bot.conversation import TimeStatus


def advice_now(
    ongoing: bool | None, channel: SituationChannel | None, status: TimeStatus | None, limit_minutes: int
) -> guidance.Reply:
    """`ongoing` None (not known yet) is advised as live: the advice is harmless afterwards."""
    if ongoing is not False and status is not None and status.over:
        return guidance.time_box(channel, limit_minutes, status)
    return guidance.initial_response(channel, ongoing is not False)
