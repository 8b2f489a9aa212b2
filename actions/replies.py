"""Sending domain replies through the Rasa dispatcher."""
from __future__ import annotations

import time
from typing import Any, Mapping

from rasa_sdk.executor import CollectingDispatcher

from actions.services import organization
from bot import guidance
from bot.conversation import time_status


def send(dispatcher: CollectingDispatcher, reply: guidance.Reply) -> None:
    dispatcher.utter_message(text=reply.text, buttons=[b.to_dict() for b in reply.buttons] or None)


def send_time_notice(dispatcher: CollectingDispatcher, slots: Mapping[str, Any]) -> None:
    """Once a live exchange nears the organisation's limit, every turn shows the elapsed time."""
    settings = organization()
    status = time_status(slots, time.time(), settings.time_limit_minutes, settings.warn_before_minutes)
    if status is not None and status.near:
        dispatcher.utter_message(text=guidance.time_notice(status))
