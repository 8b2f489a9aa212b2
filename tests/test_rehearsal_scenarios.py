"""The scenario library: what it holds, and that a broken file is refused with its file and line."""
from __future__ import annotations

from pathlib import Path

import pytest

from bot.codes import HarassmentType, Verdict
from bot.rehearsal.casework import load_drills, parse_drills
from bot.rehearsal.library import load_library
from bot.rehearsal.scenarios import ScenarioError, load_scenarios, parse_scenario
from bot.settings import DEFAULT_REHEARSAL_DRILLS, DEFAULT_REHEARSAL_SCENARIOS, load_phrases

SCENARIOS = DEFAULT_REHEARSAL_SCENARIOS


def test_the_library_covers_every_mhlw_type_and_the_three_contrast_cases():
    scenarios = load_scenarios(SCENARIOS)
    assert len(scenarios) >= 12
    harassment_types = {s.type for s in scenarios.values() if s.kind == "harassment"}
    assert harassment_types == set(HarassmentType)
    legitimate = [s for s in scenarios.values() if s.kind == "legitimate"]
    assert {s.id for s in legitimate} == {"10_our_fault", "11_loud_legitimate"}
    assert [s.id for s in scenarios.values() if s.kind == "mixed"] == ["12_mixed"]
    # the case facts agree with the kind: legitimate complaints are never labelled harassment
    for scenario in scenarios.values():
        verdict = scenario.expected_verdict()
        if scenario.kind == "legitimate":
            assert verdict is Verdict.LEGITIMATE, scenario.id
        else:
            assert verdict in (Verdict.HARASSMENT, Verdict.CRIMINAL), scenario.id
    assert scenarios["10_our_fault"].case.facts.our_fault is True
    assert scenarios["12_mixed"].case.facts.our_fault is True


def test_the_scenarios_are_outside_data_so_rasa_training_never_reads_them():
    assert SCENARIOS.parent.name == "rehearsal" and SCENARIOS.parent.parent == Path(__file__).resolve().parent.parent
    assert not (SCENARIOS.parent.parent / "data" / "rehearsal").exists()


def test_every_checklist_phrase_is_in_the_phrase_library():
    library = load_library(SCENARIOS, DEFAULT_REHEARSAL_DRILLS, load_phrases())
    for scenario in library.scenarios.values():
        for item in scenario.checklist:
            assert library.phrase(item.phrase), (scenario.id, item.id)


def test_a_trainer_adds_a_scenario_by_adding_a_file(tmp_path):
    for path in SCENARIOS.glob("*.yml"):
        (tmp_path / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    source = (SCENARIOS / "03_verbal_abuse.yml").read_text(encoding="utf-8")
    (tmp_path / "13_new.yml").write_text(source.replace("窓口での暴言（暴言型）", "新しいシナリオ"), encoding="utf-8")
    scenarios = load_scenarios(tmp_path)
    assert scenarios["13_new"].title == "新しいシナリオ"
    assert len(scenarios) == len(load_scenarios(SCENARIOS)) + 1


def _broken(old: str, new: str) -> str:
    source = (SCENARIOS / "03_verbal_abuse.yml").read_text(encoding="utf-8")
    assert old in source
    return source.replace(old, new, 1)


def _line_of(text: str, fragment: str) -> int:
    return text[: text.index(fragment)].count("\n") + 1


@pytest.mark.parametrize("old, new, marker, message", [
    ("advance_on: [request_to_stop]", "advance_on: [request_to_sto]", "advance_on: [request_to_sto]", "unknown code 'request_to_sto'"),
    ("channel: counter", "channel: fax", "channel: fax", "unknown code 'fax'"),
    ("time_limit_minutes: 30", "time_limit_minutes: -1", "time_limit_minutes: -1", "at least 1"),
    ("    phrase: ask_to_stop.words\n    critical: true", "    phrase: ask_to_stop.words\n    critical: yes please",
     "critical: yes please", "critical must be true or false"),
    ("  - name: やめるようお願いする\n    customer:", "  - name: やめるようお願いする\n    custmer:", "custmer:", "unknown key 'custmer'"),
    ("    behaviors: [verbal_abuse]", "    behaviors: [shouting]", "behaviors: [shouting]", "unknown code 'shouting'"),
])
def test_a_broken_scenario_is_refused_with_its_file_and_line(old, new, marker, message):
    text = _broken(old, new)
    with pytest.raises(ScenarioError) as raised:
        parse_scenario(text, "rehearsal/scenarios/99_broken.yml", "99_broken")
    assert str(raised.value).startswith(f"rehearsal/scenarios/99_broken.yml:{_line_of(text, marker)}: ")
    assert message in str(raised.value)


def test_a_missing_field_and_bad_yaml_are_refused_with_a_line():
    text = _broken("closing: ", "closed: ")
    with pytest.raises(ScenarioError, match=r"^x.yml:\d+: unknown key 'closed'"):
        parse_scenario(text, "x.yml", "x")
    with pytest.raises(ScenarioError, match=r"^x.yml:2: not valid YAML"):
        parse_scenario("title: a\n  - : [", "x.yml", "x")
    with pytest.raises(ScenarioError, match=r"^x.yml:1: 'kind' is required"):
        parse_scenario("title: a\n", "x.yml", "x")


def test_a_case_whose_facts_decide_nothing_is_refused():
    text = _broken("    our_fault: false\n    channel: counter", "    channel: counter").replace(
        "    behaviors: [verbal_abuse]", "    behaviors: []")
    with pytest.raises(ScenarioError, match="verdict 'gray'"):
        parse_scenario(text, "x.yml", "x")


def test_a_checklist_phrase_the_library_lacks_is_refused_with_its_line(tmp_path):
    text = _broken("phrase: warning.ends", "phrase: warning.nowhere")
    (tmp_path / "03_verbal_abuse.yml").write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as raised:
        load_library(tmp_path, DEFAULT_REHEARSAL_DRILLS, load_phrases())
    assert f"03_verbal_abuse.yml:{_line_of(text, 'phrase: warning.nowhere')}:" in str(raised.value)
    assert "warning.nowhere" in str(raised.value)


def test_an_empty_folder_is_refused(tmp_path):
    with pytest.raises(ScenarioError, match="no scenario files"):
        load_scenarios(tmp_path)


def test_the_drill_is_half_legitimate_and_checked():
    drills = load_drills(DEFAULT_REHEARSAL_DRILLS)
    assert sum(case.is_legitimate() for case in drills) * 2 == len(drills) >= 8
    text = DEFAULT_REHEARSAL_DRILLS.read_text(encoding="utf-8")
    lopsided = text.replace("facts: {behaviors: [], our_fault: true, channel: phone}",
                            "facts: {behaviors: [threat], our_fault: false, channel: phone}")
    with pytest.raises(ScenarioError, match=r"half of the drill cases must be legitimate complaints \(4 of 10"):
        parse_drills(lopsided, "drills.yml")
