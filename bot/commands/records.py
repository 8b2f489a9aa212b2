"""`python -m bot records list|export`: read consultation records; every read is written to the audit log.

DATABASE_URL selects the database. Errors exit with 2 and one line on stderr.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import unicodedata
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from bot.codes import RecordStatus, SituationChannel, Verdict
from bot.exports import masked, render_csv, render_json
from bot.privacy import mask_personal_data
from bot.records import RECORD_FIELDS, ConsultationStore

FORMATS = ("json", "csv")
DEMAND_WIDTH = 30


class CommandError(Exception):
    def __init__(self, message_ja: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_ja = message_ja
        self.message_en = message_en


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "records", help="相談記録の一覧と書き出し", description="相談記録を一覧・書き出しします（操作は監査ログに残ります）。"
    )
    actions = parser.add_subparsers(dest="records_command", required=True, metavar="{list,export}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--status", metavar="open|closed", help="この状態の記録だけ")
    common.add_argument("--actor", metavar="NAME", help="監査ログに残す操作者（省略時は $USER）")

    listing = actions.add_parser("list", parents=[common], help="新しい順に一覧表示（要求はマスク済み）")
    listing.add_argument("--limit", type=_positive, default=50, metavar="N", help="表示する件数（既定 50）")
    listing.set_defaults(handler=run_list)

    export = actions.add_parser("export", parents=[common], help="全項目を JSON か CSV で書き出し")
    export.add_argument("--format", required=True, metavar="json|csv", help="出力形式")
    export.add_argument("--out", type=Path, metavar="FILE", help="出力先ファイル（省略時は標準出力）")
    export.add_argument("--masked", action="store_true", help="要求・メモ・発言の個人情報をマスクする")
    export.set_defaults(handler=run_export)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"1以上の整数を指定してください / must be a positive integer: {text!r}")
    return value


def run_list(args: argparse.Namespace) -> int:
    return _guarded(_list, args)


def run_export(args: argparse.Namespace) -> int:
    return _guarded(_export, args)


def _guarded(command: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    try:
        return command(args)
    except CommandError as error:
        print(f"エラー: {error.message_ja} / error: {error.message_en}", file=sys.stderr)
    except SQLAlchemyError as error:
        reason = (str(getattr(error, "orig", None) or error).strip().splitlines() or [type(error).__name__])[0]
        print(f"エラー: データベースを使えません / error: database unavailable: {reason}", file=sys.stderr)
    return 2


def _open_store(args: argparse.Namespace) -> ConsultationStore:
    try:
        return ConsultationStore(args.settings.database_url)
    except OSError as error:  # the folder for the SQLite file could not be created
        raise CommandError("データベースを使えません", f"database unavailable: {error}") from None


def _status(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return RecordStatus.parse(value).value
    except ValueError:
        raise CommandError("--status は open か closed です", f"--status must be open or closed, not {value!r}") from None


def _actor(args: argparse.Namespace) -> str:
    return args.actor or os.environ.get("USER") or "unknown"


def _list(args: argparse.Namespace) -> int:
    status = _status(args.status)
    store = _open_store(args)
    try:
        records = store.list(status=status, limit=args.limit)
        store.audit(_actor(args), "records.list", detail=f"status={status or 'all'} limit={args.limit} count={len(records)}")
    finally:
        store.dispose()
    print(_table(records))
    return 0


def _export(args: argparse.Namespace) -> int:
    if args.format not in FORMATS:
        raise CommandError("--format は json か csv です", f"--format must be json or csv, not {args.format!r}")
    status = _status(args.status)
    store = _open_store(args)
    try:
        records = store.list(status=status, limit=None)
        if args.masked:
            records = [masked(record) for record in records]
        render = render_json if args.format == "json" else render_csv
        data = render(records, RECORD_FIELDS)
        detail = (
            f"format={args.format} out={args.out or '-'} count={len(records)} "
            f"status={status or 'all'} masked={'yes' if args.masked else 'no'}"
        )
        if args.out is None:
            store.audit(_actor(args), "records.export", detail=detail)
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
        else:
            _write_atomically(args.out, data, lambda: store.audit(_actor(args), "records.export", detail=detail))
    finally:
        store.dispose()
    return 0


def _write_atomically(out: Path, data: bytes, before_rename: Callable[[], None]) -> None:
    """Write to a temp file beside `out`, then rename: `out` is either complete or untouched."""
    temp: Path | None = None
    try:
        with tempfile.NamedTemporaryFile("wb", dir=out.parent, prefix=f".{out.name}.", suffix=".tmp", delete=False) as f:
            temp = Path(f.name)
            f.write(data)
        before_rename()
        os.replace(temp, out)
        temp = None
    except OSError as error:
        raise CommandError(f"{out} に書き込めません", f"cannot write {out}: {error.strerror or error}") from None
    finally:
        if temp is not None:
            temp.unlink(missing_ok=True)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _table(records: list[dict]) -> str:
    header = ["ID", "開始(UTC)", "状態", "場面", "判断", "要求（マスク済み）"]
    rows = [header]
    for r in records:
        demand = " ".join(mask_personal_data(r["demand"] or "").split())
        if len(demand) > DEMAND_WIDTH:
            demand = demand[: DEMAND_WIDTH - 1] + "…"
        rows.append(
            [
                str(r["id"]),
                datetime.fromisoformat(r["started_at"]).strftime("%Y-%m-%d %H:%M"),
                r["status"],
                SituationChannel(r["situation_channel"]).label if r["situation_channel"] else "-",
                Verdict(r["verdict"]).label if r["verdict"] else "-",
                demand or "-",
            ]
        )
    widths = [max(_width(row[i]) for row in rows) for i in range(len(header) - 1)]
    lines = [
        "  ".join([cell + " " * (w - _width(cell)) for cell, w in zip(row, widths)] + [row[-1]]) for row in rows
    ]
    if not records:
        lines.append("（記録はありません / no records）")
    return "\n".join(lines)
