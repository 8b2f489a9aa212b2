"""Everything the rehearsal mode reads, loaded and cross-checked once: scenarios, drills, phrases."""
from __future__ import annotations

from pathlib import Path

from bot.phrases import PhraseLibrary
from bot.rehearsal.casework import load_drills
from bot.rehearsal.scenarios import check_phrases, load_scenarios
from bot.rehearsal.session import Library


def better_phrase(phrases: PhraseLibrary, code: str) -> str | None:
    """The phrase library's text for a checklist item's phrase code (the one way phrases are read here)."""
    phrase = phrases.by_code(code)
    return phrase.text if phrase is not None else None


def load_library(scenarios_dir: Path, drills_file: Path, phrases: PhraseLibrary) -> Library:
    """ScenarioError (file:line) for a scenario or drill file that cannot be used, or a checklist
    phrase the library does not have (or that needs a placeholder filled)."""
    scenarios = load_scenarios(scenarios_dir)
    check_phrases(scenarios, {p.code for p in phrases.phrases if not p.fields})
    return Library(scenarios, load_drills(drills_file), lambda code: better_phrase(phrases, code))
