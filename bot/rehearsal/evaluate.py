"""Score the move classifier on a labelled file: `python -m bot.rehearsal.evaluate --data FILE`.

The file: `version: 1` and `messages: [{text: ..., moves: [codes]}]`. Reported per move: accuracy
over all messages ((TP+TN)/N), precision, recall and F1; and the exact-set accuracy (every move of
a message right). Exit 2 with one line on stderr for a file that cannot be read.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import yaml

from bot.codes import Move


class MoveFileError(ValueError):
    pass


@dataclass(frozen=True)
class Labelled:
    text: str
    moves: frozenset[Move]


@dataclass(frozen=True)
class MoveScore:
    move: Move
    true_positive: int
    false_positive: int
    false_negative: int
    true_negative: int

    @property
    def accuracy(self) -> float:
        total = self.true_positive + self.false_positive + self.false_negative + self.true_negative
        return (self.true_positive + self.true_negative) / total if total else 1.0

    @property
    def precision(self) -> float:
        found = self.true_positive + self.false_positive
        return self.true_positive / found if found else 1.0

    @property
    def recall(self) -> float:
        relevant = self.true_positive + self.false_negative
        return self.true_positive / relevant if relevant else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def support(self) -> int:
        return self.true_positive + self.false_negative


@dataclass(frozen=True)
class Report:
    messages: int
    exact_set_accuracy: float
    per_move: tuple[MoveScore, ...]
    errors: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...]  # text, expected, predicted

    def to_dict(self) -> dict:
        return {
            "messages": self.messages,
            "exact_set_accuracy": round(self.exact_set_accuracy, 4),
            "min_move_accuracy": round(min(s.accuracy for s in self.per_move), 4),
            "per_move": {
                s.move.value: {
                    "accuracy": round(s.accuracy, 4), "precision": round(s.precision, 4),
                    "recall": round(s.recall, 4), "f1": round(s.f1, 4), "support": s.support,
                }
                for s in self.per_move
            },
        }


def read_labelled(path: Path) -> list[Labelled]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise MoveFileError(f"{path}: cannot read: {error}") from None
    if not isinstance(data, dict) or data.get("version") != 1 or not isinstance(data.get("messages"), list):
        raise MoveFileError(f"{path}: expected 'version: 1' and a 'messages' list")
    examples = []
    for index, item in enumerate(data["messages"]):
        if not isinstance(item, dict) or not isinstance(item.get("text"), str) or not isinstance(item.get("moves", []), list):
            raise MoveFileError(f"{path}: messages[{index}] needs 'text' (string) and 'moves' (list of codes)")
        try:
            moves = frozenset(Move.parse(str(code)) for code in item.get("moves") or [])
        except ValueError as error:
            raise MoveFileError(f"{path}: messages[{index}]: {error}") from None
        examples.append(Labelled(item["text"], moves))
    return examples


def evaluate(examples: Iterable[Labelled], classify: Callable[[str], Iterable[Move]]) -> Report:
    examples = list(examples)
    counts = {move: [0, 0, 0, 0] for move in Move}
    exact = 0
    errors = []
    for example in examples:
        predicted = frozenset(classify(example.text))
        exact += predicted == example.moves
        if predicted != example.moves:
            errors.append((example.text, tuple(m.value for m in Move if m in example.moves),
                           tuple(m.value for m in Move if m in predicted)))
        for move, cells in counts.items():
            expected, got = move in example.moves, move in predicted
            cells[0 if expected and got else 1 if got else 2 if expected else 3] += 1
    return Report(
        messages=len(examples),
        exact_set_accuracy=exact / len(examples) if examples else 1.0,
        per_move=tuple(MoveScore(move, *cells) for move, cells in counts.items()),
        errors=tuple(errors),
    )


def format_report(report: Report) -> str:
    lines = [f"messages: {report.messages}", f"exact-set accuracy: {report.exact_set_accuracy:.3f}",
             f"{'move':26} {'acc':>6} {'prec':>6} {'rec':>6} {'f1':>6} {'n':>4}"]
    for s in report.per_move:
        lines.append(f"{s.move.value:26} {s.accuracy:6.3f} {s.precision:6.3f} {s.recall:6.3f} {s.f1:6.3f} {s.support:4d}")
    lines.append(f"min per-move accuracy: {min(s.accuracy for s in report.per_move):.3f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from bot.rehearsal.moves import classify

    parser = argparse.ArgumentParser(prog="python -m bot.rehearsal.evaluate", description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="labelled moves file (version: 1)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--errors", action="store_true", help="also list the messages got wrong")
    args = parser.parse_args(argv)
    try:
        report = evaluate(read_labelled(args.data), classify)
    except MoveFileError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2) if args.json else format_report(report))
    if args.errors:
        for text, expected, predicted in report.errors:
            print(f"- {text}\n    expected {list(expected)} got {list(predicted)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
