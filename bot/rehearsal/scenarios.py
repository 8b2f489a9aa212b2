"""The scenario library: one YAML file per scenario (rehearsal/scenarios/*.yml), read and checked
when loaded; every error names the file and line. A trainer adds a scenario by adding a file.

A scenario: who the customer is, the stages of the conversation (the customer's lines when a stage
begins, when the trainee does not move it on, and after a mistake), the moves that move each stage
on, the checklist the trainee is scored against, the simulated time limit, and the written case
(facts for bot.assessment) the case study (事例検討) shows.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.assessment import Facts, FactsError, assess
from bot.codes import HarassmentType, Move, SituationChannel, Verdict

# The verdicts a trainee can choose in a case study; a case's facts must give one of them.
CASE_VERDICTS: tuple[Verdict, ...] = (
    Verdict.LEGITIMATE, Verdict.UNREASONABLE_REQUEST, Verdict.HARASSMENT, Verdict.CRIMINAL,
)
KINDS = ("harassment", "legitimate", "mixed")

_SCENARIO_KEYS = {
    "title", "kind", "type", "channel", "persona", "opening", "time_limit_minutes", "minutes_per_turn",
    "stages", "closing", "on_move", "checklist", "case",
}
_REQUIRED = ("title", "kind", "channel", "persona", "opening", "time_limit_minutes", "stages", "closing", "checklist", "case")
_STAGE_KEYS = {"name", "customer", "repeats", "escalates", "advance_on", "bad"}
_ITEM_KEYS = {"id", "label", "any", "never", "by_turn", "after", "phrase", "critical"}
_CASE_KEYS = {"text", "facts"}


class ScenarioError(ValueError):
    """A scenario file that cannot be used; the message starts with file:line."""


@dataclass(frozen=True)
class Stage:
    name: str
    customer: str  # said when the stage begins (the first stage begins with the opening line)
    repeats: tuple[str, ...]  # said, in turn, while the trainee does not move the stage on
    escalates: tuple[str, ...]  # said after a mistake, one step harder each time
    advance_on: frozenset[Move]  # any of these moves the conversation on (the last stage: ends it)
    bad: frozenset[Move]  # mistakes here besides the general ones (bot.codes.MISTAKE_MOVES)


@dataclass(frozen=True)
class ChecklistItem:
    id: str
    label: str
    any: frozenset[Move]  # passed when one of these moves is made ...
    never: frozenset[Move]  # ... or, for a "never" item, when none of these is ever made
    by_turn: int | None  # the move must come by this turn
    after: Move | None  # the move counts only at or after the first turn with this move
    phrase: str  # phrase library code of a better phrase, shown when missed
    critical: bool
    line: int = 1


@dataclass(frozen=True)
class Case:
    text: str
    facts: Facts


@dataclass(frozen=True)
class Scenario:
    id: str
    file: str
    title: str
    kind: str
    type: HarassmentType | None
    channel: SituationChannel
    persona: str
    opening: str
    time_limit_minutes: int
    minutes_per_turn: int
    stages: tuple[Stage, ...]
    closing: str
    on_move: dict[Move, str]  # the customer's answer to a particular mistake, wherever it comes
    checklist: tuple[ChecklistItem, ...]
    case: Case

    def expected_verdict(self) -> Verdict:
        return assess(self.case.facts, self.time_limit_minutes).verdict


class _Reader:
    """Plain values from a YAML file, remembering each value's line for error messages."""

    def __init__(self, file: str, text: str) -> None:
        self.file = file
        self.lines: dict[tuple, int] = {}
        try:
            root = yaml.compose(text)
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            raise ScenarioError(f"{file}:{mark.line + 1 if mark else 1}: not valid YAML: {getattr(error, 'problem', error)}") from None
        if root is None:
            raise ScenarioError(f"{file}:1: the file is empty")
        self.data = self._value(root, ())

    def _value(self, node: yaml.Node, path: tuple) -> Any:
        self.lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            result = {}
            for key_node, value_node in node.value:
                key = key_node.value
                if key in result:
                    raise ScenarioError(f"{self.file}:{key_node.start_mark.line + 1}: duplicate key '{key}'")
                result[key] = self._value(value_node, (*path, key))
                self.lines[(*path, key)] = key_node.start_mark.line + 1
            return result
        if isinstance(node, yaml.SequenceNode):
            return [self._value(item, (*path, index)) for index, item in enumerate(node.value)]
        return yaml.safe_load(yaml.serialize(node))

    def error(self, path: tuple, message: str) -> ScenarioError:
        while path not in self.lines and path:
            path = path[:-1]
        return ScenarioError(f"{self.file}:{self.lines.get(path, 1)}: {message}")

    def mapping(self, path: tuple, value: Any, allowed: set[str], required: tuple[str, ...] = ()) -> dict:
        if not isinstance(value, dict):
            raise self.error(path, f"{_where(path)} must be a mapping")
        for key in value:
            if key not in allowed:
                raise self.error((*path, key), f"unknown key '{key}' (known: {', '.join(sorted(allowed))})")
        for key in required:
            if key not in value:
                raise self.error(path, f"'{key}' is required in {_where(path)}")
        return value

    def text(self, path: tuple, value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.error(path, f"{_where(path)} must be a non-empty string")
        return value.strip()

    def texts(self, path: tuple, value: Any, allow_empty: bool = False) -> tuple[str, ...]:
        if value is None and allow_empty:
            return ()
        if not isinstance(value, list) or (not value and not allow_empty):
            raise self.error(path, f"{_where(path)} must be a non-empty list of strings")
        return tuple(self.text((*path, index), item) for index, item in enumerate(value))

    def integer(self, path: tuple, value: Any, minimum: int) -> int:
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            raise self.error(path, f"{_where(path)} must be an integer of at least {minimum}")
        return value

    def code(self, path: tuple, enum: type, value: Any) -> Any:
        try:
            return enum.parse(self.text(path, value))
        except ValueError as error:
            raise self.error(path, f"{_where(path)}: {error}") from None

    def moves(self, path: tuple, value: Any, allow_empty: bool = False) -> frozenset[Move]:
        if value is None and allow_empty:
            return frozenset()
        if not isinstance(value, list) or (not value and not allow_empty):
            raise self.error(path, f"{_where(path)} must be a non-empty list of move codes")
        return frozenset(self.code((*path, index), Move, item) for index, item in enumerate(value))


def _where(path: tuple) -> str:
    return ".".join(str(part) for part in path) or "the file"


def _stage(reader: _Reader, path: tuple, value: Any, first: bool) -> Stage:
    data = reader.mapping(path, value, _STAGE_KEYS, ("name", "repeats", "advance_on"))
    if not first and "customer" not in data:
        raise reader.error(path, f"'customer' is required in {_where(path)} (what the customer says when it begins)")
    return Stage(
        name=reader.text((*path, "name"), data["name"]),
        customer=reader.text((*path, "customer"), data["customer"]) if "customer" in data else "",
        repeats=reader.texts((*path, "repeats"), data["repeats"]),
        escalates=reader.texts((*path, "escalates"), data.get("escalates"), allow_empty=True),
        advance_on=reader.moves((*path, "advance_on"), data["advance_on"]),
        bad=reader.moves((*path, "bad"), data.get("bad"), allow_empty=True),
    )


def _item(reader: _Reader, path: tuple, value: Any, seen: set[str]) -> ChecklistItem:
    data = reader.mapping(path, value, _ITEM_KEYS, ("id", "label", "phrase"))
    item_id = reader.text((*path, "id"), data["id"])
    if item_id in seen:
        raise reader.error((*path, "id"), f"checklist id '{item_id}' is used twice")
    seen.add(item_id)
    if ("any" in data) == ("never" in data):
        raise reader.error(path, f"checklist item '{item_id}' needs exactly one of 'any' and 'never'")
    critical = data.get("critical", False)
    if not isinstance(critical, bool):
        raise reader.error((*path, "critical"), "critical must be true or false")
    return ChecklistItem(
        id=item_id,
        label=reader.text((*path, "label"), data["label"]),
        any=reader.moves((*path, "any"), data["any"]) if "any" in data else frozenset(),
        never=reader.moves((*path, "never"), data["never"]) if "never" in data else frozenset(),
        by_turn=reader.integer((*path, "by_turn"), data["by_turn"], 1) if "by_turn" in data else None,
        after=reader.code((*path, "after"), Move, data["after"]) if "after" in data else None,
        phrase=reader.text((*path, "phrase"), data["phrase"]),
        critical=critical,
        line=reader.lines.get((*path, "phrase"), 1),
    )


def facts_path(path: tuple, field: str) -> tuple:
    """Where a FactsError's field ("behaviors[0]") is, under the facts at `path`."""
    name, _, index = field.partition("[")
    return (*path, name, int(index.rstrip("]"))) if index.rstrip("]").isdigit() else (*path, name)


def _case(reader: _Reader, path: tuple, value: Any, limit: int) -> Case:
    data = reader.mapping(path, value, _CASE_KEYS, ("text", "facts"))
    try:
        facts = Facts.from_dict(data["facts"])
    except FactsError as error:
        raise reader.error(facts_path((*path, "facts"), error.field), f"case.facts: {error.field}: {error.message_en}") from None
    verdict = assess(facts, limit).verdict
    if verdict not in CASE_VERDICTS:
        raise reader.error(
            (*path, "facts"),
            f"case.facts give the verdict '{verdict.value}'; a case study needs one of "
            f"{', '.join(v.value for v in CASE_VERDICTS)} (add the facts that decide it)",
        )
    text = "".join(line.strip() for line in reader.text((*path, "text"), data["text"]).splitlines())
    return Case(text=text, facts=facts)


def parse_scenario(text: str, file: str, scenario_id: str) -> Scenario:
    reader = _Reader(file, text)
    data = reader.mapping((), reader.data, _SCENARIO_KEYS, _REQUIRED)
    kind = reader.text(("kind",), data["kind"])
    if kind not in KINDS:
        raise reader.error(("kind",), f"kind must be one of {', '.join(KINDS)}")
    scenario_type = reader.code(("type",), HarassmentType, data["type"]) if "type" in data else None
    if kind != "legitimate" and scenario_type is None:
        raise reader.error((), f"'type' (a harassment type code) is required for kind '{kind}'")
    stages_value = data["stages"]
    if not isinstance(stages_value, list) or not stages_value:
        raise reader.error(("stages",), "stages must be a non-empty list")
    stages = tuple(_stage(reader, ("stages", i), v, i == 0) for i, v in enumerate(stages_value))
    on_move_value = reader.mapping(("on_move",), data.get("on_move") or {}, {m.value for m in Move})
    checklist_value = data["checklist"]
    if not isinstance(checklist_value, list) or not checklist_value:
        raise reader.error(("checklist",), "checklist must be a non-empty list")
    seen: set[str] = set()
    limit = reader.integer(("time_limit_minutes",), data["time_limit_minutes"], 1)
    return Scenario(
        id=scenario_id,
        file=file,
        title=reader.text(("title",), data["title"]),
        kind=kind,
        type=scenario_type,
        channel=reader.code(("channel",), SituationChannel, data["channel"]),
        persona=reader.text(("persona",), data["persona"]),
        opening=reader.text(("opening",), data["opening"]),
        time_limit_minutes=limit,
        minutes_per_turn=reader.integer(("minutes_per_turn",), data.get("minutes_per_turn", 5), 1),
        stages=stages,
        closing=reader.text(("closing",), data["closing"]),
        on_move={Move(key): reader.text(("on_move", key), line) for key, line in on_move_value.items()},
        checklist=tuple(_item(reader, ("checklist", i), v, seen) for i, v in enumerate(checklist_value)),
        case=_case(reader, ("case",), data["case"], limit),
    )


def load_scenarios(folder: Path) -> dict[str, Scenario]:
    """Every *.yml in `folder`, by id (the file name without .yml), in file-name order."""
    files = sorted(folder.glob("*.yml"))
    if not files:
        raise ScenarioError(f"{folder}:1: no scenario files (*.yml) found")
    scenarios = {}
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise ScenarioError(f"{path}:1: cannot read: {error}") from None
        scenarios[path.stem] = parse_scenario(text, str(path), path.stem)
    return scenarios


def check_phrases(scenarios: dict[str, Scenario], known_codes: set[str]) -> None:
    """Every checklist item names a phrase the library has (its file and line otherwise)."""
    for scenario in scenarios.values():
        for item in scenario.checklist:
            if item.phrase not in known_codes:
                raise ScenarioError(f"{scenario.file}:{item.line}: checklist item '{item.id}': phrase '{item.phrase}' is not in the phrase library (or needs a placeholder)")
