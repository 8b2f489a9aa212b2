"""The trainee's moves: the classifier on its dev examples, and on the independent hold-out
(tests/rehearsal_holdout/moves.yml, written by someone who never saw the pattern tables)."""
from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from bot.codes import Move
from bot.rehearsal.evaluate import MoveFileError, evaluate, read_labelled
from bot.rehearsal.moves import classify

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT / "tests" / "rehearsal_dev_moves.yml"
HOLDOUT = ROOT / "tests" / "rehearsal_holdout" / "moves.yml"
BAR = 0.90


def test_the_dev_examples_cover_every_move():
    examples = read_labelled(DEV)
    assert {move for example in examples for move in example.moves} == set(Move)


def test_the_dev_examples_score_at_least_the_bar_for_every_move():
    report = evaluate(read_labelled(DEV), classify)
    assert min(score.accuracy for score in report.per_move) >= BAR
    assert report.exact_set_accuracy >= BAR


@pytest.mark.skipif(not HOLDOUT.exists(), reason=f"the move hold-out {HOLDOUT} is not in this checkout")
def test_the_holdout_scores_at_least_the_bar_for_every_move():
    report = evaluate(read_labelled(HOLDOUT), classify)
    low = {score.move.value: round(score.accuracy, 3) for score in report.per_move if score.accuracy < BAR}
    assert not low, f"per-move accuracy below {BAR}: {low}"


@pytest.mark.parametrize("text, moves", [
    ("検討いたします。", {Move.PROMISE_OR_CONSIDER}),
    ("検討させていただきます。", {Move.PROMISE_OR_CONSIDER}),
    ("いたしかねます。", {Move.CLEAR_REFUSAL}),
    ("出来かねます。", {Move.CLEAR_REFUSAL}),
    ("上司に代わります。", {Move.HANDOVER_SUPERVISOR}),
    ("上司には代わりません。", {Move.CLEAR_REFUSAL}),
    ("警察には通報していません。", set()),
    ("ＬＩＮＥは教えられません。", {Move.CLEAR_REFUSAL}),
    ("", set()),
])
def test_conjugations_keigo_and_negation(text, moves):
    assert set(classify(text)) == moves


def test_threads_can_classify_at_the_same_time():
    errors: list[BaseException] = []
    expected = classify("お電話ありがとうございます。ご不便をおかけして申し訳ございません。")

    def work() -> None:
        try:
            for _ in range(200):
                assert classify("お電話ありがとうございます。ご不便をおかけして申し訳ございません。") == expected
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_a_per_move_score_counts_true_negatives():
    from bot.rehearsal.evaluate import Labelled
    report = evaluate([Labelled("x", frozenset({Move.THANKS})), Labelled("y", frozenset())], lambda text: [])
    thanks = next(s for s in report.per_move if s.move is Move.THANKS)
    assert (thanks.accuracy, thanks.recall, thanks.f1) == (0.5, 0.0, 0.0)
    assert report.exact_set_accuracy == 0.5


def test_the_command_line_reports_every_move_and_refuses_a_bad_file(tmp_path):
    done = subprocess.run([sys.executable, "-m", "bot.rehearsal.evaluate", "--data", str(DEV), "--json"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    import json
    report = json.loads(done.stdout)
    assert set(report["per_move"]) == {m.value for m in Move}
    assert report["messages"] == len(read_labelled(DEV))
    bad = tmp_path / "bad.yml"
    bad.write_text("version: 1\nmessages:\n  - {text: a, moves: [thank_you]}\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "bot.rehearsal.evaluate", "--data", str(bad)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "unknown code 'thank_you'" in done.stderr
    with pytest.raises(MoveFileError, match="version: 1"):
        bad.write_text("messages: []\n", encoding="utf-8")
        read_labelled(bad)
