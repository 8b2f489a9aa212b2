"""Score an NLU parse function on a Rasa NLU YAML file: intent accuracy and behaviour F1.

Behaviour scores are micro-averaged over (message, code) pairs: for every message the
set of gold ``behavior`` codes (from the annotation values) is compared with the set of
predicted ``behavior`` entity values.

    python -m bot.nlu_evaluation --model models/xyz.tar.gz --data tests/nlu_holdout.yml [--json]

The parse function is injected (``score(examples, parse)``), so benchmarks can reuse it
with any parser (a loaded Agent, an HTTP server, a stub).
"""
from __future__ import annotations

import argparse
import asyncio
import glob
import json
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable

BEHAVIOR_ENTITY = "behavior"


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

    def to_dict(self) -> dict:
        return asdict(self)


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
    correct = tp = fp = fn = 0
    errors: list[dict] = []
    for example in examples:
        parsed = parse(example.text) or {}
        intent = predicted_intent(parsed)
        predicted = predicted_behaviors(parsed)
        intent_ok = intent == example.intent
        correct += intent_ok
        tp += len(predicted & example.behaviors)
        fp += len(predicted - example.behaviors)
        fn += len(example.behaviors - predicted)
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
    )


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
        f"intent accuracy    {scores.intent_accuracy:.4f}",
        f"behavior precision {scores.behavior_precision:.4f}",
        f"behavior recall    {scores.behavior_recall:.4f}",
        f"behavior F1        {scores.behavior_f1:.4f}",
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.nlu_evaluation", description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="model archive (default: newest under models/)")
    parser.add_argument("--data", required=True, help="Rasa NLU YAML file with intents and behavior entities")
    parser.add_argument("--json", action="store_true", help="print the scores as JSON")
    args = parser.parse_args(argv)
    model = args.model or newest_model()
    if not model or not Path(model).exists():
        print("no model found: run make train", file=sys.stderr)
        return 2
    examples = load_examples(args.data)
    parse = agent_parser(model)
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
