"""The two question forms: at most three questions before the first judgement, the rest after it.

Answers are read into the slots by actions/facts.py (every message, buttons and typed text
alike); these validation actions choose what is still asked, give the advice that is due and
ask the next question (actions/questions.py).
"""
from __future__ import annotations

import time
from abc import abstractmethod
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import ActionExecutionRejection, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT
from rasa_sdk.types import DomainDict

from actions.questions import ask
from actions.replies import TIME_NOTICE_SLOT, judgement_reply, send
from actions.services import organization
from bot import guidance
from bot.advice_now import advice_now, moments_in
from bot.codes import Situation, Stage, TimeThreshold
from bot.assessment import assess
from bot.conversation import (
    ANSWERED_AT_ONCE,
    UNKNOWN,
    UNREADABLE_SLOT,
    channel_of,
    facts_from_slots,
    known,
    question_applies,
    time_status,
)

QUESTIONS_BEFORE_JUDGEMENT = 3


def stage_notices(dispatcher: CollectingDispatcher, slots: Dict[Text, Any], text: Text = "") -> Dict[Text, Any]:
    """Safety first when danger is new; words for a customer who speaks of taking their life, and
    for the moments the message reports (「上司を出せ」, filming); then, once it is known whether
    the exchange is live, what to say now. Returns the slots it marks as done."""
    done: Dict[Text, Any] = {}
    channel = channel_of(slots)
    if slots.get("danger") and not slots.get("safety_given"):
        send(dispatcher, guidance.safety_first(channel))
        done["safety_given"] = True
    advised = list(slots.get("moments_advised") or [])
    due = [Situation.SELF_HARM] if slots.get("self_harm") else []
    for situation in due + list(moments_in(text)):
        if situation.value not in advised:
            send(dispatcher, guidance.say(situation, channel))
            advised.append(situation.value)
    if advised != list(slots.get("moments_advised") or []):
        done["moments_advised"] = advised
    if not slots.get("initial_response_given") and slots.get("ongoing") is not None:
        settings = organization()
        status = time_status(slots, time.time(), settings.time_limit_minutes, settings.warn_before_minutes)
        send(dispatcher, advice_now(known(slots.get("ongoing")), channel, status, settings.time_limit_minutes))
        done["initial_response_given"] = True
        if slots.get("refused_to_leave") and slots.get("ongoing") is not False:  # the next step of the sequence
            situation = assess(facts_from_slots(slots, time.time()), settings.time_limit_minutes).situation
            if situation is not None:
                send(dispatcher, guidance.say(situation, channel))
        if status is not None and status.over:
            done[TIME_NOTICE_SLOT] = TimeThreshold.OVER.value  # the closing script already says so
    return done


def latest_text(tracker: Tracker) -> Text:
    """The employee's typed words this turn ("" for a button)."""
    text = (tracker.latest_message or {}).get("text") or ""
    return "" if text.startswith("/") else text


_NOT_ANSWERS = {"action_listen", "action_extract_slots"}


def answered_since_message(tracker: Tracker) -> bool:
    """Whether another action (a rule's answer) ran since the employee's message: the form is
    then coming back to its question, not reading the message."""
    form = tracker.active_loop_name
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "action" and event.get("name") not in _NOT_ANSWERS | {form}:
            return True
    return False


def questions_before_judgement(
    slots: Dict[Text, Any], form_slots: List[Text], now: float, limit_minutes: int
) -> List[Text]:
    """The first judgement's questions: in the form's order, the facts not yet known plus those
    already asked, at most three. Facts the employee stated unasked cost no question."""
    if slots.get("verdict"):  # judged already: only new conduct to confirm
        return ["behaviors"] if "behaviors" in form_slots and slots.get("behaviors") is None else []
    asked = slots.get("asked") or []
    candidates = [
        name for name in form_slots
        if (slots.get(name) is None and question_applies(name, slots, now, limit_minutes, first_judgement=True))
        or name in asked
    ]
    return candidates[:QUESTIONS_BEFORE_JUDGEMENT]


class FactValidation(FormValidationAction):
    """Shared by both forms: advice that is due, the stage, the demand as typed, and the next
    question."""

    @abstractmethod
    def name(self) -> Text:
        """Abstract, so that the action server registers only the two forms' validations."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        if not answered_since_message(tracker) and (intent in ANSWERED_AT_ONCE or tracker.get_slot(UNREADABLE_SLOT)):
            # Rasa's rules answer the employee's own question (or the fallback an unknown
            # button) only when the form rejects the turn; the form resumes afterwards.
            raise ActionExecutionRejection(self.form_name(), f"{intent}: answered by a rule, not the form")
        events = await super().run(dispatcher, tracker, domain)
        slots = {**tracker.slots, **{e["name"]: e["value"] for e in events if e.get("event") == "slot"}}
        done = stage_notices(dispatcher, slots, latest_text(tracker))
        done["stage"] = Stage.FACT_FINDING.value
        if slots.get("verdict"):  # judged already: say so at once when what was learnt changes it
            assessment = assess(facts_from_slots(slots, time.time()), organization().time_limit_minutes)
            if assessment.verdict.value != slots["verdict"]:
                dispatcher.utter_message(text="いま伺った内容で、判断が変わりました。")
                send(dispatcher, judgement_reply(assessment, slots))
                done["verdict"] = assessment.verdict.value
                done["stage"] = Stage.JUDGEMENT.value
        if slots.get(REQUESTED_SLOT) is not None:
            done.update(ask(dispatcher, {**slots, **done}, slots[REQUESTED_SLOT], self.form_name()))
        return events + [SlotSet(name, value) for name, value in done.items()]

    async def next_requested_slot(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Optional[EventType]:
        """The first required slot still empty, always named here (rasa_sdk leaves it to Rasa's
        form when required_slots is not overridden, and Rasa picks the same one): this action
        asks its question, so the form finds no action_ask_<slot> to call."""
        required = await self.required_slots(self.domain_slots(domain), dispatcher, tracker, domain)
        return SlotSet(REQUESTED_SLOT, next((name for name in required if tracker.slots.get(name) is None), None))

    def validate_demand(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if value == UNKNOWN or not value:
            return {"demand": value}
        dispatcher.utter_message(text=guidance.demand_echo(str(value)))
        return {"demand": value}


class ValidateConsultationForm(FactValidation):
    def name(self) -> Text:
        return "validate_consultation_form"

    async def required_slots(
        self, domain_slots: List[Text], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Text]:
        return questions_before_judgement(
            dict(tracker.slots), domain_slots, time.time(), organization().time_limit_minutes
        )


class ValidateDetailsForm(FactValidation):
    def name(self) -> Text:
        return "validate_details_form"
