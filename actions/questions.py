"""The forms' questions (action_ask_<slot>): the conduct as toggles to confirm, the other facts
from bot/guidance; after one unsettled answer a shorter second try (bot/prompts.py)."""
from __future__ import annotations

from typing import Any, List, Mapping, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.replies import send, send_prompt, send_time_notice
from bot import guidance, prompts
from bot.conversation import understood_behaviors

FORM_SLOTS = (
    "ongoing",
    "situation_channel",
    "elapsed_minutes",
    "demand",
    "our_fault",
    "demand_related",
    "behaviors",
    "identified",
    "recorded",
    "alone",
    "demand_basis",
    "warnings_given",
    "conduct_continued",
    "departure_step",
    "public",
    "deadlock",
    "injured",
    "money_demanded",
    "vulnerable",
    "employee_department",
)
SKIP_REST = guidance.Button("残りの質問はとばす", '/dont_know{"skip":"all"}')


def behavior_prompt(slots: Mapping[str, Any]) -> prompts.Prompt:
    understood = understood_behaviors(slots)
    group = slots.get("behavior_group")
    if understood and group is None:
        return prompts.confirm_behaviors(understood)
    return prompts.behavior_question(None if group == "all" else group, understood)


def ask_action(slot: Text) -> type[Action]:
    class AskForSlot(Action):
        def name(self) -> Text:
            return f"action_ask_{slot}"

        def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
            slots = tracker.slots
            changes = send_time_notice(dispatcher, slots)
            second_try = (slots.get("question_misses") or {}).get(slot, 0) > 0
            if slot == "behaviors":
                prompt = behavior_prompt(slots)
                if second_try:
                    prompt = prompts.Prompt(prompts.second_try(slot, prompt.reply), prompt.choices)
                send_prompt(dispatcher, prompt)
            else:
                question = guidance.question(slot, ongoing=slots.get("ongoing") is True)
                if second_try:
                    question = prompts.second_try(slot, question)
                if tracker.active_loop_name == "details_form":
                    question = guidance.Reply(question.text, question.buttons + (SKIP_REST,))
                send(dispatcher, question)
            if tracker.active_loop_name == "consultation_form" and not slots.get("verdict"):
                asked = list(slots.get("asked") or [])
                if slot not in asked:
                    changes["asked"] = asked + [slot]
            elif tracker.active_loop_name == "details_form":
                changes["details_asked"] = True
            return [SlotSet(name, value) for name, value in changes.items()]

    return AskForSlot


ASK_ACTIONS = [ask_action(slot) for slot in FORM_SLOTS]
