"""Score an NLU parse function on Rasa NLU YAML files: intents, behaviours, false alarms.

Behaviour scores are micro-averaged over (message, code) pairs: for every message the
set of gold ``behavior`` codes (from the annotation values) is compared with the set of
predicted ``behavior`` entity values; precision and recall are also given per code. The
false-alarm rate is the share of messages without any gold behaviour (contrast cases)
where some behaviour was read. The confusion table counts (gold, predicted) code pairs per
message, ``-`` standing for "no code" (a miss or a false alarm).

    python -m bot.nlu_evaluation --model models/xyz.tar.gz --data tests/nlu_holdout.yml [--json]
    python -m bot.nlu_evaluation --model M --data tests/nlu_holdout.yml \
        --fresh tests/nlu_holdout_fresh5/ --cross-validation results/cross_validation --report results

``--report`` writes results/nlu_report.json and results/nlu_report.md (``make nlu-report``);
``--update-cv results --cross-validation DIR`` adds cross-validation figures to a written report.
A fresh hold-out directory holds main.yml, contrast.yml (messages with no behaviour) and
danger.yml (messages with an explicit danger cue, checked with ``bot.text_facts``); a
missing file is skipped with a message.

The parse function is injected (``score(examples, parse)``), so benchmarks and tests can
reuse it with any parser (a loaded Agent, an HTTP server, a stub).
"""
from __future__ import annotations

import argparse
import asyncio
import glob
import json
import os
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable

BEHAVIOR_ENTITY = "behavior"
# Intents the dialogue treats alike (data/rules/consultation.yml: both run the triage and the form,
# whose fact readers take what the message states); ``intent_accuracy_dialogue`` counts them as one.
SAME_DIALOGUE_INTENT = {"inform": "report_incident"}
# data/rules/consultation.yml: this intent gets the safety message before anything else, as a danger cue does.
EMERGENCY_INTENT = "emergency"


@dataclass(frozen=True)
class Example:
    text: str
    intent: str
    behaviors: frozenset[str]


@dataclass
class NluScores:
    intent_accuracy: float
    behavior_precision: float
    behavior_recall: float
    behavior_f1: float
    n: int
    errors: list[dict] = field(default_factory=list)
    # messages without a gold behaviour, and how many of them had one read (false alarms)
    contrast_n: int = 0
    false_alarms: int = 0
    # code -> {"precision", "recall", "support", "tp", "fp", "fn"}
    per_behavior: dict[str, dict] = field(default_factory=dict)
    # "gold -> predicted" -> count; "-" is no code
    confusion: dict[str, int] = field(default_factory=dict)
    intent_confusion: dict[str, int] = field(default_factory=dict)
    intent_accuracy_dialogue: float = 0.0
    # messages read as `emergency`: the dialogue answers them with the safety message first
    read_as_emergency: list[str] = field(default_factory=list)

    @property
    def false_alarm_rate(self) -> float:
        return _safe_div(self.false_alarms, self.contrast_n, 0.0)

    def to_dict(self) -> dict:
        return {**asdict(self), "false_alarm_rate": round(self.false_alarm_rate, 4)}


def _gold_code(value: str) -> str:
    """Gold annotation values should be codes; a surface form is mapped via the lexicon."""
    from bot.codes import Behavior

    try:
        return Behavior(value).value
    except ValueError:
        from bot.lexicon import behavior_code

        code = behavior_code(value)
        return code.value if code is not None else value


def load_examples(path: str | os.PathLike) -> list[Example]:
    """Every intent example of a Rasa NLU YAML file (order kept)."""
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    examples = []
    for message in data.intent_examples:
        gold = frozenset(
            _gold_code(str(entity.get("value")))
            for entity in message.get("entities", []) or []
            if entity.get("entity") == BEHAVIOR_ENTITY
        )
        examples.append(Example(text=message.get("text"), intent=message.get("intent"), behaviors=gold))
    return examples


def predicted_behaviors(parsed: dict) -> frozenset[str]:
    return frozenset(
        str(entity.get("value"))
        for entity in parsed.get("entities", []) or []
        if entity.get("entity") == BEHAVIOR_ENTITY
    )


def predicted_intent(parsed: dict) -> str | None:
    intent = parsed.get("intent") or {}
    return intent.get("name") if isinstance(intent, dict) else intent


def _safe_div(a: float, b: float, empty: float) -> float:
    return a / b if b else empty


def score(examples: Iterable[Example], parse: Callable[[str], dict]) -> NluScores:
    """Parse every example and score it; errors list every wrong intent or code set."""
    examples = list(examples)
    correct = correct_dialogue = tp = fp = fn = contrast_n = false_alarms = 0
    errors: list[dict] = []
    counts: dict[str, Counter] = {}
    confusion: Counter = Counter()
    intent_confusion: Counter = Counter()
    read_as_emergency: list[str] = []
    for example in examples:
        parsed = parse(example.text) or {}
        intent = predicted_intent(parsed)
        predicted = predicted_behaviors(parsed)
        intent_ok = intent == example.intent
        if intent == EMERGENCY_INTENT:
            read_as_emergency.append(example.text)
        correct += intent_ok
        correct_dialogue += SAME_DIALOGUE_INTENT.get(intent, intent) == SAME_DIALOGUE_INTENT.get(example.intent, example.intent)
        if not intent_ok:
            intent_confusion[f"{example.intent} -> {intent}"] += 1
        tp += len(predicted & example.behaviors)
        fp += len(predicted - example.behaviors)
        fn += len(example.behaviors - predicted)
        if not example.behaviors:
            contrast_n += 1
            false_alarms += bool(predicted)
        _count_codes(example.behaviors, predicted, counts, confusion)
        if not intent_ok or predicted != example.behaviors:
            confidence = (parsed.get("intent") or {}).get("confidence") if isinstance(parsed.get("intent"), dict) else None
            errors.append(
                {
                    "text": example.text,
                    "intent": example.intent,
                    "predicted_intent": intent,
                    "confidence": confidence,
                    "missing_behaviors": sorted(example.behaviors - predicted),
                    "extra_behaviors": sorted(predicted - example.behaviors),
                }
            )
    n = len(examples)
    precision = _safe_div(tp, tp + fp, 1.0)
    recall = _safe_div(tp, tp + fn, 1.0)
    f1 = _safe_div(2 * precision * recall, precision + recall, 0.0)
    return NluScores(
        intent_accuracy=_safe_div(correct, n, 0.0),
        behavior_precision=precision,
        behavior_recall=recall,
        behavior_f1=f1,
        n=n,
        errors=errors,
        contrast_n=contrast_n,
        false_alarms=false_alarms,
        per_behavior={code: _code_scores(c) for code, c in sorted(counts.items())},
        confusion=dict(sorted(confusion.items())),
        intent_confusion=dict(intent_confusion.most_common()),
        intent_accuracy_dialogue=_safe_div(correct_dialogue, n, 0.0),
        read_as_emergency=read_as_emergency,
    )


def _count_codes(gold: frozenset[str], predicted: frozenset[str], counts: dict[str, Counter], confusion: Counter) -> None:
    for code in gold | predicted:
        counts.setdefault(code, Counter())
    for code in gold & predicted:
        counts[code]["tp"] += 1
        confusion[f"{code} -> {code}"] += 1
    missed, extra = sorted(gold - predicted), sorted(predicted - gold)
    for code in missed:
        counts[code]["fn"] += 1
    for code in extra:
        counts[code]["fp"] += 1
    for code in missed:
        for other in extra or ["-"]:
            confusion[f"{code} -> {other}"] += 1
    if not missed:
        for other in extra:
            confusion[f"- -> {other}"] += 1


def _code_scores(c: Counter) -> dict:
    return {
        "precision": round(_safe_div(c["tp"], c["tp"] + c["fp"], 1.0), 4),
        "recall": round(_safe_div(c["tp"], c["tp"] + c["fn"], 1.0), 4),
        "support": c["tp"] + c["fn"],
        "tp": c["tp"],
        "fp": c["fp"],
        "fn": c["fn"],
    }


def newest_model(directory: str | os.PathLike = "models") -> str | None:
    """The most recently modified ``*.tar.gz`` under ``directory`` (None when none)."""
    candidates = glob.glob(os.path.join(str(directory), "*.tar.gz"))
    return max(candidates, key=os.path.getmtime) if candidates else None


def _quiet_rasa_logging() -> None:
    """Rasa logs every parse at debug level through structlog; keep the output readable."""
    import logging

    try:
        from rasa.utils.common import configure_logging_and_warnings
        from rasa.utils.log_utils import configure_structlog

        configure_logging_and_warnings(logging.WARNING)
        configure_structlog(logging.WARNING)
    except Exception:  # pragma: no cover - logging set-up is best effort
        logging.getLogger("rasa").setLevel(logging.WARNING)


def agent_parser(model_path: str) -> Callable[[str], dict]:
    """A synchronous parse function backed by a Rasa Agent loaded from ``model_path``."""
    from rasa.core.agent import Agent

    _quiet_rasa_logging()
    agent = Agent.load(model_path)
    loop = asyncio.new_event_loop()

    def parse(text: str) -> dict:
        return loop.run_until_complete(agent.parse_message(text))

    return parse


def format_report(scores: NluScores) -> str:
    lines = [
        f"examples           {scores.n}",
        f"intent accuracy    {scores.intent_accuracy:.4f} ({scores.intent_accuracy_dialogue:.4f} with inform = report_incident)",
        f"behavior precision {scores.behavior_precision:.4f}",
        f"behavior recall    {scores.behavior_recall:.4f}",
        f"behavior F1        {scores.behavior_f1:.4f}",
        f"false alarms       {scores.false_alarms}/{scores.contrast_n} ({scores.false_alarm_rate:.4f})",
        f"errors             {len(scores.errors)}",
    ]
    for error in scores.errors:
        parts = []
        if error["predicted_intent"] != error["intent"]:
            parts.append(f"intent {error['intent']} -> {error['predicted_intent']} ({error['confidence']})")
        if error["missing_behaviors"]:
            parts.append(f"missing {','.join(error['missing_behaviors'])}")
        if error["extra_behaviors"]:
            parts.append(f"extra {','.join(error['extra_behaviors'])}")
        lines.append(f"  - {error['text']}  [{'; '.join(parts)}]")
    return "\n".join(lines)


FRESH_FILES = ("main.yml", "contrast.yml", "danger.yml")


@dataclass
class DangerScores:
    """How often ``bot.text_facts.danger_cues`` finds a cue: wanted on danger.yml, not on contrast.yml."""

    n: int
    with_cue: int
    missed: list[str] = field(default_factory=list)  # danger set: no cue read
    raised: list[str] = field(default_factory=list)  # contrast set: a cue read

    @property
    def rate(self) -> float:
        return _safe_div(self.with_cue, self.n, 0.0)

    def to_dict(self) -> dict:
        return {**asdict(self), "rate": round(self.rate, 4)}


def danger_scores(texts: Iterable[str], cues: Callable[[str], frozenset]) -> DangerScores:
    texts = list(texts)
    hits = [t for t in texts if cues(t)]
    return DangerScores(
        n=len(texts), with_cue=len(hits), missed=[t for t in texts if t not in hits], raised=hits
    )


def evaluate_sets(
    sets: dict[str, list[Example]],
    parse: Callable[[str], dict],
    cues: Callable[[str], frozenset] | None = None,
    danger_sets: Iterable[str] = (),
) -> dict[str, dict]:
    """Scores for every named set; ``cues`` adds danger-cue rates to the sets named in ``danger_sets``
    and to every set called ``contrast`` (where any cue is a false alarm), and the rate of messages
    whose first reply is the safety message (a danger cue, or the intent ``emergency``)."""
    danger_sets = set(danger_sets)
    results: dict[str, dict] = {}
    for name, examples in sets.items():
        scores = score(examples, parse)
        entry = {"nlu": scores.to_dict()}
        if cues is not None and (name in danger_sets or name.endswith("contrast")):
            texts = [e.text for e in examples]
            entry["danger_cues"] = danger_scores(texts, cues).to_dict()
            emergency = set(scores.read_as_emergency)

            def safety_first(text: str) -> bool:
                return bool(cues(text)) or text in emergency

            entry["safety_first"] = danger_scores(texts, safety_first).to_dict()
            if name in danger_sets:  # danger now (gold `emergency`), apart from calm reports after the fact
                now = [e.text for e in examples if e.intent == EMERGENCY_INTENT]
                entry["safety_first_now"] = danger_scores(now, safety_first).to_dict()
        results[name] = entry
    return results


def load_fresh(
    directory: str | os.PathLike, load: Callable[[Path], list[Example]] | None = None
) -> tuple[dict[str, list[Example]], list[str]]:
    """The fresh hold-out's files that exist (name -> examples), and a note for each missing one."""
    load = load or load_examples
    found: dict[str, list[Example]] = {}
    notes: list[str] = []
    for filename in FRESH_FILES:
        path = Path(directory) / filename
        if path.exists():
            found[f"fresh/{path.stem}"] = load(path)
        else:
            notes.append(f"skipped {path}: file missing")
    if found:
        found["fresh/all"] = [e for examples in list(found.values()) for e in examples]
    return found, notes


def cross_validation_summary(directory: str | os.PathLike) -> dict | None:
    """Figures from ``rasa test nlu --cross-validation --out DIR`` (None when it has not run)."""
    intent_file = Path(directory) / "intent_report.json"
    entity_file = Path(directory) / "DIETClassifier_report.json"
    if not intent_file.exists():
        return None
    intents = json.loads(intent_file.read_text(encoding="utf-8"))
    summary = {
        "intent_accuracy": intents.get("accuracy"),
        "intent_weighted_f1": (intents.get("weighted avg") or {}).get("f1-score"),
        "intents": {
            name: {k: round(v, 4) if isinstance(v, float) else v for k, v in values.items() if k in ("precision", "recall", "f1-score", "support")}
            for name, values in intents.items()
            if isinstance(values, dict) and name not in ("micro avg", "macro avg", "weighted avg")
        },
    }
    if entity_file.exists():
        entities = json.loads(entity_file.read_text(encoding="utf-8"))
        summary["entities"] = {
            name: {k: round(v, 4) if isinstance(v, float) else v for k, v in values.items() if k in ("precision", "recall", "f1-score", "support")}
            for name, values in entities.items()
            if isinstance(values, dict) and name in ("behavior", "channel", "micro avg")
        }
    return summary


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def render_markdown(report: dict) -> str:
    """The short summary of results/nlu_report.json."""
    lines = [
        "# NLU report",
        "",
        f"Model `{report.get('model')}`, {report.get('date')}, {report.get('machine')}. "
        "Generated by `make nlu-report` (bot/nlu_evaluation.py).",
        "",
        "| set | messages | intent accuracy | same dialogue¹ | behaviour P | behaviour R | behaviour micro-F1 | contrast msgs | false alarms | danger cue rate | safety message first² |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, entry in report["sets"].items():
        nlu = entry["nlu"]
        danger, safety = entry.get("danger_cues"), entry.get("safety_first_now") or entry.get("safety_first")
        lines.append(
            f"| {name} | {nlu['n']} | {_pct(nlu['intent_accuracy'])} | {_pct(nlu.get('intent_accuracy_dialogue'))} | "
            f"{_pct(nlu['behavior_precision'])} | "
            f"{_pct(nlu['behavior_recall'])} | {_pct(nlu['behavior_f1'])} | {nlu['contrast_n']} | "
            f"{nlu['false_alarms']} ({_pct(nlu['false_alarm_rate'])}) | {_pct(danger['rate']) if danger else '–'} | "
            f"{_pct(safety['rate']) if safety else '–'} |"
        )
    lines += [
        "",
        "¹ intent accuracy counting `inform` and `report_incident` as one: the dialogue handles both alike.",
        "² share of messages whose first reply is the safety message: a danger cue or the intent `emergency`"
        " (wanted on the danger-now messages of danger sets — those labelled `emergency`, not the calm reports"
        " after the fact —, a false alarm on contrast sets).",
    ]
    for note in report.get("notes", []):
        lines += ["", f"- {note}"]
    cv = report.get("cross_validation")
    lines += ["", "## Cross-validation (5-fold, training data)", ""]
    if cv:
        lines.append(f"Intent accuracy {_pct(cv['intent_accuracy'])}, weighted F1 {_pct(cv['intent_weighted_f1'])}.")
        for name, values in (cv.get("entities") or {}).items():
            lines.append(
                f"Entity `{name}` (span level): P {_pct(values.get('precision'))}, R {_pct(values.get('recall'))}, "
                f"F1 {_pct(values.get('f1-score'))}, support {values.get('support')}."
            )
    else:
        lines.append("Not run (results/cross_validation/intent_report.json missing).")
    for name, entry in report["sets"].items():
        nlu = entry["nlu"]
        lines += ["", f"## {name}: per behaviour code", "", "| code | precision | recall | support |", "|---|---|---|---|"]
        for code, values in nlu["per_behavior"].items():
            lines.append(f"| {code} | {_pct(values['precision'])} | {_pct(values['recall'])} | {values['support']} |")
        off = {pair: n for pair, n in nlu["confusion"].items() if pair.split(" -> ")[0] != pair.split(" -> ")[1]}
        if off:
            lines += ["", "Confusions (gold -> read, `-` = none):", ""]
            lines += [f"- {pair}: {n}" for pair, n in sorted(off.items(), key=lambda kv: -kv[1])]
        if nlu["intent_confusion"]:
            lines += ["", "Intent errors:", ""] + [f"- {pair}: {n}" for pair, n in nlu["intent_confusion"].items()]
    return "\n".join(lines) + "\n"


def _machine() -> str:
    import platform

    return f"{platform.node() or 'host'}, {os.cpu_count()} CPU, Python {platform.python_version()}"


def write_report(report: dict, directory: str | os.PathLike) -> tuple[Path, Path]:
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out / "nlu_report.json", out / "nlu_report.md"
    json_path.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    md_path.write_text(render_markdown(report), encoding="utf-8")
    return json_path, md_path


def update_cross_validation(directory: str | os.PathLike, cv: str | None) -> int:
    """Adds the cross-validation figures to a written report (the CV runs after the hold-outs)."""
    json_path = Path(directory) / "nlu_report.json"
    if not json_path.exists() or not cv:
        print(f"needs {json_path} (run --report first) and --cross-validation DIR", file=sys.stderr)
        return 2
    report = json.loads(json_path.read_text(encoding="utf-8"))
    report["cross_validation"] = cross_validation_summary(cv)
    if report["cross_validation"] is None:
        print(f"no cross-validation results in {cv}", file=sys.stderr)
        return 2
    write_report(report, directory)
    print(render_markdown(report))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.nlu_evaluation", description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="model archive (default: newest under models/)")
    parser.add_argument("--data", help="Rasa NLU YAML file with intents and behavior entities")
    parser.add_argument("--json", action="store_true", help="print the scores as JSON")
    parser.add_argument("--fresh", help="fresh hold-out directory (main.yml, contrast.yml, danger.yml)")
    parser.add_argument("--cross-validation", dest="cv", help="output directory of rasa test nlu --cross-validation")
    parser.add_argument("--report", help="write nlu_report.json and nlu_report.md into this directory")
    parser.add_argument(
        "--update-cv", metavar="DIR",
        help="only put the --cross-validation figures into DIR/nlu_report.json and .md (no model needed)",
    )
    args = parser.parse_args(argv)
    if args.update_cv:
        return update_cross_validation(args.update_cv, args.cv)
    if not args.data:
        parser.error("--data is required")
    model = args.model or newest_model()
    if not model or not Path(model).exists():
        print("no model found: run make train", file=sys.stderr)
        return 2
    if not Path(args.data).exists():
        print(f"data file not found: {args.data}", file=sys.stderr)
        return 2
    parse = agent_parser(model)
    if args.report:
        from bot.text_facts import danger_cues

        sets = {Path(args.data).stem: load_examples(args.data)}
        notes: list[str] = []
        if args.fresh:
            fresh, notes = load_fresh(args.fresh)
            sets.update(fresh)
        for note in notes:
            print(note, file=sys.stderr)
        started = time.perf_counter()
        report = {
            "model": model,
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "machine": _machine(),
            "sets": evaluate_sets(sets, parse, danger_cues, danger_sets={"fresh/danger"}),
            "notes": notes,
            "cross_validation": cross_validation_summary(args.cv) if args.cv else None,
        }
        report["seconds"] = round(time.perf_counter() - started, 1)
        json_path, md_path = write_report(report, args.report)
        print(render_markdown(report))
        print(f"wrote {json_path} and {md_path}")
        return 0
    examples = load_examples(args.data)
    started = time.perf_counter()
    scores = score(examples, parse)
    elapsed = time.perf_counter() - started
    if args.json:
        print(json.dumps({**scores.to_dict(), "model": model, "seconds": round(elapsed, 2)}, ensure_ascii=False, indent=2))
    else:
        print(f"model              {model}")
        print(format_report(scores))
    return 0


if __name__ == "__main__":
    sys.exit(main())
