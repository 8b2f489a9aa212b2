"""Held-out NLU evaluation of the newest trained model.

- tests/nlu_holdout.yml: the regression set (it was used while tuning, so it guards against
  regressions rather than measuring new text). Writes results/nlu_holdout.json.
- tests/nlu_holdout_fresh9/ (main.yml, contrast.yml, danger.yml): the fresh hold-out, written
  by someone who had not seen data/nlu/, the lexicon or the other hold-outs, and measured once;
  its tests are skipped while the directory is missing. ``FRESH_HOLDOUT=dir`` points elsewhere
  (tests/nlu_holdout_fresh7/, the seventh, measured once on totals only; tests/nlu_dev_fresh8/, the
  eighth, measured once and then a dev set;
  tests/nlu_holdout_fresh5/, the fifth, measured twice on totals only; tests/nlu_dev_fresh4/ and
  tests/nlu_dev_fresh6/, the fourth and sixth, became dev sets once their errors were looked at). Writes
  results/nlu_holdout_fresh.json.
- The three fresh hold-outs before those became dev sets once their errors were looked at, and are now
  training data (data/nlu/retired_holdouts/); their danger messages still guard the danger-cue
  rules in tests/test_text_facts.py.

Needs a trained model under models/ (``make train``); without one the tests fail (they are
not skipped: CI must train first). ``NLU_MODEL=path/to/model.tar.gz`` evaluates another
model archive instead.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from bot.nlu_evaluation import agent_parser, evaluate_sets, format_report, load_examples, load_fresh, newest_model, score
from bot.text_facts import danger_cues

ROOT = Path(__file__).resolve().parent.parent
HOLDOUT = ROOT / "tests" / "nlu_holdout.yml"
FRESH = Path(os.environ.get("FRESH_HOLDOUT") or ROOT / "tests" / "nlu_holdout_fresh9")
MODELS = ROOT / "models"
RESULTS = ROOT / "results"

# The same data, config and seed train to different intent accuracies here by CPU (TensorFlow's float results
# differ): 0.961 on an Intel Xeon, 0.944 and, after the lookup changes of 2026-12-02, 0.961 on an AMD EPYC machine of
# this kind. A regression guard, not the bar.
MIN_INTENT_ACCURACY = 0.93
MIN_BEHAVIOR_F1 = 0.90
# The bars for the fresh hold-out.
FRESH_MIN_INTENT_ACCURACY = 0.95
FRESH_MIN_BEHAVIOR_F1 = 0.92
FRESH_MAX_FALSE_ALARM_RATE = 0.05


def _relative(path: str | Path) -> str:
    return str(Path(path).relative_to(ROOT)) if Path(path).is_relative_to(ROOT) else str(path)


@pytest.fixture(scope="module")
def model_and_parse():
    model = os.environ.get("NLU_MODEL") or newest_model(MODELS)
    if model is None or not Path(model).exists():
        pytest.fail(f"no trained model in {MODELS}: run make train", pytrace=False)
    return model, agent_parser(model)


@pytest.fixture(scope="module")
def holdout_scores(model_and_parse):
    model, parse = model_and_parse
    if not HOLDOUT.exists():
        pytest.fail(f"hold-out file missing: {HOLDOUT}", pytrace=False)
    examples = load_examples(HOLDOUT)
    assert examples, f"{HOLDOUT} has no intent examples"
    started = time.perf_counter()
    scores = score(examples, parse)
    elapsed = time.perf_counter() - started
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "nlu_holdout.json").write_text(
        json.dumps(
            {
                "model": _relative(model),
                "data": _relative(HOLDOUT),
                "thresholds": {"intent_accuracy": MIN_INTENT_ACCURACY, "behavior_f1": MIN_BEHAVIOR_F1},
                "seconds": round(elapsed, 2),
                **scores.to_dict(),
            },
            ensure_ascii=False,
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    print("\n" + format_report(scores))
    return scores


def test_intent_accuracy(holdout_scores):
    assert holdout_scores.intent_accuracy >= MIN_INTENT_ACCURACY, format_report(holdout_scores)


def test_behavior_f1(holdout_scores):
    assert holdout_scores.behavior_f1 >= MIN_BEHAVIOR_F1, format_report(holdout_scores)


def _evaluate_fresh(request, directory: Path, results_file: str) -> dict:
    if not directory.is_dir():
        pytest.skip(f"fresh hold-out not written yet: {directory} is missing (the lead adds it and measures once)")
    sets, notes = load_fresh(directory)
    if not sets:
        pytest.skip(f"fresh hold-out has none of main.yml, contrast.yml, danger.yml in {directory}")
    model, parse = request.getfixturevalue("model_and_parse")
    results = evaluate_sets(sets, parse, danger_cues, danger_sets={"fresh/danger"})
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / results_file).write_text(
        json.dumps({"model": _relative(model), "data": _relative(directory), "notes": notes, "sets": results},
                   ensure_ascii=False, indent=2)
        + "\n",
        encoding="utf-8",
    )
    return results


@pytest.fixture(scope="module")
def fresh_results(request):
    return _evaluate_fresh(request, FRESH, "nlu_holdout_fresh.json")


def _set(results: dict, name: str) -> dict:
    if name not in results:
        pytest.skip(f"{name} is not in the fresh hold-out")
    return results[name]


# tests/nlu_holdout_fresh9/, measured once with main's model of 2026-12-03 (trained 14:18 UTC, AMD EPYC, 2 cores),
# totals only: intent 0.907, behaviour micro-F1 0.780 (P 0.787, R 0.772), contrast false alarms 13/150 = 0.087,
# danger cues on 23 of 35 danger messages, the safety message first on 27 of the 28 messages of danger now and on
# 6 of 150 contrast messages. The bars are not met; the marks keep them in the suite and turn into failures once a
# model meets them.
FRESH_BARS_NOT_MET = pytest.mark.xfail(strict=True, reason="fresh hold-out bars not met (README, NLU)")


@FRESH_BARS_NOT_MET
def test_fresh_intent_accuracy(fresh_results):
    nlu = _set(fresh_results, "fresh/all")["nlu"]
    assert nlu["intent_accuracy"] >= FRESH_MIN_INTENT_ACCURACY, nlu["intent_confusion"]


@FRESH_BARS_NOT_MET
def test_fresh_behavior_f1(fresh_results):
    nlu = _set(fresh_results, "fresh/all")["nlu"]
    assert nlu["behavior_f1"] >= FRESH_MIN_BEHAVIOR_F1, nlu["per_behavior"]


@FRESH_BARS_NOT_MET
def test_fresh_contrast_false_alarms(fresh_results):
    nlu = _set(fresh_results, "fresh/contrast")["nlu"]
    assert nlu["contrast_n"] > 0
    assert nlu["false_alarm_rate"] <= FRESH_MAX_FALSE_ALARM_RATE, [e["text"] for e in nlu["errors"] if e["extra_behaviors"]]


@FRESH_BARS_NOT_MET
def test_fresh_danger_cues(fresh_results):
    """Every danger case carries an explicit cue (safety first); contrast cases rarely do."""
    danger = _set(fresh_results, "fresh/danger")["danger_cues"]
    assert danger["missed"] == []
    contrast = _set(fresh_results, "fresh/contrast")["danger_cues"]
    assert contrast["rate"] <= FRESH_MAX_FALSE_ALARM_RATE, contrast["raised"]


@FRESH_BARS_NOT_MET
def test_fresh_safety_message_first(fresh_results):
    """What the employee sees first: the safety message on every case of danger now (a cue or the
    intent `emergency`; the calm reports after the fact in danger.yml are not danger now), and
    on contrast cases only rarely."""
    assert _set(fresh_results, "fresh/danger")["safety_first_now"]["missed"] == []
    contrast = _set(fresh_results, "fresh/contrast")["safety_first"]
    assert contrast["rate"] <= FRESH_MAX_FALSE_ALARM_RATE, contrast["raised"]
