"""Sending domain replies through the Rasa dispatcher."""
from __future__ import annotations

import time
from typing import Any, Dict, Mapping

from rasa_sdk.executor import CollectingDispatcher

from actions.services import organization
from bot import guidance
from bot.assessment import Assessment
from bot.codes import TimeThreshold
from bot.conversation import channel_of, time_status
from bot.prompts import Prompt

# The time notice is shown once per threshold: when the limit nears, and when it is reached.
TIME_NOTICE_SLOT = "time_notice_shown"


def send(dispatcher: CollectingDispatcher, reply: guidance.Reply) -> None:
    dispatcher.utter_message(text=reply.text, buttons=[b.to_dict() for b in reply.buttons] or None)


def judgement_reply(assessment: Assessment, slots: Mapping[str, Any]) -> guidance.Reply:
    return guidance.judgement(assessment, channel_of(slots), ongoing=slots.get("ongoing") is True)


def send_prompt(dispatcher: CollectingDispatcher, prompt: Prompt) -> None:
    """A reply with toggles: the choices travel as a custom payload under `data` (the key Rasa's
    socket.io channel emits; bot/channels render them for Teams, Slack and REST clients)."""
    reply = prompt.reply
    custom = {"data": {"choices": prompt.choices.to_dict()}} if prompt.choices else None
    dispatcher.utter_message(
        text=reply.text, buttons=[b.to_dict() for b in reply.buttons] or None, json_message=custom
    )


def send_time_notice(dispatcher: CollectingDispatcher, slots: Mapping[str, Any]) -> Dict[str, Any]:
    """The elapsed time of a live exchange, once when the limit nears and once when it is reached.
    Returns the slot change that remembers it."""
    settings = organization()
    status = time_status(slots, time.time(), settings.time_limit_minutes, settings.warn_before_minutes)
    shown = slots.get(TIME_NOTICE_SLOT)
    last = TimeThreshold(shown) if shown in TimeThreshold._value2member_map_ else None
    notice = guidance.time_notice_due(status, last, channel_of(slots))
    if notice is None:
        return {}
    dispatcher.utter_message(text=notice.text)
    return {TIME_NOTICE_SLOT: notice.threshold.value}
