"""Held-out NLU evaluation: the newest trained model on tests/nlu_holdout.yml.

Needs a trained model under models/ (``make train``); without one the test fails (it is
not skipped: CI must train first). ``NLU_MODEL=path/to/model.tar.gz`` evaluates another
model archive instead. Writes the figures to results/nlu_holdout.json.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from bot.nlu_evaluation import agent_parser, format_report, load_examples, newest_model, score

ROOT = Path(__file__).resolve().parent.parent
HOLDOUT = ROOT / "tests" / "nlu_holdout.yml"
MODELS = ROOT / "models"
RESULTS = ROOT / "results" / "nlu_holdout.json"

MIN_INTENT_ACCURACY = 0.95
MIN_BEHAVIOR_F1 = 0.90


@pytest.fixture(scope="module")
def holdout_scores():
    model = os.environ.get("NLU_MODEL") or newest_model(MODELS)
    if model is None or not Path(model).exists():
        pytest.fail(f"no trained model in {MODELS}: run make train", pytrace=False)
    if not HOLDOUT.exists():
        pytest.fail(f"hold-out file missing: {HOLDOUT}", pytrace=False)
    examples = load_examples(HOLDOUT)
    assert examples, f"{HOLDOUT} has no intent examples"
    parse = agent_parser(model)
    started = time.perf_counter()
    scores = score(examples, parse)
    elapsed = time.perf_counter() - started
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "model": str(Path(model).relative_to(ROOT)) if Path(model).is_relative_to(ROOT) else model,
                "data": str(HOLDOUT.relative_to(ROOT)),
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
