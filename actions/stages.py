"""One action per stage of the consultation; each renders bot/guidance from the facts."""
from __future__ import annotations

import time
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import AllSlotsReset, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.consultation_form import latest_text, stage_notices
from actions.replies import judgement_reply, send, send_time_notice
from actions.services import consultation_store, organization
from bot import guidance
from bot.assessment import Assessment, assess
from bot.codes import Stage
from bot.conversation import UNREADABLE_SLOT, channel_of, facts_from_slots, record_fields, time_status


def current_assessment(slots: Dict[Text, Any], now: float | None = None) -> Assessment:
    return assess(facts_from_slots(slots, now or time.time()), organization().time_limit_minutes)


def assess_and_record(slots: Dict[Text, Any]) -> Assessment:
    """Judge the facts as they stand and write facts and judgement into the open record."""
    now = time.time()
    assessment = current_assessment(slots, now)
    record_id = slots.get("consultation_id")
    if record_id is not None:
        consultation_store().update(
            record_id,
            **record_fields(slots, now),
            verdict=assessment.verdict.value,
            types=[code.value for code in assessment.types],
            reasons=list(assessment.reasons),
            legal_risks=[code.value for code in assessment.legal_risks],
            escalations=[code.value for code in assessment.escalations],
            follow_up_items=list(assessment.follow_up),
        )
    return assessment


DETAILS_INTRO = "記録のために、あといくつか伺います。わからないものや急がないものは、とばして大丈夫です。"
CARE_TEXT = (
    "怖い思いをされているのですね。あなたは悪くありません。\n"
    "まず、いま身の危険はありませんか？ 危険があれば相手から離れ、周りの人を呼んでください。\n"
    "大丈夫なら、ゆっくりで構いません。このまま一緒に続けましょう。"
)
# Asked after the first judgement (domain.yml details_form), the conduct apart.
DETAILS_SLOTS = ("situation_channel", "elapsed_minutes", "demand", "identified", "recorded", "alone")



def slot_events(changes: Dict[Text, Any]) -> List[EventType]:
    return [SlotSet(name, value) for name, value in changes.items()]


def stage_event(stage: Stage) -> SlotSet:
    return SlotSet("stage", stage.value)


class ActionTriage(Action):
    """Entry of a consultation (or new facts later): safety first, then the form."""

    def name(self) -> Text:
        return "action_triage"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if unreadable(dispatcher, tracker):
            return []
        slots = dict(tracker.slots)
        safety_due = bool(slots.get("danger")) and not slots.get("safety_given")
        if slots.get("verdict"):
            dispatcher.utter_message(text="追加の情報を反映して、判断を見直します。")
        elif not safety_due:
            dispatcher.utter_message(text=guidance.opening())
        done = stage_notices(dispatcher, slots, latest_text(tracker))
        stage = Stage.SAFETY if done.get("safety_given") else Stage.START
        return [SlotSet(name, value) for name, value in done.items()] + [stage_event(stage)]


class ActionSafety(Action):
    def name(self) -> Text:
        return "action_safety"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        send(dispatcher, guidance.safety_first(channel_of(tracker.slots)))
        return [SlotSet("safety_given", True), stage_event(Stage.SAFETY)]


class ActionInitialResponse(Action):
    def name(self) -> Text:
        return "action_initial_response"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        slots = tracker.slots
        send(dispatcher, guidance.initial_response(channel_of(slots), ongoing=slots.get("ongoing") is not False))
        changes = send_time_notice(dispatcher, slots)
        return slot_events(changes) + [SlotSet("initial_response_given", True), stage_event(Stage.INITIAL_RESPONSE)]


class ActionAssess(Action):
    def name(self) -> Text:
        return "action_assess"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        slots = dict(tracker.slots)
        assessment = assess_and_record(slots)
        if tracker.active_loop_name:
            dispatcher.utter_message(text="いまわかっている範囲での目安です。")
        send(dispatcher, judgement_reply(assessment, slots))
        if (
            not tracker.active_loop_name
            and not slots.get("verdict")
            and slots.get("consultation_id") is not None
            and any(slots.get(name) is None for name in DETAILS_SLOTS)
        ):
            dispatcher.utter_message(text=DETAILS_INTRO)
        return [SlotSet("verdict", assessment.verdict.value), stage_event(Stage.JUDGEMENT)]


class ActionDetailsDone(Action):
    """After the questions that follow the first judgement: the judgement again only if it changed."""

    def name(self) -> Text:
        return "action_details_done"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        slots = dict(tracker.slots)
        assessment = assess_and_record(slots)
        if assessment.verdict.value != slots.get("verdict"):
            dispatcher.utter_message(text="伺った内容で、判断を見直しました。")
            send(dispatcher, judgement_reply(assessment, slots))
        elif slots.get("details_asked"):
            send(dispatcher, guidance.Reply("ありがとうございました。記録に残しました。判断は変わりません。", guidance.NEXT_STEP_BUTTONS))
        return [SlotSet("verdict", assessment.verdict.value), stage_event(Stage.JUDGEMENT)]


class ActionDetails(Action):
    """「くわしく」: the reasons, types and legal notes of the judgement as the facts stand."""

    def name(self) -> Text:
        return "action_details"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        send(dispatcher, guidance.judgement_details(current_assessment(dict(tracker.slots))))
        return []


class ActionHandover(Action):
    """「上司に引き継ぐ」: a summary the employee forwards to the supervisor as it is."""

    def name(self) -> Text:
        return "action_handover"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        slots = dict(tracker.slots)
        now = time.time()
        record_id = slots.get("consultation_id") or slots.get("last_consultation_id")
        record = consultation_store().get(record_id) if record_id is not None else {}
        facts = facts_from_slots(slots, now)
        summary = guidance.handover_summary(facts, assess(facts, organization().time_limit_minutes), record or {})
        dispatcher.utter_message(text="上司に、この文面をそのまま送ってください（長押しやコピーで転送できます）。")
        dispatcher.utter_message(text=summary)
        return [stage_event(Stage.ESCALATION)]


class ActionCare(Action):
    """Fear or distress in a message: a short caring line and a safety check before anything else."""

    def name(self) -> Text:
        return "action_care"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        send(dispatcher, guidance.Reply(CARE_TEXT, (guidance.Button("身の危険がある", "/emergency"),)))
        return []


class ActionTimeBox(Action):
    def name(self) -> Text:
        return "action_time_box"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        settings = organization()
        status = time_status(tracker.slots, time.time(), settings.time_limit_minutes, settings.warn_before_minutes)
        send(dispatcher, guidance.time_box(channel_of(tracker.slots), settings.time_limit_minutes, status))
        return [stage_event(Stage.TIME_BOX)]


class ActionEscalation(Action):
    def name(self) -> Text:
        return "action_escalation"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        slots = dict(tracker.slots)
        send(dispatcher, guidance.escalation(current_assessment(slots), organization()))
        return slot_events(send_time_notice(dispatcher, slots)) + [stage_event(Stage.ESCALATION)]


def unreadable(dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
    """An unknown `/payload` that the NLU took for this action's intent: the fallback with buttons instead."""
    if not tracker.get_slot(UNREADABLE_SLOT):
        return False
    dispatcher.utter_message(response="utter_default")
    return True


class ActionCloseConsultation(Action):
    """Final judgement into the record, the record closed, a summary and aftercare."""

    def name(self) -> Text:
        return "action_close_consultation"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if unreadable(dispatcher, tracker):
            return []
        slots = dict(tracker.slots)
        record_id = slots.get("consultation_id")
        if record_id is None:
            dispatcher.utter_message(text="お疲れさまでした。また困ったときは、いつでも声をかけてください。")
            return [stage_event(Stage.CLOSING)]
        assessment = assess_and_record(slots)
        store = consultation_store()
        store.close(record_id)
        dispatcher.utter_message(text=guidance.record_summary(store.get(record_id)))
        facts = facts_from_slots(slots, time.time())
        dispatcher.utter_message(text=guidance.aftercare(organization(), facts, assessment))
        return [AllSlotsReset(), SlotSet("last_consultation_id", record_id), stage_event(Stage.CLOSING)]


class ActionShowRecord(Action):
    def name(self) -> Text:
        return "action_show_record"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        record_id = tracker.get_slot("consultation_id") or tracker.get_slot("last_consultation_id")
        if record_id is None:
            dispatcher.utter_message(text="まだ記録はありません。状況を教えていただくと、記録を作ります。")
            return []
        dispatcher.utter_message(text=guidance.record_summary(consultation_store().get(record_id)))
        return slot_events(send_time_notice(dispatcher, tracker.slots))
