"""`make bench`: stock Rasa + GiNZA against the project's config.yml, side by side.

    .venv/bin/python -m bench.run                 # train both, serve both, measure, write results
    .venv/bin/python -m bench.run --retrain all   # train even if config/domain/data are unchanged
    .venv/bin/python -m bench.run --help

For every variant (stock = bench/stock_config.yml, ours = config.yml read at run time):
train into bench/work/<variant>/ (fresh Rasa training cache, wall time, archive size); start
the action server and `rasa run --enable-api` (REST channel from credentials.yml) on free
127.0.0.1 ports with a fresh SQLite tracker store and DATABASE_URL under bench/work/<variant>/;
measure cold start, REST turn latency at 1/8/32 concurrent conversations, /model/parse latency
and NLU scores on tests/nlu_holdout.yml, peak RSS (VmHWM, process trees); stop the servers.
Writes bench/results.json, bench/results.md and bench/latency.png.

Only 127.0.0.1 traffic; every loop bounded by count and time; servers are stopped on exit,
error or Ctrl+C.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import math
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

import yaml

from bench.processes import MemoryWatch, bench_env, start_process, stop_all, stop_all_and_exit, stop_process
from bench.training import fingerprint, log_path, record_path, recorded_training
from bench.training import train as train_model

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
WORK = BENCH / "work"
BIN = ROOT / ".venv" / "bin"
HOLDOUT = ROOT / "tests" / "nlu_holdout.yml"
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

# Bounds: (max turns, max seconds) per concurrency level.
LEVEL_BOUNDS = {1: (70, 60.0), 8: (320, 75.0), 32: (640, 90.0)}
REQUEST_TIMEOUT_S = 60.0
STARTUP_TIMEOUT_S = 300.0
SERVING_BUDGET_S = 15 * 60.0  # serving and measuring every variant, training excluded

TARGETS = [
    # (key in the comparison, description, kind, threshold)
    ("turn_p50_ms@8", "turn latency p50 at 8 concurrent, ours/stock", "ratio_le", 0.5),
    ("turn_p95_ms@8", "turn latency p95 at 8 concurrent, ours/stock", "ratio_le", 0.5),
    ("turns_per_s@32", "turns/s at 32 concurrent, ours/stock", "ratio_ge", 2.0),
    ("peak_rss_rasa_mb", "peak RSS of the Rasa server, ours/stock", "ratio_le", 0.75),
    ("cold_start_s", "cold start, ours/stock", "ratio_le", 0.6),
    ("turn_p95_ms@8", "turn latency p95 at 8 concurrent, ours (absolute)", "abs_lt", 100.0),
]

NO_PARSE = False  # --no-parse: skip /model/parse and the NLU scores (quick experiments)
REUSE_ANY = False  # --reuse-any: serve existing models even when their inputs changed (experiments)


# --------------------------------------------------------------------------- utilities


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: List[float], q: float) -> Optional[float]:
    """Linear-interpolated percentile (q in 0..100); None for an empty list."""
    if not values:
        return None
    data = sorted(values)
    k = (len(data) - 1) * q / 100.0
    lo, hi = math.floor(k), math.ceil(k)
    return data[lo] + (data[hi] - data[lo]) * (k - lo)


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


# --------------------------------------------------------------------------- training


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


def train(variant: Variant, retrain: bool) -> dict:
    """Train, unless a model trained from the same inputs exists — in bench/work/<variant>/, for ours
    the one `make train` wrote, or in the machine's bench model cache — then serve that and report
    the training cost recorded when it was trained."""
    variant.dir.mkdir(parents=True, exist_ok=True)
    if variant.model_from:
        return {"seconds": None, "reused": f"model of {variant.model_from}",
                "model_mb": round(variant.model.stat().st_size / 2**20, 2)}
    inputs = fingerprint(variant.config, SNAPSHOT / "domain.yml", SNAPSHOT / "data")
    if REUSE_ANY and variant.model.exists():
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


# --------------------------------------------------------------------------- serving


@dataclass
class Servers:
    rasa: subprocess.Popen
    actions: subprocess.Popen
    rasa_port: int
    actions_port: int
    rasa_mem: MemoryWatch
    actions_mem: MemoryWatch

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"


def write_endpoints(variant: Variant, actions_port: int) -> Path:
    """The project's endpoints.yml with the bench's action server and a fresh SQLite tracker store."""
    endpoints = yaml.safe_load((ROOT / "endpoints.yml").read_text(encoding="utf-8")) or {}
    endpoints["action_endpoint"] = {"url": f"http://127.0.0.1:{actions_port}/webhook"}
    tracker_db = variant.dir / "tracker.db"
    endpoints["tracker_store"] = {"type": variant.tracker_store, "dialect": "sqlite", "db": str(tracker_db)}
    for key in ("event_broker", "lock_store"):  # nothing external in the bench
        if key in endpoints and (endpoints[key] or {}).get("type") not in (None, "in_memory"):
            endpoints.pop(key)
    path = variant.dir / "endpoints.yml"
    path.write_text(yaml.safe_dump(endpoints, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def start_servers(variant: Variant) -> Servers:
    for name in ("tracker.db", "consultations.db"):
        (variant.dir / name).unlink(missing_ok=True)
    rasa_port, actions_port = free_port(), free_port()
    endpoints = write_endpoints(variant, actions_port)
    env = bench_env({**variant.env, "DATABASE_URL": f"sqlite:///{variant.dir / 'consultations.db'}"})
    actions = start_process(
        [str(BIN / "rasa"), "run", "actions", "--actions", "actions", "--port", str(actions_port)],
        variant.dir / "actions.log", env,
    )
    rasa = start_process(
        [
            *variant.server, "run", "--model", str(variant.model), "--endpoints", str(endpoints),
            "--credentials", variant.env.get("BENCH_CREDENTIALS", "credentials.yml"), "--port", str(rasa_port), "--interface", "127.0.0.1",
            "--enable-api",
        ],
        variant.dir / "rasa.log", env,
    )
    return Servers(
        rasa, actions, rasa_port, actions_port,
        MemoryWatch(rasa.pid).start(), MemoryWatch(actions.pid).start(),
    )


def stop_servers(servers: Servers) -> dict:
    memory = {"rasa": servers.rasa_mem.stop(), "actions": servers.actions_mem.stop()}
    stop_process(servers.rasa)
    stop_process(servers.actions)
    return memory


# --------------------------------------------------------------------------- HTTP client


async def post_turn(session, base: str, sender: str, message: str) -> dict:
    import aiohttp

    started = time.perf_counter()
    status, ok, error = None, False, None
    try:
        async with session.post(
            f"{base}/webhooks/rest/webhook", json={"sender": sender, "message": message},
            timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S),
        ) as resp:
            status = resp.status
            body = await resp.read()
            ok = status == 200 and isinstance(json.loads(body), list) and len(json.loads(body)) > 0
    except Exception as exc:  # noqa: BLE001 -- every failure is counted, none stops the run
        error = type(exc).__name__
    return {"ms": (time.perf_counter() - started) * 1000.0, "status": status, "ok": ok, "error": error}


async def wait_until_up(servers: Servers, started: float) -> float:
    """Seconds from process start until the Rasa server and the action server both answer."""
    import aiohttp

    deadline = started + STARTUP_TIMEOUT_S
    async with aiohttp.ClientSession() as session:
        up = {"rasa": False, "actions": False}
        while time.monotonic() < deadline:
            for proc, name in ((servers.rasa, "rasa"), (servers.actions, "actions")):
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} server exited with {proc.returncode} during start-up")
            for name, url in (
                ("rasa", f"{servers.base}/"),
                ("actions", f"http://127.0.0.1:{servers.actions_port}/health"),
            ):
                if up[name]:
                    continue
                try:
                    async with session.get(url, timeout=aiohttp.ClientTimeout(total=2)) as resp:
                        up[name] = resp.status == 200
                except Exception:  # noqa: BLE001
                    pass
            if all(up.values()):
                return time.monotonic() - started
            await asyncio.sleep(0.2)
    raise RuntimeError(f"servers not up after {STARTUP_TIMEOUT_S:.0f} s")


async def run_level(base: str, level: int, prefix: str, max_turns: int, max_seconds: float) -> dict:
    """`level` concurrent conversations, each sending its turns in order; bounded by turns and time."""
    import aiohttp

    from bench.conversations import conversations

    source = conversations(f"{prefix}-c{level}")
    samples: List[dict] = []
    budget = {"turns": max_turns}
    started = time.perf_counter()
    deadline = started + max_seconds

    async def worker(session) -> None:
        while budget["turns"] > 0 and time.perf_counter() < deadline:
            sender, turns = next(source)
            for kind, message in turns:
                if budget["turns"] <= 0 or time.perf_counter() >= deadline:
                    return
                budget["turns"] -= 1
                result = await post_turn(session, base, sender, message)
                result["kind"] = kind
                samples.append(result)

    connector = aiohttp.TCPConnector(limit=level)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(worker(session) for _ in range(level)))
    elapsed = time.perf_counter() - started
    return summarize_turns(samples, elapsed, level)


def summarize_turns(samples: List[dict], elapsed: float, level: int) -> dict:
    ok = [s["ms"] for s in samples if s["ok"]]
    by_kind = {}
    for kind in ("text", "button"):
        values = [s["ms"] for s in samples if s["ok"] and s["kind"] == kind]
        by_kind[kind] = {"n": len(values), "p50_ms": _r(percentile(values, 50)), "p95_ms": _r(percentile(values, 95))}
    errors: Dict[str, int] = {}
    for s in samples:
        if not s["ok"]:
            if s["error"]:
                key = s["error"]
            elif s["status"] != 200:
                key = f"HTTP {s['status']}"
            else:
                key = "empty reply"
            errors[key] = errors.get(key, 0) + 1
    return {
        "concurrency": level,
        "turns": len(samples),
        "ok": len(ok),
        "failed": len(samples) - len(ok),
        "errors": errors,
        "seconds": round(elapsed, 2),
        "turns_per_s": round(len(ok) / elapsed, 2) if elapsed > 0 else None,
        "p50_ms": _r(percentile(ok, 50)),
        "p95_ms": _r(percentile(ok, 95)),
        "p99_ms": _r(percentile(ok, 99)),
        "mean_ms": _r(statistics.fmean(ok)) if ok else None,
        "by_kind": by_kind,
        "loadavg_after": loadavg(),
        "latencies_ms": [round(v, 2) for v in ok],
    }


def _r(value: Optional[float], digits: int = 1) -> Optional[float]:
    return None if value is None else round(value, digits)


async def measure_parse(base: str, texts: List[str]) -> tuple[dict, Dict[str, dict]]:
    """POST /model/parse for every distinct hold-out text once, sequentially."""
    import aiohttp

    results: Dict[str, dict] = {}
    latencies: List[float] = []
    failures = 0
    async with aiohttp.ClientSession() as session:
        for text in dict.fromkeys(texts):
            started = time.perf_counter()
            try:
                async with session.post(
                    f"{base}/model/parse", json={"text": text}, timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
                ) as resp:
                    body = await resp.json(content_type=None)
                    if resp.status != 200:
                        raise RuntimeError(f"HTTP {resp.status}")
                latencies.append((time.perf_counter() - started) * 1000.0)
                results[text] = body
            except Exception:  # noqa: BLE001
                failures += 1
                results[text] = {}
    summary = {
        "n": len(latencies),
        "failed": failures,
        "p50_ms": _r(percentile(latencies, 50)),
        "p95_ms": _r(percentile(latencies, 95)),
        "latencies_ms": [round(v, 2) for v in latencies],
    }
    return summary, results


async def serve_and_measure(
    variant: Variant, levels: List[int], examples, deadline: float, profile: Optional[dict], out: dict
) -> dict:
    """Fills `out` as it goes, so that an interrupted run still reports what it measured."""
    from bot.nlu_evaluation import score

    out["load_before"] = loadavg()
    started = time.monotonic()
    servers = start_servers(variant)
    try:
        up_s = await wait_until_up(servers, started)
        import aiohttp

        async with aiohttp.ClientSession() as session:
            from bench.conversations import script

            first = await post_turn(session, servers.base, f"{variant.name}-cold", script(0)[0][1])
        if not first["ok"]:
            raise RuntimeError(f"first REST turn failed: {first}; see {variant.dir}/rasa.log")
        out["cold_start_s"] = round(time.monotonic() - started, 2)
        out["servers_up_s"] = round(up_s, 2)
        out["first_turn_ms"] = round(first["ms"], 1)
        log(f"{variant.name}: cold start {out['cold_start_s']} s (servers up {up_s:.1f} s, first turn {first['ms']:.0f} ms)")

        warm = await run_level(servers.base, 1, f"{variant.name}-warmup", 14, 60.0)  # one conversation
        out["warmup"] = {k: warm[k] for k in ("turns", "ok", "failed", "errors", "p50_ms")}

        out["levels"] = {}
        for level in levels:
            max_turns, max_seconds = LEVEL_BOUNDS.get(level, (20 * level, 90.0))
            if time.monotonic() + max_seconds > deadline:
                log(f"{variant.name}: skipping {level} concurrent (serving time budget)")
                out["levels"][str(level)] = {"skipped": "serving time budget (--max-minutes)"}
                continue
            spy = start_profiler(servers, profile, variant, level)
            result = await run_level(servers.base, level, variant.name, max_turns, max_seconds)
            if spy is not None:
                try:
                    spy.wait(timeout=profile["seconds"] + 60)  # py-spy stops by itself (--duration)
                except subprocess.TimeoutExpired:
                    spy.send_signal(signal.SIGINT)  # py-spy writes its output on Ctrl+C
                    try:
                        spy.wait(timeout=30)
                    except subprocess.TimeoutExpired:
                        stop_process(spy)
                result["profile"] = summarize_profile(profile)
            out["levels"][str(level)] = result
            log(
                f"{variant.name}: {level:>2} concurrent: {result['ok']}/{result['turns']} ok, "
                f"p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms, p99 {result['p99_ms']} ms, "
                f"{result['turns_per_s']} turns/s (load {result['loadavg_after']})"
            )

        if NO_PARSE:
            return out
        parse_summary, parsed = await measure_parse(servers.base, [e.text for e in examples])
        out["parse"] = parse_summary
        log(f"{variant.name}: /model/parse p50 {parse_summary['p50_ms']} ms, p95 {parse_summary['p95_ms']} ms")
        scores = score(examples, lambda text: parsed.get(text, {}))
        out["nlu"] = {
            "intent_accuracy": round(scores.intent_accuracy, 4),
            "behavior_precision": round(scores.behavior_precision, 4),
            "behavior_recall": round(scores.behavior_recall, 4),
            "behavior_f1": round(scores.behavior_f1, 4),
            "n": scores.n,
            "errors": len(scores.errors),
        }
        (variant.dir / "nlu_errors.json").write_text(json.dumps(scores.errors, ensure_ascii=False, indent=1), encoding="utf-8")
        log(f"{variant.name}: intent accuracy {scores.intent_accuracy:.3f}, behaviour F1 {scores.behavior_f1:.3f}")
    finally:
        memory = stop_servers(servers)
        out["memory"] = memory
        out["load_after"] = loadavg()
        log(f"{variant.name}: peak RSS rasa {memory['rasa']['vmhwm_tree_mb']} MB, actions {memory['actions']['vmhwm_tree_mb']} MB")
    return out


def summarize_profile(profile: dict, top: int = 30) -> dict:
    """Top frames of a py-spy raw (collapsed stacks) profile: self and inclusive share of samples."""
    path = BENCH / "profile" / profile["output"]
    if not path.exists():
        return {"error": f"{path.name} not written"}
    self_counts: Dict[str, int] = {}
    incl_counts: Dict[str, int] = {}
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = stack.split(";")
        for frame in set(frames):
            incl_counts[frame] = incl_counts.get(frame, 0) + n
        self_counts[frames[-1]] = self_counts.get(frames[-1], 0) + n
    def rank(counts):
        return [{"frame": f, "share": round(c / total, 4)} for f, c in sorted(counts.items(), key=lambda x: -x[1])[:top]]
    summary = {"file": str(path.relative_to(ROOT)), "samples": total, "self": rank(self_counts), "inclusive": rank(incl_counts)}
    md = [f"# py-spy: {profile['variant']} at {profile['level']} concurrent ({total} samples, {profile['seconds']} s)", ""]
    for kind in ("self", "inclusive"):
        md += [f"## top {kind}", ""] + [f"- {x['share']*100:5.1f} %  {x['frame']}" for x in summary[kind]] + [""]
    (path.parent / f"top-{profile['variant']}-{profile['level']}.md").write_text("\n".join(md), encoding="utf-8")
    return summary


def start_profiler(servers: Servers, profile: Optional[dict], variant: Variant, level: int):
    if not profile or profile["variant"] != variant.name or profile["level"] != level:
        return None
    py_spy = shutil.which("py-spy", path=str(BIN)) or shutil.which("py-spy")
    if not py_spy:
        log("py-spy not found: no profile")
        return None
    out = BENCH / "profile" / profile["output"]
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = [py_spy, "record", "--pid", str(servers.rasa.pid), "--rate", "100", "--duration", str(profile["seconds"]),
           "--format", "raw", "-o", str(out), "--nonblocking"]
    if profile.get("idle"):
        cmd.append("--idle")
    log(f"profiling {variant.name} at {level} concurrent: {' '.join(cmd[1:])}")
    return start_process(cmd, variant.dir / f"py-spy-{level}.log", bench_env())


# --------------------------------------------------------------------------- report


def machine() -> dict:
    info: dict = {"shared": "shared machine: other engineers were running jobs during the run"}
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
        models = [l.split(":", 1)[1].strip() for l in cpuinfo.splitlines() if l.startswith("model name")]
        info["cpu"] = models[0] if models else platform.processor()
    except OSError:
        info["cpu"] = platform.processor()
    info["nproc"] = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    info["free"] = subprocess.run(["free", "-m"], capture_output=True, text=True).stdout.strip()
    info["python"] = platform.python_version()
    info["kernel"] = platform.release()
    return info


def flat_metrics(result: dict) -> Dict[str, Optional[float]]:
    m: Dict[str, Optional[float]] = {}
    train = result.get("train") or {}
    m["train_s"] = train.get("seconds")
    m["model_mb"] = train.get("model_mb")
    serve = result.get("serve", {})
    m["cold_start_s"] = serve.get("cold_start_s")
    for level, r in (serve.get("levels") or {}).items():
        for key in ("p50_ms", "p95_ms", "p99_ms", "turns_per_s"):
            m[f"turn_{key}@{level}" if key != "turns_per_s" else f"turns_per_s@{level}"] = r.get(key)
        m[f"failed_turns@{level}"] = r.get("failed")
    parse = serve.get("parse") or {}
    m["parse_p50_ms"], m["parse_p95_ms"] = parse.get("p50_ms"), parse.get("p95_ms")
    memory = serve.get("memory") or {}
    m["peak_rss_rasa_mb"] = (memory.get("rasa") or {}).get("vmhwm_tree_mb")
    m["peak_rss_actions_mb"] = (memory.get("actions") or {}).get("vmhwm_tree_mb")
    if m["peak_rss_rasa_mb"] is not None and m["peak_rss_actions_mb"] is not None:
        m["peak_rss_total_mb"] = round(m["peak_rss_rasa_mb"] + m["peak_rss_actions_mb"], 1)
    nlu = serve.get("nlu") or {}
    m["intent_accuracy"], m["behavior_f1"] = nlu.get("intent_accuracy"), nlu.get("behavior_f1")
    return m


def ratio(a, b):  # ours / stock
    return round(a / b, 3) if a is not None and b not in (None, 0) else None


def evaluate_targets(metrics: Dict[str, Dict[str, Optional[float]]], base: str, other: str) -> List[dict]:
    out = []
    for key, text, kind, threshold in TARGETS:
        ours, stock = metrics[other].get(key), metrics[base].get(key)
        if kind == "abs_lt":
            value, met = ours, (ours is not None and ours < threshold)
            rule = f"< {threshold:g} ms"
        else:
            value = ratio(ours, stock)
            met = value is not None and (value <= threshold if kind == "ratio_le" else value >= threshold)
            rule = f"{'<=' if kind == 'ratio_le' else '>='} {threshold:g}"
        out.append({"target": text, "metric": key, "rule": rule, "value": value, "met": None if value is None else bool(met)})
    return out


ROWS = [
    ("train_s", "training time (s)"),
    ("model_mb", "model archive (MB)"),
    ("cold_start_s", "cold start: process start → first REST answer (s)"),
]
for _lv in ("1", "8", "32"):
    ROWS += [
        (f"turn_p50_ms@{_lv}", f"REST turn p50 at {_lv} concurrent (ms)"),
        (f"turn_p95_ms@{_lv}", f"REST turn p95 at {_lv} concurrent (ms)"),
        (f"turn_p99_ms@{_lv}", f"REST turn p99 at {_lv} concurrent (ms)"),
        (f"turns_per_s@{_lv}", f"turns/s at {_lv} concurrent"),
        (f"failed_turns@{_lv}", f"failed turns at {_lv} concurrent"),
    ]
ROWS += [
    ("parse_p50_ms", "/model/parse p50, hold-out texts (ms)"),
    ("parse_p95_ms", "/model/parse p95, hold-out texts (ms)"),
    ("peak_rss_rasa_mb", "peak RSS Rasa server, VmHWM incl. children (MB)"),
    ("peak_rss_actions_mb", "peak RSS action server, VmHWM incl. children (MB)"),
    ("peak_rss_total_mb", "peak RSS both servers (MB)"),
    ("intent_accuracy", "intent accuracy, tests/nlu_holdout.yml"),
    ("behavior_f1", "behaviour micro-F1, tests/nlu_holdout.yml"),
]


def _fmt(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


def write_markdown(report: dict, path: Path) -> None:
    names = list(report["variants"])
    base, others = names[0], names[1:]
    metrics = {n: flat_metrics(report["variants"][n]) for n in names}
    lines = [
        "# make bench: stock Rasa + GiNZA vs. ours",
        "",
        f"Run {report['started']} – {report['finished']} ({report['wall_s']:.0f} s), commit `{report['git']['commit']}`"
        + (" with uncommitted changes" if report["git"]["dirty"] else "") + ".",
        "",
        f"**Machine: {report['machine']['nproc']} cores** ({report['machine']['cpu']}), Python "
        f"{report['machine']['python']}. Load average {report['load_start']} at start, {report['load_end']} at end. "
        "Both variants ran one after the other on the same machine, same data, same client.",
        "",
        "```",
        report["machine"]["free"],
        "```",
        "",
        "Variants: " + "; ".join(
            f"**{n}** = `{report['variants'][n]['config']}` served by `{report['variants'][n].get('server', 'rasa run')}`"
            f" with tracker store `{report['variants'][n].get('tracker_store', 'SQL')}`"
            + (f", env {report['variants'][n]['env']}" if report['variants'][n]['env'] else "")
            for n in names
        ) + ".",
        "",
        "| " + " | ".join(["figure", *names, *(f"ratio {o}/{base}" for o in others)]) + " |",
        "|---|" + "---:|" * (len(names) + len(others)),
    ]
    for key, label in ROWS:
        if all(metrics[n].get(key) is None for n in names):
            continue
        cells = [_fmt(metrics[n].get(key)) for n in names]
        ratios = [_fmt(ratio(metrics[o].get(key), metrics[base].get(key))) for o in others]
        lines.append("| " + " | ".join([label, *cells, *ratios]) + " |")
    for other in others:
        lines += ["", f"## Targets ({other} vs. {base}, same run)", "", "| target | rule | value | |", "|---|---|---:|---|"]
        for t in report["targets"][other]:
            lines.append(f"| {t['target']} | {t['rule']} | {_fmt(t['value'])} | {'not measured' if t['met'] is None else 'met' if t['met'] else '**missed**'} |")
    lines += [
        "",
        "## How it was measured",
        "",
        "- Training: `rasa train` with an empty training cache (bench/training.py), wall time and peak RSS;"
        " model size is the .tar.gz archive. Both train on a copy of data/, domain.yml and the configs taken when the"
        " run starts (bench/work/snapshot/), so edits during the run do not reach one model only. A model trained from"
        " inputs with the same fingerprint (config, domain.yml, data/, bot/rasa/nlu_components.py, bot/lexicon/, bot/conduct.py,"
        " bot/rasa/spacy_model.py, Rasa version) is reused — from bench/work/, the machine's model cache or, for ours,"
        " models/ as `make train` wrote it — and its training figures are those recorded when it was trained: "
        + "; ".join(f"{n}: " + (f"reused ({report['variants'][n]['train']['reused']})"
            if report["variants"][n].get("train", {}).get("reused") else "trained in this run") for n in names) + ".",
        "- Servers: `rasa run actions` and the variant's Rasa server (`rasa run` for stock, `python -m bot.rasa.server run`"
        " for ours, as `make run` starts it) with `--enable-api` and credentials.yml (REST channel), free ports on"
        " 127.0.0.1, a fresh SQLite tracker store and DATABASE_URL per variant. Cold start = both processes launched →"
        " first REST turn answered.",
        "- REST turns: aiohttp client, N concurrent conversations, each sending its turns in order (a free-text first"
        " message, button payloads such as /affirm, /inform{\"channel\": …}, free-text elapsed time and demand, …,"
        " /ask_time_limit, /ask_escalation, /finish: bench/conversations.py); one unmeasured warm-up conversation first;"
        " bounds per level (turns, seconds): " + ", ".join(f"{k}: {v[0]} / {v[1]:.0f}" for k, v in LEVEL_BOUNDS.items())
        + ". A turn counts as ok when HTTP 200 with a non-empty reply list; percentiles over ok turns.",
        "- /model/parse: every distinct hold-out text once, sequentially; intent accuracy and behaviour micro-F1 by"
        " `bot.nlu_evaluation.score` on those parses.",
        "- Peak RSS: VmHWM of the server process and all its descendants (sampled every 0.5 s, max per pid, summed).",
        "",
        "Cold start and per-kind latency (ok turns, p50/p95 ms; text = through NLU, button = /intent payload):",
        "",
    ]
    for n in names:
        serve = report["variants"][n].get("serve", {})
        if serve.get("cold_start_s") is not None:
            lines.append(
                f"- {n} cold start: servers answering after {serve.get('servers_up_s')} s, first REST turn "
                f"{serve.get('first_turn_ms')} ms; warm-up conversation {serve.get('warmup', {}).get('ok')}/"
                f"{serve.get('warmup', {}).get('turns')} ok; load {serve.get('load_before')} → {serve.get('load_after')}"
            )
    for n in names:
        for level, r in (report["variants"][n].get("serve", {}).get("levels") or {}).items():
            if "by_kind" in r:
                k = r["by_kind"]
                lines.append(
                    f"- {n} @{level}: text {k['text']['p50_ms']}/{k['text']['p95_ms']} (n={k['text']['n']}), "
                    f"button {k['button']['p50_ms']}/{k['button']['p95_ms']} (n={k['button']['n']}); load after {r['loadavg_after']}"
                )
    if report.get("errors"):
        lines += ["", "## Errors", ""] + [f"- {e}" for e in report["errors"]]
    lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")


def write_plot(report: dict, path: Path) -> None:
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(report["variants"])
    panels = [("parse", "/model/parse (hold-out)")]
    levels = sorted({int(l) for n in names for l in (report["variants"][n].get("serve", {}).get("levels") or {})})
    panels = [(str(l), f"REST turn, {l} concurrent") for l in levels] + panels
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.6), squeeze=False)
    for ax, (key, title) in zip(axes[0], panels):
        for n in names:
            serve = report["variants"][n].get("serve", {})
            data = (serve.get("parse") if key == "parse" else (serve.get("levels") or {}).get(key)) or {}
            values = sorted(data.get("latencies_ms") or [])
            if values:
                ys = [(i + 1) / len(values) for i in range(len(values))]
                ax.step(values, ys, where="post", label=f"{n} (p50 {percentile(values, 50):.0f} ms)")
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(matplotlib.ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("latency (ms, log)")
        ax.set_ylabel("fraction of requests")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
    fig.suptitle(f"make bench: latency CDFs ({report['machine']['nproc']}-core machine, {report['started'][:10]})", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def git_state() -> dict:
    def run(*args):
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    return {"commit": run("rev-parse", "--short", "HEAD") or "?", "dirty": bool(run("status", "--porcelain"))}


# --------------------------------------------------------------------------- main


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    p.add_argument(
        "--retrain", default="", metavar="VARIANTS",
        help="comma list of variants to train even when their inputs are unchanged (all: every one); by default "
        "a model is reused when config, domain, data/, custom NLU code and Rasa version are unchanged",
    )
    p.add_argument(
        "--reuse-any", action="store_true",
        help="serve the models already in bench/work/ even if config/data changed (profiling, experiments)",
    )
    p.add_argument("--no-parse", action="store_true", help="skip /model/parse and the NLU scores")
    p.add_argument("--levels", default="1,8,32", help="concurrency levels (default 1,8,32)")
    p.add_argument("--ours-config", default="config.yml", help="the project's config (default config.yml)")
    p.add_argument("--stock-config", default="bench/stock_config.yml")
    p.add_argument(
        "--variant", action="append", default=[], metavar="NAME:MODEL_OF[:ENV=V,...]",
        help="extra serving variant reusing the model of MODEL_OF with extra environment, "
        "e.g. ours-tf2:ours:TF_INTRA_OP_PARALLELISM_THREADS=2,TF_INTER_OP_PARALLELISM_THREADS=2; "
        "BENCH_CREDENTIALS=<file> serves it with another credentials file, BENCH_SERVER=rasa|bot.rasa.server "
        "with another server command, BENCH_TRACKER_STORE=<type> with another tracker store type",
    )
    p.add_argument("--only", default=None, help="comma list of variants to run (default all); the first is the base")
    p.add_argument("--profile", default=None, metavar="VARIANT@LEVEL", help="py-spy the Rasa server, e.g. ours@8")
    p.add_argument("--profile-seconds", type=int, default=40)
    p.add_argument(
        "--max-minutes", type=float, default=SERVING_BUDGET_S / 60.0,
        help="time budget for serving and measuring all variants (training excluded): concurrency levels "
        "that would end after it are skipped (default 15)",
    )
    p.add_argument("--rerender", default=None, metavar="RESULTS_JSON", help="only rewrite results.md/latency.png from it")
    p.add_argument("--out", default="bench", help="directory for results.json/.md and latency.png")
    return p.parse_args(argv)


def rerender(path: Path) -> int:
    """Rewrite results.md and latency.png next to an existing results.json (no measurement)."""
    report = json.loads(path.read_text(encoding="utf-8"))
    names = list(report["variants"])
    report["metrics"] = {n: flat_metrics(report["variants"][n]) for n in names}
    report["targets"] = {n: evaluate_targets(report["metrics"], names[0], n) for n in names[1:]}
    write_markdown(report, path.parent / "results.md")
    write_plot(report, path.parent / "latency.png")
    log(f"rewrote {path.parent / 'results.md'} and latency.png from {path}")
    return 0


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.rerender:
        return rerender(ROOT / args.rerender)
    signal.signal(signal.SIGTERM, stop_all_and_exit)
    signal.signal(signal.SIGINT, stop_all_and_exit)
    WORK.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(ROOT))
    levels = [int(x) for x in args.levels.split(",") if x.strip()]
    global REUSE_ANY, NO_PARSE
    REUSE_ANY, NO_PARSE = args.reuse_any, args.no_parse
    configs = take_snapshot({"stock": ROOT / args.stock_config, "ours": ROOT / args.ours_config})
    variants = [Variant("stock", configs["stock"], source=args.stock_config),
                Variant("ours", configs["ours"], source=args.ours_config, server=list(OUR_SERVER),
                        tracker_store=OUR_TRACKER_STORE)]
    for spec in args.variant:
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
        variants.append(Variant(name, base_variant.config, env=env, model_from=model_of, source=base_variant.source,
                                server=list(server), tracker_store=tracker_store))
    if args.only:
        wanted = args.only.split(",")
        variants = sorted((v for v in variants if v.name in wanted), key=lambda v: wanted.index(v.name))
    profile = None
    if args.profile:
        pv, pl = args.profile.split("@")
        profile = {"variant": pv, "level": int(pl), "seconds": args.profile_seconds, "output": f"{pv}-{pl}.collapsed.txt"}

    started_wall, t0 = dt.datetime.now().astimezone(), time.monotonic()
    report: dict = {
        "started": started_wall.isoformat(timespec="seconds"),
        "machine": machine(),
        "git": git_state(),
        "load_start": loadavg(),
        "bounds": {str(k): {"max_turns": v[0], "max_seconds": v[1]} for k, v in LEVEL_BOUNDS.items()},
        "variants": {},
        "errors": [],
    }
    log(f"machine: {report['machine']['cpu']}, {report['machine']['nproc']} cores, load {report['load_start']}")
    from bot.nlu_evaluation import load_examples

    examples = load_examples(HOLDOUT)
    log(f"hold-out: {len(examples)} examples from {HOLDOUT.relative_to(ROOT)}")
    exit_code = 0
    try:
        for v in variants:
            entry = {"config": v.source, "env": v.env, "model": str(v.model.relative_to(ROOT)),
                     "server": " ".join([Path(v.server[0]).name, *v.server[1:], "run"]), "tracker_store": v.tracker_store}
            report["variants"][v.name] = entry
            try:
                entry["train"] = train(v, args.retrain == "all" or v.name in args.retrain.split(","))
            except Exception as exc:  # noqa: BLE001
                report["errors"].append(f"{v.name}: {exc}")
                entry["train"] = {"error": str(exc)}
                exit_code = 1
                continue
        deadline = time.monotonic() + args.max_minutes * 60.0
        for v in variants:
            entry = report["variants"][v.name]
            if "error" in entry["train"]:
                continue
            try:
                entry["serve"] = {}
                asyncio.run(serve_and_measure(v, levels, examples, deadline, profile, entry["serve"]))
            except Exception as exc:  # noqa: BLE001
                report["errors"].append(f"{v.name}: {type(exc).__name__}: {exc}")
                entry.setdefault("serve", {})
                exit_code = 1
    finally:
        stop_all()
        report["finished"] = dt.datetime.now().astimezone().isoformat(timespec="seconds")
        report["wall_s"] = round(time.monotonic() - t0, 1)
        report["load_end"] = loadavg()
        names = list(report["variants"])
        metrics = {n: flat_metrics(report["variants"][n]) for n in names}
        report["metrics"] = metrics
        report["targets"] = {
n: evaluate_targets(metrics, names[0], n) for n in names[1:]}
        out = ROOT / args.out
        out.mkdir(parents=True, exist_ok=True)
        (out / "results.json").write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
        try:
            write_markdown(report, out / "results.md")
            write_plot(report, out / "latency.png")
        except Exception as exc:  # noqa: BLE001
            log(f"report/plot failed: {type(exc).__name__}: {exc}")
            exit_code = 1
        log(f"wrote {out.relative_to(ROOT)}/results.md, results.json, latency.png in {report['wall_s']:.0f} s")
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
