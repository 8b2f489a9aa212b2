"""The bench's variants and their models: a snapshot of the inputs, training or reuse by fingerprint."""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

import yaml

from bench.processes import log, loadavg
from bot.rasa.training import fingerprint, log_path, record_path, recorded_training
from bot.rasa.training import train as train_model

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / "work"
BIN = ROOT / ".venv" / "bin"
SNAPSHOT = WORK / "snapshot"  # data/, domain.yml and both configs as they were when the run started

RASA_SERVER = [str(BIN / "rasa")]  # stock: what a Rasa user runs
OUR_SERVER = [str(BIN / "python"), "-m", "bot.rasa.server"]  # ours: as scripts/run.sh starts it
SERVERS = {"rasa": RASA_SERVER, "bot.rasa.server": OUR_SERVER}
OUR_TRACKER_STORE = (yaml.safe_load((ROOT / "endpoints.yml").read_text(encoding="utf-8")) or {})["tracker_store"]["type"]


def take_snapshot(configs: Dict[str, Path]) -> Dict[str, Path]:
    """Copy data/, domain.yml and the configs once, so that both models train on the same files even
    when someone edits them during the run; returns the snapshot path of every config."""
    shutil.rmtree(SNAPSHOT, ignore_errors=True)
    SNAPSHOT.mkdir(parents=True)
    shutil.copytree(ROOT / "data", SNAPSHOT / "data")
    shutil.copy2(ROOT / "domain.yml", SNAPSHOT / "domain.yml")
    out = {}
    for name, path in configs.items():
        out[name] = SNAPSHOT / f"config-{name}.yml"
        shutil.copy2(path, out[name])
    return out


@dataclass
class Variant:
    name: str
    config: Path
    env: Dict[str, str] = field(default_factory=dict)
    model_from: Optional[str] = None  # reuse the model of another variant (same config, other env)
    source: str = ""  # the config file as named on the command line (variant.config is its snapshot)
    server: List[str] = field(default_factory=lambda: list(RASA_SERVER))  # how the Rasa server starts
    tracker_store: str = "SQL"  # its type; the bench points it at a fresh SQLite file

    @property
    def dir(self) -> Path:
        return WORK / self.name

    @property
    def model(self) -> Path:
        return WORK / (self.model_from or self.name) / f"{self.model_from or self.name}.tar.gz"


OUR_MODEL = ROOT / "models" / "consultation.tar.gz"  # trained by `make train` (make run's set-up)
# Trained models are also kept per machine, by the fingerprint of their inputs: stock's DIET alone
# trains for about 17 minutes on a 2-core machine, so a fresh clone could not finish in 20.
MODEL_CACHE = Path(os.environ.get("BENCH_MODEL_CACHE", Path.home() / ".cache" / "kasuhara-bench"))


def _keep(model: Path, cached: Path) -> None:
    """Copy a trained model and its record into the machine's model cache (once)."""
    if recorded_training(cached, json.loads(record_path(model).read_text())["fingerprint"]) is not None:
        return
    try:
        MODEL_CACHE.mkdir(parents=True, exist_ok=True)
        shutil.copy2(model, cached)
        shutil.copy2(record_path(model), record_path(cached))
    except OSError as error:
        log(f"could not keep {model.name} in {MODEL_CACHE}: {error}")


def extra_variant(spec: str, variants: List[Variant]) -> Variant:
    """`NAME:MODEL_OF[:ENV=V,...]` (--variant): the model of MODEL_OF served with extra environment;
    BENCH_SERVER and BENCH_TRACKER_STORE there choose the server command and tracker store type."""
    name, model_of, *rest = spec.split(":", 2)
    env: Dict[str, str] = {}
    key = None
    for token in (rest[0].split(",") if rest else []):
        if "=" in token:  # KEY=VALUE; a token without "=" continues the previous value (a,b,c)
            key, value = token.split("=", 1)
            env[key] = value
        elif key is not None:
            env[key] += "," + token
    base_variant = next(v for v in variants if v.name == model_of)
    server = SERVERS[env.pop("BENCH_SERVER")] if "BENCH_SERVER" in env else base_variant.server
    tracker_store = env.pop("BENCH_TRACKER_STORE", base_variant.tracker_store)
    return Variant(name, base_variant.config, env=env, model_from=model_of, source=base_variant.source,
                   server=list(server), tracker_store=tracker_store)


def train(variant: Variant, retrain: bool, reuse_any: bool = False) -> dict:
    """Train, unless a model trained from the same inputs exists — in bench/work/<variant>/, for ours
    the one `make train` wrote, or in the machine's bench model cache — then serve that and report
    the training cost recorded when it was trained. `reuse_any` (--reuse-any) serves an existing
    model even when its inputs changed (profiling, experiments)."""
    variant.dir.mkdir(parents=True, exist_ok=True)
    if variant.model_from:
        return {"seconds": None, "reused": f"model of {variant.model_from}",
                "model_mb": round(variant.model.stat().st_size / 2**20, 2)}
    inputs = fingerprint(variant.config, SNAPSHOT / "domain.yml", SNAPSHOT / "data")
    if reuse_any and variant.model.exists():
        record = json.loads(record_path(variant.model).read_text())
        log(f"{variant.name}: --reuse-any: serving the existing model (trained {record['trained_at']})")
        return {**record, "reused": f"trained {record['trained_at']}, inputs may have changed since (--reuse-any)"}
    cached = MODEL_CACHE / f"{variant.name}-{inputs}.tar.gz"
    candidates = [variant.model] + ([OUR_MODEL] if variant.name == "ours" else []) + [cached]
    for candidate in [] if retrain else candidates:
        record = recorded_training(candidate, inputs)
        if record is None:
            continue
        if candidate != variant.model:
            shutil.copy2(candidate, variant.model)
            shutil.copy2(record_path(candidate), record_path(variant.model))
        _keep(variant.model, cached)
        where = candidate.relative_to(ROOT) if candidate.is_relative_to(ROOT) else candidate
        log(f"{variant.name}: {where} was trained from the same inputs at {record['trained_at']}: serving it")
        return {**record, "reused": f"{where}, trained {record['trained_at']} from the same inputs"}
    log(f"{variant.name}: training with {variant.source} (log: {log_path(variant.model).relative_to(ROOT)})")
    record = train_model(variant.config, SNAPSHOT / "domain.yml", SNAPSHOT / "data", variant.model, variant.env)
    log(f"{variant.name}: trained in {record['seconds']:.0f} s (load {loadavg()})")
    _keep(variant.model, cached)
    return {**record, "reused": False}
