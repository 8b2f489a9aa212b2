"""Training records: stored apart from consultations, listed and exported for trainers."""
from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import inspect

from bot.records import ConsultationStore
from bot.training_records import TrainingStore

ROOT = Path(__file__).resolve().parent.parent
RESULT = {"kind": "roleplay", "scenario": "03_verbal_abuse", "grade": "B", "score": 3, "total": 4,
          "outcome": "resolved", "detail": {"items": [{"id": "ask_to_stop", "passed": True, "turn": 2}]}}


def test_a_record_is_saved_and_listed_newest_first(database_url):
    store = TrainingStore(database_url)
    try:
        first = store.save(RESULT, "trainee-1", "rest")
        second = store.save({**RESULT, "kind": "drill", "scenario": None, "grade": None}, "trainee-2", "slack")
        listed = store.list()
        assert [r["id"] for r in listed] == [second, first]
        assert listed[1]["detail"] == RESULT["detail"] and listed[1]["source_channel"] == "rest"
        assert [r["id"] for r in store.list(kind="drill")] == [second]
        assert "training_records" in inspect(store._engine).get_table_names()
    finally:
        store.dispose()
    consultations = ConsultationStore(database_url)
    try:
        assert consultations.list() == []  # nothing of the training is a consultation
    finally:
        consultations.dispose()


def test_bad_results_are_refused_and_nothing_is_stored(tmp_path):
    store = TrainingStore(f"sqlite:///{tmp_path / 't.db'}")
    with pytest.raises(ValueError, match="kind"):
        store.save({**RESULT, "kind": "exam"}, "t", "rest")
    with pytest.raises(ValueError, match="trainee"):
        store.save(RESULT, "", "rest")
    with pytest.raises(ValueError, match="unknown code 'fax'"):
        store.save(RESULT, "t", "fax")
    assert store.list() == []
    store.dispose()


def run_cli(url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot", "training", *args], cwd=ROOT, capture_output=True,
                          env={**os.environ, "DATABASE_URL": url}, timeout=120)


def test_list_and_export_with_formula_cells_neutralised(tmp_path):
    url = f"sqlite:///{tmp_path / 't.db'}"
    store = TrainingStore(url)
    store.save({**RESULT, "scenario": "=HYPERLINK(\"http://x\")"}, "@trainee", "rest")
    store.dispose()
    listed = run_cli(url, "list")
    assert listed.returncode == 0 and "ロールプレイ" in listed.stdout.decode() and "3/4" in listed.stdout.decode()
    exported = run_cli(url, "export", "--format", "json")
    [row] = json.loads(exported.stdout)
    assert row["grade"] == "B" and row["detail"] == RESULT["detail"]
    out = tmp_path / "t.csv"
    assert run_cli(url, "export", "--format", "csv", "--out", str(out)).returncode == 0
    rows = list(csv.DictReader(io.StringIO(out.read_bytes().decode("utf-8-sig"))))
    assert rows[0]["scenario"] == "'=HYPERLINK(\"http://x\")" and rows[0]["trainee"] == "'@trainee"
    assert json.loads(rows[0]["detail"]) == RESULT["detail"]


def test_bad_options_exit_2_with_one_line():
    done = run_cli("sqlite:///:memory:", "export", "--format", "xml")
    assert done.returncode == 2 and done.stderr.decode().count("\n") == 1 and "json or csv" in done.stderr.decode()
    done = run_cli("sqlite:///:memory:", "list", "--kind", "exam")
    assert done.returncode == 2 and "--kind" in done.stderr.decode()
