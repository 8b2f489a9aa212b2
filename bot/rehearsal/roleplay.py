"""The role-play engine: the bot plays the customer of a scenario and reacts to the trainee's moves.

Pure and deterministic: the state is a plain dict (JSON-safe, kept in one Rasa slot), the same
replies give the same conversation and the same score sheet. Time is simulated: each reply
costs the scenario's minutes_per_turn, and the customer goes on past the time limit until the
trainee ends the conversation properly.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from bot.codes import MISTAKE_MOVES, Move, RehearsalGrade
from bot.rehearsal.moves import classify
from bot.rehearsal.scenarios import ChecklistItem, Scenario

CUSTOMER_PREFIX = "【ロールプレイ：お客様】"
NARRATOR_PREFIX = "【研修】"
MAX_TURNS = 30  # a role-play left running ends here, scored as stopped

RESOLVED = "resolved"  # the trainee brought the conversation to its proper end
STOPPED = "stopped"  # the trainee stopped the role-play (or it ran out of turns)

State = dict[str, Any]
PhraseLookup = Callable[[str], str | None]


def customer(line: str) -> str:
    return f"{CUSTOMER_PREFIX}{line}"


def narrator(line: str) -> str:
    return f"{NARRATOR_PREFIX}{line}"


def start(scenario: Scenario) -> tuple[State, list[str]]:
    state: State = {
        "scenario": scenario.id, "stage": 0, "turn": 0, "minutes": 0, "escalation": 0,
        "repeat": 0, "moves": [], "outcome": None, "time_noted": False,
    }
    lines = [
        narrator(f"「{scenario.title}」を始めます。あなたは職員として、いつもの言葉で答えてください。"
                 f"お客様：{scenario.persona}（対応時間の目安は{scenario.time_limit_minutes}分です）"),
        narrator("この会話は練習です。相談記録は作られません。やめるときは「研修を終える」と送ってください。"),
        customer(scenario.opening),
    ]
    return state, lines


@dataclass(frozen=True)
class TurnResult:
    state: State
    lines: list[str]
    moves: tuple[Move, ...]
    finished: bool


def take_turn(scenario: Scenario, state: State, text: str) -> TurnResult:
    """One trainee reply: classify it, let the customer react, advance the simulated clock."""
    if state.get("outcome"):
        return TurnResult(state, [], (), True)
    moves = classify(text)
    state = {**state, "turn": state["turn"] + 1, "moves": [*state["moves"], [m.value for m in moves]],
             "minutes": state["minutes"] + scenario.minutes_per_turn}
    stage = scenario.stages[state["stage"]]
    mistakes = [m for m in moves if m in MISTAKE_MOVES or m in stage.bad]
    lines: list[str] = []
    if mistakes:
        level = state["escalation"]
        state["escalation"] = level + 1
        special = next((scenario.on_move[m] for m in mistakes if m in scenario.on_move), None)
        options = stage.escalates or stage.repeats
        lines.append(customer(special or options[min(level, len(options) - 1)]))
    elif set(moves) & stage.advance_on:
        state["escalation"] = max(0, state["escalation"] - 1)
        state["repeat"] = 0
        if state["stage"] + 1 == len(scenario.stages):
            state["outcome"] = RESOLVED
            lines.append(customer(scenario.closing))
            return TurnResult(state, lines, moves, True)
        state["stage"] += 1
        lines.append(customer(scenario.stages[state["stage"]].customer))
    else:
        lines.append(customer(stage.repeats[state["repeat"] % len(stage.repeats)]))
        state["repeat"] += 1
    if state["minutes"] >= scenario.time_limit_minutes and not state["time_noted"]:
        state["time_noted"] = True
        lines.append(narrator(f"対応を始めてから{state['minutes']}分が経ちました（目安は{scenario.time_limit_minutes}分）。"
                              "お客様は話を続けています。"))
    if state["turn"] >= MAX_TURNS:
        state["outcome"] = STOPPED
        lines.append(narrator(f"{MAX_TURNS}回のやりとりに達したため、ここで終えます。"))
        return TurnResult(state, lines, moves, True)
    return TurnResult(state, lines, moves, False)


def stop(state: State) -> State:
    return state if state.get("outcome") else {**state, "outcome": STOPPED}


@dataclass(frozen=True)
class ItemResult:
    id: str
    label: str
    passed: bool
    turn: int | None  # where it was done (or, for a "never" item, where the mistake came)
    better_phrase: str | None  # for a miss, from the phrase library
    critical: bool


@dataclass(frozen=True)
class ScoreSheet:
    scenario_id: str
    title: str
    outcome: str
    turns: int
    minutes: int
    items: tuple[ItemResult, ...]
    grade: RehearsalGrade

    @property
    def passed(self) -> int:
        return sum(item.passed for item in self.items)

    def to_dict(self) -> dict:
        return {
            "scenario": self.scenario_id, "title": self.title, "outcome": self.outcome,
            "turns": self.turns, "minutes": self.minutes, "grade": self.grade.value,
            "passed": self.passed, "total": len(self.items),
            "items": [
                {"id": i.id, "label": i.label, "passed": i.passed, "turn": i.turn,
                 "better_phrase": i.better_phrase, "critical": i.critical}
                for i in self.items
            ],
        }


def _first_turn(turn_moves: list[set[Move]], wanted: frozenset[Move], from_turn: int = 1) -> int | None:
    for number, moves in enumerate(turn_moves, start=1):
        if number >= from_turn and moves & wanted:
            return number
    return None


def _judge(item: ChecklistItem, turn_moves: list[set[Move]]) -> tuple[bool, int | None]:
    if item.never:
        turn = _first_turn(turn_moves, item.never)
        return turn is None, turn
    from_turn = 1
    if item.after is not None:
        after_turn = _first_turn(turn_moves, frozenset({item.after}))
        if after_turn is None:
            return False, None
        from_turn = after_turn
    turn = _first_turn(turn_moves, item.any, from_turn)
    if turn is not None and item.by_turn is not None and turn > item.by_turn:
        return False, turn
    return turn is not None, turn


def grade(items: tuple[ItemResult, ...], outcome: str) -> RehearsalGrade:
    """A: all but a tenth passed; B: seven in ten; C: four in ten; D below. A critical miss or a
    conversation not brought to its end gives C at best."""
    share = sum(item.passed for item in items) / len(items)
    found = (RehearsalGrade.A if share >= 0.9 else RehearsalGrade.B if share >= 0.7
             else RehearsalGrade.C if share >= 0.4 else RehearsalGrade.D)
    capped = outcome != RESOLVED or any(item.critical and not item.passed for item in items)
    order = list(RehearsalGrade)
    return order[max(order.index(found), order.index(RehearsalGrade.C))] if capped else found


def score(scenario: Scenario, state: State, phrase: PhraseLookup) -> ScoreSheet:
    turn_moves = [{Move(code) for code in codes} for codes in state["moves"]]
    items = []
    for item in scenario.checklist:
        passed, turn = _judge(item, turn_moves)
        items.append(ItemResult(item.id, item.label, passed, turn, None if passed else phrase(item.phrase), item.critical))
    results = tuple(items)
    outcome = state.get("outcome") or STOPPED
    return ScoreSheet(scenario.id, scenario.title, outcome, state["turn"], state["minutes"], results, grade(results, outcome))


def render_score(sheet: ScoreSheet) -> str:
    ending = "最後まで対応できました" if sheet.outcome == RESOLVED else "途中で終了しました"
    lines = [
        f"{NARRATOR_PREFIX}採点結果：「{sheet.title}」",
        f"総合評価：{sheet.grade.value}（{sheet.grade.label}）　{sheet.passed}/{len(sheet.items)}項目　"
        f"{sheet.turns}回のやりとり・約{sheet.minutes}分・{ending}",
    ]
    for item in sheet.items:
        where = f"（{item.turn}回目）" if item.turn else ""
        if item.passed:
            lines.append(f"○ {item.label}{where}")
        else:
            lines.append(f"× {item.label}{where}")
            if item.better_phrase:
                lines.append(f"　言い換え例：{item.better_phrase}")
    return "\n".join(lines)
