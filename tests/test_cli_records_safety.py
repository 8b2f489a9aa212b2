"""`records export --format csv` and `records list` with hostile text in a record: control
characters, terminal escape sequences, bidi overrides and spreadsheet formulas."""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.records import ConsultationStore
from tests.test_cli_records import run_cli

T0 = datetime(2026, 4, 1, 0, 30, tzinfo=timezone.utc)
DEMAND = "返金しろ\x00\x07\x1b[2J\x1b]0;pwned\x07\u202eabc"
FORMULAS = ["=HYPERLINK(\"http://evil\",\"x\")", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "＝1+1"]


@pytest.fixture
def hostile(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'records.db'}"
    store = ConsultationStore(url)
    record_id = store.start("conv-\x1b[31mred", "rest", started_at=T0)
    store.update(record_id, demand=DEMAND, notes=FORMULAS[0], reasons=FORMULAS[1:3])
    for minutes, text in enumerate(FORMULAS[3:] + ["NUL\x00です"], start=1):
        store.add_message(record_id, text, sent_at=T0 + timedelta(minutes=minutes))
    for index, formula in enumerate(FORMULAS):
        store.start(formula, "rest", started_at=T0 + timedelta(hours=index + 1))  # formula as conversation id
    store.dispose()
    return url


def csv_rows(data: bytes) -> list[dict]:
    assert data.startswith("\ufeff".encode())
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_csv_export_of_control_characters_does_not_crash(hostile):
    result = run_cli(hostile, "export", "--format", "csv")
    assert result.returncode == 0, result.stderr.decode()
    rows = csv_rows(result.stdout)
    (row,) = [r for r in rows if r["demand"]]
    assert row["demand"].startswith("返金しろ")
    assert not any(ch in row["demand"] for ch in "\x00\x07\x1b\u202e")
    assert "\x00" not in result.stdout.decode("utf-8-sig") and "\x1b" not in result.stdout.decode("utf-8-sig")


def test_csv_cells_that_spreadsheets_run_as_formulas_are_neutralised(hostile):
    result = run_cli(hostile, "export", "--format", "csv")
    rows = csv_rows(result.stdout)
    cells = [value for row in rows for value in row.values() if value]
    for cell in cells:
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")), cell
    conversation_ids = {r["conversation_id"] for r in rows}
    assert {"'" + formula for formula in FORMULAS} <= conversation_ids  # shown as the text it was
    (row,) = [r for r in rows if r["demand"]]
    assert row["notes"] == "'" + FORMULAS[0] and row["reasons"] == "'" + "|".join(FORMULAS[1:3])


def test_json_export_keeps_the_text_exactly(hostile):
    result = run_cli(hostile, "export", "--format", "json")
    assert result.returncode == 0
    records = json.loads(result.stdout)
    (record,) = [r for r in records if r["demand"]]
    assert record["demand"] == DEMAND and record["notes"] == FORMULAS[0]
    assert [m["text"] for m in record["messages"]] == FORMULAS[3:] + ["NUL\x00です"]
    assert {r["conversation_id"] for r in records} >= set(FORMULAS)


def test_list_prints_no_escape_sequences_or_control_characters(hostile):
    result = run_cli(hostile, "list")
    assert result.returncode == 0, result.stderr.decode()
    out = result.stdout.decode("utf-8")
    assert "返金しろ" in out
    assert not any(ch in out for ch in "\x00\x07\x1b\u202e\r")
    assert "pwned" not in out  # the window-title sequence is dropped whole, not shown as text
