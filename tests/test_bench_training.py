"""bench/training.py: when a trained model may be reused (make train's model served by make bench)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from bench.training import fingerprint, record_path, recorded_training

ROOT = Path(__file__).resolve().parent.parent


def _copy_inputs(target: Path) -> tuple[Path, Path, Path]:
    shutil.copytree(ROOT / "data", target / "data")
    shutil.copy2(ROOT / "domain.yml", target / "domain.yml")
    shutil.copy2(ROOT / "config.yml", target / "config-ours.yml")
    return target / "config-ours.yml", target / "domain.yml", target / "data"


def test_a_copy_of_the_inputs_has_the_same_fingerprint_and_an_edit_changes_it(tmp_path):
    original = fingerprint(ROOT / "config.yml", ROOT / "domain.yml", ROOT / "data")
    config, domain, data = _copy_inputs(tmp_path)
    assert fingerprint(config, domain, data) == original

    nlu_file = next(data.rglob("*.yml"))
    nlu_file.write_text(nlu_file.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert fingerprint(config, domain, data) != original


def test_a_model_is_reused_only_with_its_record_and_the_same_inputs(tmp_path):
    model = tmp_path / "consultation.tar.gz"
    assert record_path(model) == tmp_path / "consultation.train.json"
    assert recorded_training(model, "abc") is None  # nothing there

    model.write_bytes(b"archive")
    assert recorded_training(model, "abc") is None  # no record: trained some other way

    record = {"fingerprint": "abc", "trained_at": "2026-11-29T13:00:00+00:00", "seconds": 300.0}
    record_path(model).write_text(json.dumps(record), encoding="utf-8")
    assert recorded_training(model, "abc") == record
    assert recorded_training(model, "other inputs") is None
