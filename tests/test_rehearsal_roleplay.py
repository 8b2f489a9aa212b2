"""The role-play engine, through every scenario: a good and a poor run each, scored against the
hand-written expectations in tests/rehearsal_runs.py; the customer's reactions; the simulated clock."""
from __future__ import annotations

import pytest

from bot.codes import MISTAKE_MOVES, Move, RehearsalGrade
from bot.rehearsal import roleplay
from bot.rehearsal.library import load_library
from bot.settings import DEFAULT_REHEARSAL_DRILLS, DEFAULT_REHEARSAL_SCENARIOS, load_phrases
from tests.rehearsal_runs import GOOD_RUNS, POOR_RUNS, STOP


@pytest.fixture(scope="module")
def library():
    return load_library(DEFAULT_REHEARSAL_SCENARIOS, DEFAULT_REHEARSAL_DRILLS, load_phrases())


def play(scenario, replies):
    state, opening = roleplay.start(scenario)
    transcript = list(opening)
    for reply in replies:
        if reply == STOP:
            state = roleplay.stop(state)
            break
        turn = roleplay.take_turn(scenario, state, reply)
        state = turn.state
        transcript += turn.lines
    return state, transcript


def test_every_scenario_has_a_good_and_a_poor_run(library):
    assert set(GOOD_RUNS) == set(library.scenarios) == set(POOR_RUNS)


@pytest.mark.parametrize("scenario_id", sorted(GOOD_RUNS))
def test_a_good_run_ends_the_conversation_and_passes_every_item(library, scenario_id):
    scenario = library.scenarios[scenario_id]
    state, transcript = play(scenario, GOOD_RUNS[scenario_id])
    sheet = roleplay.score(scenario, state, library.phrase)
    assert sheet.outcome == roleplay.RESOLVED
    assert transcript[-1] == roleplay.customer(scenario.closing)
    assert [item.id for item in sheet.items if not item.passed] == []
    assert sheet.grade is RehearsalGrade.A
    assert sheet.turns == len(GOOD_RUNS[scenario_id])
    assert all(item.better_phrase is None for item in sheet.items)
    done = [item for item in sheet.items if scenario.checklist[[c.id for c in scenario.checklist].index(item.id)].any]
    assert all(1 <= item.turn <= sheet.turns for item in done)


@pytest.mark.parametrize("scenario_id", sorted(POOR_RUNS))
def test_a_poor_run_misses_items_and_offers_better_phrases(library, scenario_id):
    scenario = library.scenarios[scenario_id]
    replies, passed, mistakes = POOR_RUNS[scenario_id]
    state, _ = play(scenario, replies)
    sheet = roleplay.score(scenario, state, library.phrase)
    assert sheet.outcome == roleplay.STOPPED
    assert {item.id: item.turn for item in sheet.items if item.passed} == passed
    missed = {item.id: item for item in sheet.items if not item.passed}
    assert set(missed) == {c.id for c in scenario.checklist} - set(passed)
    for item_id, turn in mistakes.items():
        assert missed[item_id].turn == turn
    for item in missed.values():
        code = next(c.phrase for c in scenario.checklist if c.id == item.id)
        assert item.better_phrase == load_phrases().by_code(code).text
    assert sheet.grade is RehearsalGrade.D


def test_the_customer_escalates_after_a_mistake_and_calms_after_a_good_move(library):
    scenario = library.scenarios["03_verbal_abuse"]
    state, _ = roleplay.start(scenario)
    turn = roleplay.take_turn(scenario, state, "うるさいですね！")
    assert Move.EMOTIONAL_RETORT in turn.moves and turn.state["stage"] == 0
    assert turn.lines[0] == roleplay.customer(scenario.stages[0].escalates[0])
    turn = roleplay.take_turn(scenario, turn.state, "お待たせしてしまい、申し訳ございません。")
    assert turn.state["stage"] == 1
    assert turn.lines[0] == roleplay.customer(scenario.stages[1].customer)


def test_a_reply_that_moves_nothing_gets_the_customer_repeating(library):
    scenario = library.scenarios["01_time_restraint"]
    state, _ = roleplay.start(scenario)
    first = roleplay.take_turn(scenario, state, "はい。")
    second = roleplay.take_turn(scenario, first.state, "はい。")
    assert first.lines[0] == roleplay.customer(scenario.stages[0].repeats[0])
    assert second.lines[0] == roleplay.customer(scenario.stages[0].repeats[1])
    assert second.state["stage"] == 0 and not second.finished


def test_a_scenario_specific_mistake_gets_its_own_answer(library):
    scenario = library.scenarios["10_our_fault"]
    state, _ = roleplay.start(scenario)
    turn = roleplay.take_turn(scenario, state, "規則上、それはできません。")
    assert Move.CLEAR_REFUSAL not in MISTAKE_MOVES  # a mistake here only, because we were at fault
    assert turn.lines[0] == roleplay.customer(scenario.on_move[Move.CLEAR_REFUSAL])


def test_the_customer_goes_on_past_the_time_limit_until_the_trainee_ends_it(library):
    scenario = library.scenarios["01_time_restraint"]
    replies = GOOD_RUNS["01_time_restraint"][:3] + ["はい。"] * 3
    state, transcript = play(scenario, replies)
    assert state["minutes"] == 6 * scenario.minutes_per_turn > scenario.time_limit_minutes
    assert state["outcome"] is None  # not over: the customer is still talking
    notes = [line for line in transcript if line.startswith(roleplay.NARRATOR_PREFIX) and "分が経ちました" in line]
    assert len(notes) == 1
    end = roleplay.take_turn(scenario, state, GOOD_RUNS["01_time_restraint"][3])
    assert end.finished and end.state["outcome"] == roleplay.RESOLVED


def test_every_customer_line_is_marked_as_role_play(library):
    for scenario_id, replies in GOOD_RUNS.items():
        _, transcript = play(library.scenarios[scenario_id], replies)
        for line in transcript:
            assert line.startswith((roleplay.CUSTOMER_PREFIX, roleplay.NARRATOR_PREFIX))
        assert sum(line.startswith(roleplay.CUSTOMER_PREFIX) for line in transcript) == len(replies) + 1


def test_a_role_play_left_running_ends_at_the_turn_limit(library):
    scenario = library.scenarios["01_time_restraint"]
    state, _ = roleplay.start(scenario)
    for _ in range(roleplay.MAX_TURNS):
        turn = roleplay.take_turn(scenario, state, "はい。")
        state = turn.state
    assert turn.finished and state["outcome"] == roleplay.STOPPED


@pytest.mark.parametrize("share, outcome, critical_missed, expected", [
    (1.0, roleplay.RESOLVED, False, RehearsalGrade.A),
    (0.8, roleplay.RESOLVED, False, RehearsalGrade.B),
    (0.5, roleplay.RESOLVED, False, RehearsalGrade.C),
    (0.2, roleplay.RESOLVED, False, RehearsalGrade.D),
    (1.0, roleplay.STOPPED, False, RehearsalGrade.C),
    (0.9, roleplay.RESOLVED, True, RehearsalGrade.C),
    (0.2, roleplay.STOPPED, True, RehearsalGrade.D),
])
def test_the_grade(share, outcome, critical_missed, expected):
    count = 10
    passed = round(share * count)
    items = tuple(
        roleplay.ItemResult(str(i), "x", i < passed, None, None, critical=critical_missed and i == count - 1)
        for i in range(count)
    )
    assert roleplay.grade(items, outcome) is expected


def test_the_score_sheet_text_names_each_item_its_turn_and_a_better_phrase(library):
    scenario = library.scenarios["03_verbal_abuse"]
    state, _ = play(scenario, ["お待たせしてしまい、申し訳ございません。", "うるさいですね！", STOP])
    text = roleplay.render_score(roleplay.score(scenario, state, library.phrase))
    assert "総合評価：D" in text and "1/4項目" in text and "途中で終了しました" in text
    assert "○ 限定的なお詫びか共感で、まず受け止めた（1回目）" in text
    assert "× 言い返さず、冷静に対応した（2回目）" in text
    assert f"言い換え例：{load_phrases().by_code('ask_to_stop.words').text}" in text
