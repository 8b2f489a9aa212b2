"""`python -m bot records …` as a subprocess against a temp SQLite database."""
from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.commands.records import CommandError, _write_atomically
from bot.records import RECORD_FIELDS, ConsultationStore

PROJECT_ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2025, 4, 1, 0, 30, tzinfo=timezone.utc)
DEMAND = "山田様に土下座させろ。連絡は090-1234-5678"


@pytest.fixture
def db(tmp_path: Path) -> tuple[str, int, int]:
    """A database with a closed, filled-in record and a newer, empty open one: (url, closed id, open id)."""
    url = f"sqlite:///{tmp_path / 'records.db'}"
    store = ConsultationStore(url)
    closed = store.start("conv-1", "rest", started_at=T0)
    store.update(
        closed,
        situation_channel="phone",
        verdict="harassment",
        behaviors=["verbal_abuse", "persistent"],
        demand=DEMAND,
        our_fault=False,
        notes="yamada@example.com から再度連絡",
    )
    store.add_message(closed, "山田様が怒鳴っています", sent_at=T0 + timedelta(minutes=1))
    store.add_message(closed, "番号は03-1234-5678です", sent_at=T0 + timedelta(minutes=2))
    store.close(closed, closed_at=T0 + timedelta(minutes=30))
    opened = store.start("conv-2", "slack", started_at=T0 + timedelta(hours=1))
    store.dispose()
    return url, closed, opened


def run_cli(url: str, *args: str, user: str = "tester") -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": url, "USER": user}
    return subprocess.run(
        [sys.executable, "-m", "bot", "records", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        timeout=120,
    )


def stored(url: str) -> tuple[list[dict], list[dict]]:
    """(records as get() returns them, newest first; audit entries, newest first)."""
    store = ConsultationStore(url)
    try:
        return store.list(limit=None), store.audit_entries()
    finally:
        store.dispose()


def assert_one_line_error(result: subprocess.CompletedProcess) -> str:
    stderr = result.stderr.decode("utf-8")
    assert result.returncode == 2, stderr
    assert "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) == 1, stderr
    assert stderr.startswith("エラー: ") and "error: " in stderr
    return stderr


def test_export_json_has_exactly_the_record_fields_and_the_data(db: tuple[str, int, int]) -> None:
    url, closed, opened = db
    result = run_cli(url, "export", "--format", "json")
    assert result.returncode == 0, result.stderr.decode()
    exported = json.loads(result.stdout.decode("utf-8"))
    assert [row["id"] for row in exported] == [opened, closed]
    assert all(list(row) == list(RECORD_FIELDS) for row in exported)
    records, _ = stored(url)
    assert exported == [{name: record[name] for name in RECORD_FIELDS} for record in records]
    assert exported[1]["demand"] == DEMAND
    assert exported[1]["behaviors"] == ["verbal_abuse", "persistent"]
    assert exported[1]["messages"][1] == {"sent_at": "2025-04-01T00:32:00+00:00", "text": "番号は03-1234-5678です"}


def test_export_masked_masks_demand_notes_and_messages(db: tuple[str, int, int]) -> None:
    url, closed, _ = db
    result = run_cli(url, "export", "--format", "json", "--masked", "--status", "closed")
    assert result.returncode == 0, result.stderr.decode()
    output = result.stdout.decode("utf-8")
    for secret in ("山田", "090-1234-5678", "03-1234-5678", "yamada@example.com"):
        assert secret not in output
    [record] = json.loads(output)
    assert record["id"] == closed
    assert record["demand"] == "●●様に土下座させろ。連絡は[電話番号]"
    assert record["notes"] == "[メールアドレス] から再度連絡"
    assert record["messages"] == [
        {"sent_at": "2025-04-01T00:31:00+00:00", "text": "●●様が怒鳴っています"},
        {"sent_at": "2025-04-01T00:32:00+00:00", "text": "番号は[電話番号]です"},
    ]


def test_export_csv_to_file_with_bom_header_and_cells(db: tuple[str, int, int], tmp_path: Path) -> None:
    url, closed, opened = db
    out = tmp_path / "export.csv"
    result = run_cli(url, "export", "--format", "csv", "--out", str(out))
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout == b""
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[0] == list(RECORD_FIELDS)
    assert [row[0] for row in rows[1:]] == [str(opened), str(closed)]
    row = dict(zip(RECORD_FIELDS, rows[2]))
    assert row["behaviors"] == "verbal_abuse|persistent"
    assert row["our_fault"] == "false"
    assert row["alone"] == "" and row["closed_at"] == "2025-04-01T01:00:00+00:00"
    assert row["demand"] == DEMAND
    assert row["messages"] == (
        "2025-04-01T00:31:00+00:00 山田様が怒鳴っています\n2025-04-01T00:32:00+00:00 番号は03-1234-5678です"
    )
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_list_prints_labels_and_masked_demand_newest_first(db: tuple[str, int, int]) -> None:
    url, closed, opened = db
    result = run_cli(url, "list")
    assert result.returncode == 0, result.stderr.decode()
    lines = result.stdout.decode("utf-8").splitlines()
    assert len(lines) == 3
    assert lines[1].split()[0] == str(opened) and lines[2].split()[0] == str(closed)
    assert "2025-04-01 00:30" in lines[2]
    assert "電話" in lines[2] and "カスタマーハラスメント" in lines[2]
    assert "●●様に土下座させろ。連絡は[電話番号]" in lines[2]
    assert "山田" not in result.stdout.decode("utf-8")

    only_open = run_cli(url, "list", "--status", "open").stdout.decode("utf-8").splitlines()
    assert [line.split()[0] for line in only_open[1:]] == [str(opened)]


def test_every_list_and_export_is_audited(db: tuple[str, int, int], tmp_path: Path) -> None:
    url, _, _ = db
    out = tmp_path / "out.json"
    assert run_cli(url, "list", "--limit", "1").returncode == 0
    assert run_cli(url, "export", "--format", "json", "--out", str(out), "--actor", "alice").returncode == 0
    _, entries = stored(url)
    assert [(e["actor"], e["action"]) for e in entries] == [("alice", "records.export"), ("tester", "records.list")]
    assert "format=json" in entries[0]["detail"] and f"out={out}" in entries[0]["detail"]
    assert "count=2" in entries[0]["detail"]
    assert "count=1" in entries[1]["detail"]


def test_bad_format_exits_2_without_writing(db: tuple[str, int, int], tmp_path: Path) -> None:
    url, _, _ = db
    out = tmp_path / "out.xml"
    stderr = assert_one_line_error(run_cli(url, "export", "--format", "xml", "--out", str(out)))
    assert "--format" in stderr
    assert not out.exists()
    assert stored(url)[1] == []


def test_bad_status_exits_2(db: tuple[str, int, int]) -> None:
    assert "--status" in assert_one_line_error(run_cli(db[0], "list", "--status", "pending"))


def test_unwritable_out_exits_2_and_leaves_nothing(db: tuple[str, int, int], tmp_path: Path) -> None:
    url, _, _ = db
    out = tmp_path / "missing-folder" / "out.csv"
    stderr = assert_one_line_error(run_cli(url, "export", "--format", "csv", "--out", str(out)))
    assert str(out) in stderr
    assert not out.parent.exists()
    assert stored(url)[1] == []


def test_unreachable_database_exits_2() -> None:
    result = run_cli("postgresql://postgres@127.0.0.1:1/none", "export", "--format", "json")
    assert "database" in assert_one_line_error(result)
    assert result.stdout == b""


def test_failure_before_rename_keeps_the_old_file(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    out.write_text("old", encoding="utf-8")

    def fail() -> None:
        raise OSError("audit failed")

    with pytest.raises(CommandError):
        _write_atomically(out, b"new", fail)
    assert out.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]
    _write_atomically(out, b"new", lambda: None)
    assert out.read_bytes() == b"new"
