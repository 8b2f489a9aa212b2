"""bot/rasa/training.py: what a model is trained from, and when a trained model may be reused
(make train's model served by make bench)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from bot.rasa import training
from bot.rasa.training import fingerprint, input_files, record_path, recorded_training

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


def test_the_inputs_are_listed_once_and_the_makefile_reads_that_list():
    files = {str(path.relative_to(ROOT)) for path in input_files()}
    assert {"config.yml", "domain.yml", "bot/rasa/nlu_components.py", "bot/rasa/spacy_model.py"} <= files
    assert {str(p.relative_to(ROOT)) for p in (ROOT / "data").rglob("*.yml")} <= files
    assert any(name.startswith("bot/lexicon") for name in files)
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "MODEL_INPUTS := $(shell python3 -m bot.rasa.training --print-inputs)" in makefile


def test_a_code_directory_counts_every_module_under_it_and_no_bytecode(tmp_path, monkeypatch):
    package = tmp_path / "lexicon"
    package.mkdir()
    (package / "__init__.py").write_text("WORDS = ['土下座']\n", encoding="utf-8")
    listing = tmp_path / "model_inputs.txt"
    listing.write_text(f"# a package instead of one module\ncode: {package}\ncode: {tmp_path / 'missing.py'}\n",
                       encoding="utf-8")
    monkeypatch.setattr(training, "MODEL_INPUTS_FILE", listing)
    inputs = ROOT / "config.yml", ROOT / "domain.yml", ROOT / "data"
    before = fingerprint(*inputs)

    (package / "__pycache__").mkdir()
    (package / "__pycache__" / "words.cpython-310.pyc").write_bytes(b"\0bytecode")
    assert fingerprint(*inputs) == before
    (package / "words.py").write_text("MORE = ['謝罪文']\n", encoding="utf-8")
    assert fingerprint(*inputs) != before
    assert input_files() == [package / "__init__.py", package / "words.py"]
