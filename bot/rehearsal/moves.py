"""The trainee's moves: a deterministic, table-driven classifier over SudachiPy normalised forms.

`classify(text)` returns the moves of one reply, in the order of bot.codes.Move. The tables are
in bot/rehearsal/move_patterns.py; this module only compiles and matches them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from bot.codes import Move
from bot.rehearsal.move_patterns import RULES, SUPPRESSES
from bot.rehearsal.tokens import normalise_text, normalized_forms

GAP = "…"
MAX_GAP_TOKENS = 8
NEGATION_WINDOW = 8  # tokens after a match, up to the end of its clause
NEGATIONS = frozenset({"ず", "ない", "ぬ"})
CLAUSE_ENDS = frozenset({"、", "。", ",", ".", "?", "!"})


@dataclass(frozen=True)
class Reply:
    """A reply as the patterns see it: its text, its normalised forms, and where each form is."""

    text: str
    forms: tuple[str, ...]
    positions: dict[str, list[int]]

    @classmethod
    def read(cls, text: str) -> "Reply":
        normal = normalise_text(text)
        forms = normalized_forms(normal)
        positions: dict[str, list[int]] = {}
        for index, form in enumerate(forms):
            positions.setdefault(form, []).append(index)
        return cls(normal, forms, positions)


@dataclass(frozen=True)
class Pattern:
    source: str
    regex: re.Pattern[str] | None = None
    segments: tuple[tuple[str, ...], ...] = ()

    def match_end(self, reply: Reply) -> int | None:
        """The token index after the match (for the negation check), or None; a regex match ends at -1."""
        if self.regex is not None:
            return -1 if self.regex.search(reply.text) else None
        return _match_segments(reply, self.segments, 0, None)


def _match_segments(reply: Reply, segments: tuple[tuple[str, ...], ...], start: int, gap_limit: int | None) -> int | None:
    first, rest = segments[0], segments[1:]
    stop = len(reply.forms) if gap_limit is None else start + gap_limit
    for position in reply.positions.get(first[0], ()):
        if position < start or position > stop:
            continue
        end = position + len(first)
        if reply.forms[position:end] != first:
            continue
        if not rest:
            return end
        found = _match_segments(reply, rest, end, MAX_GAP_TOKENS)
        if found is not None:
            return found
    return None


def compile_pattern(source: str) -> Pattern:
    if source.startswith("re:"):
        return Pattern(source, regex=re.compile(source[3:]))
    segments = tuple(normalized_forms(part) for part in source.split(GAP))
    if not all(segments):
        raise ValueError(f"empty segment in move pattern {source!r}")
    return Pattern(source, segments=segments)


class PatternGroup:
    """Patterns compiled once and indexed by their first form, so a reply tries only those
    whose first form it contains."""

    def __init__(self, sources: tuple[str, ...]) -> None:
        patterns = [compile_pattern(source) for source in sources]
        self.regexes = [p for p in patterns if p.regex is not None]
        self.by_first: dict[str, list[Pattern]] = {}
        for pattern in patterns:
            if pattern.regex is None:
                self.by_first.setdefault(pattern.segments[0][0], []).append(pattern)

    def matches(self, reply: Reply, negatable: bool = False) -> bool:
        if any(p.regex.search(reply.text) for p in self.regexes):
            return True
        for form in reply.positions:
            for pattern in self.by_first.get(form, ()):
                end = pattern.match_end(reply)
                if end is not None and not (negatable and _negated(reply.forms[end:end + NEGATION_WINDOW])):
                    return True
        return False


def _negated(following: tuple[str, ...]) -> bool:
    for form in following:
        if form in CLAUSE_ENDS:
            return False
        if form in NEGATIONS:
            return True
    return False


@dataclass(frozen=True)
class CompiledRule:
    move: Move
    any: PatternGroup
    also: tuple[PatternGroup, ...]
    unless: PatternGroup
    negatable: bool

    def fires(self, reply: Reply) -> bool:
        return (
            self.any.matches(reply, self.negatable)
            and all(group.matches(reply) for group in self.also)
            and not self.unless.matches(reply)
        )


@lru_cache(maxsize=1)
def compiled_rules() -> tuple[CompiledRule, ...]:
    return tuple(
        CompiledRule(rule.move, PatternGroup(rule.any), tuple(PatternGroup(g) for g in rule.also),
                     PatternGroup(rule.unless), rule.negatable)
        for rule in RULES
    )


def classify(text: str) -> tuple[Move, ...]:
    """The moves of one trainee reply (possibly none)."""
    reply = Reply.read(text)
    found = {rule.move for rule in compiled_rules() if rule.fires(reply)}
    for move, redundant in SUPPRESSES.items():
        if move in found:
            found -= redundant
    return tuple(move for move in Move if move in found)
