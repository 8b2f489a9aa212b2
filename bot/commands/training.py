"""`python -m bot training list|export`: the rehearsal mode's training records, for trainers.

DATABASE_URL selects the database. CSV cells that a spreadsheet would run as a formula are
neutralised. Errors exit with 2 and one line on stderr.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.commands.records import FORMATS, CommandError, _guarded, _positive, _width, _write_atomically
from bot.exports import neutralise, render_json
from bot.training_records import KINDS, TRAINING_FIELDS, TrainingStore

KIND_LABELS = {"roleplay": "ロールプレイ", "case_study": "事例検討", "drill": "ドリル"}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("training", help="研修（ロールプレイ・事例検討・ドリル）の記録",
                                   description="研修モードの記録を一覧・書き出しします。")
    actions = parser.add_subparsers(dest="training_command", required=True, metavar="{list,export}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--kind", metavar="|".join(KINDS), help="この種類の記録だけ")
    listing = actions.add_parser("list", parents=[common], help="新しい順に一覧表示")
    listing.add_argument("--limit", type=_positive, default=50, metavar="N", help="表示する件数（既定 50）")
    listing.set_defaults(handler=lambda args: _guarded(_list, args))
    export = actions.add_parser("export", parents=[common], help="全項目を JSON か CSV で書き出し")
    export.add_argument("--format", required=True, metavar="json|csv", help="出力形式")
    export.add_argument("--out", type=Path, metavar="FILE", help="出力先ファイル（省略時は標準出力）")
    export.set_defaults(handler=lambda args: _guarded(_export, args))


def _kind(value: str | None) -> str | None:
    if value is not None and value not in KINDS:
        raise CommandError(f"--kind は {'・'.join(KINDS)} のいずれかです", f"--kind must be one of {', '.join(KINDS)}, not {value!r}")
    return value


def _records(args: argparse.Namespace, limit: int | None) -> list[dict]:
    kind = _kind(args.kind)
    try:
        store = TrainingStore(args.settings.database_url)
    except OSError as error:
        raise CommandError("データベースを使えません", f"database unavailable: {error}") from None
    try:
        return store.list(limit=limit, kind=kind)
    finally:
        store.dispose()


def _list(args: argparse.Namespace) -> int:
    records = _records(args, args.limit)
    header = ["ID", "日時(UTC)", "利用者", "種類", "シナリオ", "評価", "得点"]
    rows = [header] + [[
        str(r["id"]), datetime.fromisoformat(r["created_at"]).strftime("%Y-%m-%d %H:%M"), r["trainee"],
        KIND_LABELS[r["kind"]], r["scenario"] or "-", r["grade"] or "-", f"{r['score']}/{r['total']}",
    ] for r in records]
    widths = [max(_width(row[i]) for row in rows) for i in range(len(header))]
    print("\n".join("  ".join(cell + " " * (w - _width(cell)) for cell, w in zip(row, widths)).rstrip() for row in rows))
    if not records:
        print("（記録はありません / no records）")
    return 0


def _cell(value: Any) -> str:
    """A CSV cell (the score sheet as JSON), shown by a spreadsheet as text, never run as a formula."""
    if value is None:
        return ""
    return neutralise(json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else str(value))


def _export(args: argparse.Namespace) -> int:
    if args.format not in FORMATS:
        raise CommandError("--format は json か csv です", f"--format must be json or csv, not {args.format!r}")
    records = _records(args, None)
    if args.format == "json":
        data = render_json(records, TRAINING_FIELDS)
    else:
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer)
        writer.writerow(TRAINING_FIELDS)
        for record in records:
            writer.writerow([_cell(record[name]) for name in TRAINING_FIELDS])
        data = buffer.getvalue().encode("utf-8-sig")
    if args.out is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        _write_atomically(args.out, data, lambda: None)
    return 0
