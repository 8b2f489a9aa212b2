"""The consultation's state between turns: slots in, facts and slot changes out.

Slots hold what the employee has told the bot. A form answer of わからない is
stored as UNKNOWN so that the form moves on; it counts as "not known" in the facts.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from bot import lexicon
from bot.assessment import STOPPABLE_REMARKS, Facts, assess, demand_basis_of, validity_of
from bot.codes import (
    ALWAYS_UNACCEPTABLE,
    CRIMINAL_CONDUCT,
    DETAILS_INTENT,
    HANDOVER_INTENT,
    Behavior,
    DemandBasis,
    DemandValidity,
    DepartureStep,
    SituationChannel,
    Verdict,
    WarningLevel,
)
from bot.durations import parse_minutes
from bot.text_facts import danger_cues, read_facts, record_notes

UNKNOWN = "unknown"
# A question that does not apply to this case (no refusal to leave, no remark to ask to stop):
# not None, so that the forms never ask it; it becomes None again when it starts to apply.
NOT_NEEDED = "not_needed"
EMERGENCY_INTENT = "emergency"
DISTRESS_INTENT = "express_distress"


def known(value: Any) -> bool | None:
    """A yes/no/わからない answer as True, False or None."""
    return value if isinstance(value, bool) else None


def behaviors_of(slots: Mapping[str, Any]) -> list[Behavior]:
    """The confirmed conduct (none while the employee has not confirmed it)."""
    value = slots.get("behaviors")
    return [Behavior(code) for code in value] if isinstance(value, list) else []


def channel_of(slots: Mapping[str, Any]) -> SituationChannel | None:
    value = slots.get("situation_channel")
    return SituationChannel(value) if value and value != UNKNOWN else None


def elapsed_minutes_now(slots: Mapping[str, Any], now: float) -> int | None:
    """Minutes since the exchange began: live from the start time, else as reported."""
    started = slots.get("case_started_at")
    if slots.get("ongoing") is True and isinstance(started, (int, float)):
        return max(0, int((now - started) // 60))
    reported = slots.get("elapsed_minutes")
    return reported if isinstance(reported, int) and not isinstance(reported, bool) else None


def behaviors_for_judgement(slots: Mapping[str, Any]) -> frozenset[Behavior]:
    """Confirmed conduct; while unconfirmed, what was read, but never a crime on that alone."""
    if isinstance(slots.get("behaviors"), list):
        return frozenset(behaviors_of(slots))
    return frozenset(understood_behaviors(slots)) - CRIMINAL_CONDUCT


def code_of(slots: Mapping[str, Any], name: str, enum: type) -> Any:
    """The code a slot holds, None for unknown, not needed or nothing."""
    value = slots.get(name)
    return enum(value) if isinstance(value, str) and value in enum._value2member_map_ else None


def facts_from_slots(slots: Mapping[str, Any], now: float) -> Facts:
    basis = code_of(slots, "demand_basis", DemandBasis)
    return Facts(
        behaviors=behaviors_for_judgement(slots),
        our_fault=known(slots.get("our_fault")),
        demand_related=known(slots.get("demand_related")),
        channel=channel_of(slots),
        ongoing=slots.get("ongoing") is True,
        elapsed_minutes=elapsed_minutes_now(slots, now),
        refused_to_leave=bool(slots.get("refused_to_leave")),
        danger=bool(slots.get("danger")),
        demand_basis=None if basis is DemandBasis.UNKNOWN else basis,
        warnings_given=code_of(slots, "warnings_given", WarningLevel),
        conduct_continued=known(slots.get("conduct_continued")),
        departure_step=code_of(slots, "departure_step", DepartureStep),
        deadlock=known(slots.get("deadlock")),
        public=known(slots.get("public")),
        money_demanded=known(slots.get("money_demanded")),
        injured=slots.get("injured") is True,
        property_damaged=slots.get("property_damaged") is True,
        self_harm=bool(slots.get("self_harm")),
        vulnerable=slots.get("vulnerable") is True,
        police_called=police_called(slots),
        identified=known(slots.get("identified")),
        recorded=known(slots.get("recorded")),
        alone=known(slots.get("alone")),
    )


@dataclass(frozen=True)
class TimeStatus:
    elapsed_minutes: int
    limit_minutes: int
    near: bool
    over: bool

    @property
    def remaining_minutes(self) -> int:
        return max(0, self.limit_minutes - self.elapsed_minutes)


def time_status(slots: Mapping[str, Any], now: float, limit: int, warn_before: int) -> TimeStatus | None:
    """Where a live exchange stands against the organisation's limit; None after the fact."""
    if slots.get("ongoing") is not True:
        return None
    elapsed = elapsed_minutes_now(slots, now)
    if elapsed is None:
        return None
    return TimeStatus(
        elapsed_minutes=elapsed,
        limit_minutes=limit,
        near=elapsed >= limit - warn_before,
        over=elapsed >= limit,
    )


def _entity_values(entities: Iterable[Mapping[str, Any]], name: str) -> list[str]:
    return [str(e.get("value")) for e in entities if e.get("entity") == name and e.get("value") is not None]


def _codes(values: Iterable[str], enum: type) -> list:
    found = []
    for value in values:
        try:
            code = enum(value)
        except ValueError:
            continue
        if code not in found:
            found.append(code)
    return found


# Intents answered at once whatever is being asked (each has a rule during the forms): the form
# steps aside for them and resumes afterwards.
ANSWERED_AT_ONCE = frozenset(
    {
        "ask_help",
        "show_record",
        "finish",
        EMERGENCY_INTENT,
        DISTRESS_INTENT,
        "ask_initial_response",
        "ask_judgement",
        "ask_time_limit",
        "ask_escalation",
        DETAILS_INTENT,
        HANDOVER_INTENT,
    }
)
# Not answers (a department the model takes for a greeting excepted); greetings and thanks still
# count as misses (see _misses).
INTERJECTION_INTENTS = ANSWERED_AT_ONCE | {"restart", "thank", "greet"}
# the name of a unit: 「税務課です」「地域福祉係」「市民相談室」
_DEPARTMENT_WORD = re.compile(r"(?:課|係|室|部|局|所|センター|チーム|班|グループ|支所|出張所|窓口)(?:の者|です|でした|所属|$|[。.!！\s])")
FACT_SLOTS = (
    "ongoing", "behaviors", "departure_step", "warnings_given", "conduct_continued", "public", "demand_basis",
    "our_fault", "demand_related", "situation_channel", "elapsed_minutes", "deadlock", "injured", "money_demanded",
    "vulnerable", "demand", "identified", "recorded", "alone", "employee_department",
)
YES_NO_SLOTS = (
    "ongoing", "our_fault", "demand_related", "identified", "recorded", "alone", "conduct_continued",
    "deadlock", "public", "money_demanded", "injured", "vulnerable",
)
# Asked only where the verdict or a legal label depends on them (question_applies).
CONDITIONAL_SLOTS = (
    "departure_step", "warnings_given", "conduct_continued", "demand_basis",
    "public", "deadlock", "injured", "money_demanded", "vulnerable",
)
# Questions answered with a code from a button (`/inform{"demand_basis": "opinion"}`).
CODE_SLOTS: dict[str, type] = {
    "demand_basis": DemandBasis,
    "warnings_given": WarningLevel,
    "departure_step": DepartureStep,
}
_YES_NO_INTENTS = {"affirm": True, "deny": False, "dont_know": UNKNOWN}
# Facts read from free text (bot.text_facts.read_facts) that have a slot of their own.
STATED_SLOTS = YES_NO_SLOTS + ("property_damaged", "situation_channel", "elapsed_minutes")
MAX_DEMAND_LENGTH = 500
MAX_DEPARTMENT_LENGTH = 128
# The channel's user profile, where a channel gives one (REST `metadata`, see README).
DEPARTMENT_METADATA_KEY = "department"
RECORD_NOTES_SLOT = "record_notes"
# Set for a message that is an unknown `/payload` (a stale button, a client's typo).
UNREADABLE_SLOT = "unreadable_payload"
MAX_MISSES = 2
_PAYLOAD = re.compile(r"^/([^{@\s]+)")


def payload_intent(text: str) -> str | None:
    """The intent a `/intent{...}` payload names, None for typed text."""
    match = _PAYLOAD.match(text or "")
    return match.group(1) if match else None


def is_unknown_payload(text: str, intent: str | None) -> bool:
    """A `/payload` whose intent the bot does not know: Rasa hands its text to the NLU instead."""
    named = payload_intent(text)
    return named is not None and named != intent


def understood_behaviors(slots: Mapping[str, Any]) -> list[Behavior]:
    """The conduct held so far: confirmed, then read but not yet confirmed."""
    confirmed = behaviors_of(slots)
    pending = _codes(slots.get("suggested_behaviors") or [], Behavior)
    return confirmed + [code for code in pending if code not in confirmed]


def behaviors_confirmed(slots: Mapping[str, Any]) -> bool:
    return isinstance(slots.get("behaviors"), list) and not slots.get("suggested_behaviors")


def _behavior_changes(
    slots: Mapping[str, Any], text: str, intent: str | None, entities: list[Mapping[str, Any]]
) -> dict[str, Any]:
    """Conduct read from text becomes a suggestion to confirm; buttons and toggles confirm it."""
    understood = understood_behaviors(slots)
    mentioned = _codes(_entity_values(entities, "behavior"), Behavior)
    group = next(iter(_entity_values(entities, "behavior_group")), None)
    asked = slots.get("requested_slot") == "behaviors"

    def confirmed(codes: list[Behavior]) -> dict[str, Any]:
        return {"behaviors": [code.value for code in codes], "suggested_behaviors": [], "behavior_group": None}

    if payload_intent(text) is not None:
        if group == "none":
            return confirmed(understood)
        if mentioned and group:  # one code added from a group's buttons
            return confirmed(understood + [code for code in mentioned if code not in understood])
        if mentioned:  # the toggles as submitted
            return confirmed(mentioned)
        if group:  # 「ほかにもある」 or a group of the question: show the choices again
            return {"behaviors": None, "suggested_behaviors": [c.value for c in understood], "behavior_group": group}
    else:
        new = [code for code in mentioned if code not in understood]
        if new:
            return {"behaviors": None, "suggested_behaviors": [code.value for code in understood + new]}
    if asked and intent == "affirm" and understood:
        return confirmed(understood)
    if asked and intent == "deny":
        return confirmed([])
    if asked and intent == "dont_know":
        return {"behaviors": UNKNOWN, "behavior_group": None}
    return {}


def _answer(slots: Mapping[str, Any], text: str, intent: str | None, entities: list[Mapping[str, Any]]) -> dict:
    """The value the message gives to the question being asked (behaviours apart), if any."""
    requested = slots.get("requested_slot")
    typed = payload_intent(text) is None
    department_given = requested == "employee_department" and typed and _DEPARTMENT_WORD.search(text)
    if requested is None or (intent in INTERJECTION_INTENTS and not department_given):  # 「税務課です」 can read as a greeting
        return {}
    if intent == "dont_know" and requested != "behaviors":
        return {requested: UNKNOWN}
    if requested in YES_NO_SLOTS and intent in _YES_NO_INTENTS:
        return {requested: _YES_NO_INTENTS[intent]}
    if requested == "demand" and typed:
        demand = text.strip()[:MAX_DEMAND_LENGTH]
        return {"demand": demand} if demand else {}
    if requested == "employee_department" and typed:
        department = re.sub(r"(?:です|でした|の所属です|所属)?[。.!！\s]*$", "", text.strip())[:MAX_DEPARTMENT_LENGTH]
        return {"employee_department": department} if department else {}
    return {}


def _coded_answers(entities: list[Mapping[str, Any]]) -> dict[str, Any]:
    """Codes a button names explicitly (`/inform{"departure_step": "final_warning"}`), asked or not."""
    answers = {}
    for name, enum in CODE_SLOTS.items():
        codes = _codes(_entity_values(entities, name), enum)
        if codes:
            answers[name] = codes[0].value
    return answers


def department_from_profile(metadata: Mapping[str, Any] | None) -> str | None:
    """The employee's department as the channel's user profile gives it (message metadata
    `department`, or `user.department`), None when it gives none."""
    if not isinstance(metadata, Mapping):
        return None
    user = metadata.get("user")
    value = metadata.get(DEPARTMENT_METADATA_KEY)
    if value is None and isinstance(user, Mapping):
        value = user.get(DEPARTMENT_METADATA_KEY)
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip()[:MAX_DEPARTMENT_LENGTH]


def _merged_notes(notes: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """Record notes with a message's added: lists keep each item once, the count its largest."""
    merged = dict(notes)
    for key, value in new.items():
        if isinstance(value, list):
            merged[key] = list(dict.fromkeys([*(merged.get(key) or []), *value]))
        elif isinstance(value, bool):
            merged[key] = value or bool(merged.get(key))
        elif isinstance(value, int):
            merged[key] = max(value, merged.get(key) or 0)
    return merged


def _notes(slots: Mapping[str, Any]) -> Mapping[str, Any]:
    notes = slots.get(RECORD_NOTES_SLOT)
    return notes if isinstance(notes, Mapping) else {}


def police_called(slots: Mapping[str, Any]) -> bool:
    """The police were called: the last step of the departure sequence, or the employee said so."""
    return slots.get("departure_step") == DepartureStep.POLICE_CALLED.value or _notes(slots).get("police_called") is True


def _note_changes(slots: Mapping[str, Any], text: str, intent: str | None, stated: Mapping[str, Any]) -> dict:
    """What the record keeps from this typed message: bot.text_facts.record_notes, the
    employee's own words when they tell of distress, and the words that tell of an injury."""
    new = record_notes(text)
    if intent == DISTRESS_INTENT:
        new["employee_condition"] = [text.strip()]
    if stated.get("injured") is True:
        new["injuries"] = [text.strip()]
    if not new:
        return {}
    notes = _notes(slots)
    merged = _merged_notes(notes, new)
    return {RECORD_NOTES_SLOT: merged} if merged != notes else {}


def slot_changes_from_message(
    slots: Mapping[str, Any],
    text: str,
    intent: str | None,
    entities: Iterable[Mapping[str, Any]],
    now: float,
    new_message: bool = True,
    limit_minutes: int | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The slots one employee message changes; unchanged slots are left out.

    - facts the text states (bot.text_facts.read_facts) fill their slots and correct earlier
      answers, so nothing stated is asked again.
    - the question being asked (`requested_slot`) is answered by a button, a typed yes/no,
      わからない, or for the demand by any typed text; a message that answers nothing (and is
      not a question of the employee's own) is a miss, and after the second the question is
      left as unknown.
    - conduct read from text is a suggestion (`suggested_behaviors`) until the employee
      confirms it; only confirmed conduct counts for a crime (facts_from_slots).
    - danger: an emergency or an explicit danger cue in the text (bot.text_facts.danger_cues).
    - the record's notes (staff present, apologies, answers, the employee's condition) and the
      department the channel's profile gives (`metadata`).
    - `limit_minutes` (the organisation's time limit) decides the questions that depend on it.
    """
    if is_unknown_payload(text, intent):  # whatever the NLU guessed for its text means nothing
        return {UNREADABLE_SLOT: True}
    entities = list(entities)
    typed = bool(text) and payload_intent(text) is None
    stated = read_facts(text, asking=slots.get("requested_slot")) if typed else {}
    cues = danger_cues(text) if typed else frozenset()
    changes: dict[str, Any] = _behavior_changes(slots, text, intent, entities)
    if slots.get(UNREADABLE_SLOT):
        changes[UNREADABLE_SLOT] = False
    changes.update(_answer(slots, text, intent, entities))
    changes.update(_coded_answers(entities))

    for name in STATED_SLOTS:
        value = stated.get(name)
        if name != "situation_channel" and value is not None and value != slots.get(name):
            changes[name] = value

    # Another place mentioned (「窓口にも来た」) is no correction: the channel changes when asked or unknown.
    if "situation_channel" not in changes and (
        slots.get("requested_slot") == "situation_channel" or channel_of(slots) is None
    ):
        channels = _codes([stated.get("situation_channel") or "", *_entity_values(entities, "channel")], SituationChannel)
        if channels and channels[0].value != slots.get("situation_channel"):
            changes["situation_channel"] = channels[0].value

    if "elapsed_minutes" not in changes and typed:
        minutes = parse_minutes(text)
        if minutes is not None and minutes != slots.get("elapsed_minutes"):
            changes["elapsed_minutes"] = minutes

    ongoing = changes.get("ongoing", slots.get("ongoing"))
    if intent == EMERGENCY_INTENT and ongoing is None:
        ongoing = changes["ongoing"] = True
    if ongoing is True:
        if "elapsed_minutes" in changes and isinstance(changes["elapsed_minutes"], int):
            changes["case_started_at"] = now - changes["elapsed_minutes"] * 60
        elif slots.get("case_started_at") is None:
            reported = slots.get("elapsed_minutes")
            changes["case_started_at"] = now - (reported * 60 if isinstance(reported, int) else 0)

    if (intent == EMERGENCY_INTENT or cues) and not slots.get("danger"):
        changes["danger"] = True
    if stated.get("self_harm") and not slots.get("self_harm"):
        changes["self_harm"] = True
    if stated.get("warned") and code_of({**slots, **changes}, "warnings_given", WarningLevel) in (None, WarningLevel.NONE):
        changes["warnings_given"] = WarningLevel.ASKED_TO_STOP.value
    if "continued_after_warning" in stated:
        changes["conduct_continued"] = stated["continued_after_warning"]
    changes.update(_from_basis({**slots, **changes}))

    if not slots.get("refused_to_leave") and typed and lexicon.mentions_refusal_to_leave(text):
        changes["refused_to_leave"] = True
    if typed and new_message:
        changes.update(_note_changes(slots, text, intent, stated))
    department = department_from_profile(metadata)
    if department is not None and slots.get("employee_department") in (None, UNKNOWN):
        changes["employee_department"] = department

    if _entity_values(entities, "skip"):  # 「残りの質問はとばす」
        for name in FACT_SLOTS:
            if changes.get(name, slots.get(name)) is None:
                changes[name] = UNKNOWN
    else:
        changes.update(_misses(slots, intent, changes, new_message))
    changes.update(_needed({**slots, **changes}, now, limit_minutes))
    return {name: value for name, value in changes.items() if slots.get(name) != value}


def _from_basis(slots: Mapping[str, Any]) -> dict[str, Any]:
    """What the demand's basis says about today's two facts, when they are not known yet."""
    basis = code_of(slots, "demand_basis", DemandBasis)
    derived: dict[str, Any] = {}
    if basis is DemandBasis.OUR_FAULT and slots.get("our_fault") is None:
        derived["our_fault"] = True
    if basis is not None and basis is not DemandBasis.UNKNOWN and slots.get("demand_related") is None:
        derived["demand_related"] = basis is not DemandBasis.UNRELATED
    return derived


def over_limit(slots: Mapping[str, Any], now: float, limit_minutes: int | None) -> bool:
    """Whether the exchange has reached the time limit, live or as reported afterwards."""
    elapsed = elapsed_minutes_now(slots, now)
    return limit_minutes is not None and elapsed is not None and elapsed >= limit_minutes


# Conduct that is no mere long talk: a caller showing it is not asked about as a vulnerable caller.
_NOT_MERE_TALK = (ALWAYS_UNACCEPTABLE | CRIMINAL_CONDUCT) - {Behavior.PERSISTENT}
_REMARKS_IN_PUBLIC = frozenset({Behavior.VERBAL_ABUSE, Behavior.PERSONAL_ATTACK})


def question_applies(
    name: str,
    slots: Mapping[str, Any],
    now: float = 0.0,
    limit_minutes: int | None = None,
    first_judgement: bool = False,
) -> bool:
    """Whether a conditional question fits the case as it stands.

    Time-dependent questions need `limit_minutes`; `first_judgement` leaves out what only a
    legal label (shown later, in 「くわしく」) depends on.
    """
    conduct = frozenset(behaviors_of(slots))
    if name == "departure_step":
        return bool(slots.get("refused_to_leave"))
    if name == "warnings_given":
        return bool(conduct & STOPPABLE_REMARKS)
    if name == "conduct_continued":
        return code_of(slots, "warnings_given", WarningLevel) not in (None, WarningLevel.NONE)
    if name == "demand_basis":  # read from the two facts when they settle it
        return slots.get("our_fault") is not True and slots.get("demand_related") is not False
    if name == "public":  # a threat to expose vs. defamation; an insult needs others to hear it
        if channel_of(slots) is SituationChannel.SNS:
            return False
        if Behavior.SNS_EXPOSURE in conduct:
            return True
        if first_judgement or limit_minutes is None or not conduct & _REMARKS_IN_PUBLIC:
            return False
        verdict = assess(facts_from_slots(slots, now), limit_minutes).verdict  # 侮辱罪 is named only for these
        return verdict in (Verdict.HARASSMENT, Verdict.CRIMINAL)
    if name == "deadlock":  # a valid demand becomes time restraint only in deadlock past the limit
        if not over_limit(slots, now, limit_minutes) or slots.get("vulnerable") is True:
            return False
        basis = demand_basis_of(facts_from_slots(slots, now))
        return basis is not DemandBasis.REASONABLE_ACCOMMODATION and validity_of(basis) is not DemandValidity.INVALID
    if name == "injured":  # 傷害罪
        return Behavior.PHYSICAL_ATTACK in conduct
    if name == "money_demanded":  # 恐喝罪 needs a threat or violence for money
        return bool(conduct & CRIMINAL_CONDUCT)
    if name == "vulnerable":  # long talk with nothing unacceptable in it (Sapporo's 30–60 minutes)
        return over_limit(slots, now, limit_minutes) and not conduct & _NOT_MERE_TALK and not slots.get("danger")
    return True


def _needed(slots: Mapping[str, Any], now: float, limit_minutes: int | None) -> dict[str, Any]:
    """Conditional questions marked NOT_NEEDED, or open again (None) once they apply."""
    changes: dict[str, Any] = {}
    for name in CONDITIONAL_SLOTS:
        applies = question_applies(name, slots, now, limit_minutes)
        if not applies and slots.get(name) is None:
            changes[name] = NOT_NEEDED
        elif applies and slots.get(name) == NOT_NEEDED:
            changes[name] = None
    return changes


def _misses(slots: Mapping[str, Any], intent: str | None, changes: Mapping[str, Any], new_message: bool) -> dict:
    """Count a message that leaves the question being asked unanswered; give up after the second.
    A question answered at once or a restart is no miss; a greeting or thanks is (typed answers the
    model takes for one must not bring the same question back without end)."""
    requested = slots.get("requested_slot")
    if not new_message or requested is None or intent in ANSWERED_AT_ONCE or intent == "restart":
        return {}
    if requested in changes or "behavior_group" in changes or "suggested_behaviors" in changes:
        return {}
    misses = dict(slots.get("question_misses") or {})
    misses[requested] = misses.get(requested, 0) + 1
    result: dict[str, Any] = {"question_misses": misses}
    if misses[requested] >= MAX_MISSES:
        result[requested] = UNKNOWN
    return result


def gave_up_on(changes: Mapping[str, Any], slots: Mapping[str, Any]) -> str | None:
    """The question this message's changes left as unknown after the last miss, if any."""
    requested = slots.get("requested_slot")
    misses = (changes.get("question_misses") or {}).get(requested, 0)
    return requested if misses >= MAX_MISSES and changes.get(requested) == UNKNOWN else None


def understood_facts(slots: Mapping[str, Any]) -> dict[str, Any]:
    """The facts held so far as codes (unknown answers and facts not yet known left out)."""
    facts: dict[str, Any] = {}
    for name in YES_NO_SLOTS:
        if isinstance(slots.get(name), bool):
            facts[name] = slots[name]
    if (channel := channel_of(slots)) is not None:
        facts["situation_channel"] = channel.value
    reported = slots.get("elapsed_minutes")
    if isinstance(reported, int) and not isinstance(reported, bool):
        facts["elapsed_minutes"] = reported
    for name, enum in CODE_SLOTS.items():
        code = code_of(slots, name, enum)
        if code is not None and code.value != UNKNOWN:
            facts[name] = code.value
    demand = slots.get("demand")
    if demand and demand != UNKNOWN:
        facts["demand_given"] = True
    for name in ("danger", "refused_to_leave", "self_harm", "property_damaged"):
        if slots.get(name) is True:
            facts[name] = True
    return facts


_JOINED = "／"


def _joined(items: Any) -> str | None:
    return _JOINED.join(items) if isinstance(items, list) and items else None


def _injuries(slots: Mapping[str, Any], notes: Mapping[str, Any]) -> str | None:
    """The employee's words about the injury; 「なし」 when they said no one was hurt."""
    if slots.get("injured") is True:
        return _joined(notes.get("injuries")) or "けがあり"
    return "なし" if slots.get("injured") is False else None


def record_fields(slots: Mapping[str, Any], now: float) -> dict[str, Any]:
    """The consultation record's fact fields as the slots hold them now."""
    demand = slots.get("demand")
    notes = _notes(slots)
    department = slots.get("employee_department")
    count = notes.get("answer_count")
    return {
        "situation_channel": (channel := channel_of(slots)) and channel.value,
        "ongoing": known(slots.get("ongoing")),
        "elapsed_minutes": elapsed_minutes_now(slots, now),
        "behaviors": [code.value for code in understood_behaviors(slots)],
        "demand": demand if demand and demand != UNKNOWN else None,
        "our_fault": known(slots.get("our_fault")),
        "demand_related": known(slots.get("demand_related")),
        "identified": known(slots.get("identified")),
        "recorded": known(slots.get("recorded")),
        "alone": known(slots.get("alone")),
        "warnings_given": _code_or_none(WarningLevel, slots.get("warnings_given")),
        **({"police_called": True} if police_called(slots) else {}),
        "staff_present": list(notes.get("staff_present") or []),
        "apologised_for": _joined(notes.get("apologised_for")),
        "answers_given": list(notes.get("answers_given") or []),
        "answer_count": count if isinstance(count, int) and count > 0 else None,
        "injuries": _injuries(slots, notes),
        "employee_condition": _joined(notes.get("employee_condition")),
        "employee_department": department if isinstance(department, str) and department != UNKNOWN else None,
    }


def _code_or_none(enum: type, value: Any) -> str | None:
    try:
        return enum(value).value if value not in (None, UNKNOWN) else None
    except ValueError:
        return None


_QUOTED = re.compile(r"[「『]([^「」『』]{1,200})[」』]")


def quoted_words(texts: Iterable[str]) -> list[str]:
    """The customer's words the employee quoted (「…」 or 『…』), as typed, each once, in order."""
    return list(dict.fromkeys(match.group(1).strip() for text in texts for match in _QUOTED.finditer(text or "")))

