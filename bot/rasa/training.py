"""`rasa train` with its cost and the fingerprint of its inputs recorded beside the archive.

Wall time, peak RSS, archive size and the fingerprint go to `<model>.train.json`.

`make train` trains models/consultation.tar.gz through it, and `make bench` reuses that model
(or one it trained before) when the inputs have not changed, reporting the cost recorded when it
was trained. What a model is trained from is listed once, in bot/rasa/model_inputs.txt:

    python -m bot.rasa.training --model models/consultation.tar.gz
    python -m bot.rasa.training --print-inputs     # the files of model_inputs.txt that exist
"""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from bot.rasa.process_memory import MemoryWatch

ROOT = Path(__file__).resolve().parent.parent.parent
BIN = ROOT / ".venv" / "bin"
MODEL_INPUTS_FILE = Path(__file__).with_name("model_inputs.txt")
TRAIN_TIMEOUT_S = 60 * 60.0


def model_inputs(listing: Optional[Path] = None) -> List[Tuple[str, Path]]:
    """(kind, path) of every line of model_inputs.txt, in order; kind is config, domain, data or code."""
    entries = []
    for line in (listing or MODEL_INPUTS_FILE).read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            kind, _, path = line.partition(":")
            entries.append((kind.strip(), ROOT / path.strip()))
    return entries


def _files(path: Path) -> List[Path]:
    """The file itself, or every file under a directory (sorted, *.pyc excepted); nothing if missing."""
    if path.is_file():
        return [path]
    return [p for p in sorted(path.rglob("*")) if p.is_file() and p.suffix != ".pyc"] if path.is_dir() else []


def input_files() -> List[Path]:
    return [file for _, path in model_inputs() for file in _files(path)]


def default_input(kind: str) -> Path:
    """The config, domain or data of model_inputs.txt, relative to the project (where make runs)."""
    return next(path.relative_to(ROOT) for entry_kind, path in model_inputs() if entry_kind == kind)


def fingerprint(config: Path, domain: Path, data: Path) -> str:
    """The contents of the config, the domain, every file under data/, the code listed in
    model_inputs.txt and Rasa's version (file names relative to data/, so a copy of data/
    fingerprints the same)."""
    from rasa import __version__ as rasa_version

    digest = hashlib.sha256(rasa_version.encode())
    for label, path in [("config", config), ("domain", domain), *((str(p.relative_to(data)), p) for p in sorted(data.rglob("*")))]:
        if path.is_file():
            digest.update(label.encode() + b"\0" + path.read_bytes() + b"\0")
    for path in (file for kind, entry in model_inputs() if kind == "code" for file in _files(entry)):
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


def training_env(extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "RASA_TELEMETRY_ENABLED": "false",  # no traffic beyond this machine
            "TF_CPP_MIN_LOG_LEVEL": env.get("TF_CPP_MIN_LOG_LEVEL", "2"),
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra or {})
    return env


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM to the training's process group, SIGKILL if it is still there 10 s later."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
            proc.wait(timeout=10)
            return
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue


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
    with open(log_path(model), "w") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=training_env({**(env or {}), "RASA_CACHE_DIRECTORY": str(cache)}),
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    watch = MemoryWatch(proc.pid, interval=1.0).start()
    try:
        rc = proc.wait(timeout=TRAIN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        _stop(proc)
        raise RuntimeError(f"training took more than {TRAIN_TIMEOUT_S:.0f} s")
    except BaseException:  # Ctrl+C or the caller stopping: no training left behind
        _stop(proc)
        raise
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
    parser = argparse.ArgumentParser(prog="python -m bot.rasa.training", description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=default_input("config"))
    parser.add_argument("--domain", type=Path, default=default_input("domain"))
    parser.add_argument("--data", type=Path, default=default_input("data"))
    parser.add_argument("--model", type=Path, help="the archive to write, e.g. models/consultation.tar.gz")
    parser.add_argument("--print-inputs", action="store_true",
                        help="print the files the model is trained from (model_inputs.txt), one a line, and exit")
    args = parser.parse_args(argv)
    if args.print_inputs:
        print("\n".join(str(path.relative_to(ROOT)) for path in input_files()))
        return 0
    if args.model is None:
        parser.error("--model is required (or --print-inputs)")
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
