"""The forms' questions: the conduct as toggles to confirm, the other facts from bot/guidance;
after one unsettled answer a shorter second try (bot/prompts.py).

The forms' validation actions send them (actions/consultation_form.py): the domain has no
action_ask_<slot>, so Rasa's form asks nothing itself — one action-server call per form turn
fewer (make bench, bench/README.md)."""
from __future__ import annotations

from typing import Any, Dict, Mapping, Text

from rasa_sdk.executor import CollectingDispatcher

from actions.replies import send, send_prompt, send_time_notice
from bot import guidance, prompts
from bot.codes import CONSULTATION_FORM, DETAILS_FORM
from bot.conversation import understood_behaviors

SKIP_REST = guidance.Button("残りの質問はとばす", '/dont_know{"skip":"all"}')


def behavior_prompt(slots: Mapping[str, Any]) -> prompts.Prompt:
    understood = understood_behaviors(slots)
    group = slots.get("behavior_group")
    if understood and group is None:
        return prompts.confirm_behaviors(understood)
    return prompts.behavior_question(None if group == "all" else group, understood)


def ask(dispatcher: CollectingDispatcher, slots: Mapping[str, Any], slot: Text, form: Text) -> Dict[Text, Any]:
    """Sends the question for `slot` of `form` (after the elapsed time when it is due) and returns
    the slot changes that remember it was asked."""
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
        if form == DETAILS_FORM:
            question = guidance.Reply(question.text, question.buttons + (SKIP_REST,))
        send(dispatcher, question)
    if form == CONSULTATION_FORM and not slots.get("verdict"):
        asked = list(slots.get("asked") or [])
        if slot not in asked:
            changes["asked"] = asked + [slot]
    elif form == DETAILS_FORM:
        changes["details_asked"] = True
    return changes
