"""`rasa train` with its cost recorded: wall time, peak RSS and archive size, with a fingerprint of
the model's inputs, in `<model>.train.json` beside the archive.

`make train` trains models/consultation.tar.gz through it, and `make bench` reuses that model
(or one it trained before) when the inputs have not changed, reporting the cost recorded when it
was trained:

    python -m bench.training --config config.yml --model models/consultation.tar.gz
"""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, Optional

from bench.processes import MemoryWatch, bench_env, start_process, stop_process

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
CODE_INPUTS = [
    ROOT / "bot" / name
    for name in ("rasa/nlu_components.py", "lexicon/__init__.py", "lexicon/tables.py", "conduct.py", "rasa/spacy_model.py")
]
TRAIN_TIMEOUT_S = 60 * 60.0


def fingerprint(config: Path, domain: Path, data: Path) -> str:
    """The contents of the config, the domain, every file under data/, the custom NLU code and
    Rasa's version (file names relative to data/, so a copy of data/ fingerprints the same)."""
    from rasa import __version__ as rasa_version

    digest = hashlib.sha256(rasa_version.encode())
    for label, path in [("config", config), ("domain", domain), *((str(p.relative_to(data)), p) for p in sorted(data.rglob("*")))]:
        if path.is_file():
            digest.update(label.encode() + b"\0" + path.read_bytes() + b"\0")
    for path in CODE_INPUTS:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def record_path(model: Path) -> Path:
    return model.parent / (model.name.removesuffix(".tar.gz") + ".train.json")


def log_path(model: Path) -> Path:
    return model.parent / (model.name.removesuffix(".tar.gz") + ".train.log")


def recorded_training(model: Path, inputs_fingerprint: str) -> Optional[dict]:
    """The record of `model` if it exists and was trained from inputs with this fingerprint."""
    path = record_path(model)
    if not (model.exists() and path.exists()):
        return None
    record = json.loads(path.read_text(encoding="utf-8"))
    return record if record.get("fingerprint") == inputs_fingerprint else None


def train(config: Path, domain: Path, data: Path, model: Path, env: Optional[Dict[str, str]] = None) -> dict:
    """Trains `model` (an empty Rasa cache, so nothing is reused) and writes its record."""
    model.parent.mkdir(parents=True, exist_ok=True)
    cache = model.parent / f".cache-{model.name}"
    shutil.rmtree(cache, ignore_errors=True)
    model.unlink(missing_ok=True)
    cmd = [
        str(BIN / "rasa"), "train", "--config", str(config), "--domain", str(domain), "--data", str(data),
        "--out", str(model.parent), "--fixed-model-name", model.name.removesuffix(".tar.gz"),
    ]
    started = time.perf_counter()
    proc = start_process(cmd, log_path(model), bench_env({**(env or {}), "RASA_CACHE_DIRECTORY": str(cache)}))
    watch = MemoryWatch(proc.pid, interval=1.0).start()
    try:
        rc = proc.wait(timeout=TRAIN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        stop_process(proc)
        raise RuntimeError(f"training took more than {TRAIN_TIMEOUT_S:.0f} s")
    finally:
        memory = watch.stop()
        shutil.rmtree(cache, ignore_errors=True)
    seconds = time.perf_counter() - started
    if rc != 0 or not model.exists():
        raise RuntimeError(f"rasa train failed (rc={rc}), see {log_path(model)}")
    record = {
        "fingerprint": fingerprint(config, domain, data),
        "config": str(config),
        "trained_at": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "seconds": round(seconds, 1),
        "model_mb": round(model.stat().st_size / 2**20, 2),
        "peak_rss_mb": memory["vmhwm_tree_mb"],
    }
    record_path(model).write_text(json.dumps(record, indent=1), encoding="utf-8")
    return record


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.training", description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=Path("config.yml"))
    parser.add_argument("--domain", type=Path, default=Path("domain.yml"))
    parser.add_argument("--data", type=Path, default=Path("data"))
    parser.add_argument("--model", type=Path, required=True, help="the archive to write, e.g. models/consultation.tar.gz")
    args = parser.parse_args(argv)
    print(f"training {args.model} with {args.config} (a few minutes; log: {log_path(args.model)})", flush=True)
    try:
        record = train(args.config, args.domain, args.data, args.model)
    except RuntimeError as error:
        print(f"training failed: {error}", file=sys.stderr)
        return 1
    print(f"{args.model}: trained in {record['seconds']:.0f} s, peak RSS {record['peak_rss_mb']:.0f} MB, "
          f"{record['model_mb']} MB (record: {record_path(args.model)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
