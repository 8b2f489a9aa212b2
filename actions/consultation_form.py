"""The fact-finding form: asks only what is still missing, repeats the demand back."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.replies import send
from bot import guidance
from bot.codes import Stage
from bot.conversation import UNKNOWN, channel_of

MAX_DEMAND_LENGTH = 500


def stage_notices(dispatcher: CollectingDispatcher, slots: Dict[Text, Any]) -> Dict[Text, Any]:
    """Safety first when danger is new, then the initial-response advice once live/after and
    the channel are known. Returns the slots it marks as done."""
    done: Dict[Text, Any] = {}
    if slots.get("danger") and not slots.get("safety_given"):
        send(dispatcher, guidance.safety_first(channel_of(slots)))
        done["safety_given"] = True
    if (
        not slots.get("initial_response_given")
        and slots.get("ongoing") is not None
        and slots.get("situation_channel") is not None
    ):
        send(dispatcher, guidance.initial_response(channel_of(slots), slots.get("ongoing") is True))
        done["initial_response_given"] = True
    return done


class ValidateConsultationForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_consultation_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        events = await super().run(dispatcher, tracker, domain)
        slots = {**tracker.slots, **{e["name"]: e["value"] for e in events if e.get("event") == "slot"}}
        done = stage_notices(dispatcher, slots)
        done["stage"] = Stage.FACT_FINDING.value
        return events + [SlotSet(name, value) for name, value in done.items()]

    def validate_demand(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if value == UNKNOWN:
            return {"demand": UNKNOWN}
        demand = str(value).strip()[:MAX_DEMAND_LENGTH]
        if not demand:
            return {"demand": None}
        dispatcher.utter_message(text=guidance.demand_echo(demand))
        return {"demand": demand}
