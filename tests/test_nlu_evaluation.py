"""bot.nlu_evaluation scoring with a stub parse function (no model needed)."""
from __future__ import annotations

import json

from bot.codes import DangerCue
from bot.nlu_evaluation import (
    Example,
    cross_validation_summary,
    danger_scores,
    evaluate_sets,
    load_fresh,
    main,
    render_markdown,
    score,
    write_report,
)


def _ex(text: str, intent: str, *codes: str) -> Example:
    return Example(text=text, intent=intent, behaviors=frozenset(codes))


def _stub(answers: dict[str, tuple[str, list[str]]]):
    def parse(text: str) -> dict:
        intent, codes = answers[text]
        return {"intent": {"name": intent, "confidence": 0.9}, "entities": [{"entity": "behavior", "value": c} for c in codes]}

    return parse


EXAMPLES = [
    _ex("a", "report_incident", "threat"),
    _ex("b", "report_incident", "threat", "detention"),
    _ex("c", "report_incident"),  # contrast, false alarm below
    _ex("d", "report_incident"),  # contrast, clean
    _ex("e", "ask_judgement"),  # contrast, wrong intent
]
PARSE = _stub(
    {
        "a": ("report_incident", ["threat"]),
        "b": ("report_incident", ["threat", "intimidation"]),
        "c": ("report_incident", ["physical_attack"]),
        "d": ("report_incident", []),
        "e": ("report_incident", []),
    }
)


def test_micro_scores_and_false_alarms():
    scores = score(EXAMPLES, PARSE)
    # tp: threat x2; fp: intimidation, physical_attack; fn: detention
    assert (scores.behavior_precision, scores.behavior_recall) == (0.5, 2 / 3)
    assert round(scores.behavior_f1, 4) == round(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3), 4)
    assert scores.intent_accuracy == 0.8
    assert (scores.contrast_n, scores.false_alarms) == (3, 1)
    assert round(scores.false_alarm_rate, 4) == 0.3333


def test_inform_and_report_incident_count_as_one_dialogue_intent_only_in_the_second_figure():
    examples = [_ex("a", "inform"), _ex("b", "report_incident"), _ex("c", "emergency")]
    parse = _stub({"a": ("report_incident", []), "b": ("inform", []), "c": ("report_incident", [])})
    scores = score(examples, parse)
    assert scores.intent_accuracy == 0.0
    assert round(scores.intent_accuracy_dialogue, 4) == round(2 / 3, 4)


def test_per_code_scores_and_confusion():
    scores = score(EXAMPLES, PARSE)
    assert scores.per_behavior["threat"] == {"precision": 1.0, "recall": 1.0, "support": 2, "tp": 2, "fp": 0, "fn": 0}
    assert scores.per_behavior["detention"]["recall"] == 0.0
    assert scores.per_behavior["physical_attack"]["precision"] == 0.0
    assert scores.confusion == {
        "- -> physical_attack": 1,
        "detention -> intimidation": 1,
        "threat -> threat": 2,
    }
    assert scores.intent_confusion == {"ask_judgement -> report_incident": 1}


def test_danger_scores_and_sets():
    def cues(text):
        return frozenset({DangerCue.WEAPON}) if "knife" in text else frozenset()

    danger = danger_scores(["knife out", "shouting"], cues)
    assert (danger.n, danger.with_cue, danger.missed, danger.rate) == (2, 1, ["shouting"], 0.5)
    results = evaluate_sets(
        {"fresh/contrast": [_ex("c", "report_incident")], "fresh/danger": [_ex("a", "report_incident", "threat")]},
        PARSE,
        cues,
        danger_sets={"fresh/danger"},
    )
    assert results["fresh/contrast"]["nlu"]["false_alarms"] == 1
    assert results["fresh/contrast"]["danger_cues"]["with_cue"] == 0
    assert results["fresh/danger"]["danger_cues"]["n"] == 1


def test_safety_first_counts_a_danger_cue_or_the_emergency_intent():
    def cues(text):
        return frozenset({DangerCue.WEAPON}) if "knife" in text else frozenset()

    parse = _stub({"knife out": ("report_incident", ["threat"]), "help": ("emergency", []), "fell on stairs": ("emergency", [])})
    results = evaluate_sets(
        {
            "fresh/danger": [_ex("knife out", "emergency", "threat"), _ex("help", "emergency")],
            "fresh/contrast": [_ex("fell on stairs", "report_incident")],
        },
        parse,
        cues,
        danger_sets={"fresh/danger"},
    )
    assert results["fresh/danger"]["danger_cues"]["with_cue"] == 1
    assert results["fresh/danger"]["safety_first"]["with_cue"] == 2
    assert results["fresh/danger"]["safety_first_now"]["n"] == 2  # both are labelled emergency
    assert results["fresh/contrast"]["danger_cues"]["with_cue"] == 0
    assert results["fresh/contrast"]["safety_first"]["raised"] == ["fell on stairs"]


def test_load_fresh_skips_missing_files(tmp_path):
    (tmp_path / "contrast.yml").write_text("x", encoding="utf-8")
    found, notes = load_fresh(tmp_path, load=lambda path: [_ex(path.name, "report_incident")])
    assert set(found) == {"fresh/contrast", "fresh/all"}
    assert notes == [f"skipped {tmp_path / 'main.yml'}: file missing", f"skipped {tmp_path / 'danger.yml'}: file missing"]
    assert load_fresh(tmp_path / "absent", load=lambda p: [])[0] == {}


def test_report_files(tmp_path):
    cv = tmp_path / "cv"
    cv.mkdir()
    (cv / "intent_report.json").write_text(json.dumps({
        "accuracy": 0.97, "weighted avg": {"f1-score": 0.96},
        "greet": {"precision": 1.0, "recall": 0.9, "f1-score": 0.95, "support": 10, "confused_with": {}},
    }), encoding="utf-8")
    (cv / "DIETClassifier_report.json").write_text(json.dumps({
        "behavior": {"precision": 0.9, "recall": 0.8, "f1-score": 0.85, "support": 100},
    }), encoding="utf-8")
    summary = cross_validation_summary(cv)
    assert summary["intent_accuracy"] == 0.97
    assert summary["entities"]["behavior"]["f1-score"] == 0.85
    assert cross_validation_summary(tmp_path / "none") is None
    report = {
        "model": "m.tar.gz", "date": "2026-12-01", "machine": "test", "notes": ["skipped x"],
        "sets": evaluate_sets({"nlu_holdout": EXAMPLES}, PARSE), "cross_validation": summary,
    }
    json_path, md_path = write_report(report, tmp_path / "results")
    assert json.loads(json_path.read_text(encoding="utf-8"))["sets"]["nlu_holdout"]["nlu"]["false_alarms"] == 1
    markdown = md_path.read_text(encoding="utf-8")
    assert "| nlu_holdout | 5 | 0.800 | 0.800 | 0.500 | 0.667 |" in markdown
    assert "detention -> intimidation: 1" in markdown
    assert "Intent accuracy 0.970" in markdown
    assert markdown == render_markdown(report)
    # the cross-validation runs last and is added to the written report
    report["cross_validation"] = None
    write_report(report, tmp_path / "results")
    assert "Not run" in (tmp_path / "results" / "nlu_report.md").read_text(encoding="utf-8")
    assert main(["--update-cv", str(tmp_path / "results"), "--cross-validation", str(cv)]) == 0
    assert "Intent accuracy 0.970" in (tmp_path / "results" / "nlu_report.md").read_text(encoding="utf-8")
    assert main(["--update-cv", str(tmp_path / "results"), "--cross-validation", str(tmp_path / "none")]) == 2
