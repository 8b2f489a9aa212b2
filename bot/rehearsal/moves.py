"""The trainee's moves: a deterministic, table-driven classifier over SudachiPy normalised forms.

`classify(text)` returns the moves of one reply, in the order of bot.codes.Move. The tables are
in bot/rehearsal/move_patterns.py; this module only compiles and matches them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from bot.codes import Move
from bot.rehearsal.move_patterns import RULES, SUPPRESSES, MoveRule
from bot.rehearsal.tokens import normalise_text, normalized_forms

GAP = "…"
MAX_GAP_TOKENS = 8
NEGATION_WINDOW = 8  # tokens after a match, up to the end of its clause
NEGATIONS = frozenset({"ず", "ない", "ぬ"})
CLAUSE_ENDS = frozenset({"、", "。", ",", ".", "?", "!"})


@dataclass(frozen=True)
class Pattern:
    source: str
    regex: re.Pattern[str] | None = None
    segments: tuple[tuple[str, ...], ...] = ()

    def match_end(self, text: str, forms: tuple[str, ...]) -> int | None:
        """The token index after the match (for the negation check), or None; a regex match ends at -1."""
        if self.regex is not None:
            return -1 if self.regex.search(text) else None
        return _match_segments(forms, self.segments, 0, None)


def _find(forms: tuple[str, ...], segment: tuple[str, ...], start: int, stop: int) -> int | None:
    size = len(segment)
    for index in range(start, min(stop, len(forms) - size) + 1):
        if forms[index:index + size] == segment:
            return index
    return None


def _match_segments(
    forms: tuple[str, ...], segments: tuple[tuple[str, ...], ...], start: int, gap_limit: int | None
) -> int | None:
    first, rest = segments[0], segments[1:]
    stop = len(forms) if gap_limit is None else start + gap_limit
    position = _find(forms, first, start, stop)
    while position is not None:
        end = position + len(first)
        if not rest:
            return end
        found = _match_segments(forms, rest, end, MAX_GAP_TOKENS)
        if found is not None:
            return found
        if gap_limit is not None:
            return None
        position = _find(forms, first, position + 1, stop)
    return None


@lru_cache(maxsize=None)
def compile_pattern(source: str) -> Pattern:
    if source.startswith("re:"):
        return Pattern(source, regex=re.compile(source[3:]))
    segments = tuple(normalized_forms(part) for part in source.split(GAP))
    if not all(segments):
        raise ValueError(f"empty segment in move pattern {source!r}")
    return Pattern(source, segments=segments)


def _matches(patterns: tuple[str, ...], text: str, forms: tuple[str, ...], negatable: bool = False) -> bool:
    for source in patterns:
        end = compile_pattern(source).match_end(text, forms)
        if end is None:
            continue
        if negatable and end >= 0 and _negated(forms[end:end + NEGATION_WINDOW]):
            continue
        return True
    return False


def _negated(following: tuple[str, ...]) -> bool:
    for form in following:
        if form in CLAUSE_ENDS:
            return False
        if form in NEGATIONS:
            return True
    return False


def _fires(rule: MoveRule, text: str, forms: tuple[str, ...]) -> bool:
    return (
        _matches(rule.any, text, forms, rule.negatable)
        and all(_matches(group, text, forms) for group in rule.also)
        and not _matches(rule.unless, text, forms)
    )


def classify(text: str) -> tuple[Move, ...]:
    """The moves of one trainee reply (possibly none)."""
    normal = normalise_text(text)
    forms = normalized_forms(normal)
    found = {rule.move for rule in RULES if _fires(rule, normal, forms)}
    for move, redundant in SUPPRESSES.items():
        if move in found:
            found -= redundant
    return tuple(move for move in Move if move in found)
