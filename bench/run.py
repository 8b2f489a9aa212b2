"""`make bench`: stock Rasa + GiNZA against the project's config.yml, side by side.

    .venv/bin/python -m bench.run                 # train both, serve both, measure, write results
    .venv/bin/python -m bench.run --retrain all   # train even if config/domain/data are unchanged
    .venv/bin/python -m bench.run --help

For every variant (stock = bench/stock_config.yml, ours = config.yml read at run time):
train into bench/work/<variant>/ (fresh Rasa training cache, wall time, archive size); start
the action server and `rasa run --enable-api` (REST channel from credentials.yml) on free
127.0.0.1 ports with a fresh SQLite tracker store and DATABASE_URL under bench/work/<variant>/;
measure cold start, REST turn latency and CPU per turn at 1/8/32 concurrent conversations, the
latency of every turn of one 510-turn conversation, /model/parse latency and NLU scores on
tests/nlu_holdout.yml, peak RSS (VmHWM, process trees); stop the servers. Then ours on the
production profile (PostgreSQL, Redis) served by one and by two Rasa servers (bench/scaling.py).
Writes bench/results.json, bench/results.md, bench/latency.png and bench/turn_latency.png.

Only 127.0.0.1 traffic; every loop bounded by count and time; servers are stopped on exit,
error or Ctrl+C.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import signal
import sys
import time
from pathlib import Path
from typing import List, Optional

from bench.client import measure_parse, post_turn, run_level, run_long_conversation
from bench.cpu import CpuMeter, cpu_per_turn
from bench.models import OUR_SERVER, OUR_TRACKER_STORE, ROOT, WORK, Variant, extra_variant, take_snapshot, train
from bench.processes import log, loadavg, stop_all, stop_all_and_exit
from bench.profiling import finish_profiler, start_profiler
from bench.report import all_metrics, evaluate_targets, git_state, machine, rerender, write_markdown, write_plot, write_turn_plot
from bench.scaling import SCALING_BOUNDS, measure_scaling
from bench.serving import start_servers, stop_servers, wait_until_up

HOLDOUT = ROOT / "tests" / "nlu_holdout.yml"

# Bounds: (max turns, max seconds) per concurrency level.
LEVEL_BOUNDS = {1: (70, 60.0), 8: (320, 75.0), 32: (640, 90.0)}
SERVING_BUDGET_S = 15 * 60.0  # serving and measuring every variant, training excluded
LONG_TURNS = 510  # the long conversation, so that turns 490-510 are "the 500th"
LONG_BUDGET_S = 6 * 60.0  # per variant
SCALING_BUDGET_S = 8 * 60.0  # one against two servers, start-up included


async def serve_and_measure(
    variant: Variant, levels: List[int], examples, deadline: float, profile: Optional[dict], out: dict,
    parse: bool = True, long_turns: int = LONG_TURNS, long_seconds: float = LONG_BUDGET_S,
) -> dict:
    """Fills `out` as it goes, so that an interrupted run still reports what it measured; `parse`
    False skips /model/parse and the NLU scores (--no-parse), `long_turns` 0 the long conversation."""
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

        warm = await run_level([servers.base], 1, f"{variant.name}-warmup", 14, 60.0)  # one conversation
        out["warmup"] = {k: warm[k] for k in ("turns", "ok", "failed", "errors", "p50_ms")}

        out["levels"] = {}
        for level in levels:
            max_turns, max_seconds = LEVEL_BOUNDS.get(level, (20 * level, 90.0))
            if time.monotonic() + max_seconds > deadline:
                log(f"{variant.name}: skipping {level} concurrent (serving time budget)")
                out["levels"][str(level)] = {"skipped": "serving time budget (--max-minutes)"}
                continue
            spy = start_profiler(servers, profile, variant, level)
            meter = CpuMeter({"rasa": servers.rasa.pid, "actions": servers.actions.pid}).start()
            result = await run_level([servers.base], level, variant.name, max_turns, max_seconds)
            result.update(cpu_per_turn(meter.stop(), result["ok"]))
            if spy is not None:
                result["profile"] = finish_profiler(spy, profile)
            out["levels"][str(level)] = result
            log(
                f"{variant.name}: {level:>2} concurrent: {result['ok']}/{result['turns']} ok, "
                f"p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms, p99 {result['p99_ms']} ms, "
                f"{result['turns_per_s']} turns/s, CPU {result['cpu_ms_per_turn']['total']} ms/turn "
                f"(load {result['loadavg_after']})"
            )

        if long_turns:
            log(f"{variant.name}: one conversation of up to {long_turns} turns (at most {long_seconds / 60:.0f} min)")
            long = await run_long_conversation(servers.base, f"{variant.name}-long", long_turns, long_seconds)
            out["long"] = long
            log(f"{variant.name}: long conversation: {long['reached_turns']} turns ({long['stopped']}, "
                f"{long['failed']} failed), median turns {long['early']['turns']} {long['early']['median_ms']} ms, "
                f"turns {long['late']['turns']} {long['late']['median_ms']} ms, ratio {long['late_over_early']}")

        if not parse:
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
    p.add_argument("--long-turns", type=int, default=LONG_TURNS,
                   help=f"turns of the long conversation, 0 to skip it (default {LONG_TURNS})")
    p.add_argument("--long-minutes", type=float, default=LONG_BUDGET_S / 60.0,
                   help="time bound of the long conversation per variant (default 6)")
    p.add_argument("--scaling-levels", default=",".join(map(str, SCALING_BOUNDS)),
                   help="concurrency levels of one against two Rasa servers, empty to skip (default 16,32)")
    p.add_argument("--scaling-minutes", type=float, default=SCALING_BUDGET_S / 60.0,
                   help="time bound of one against two servers, start-up included (default 8)")
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


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.rerender:
        return rerender(ROOT / args.rerender)
    signal.signal(signal.SIGTERM, stop_all_and_exit)
    signal.signal(signal.SIGINT, stop_all_and_exit)
    WORK.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(ROOT))
    levels = [int(x) for x in args.levels.split(",") if x.strip()]
    configs = take_snapshot({"stock": ROOT / args.stock_config, "ours": ROOT / args.ours_config})
    variants = [Variant("stock", configs["stock"], source=args.stock_config),
                Variant("ours", configs["ours"], source=args.ours_config, server=list(OUR_SERVER),
                        tracker_store=OUR_TRACKER_STORE)]
    variants += [extra_variant(spec, variants) for spec in args.variant]
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
        "long_bounds": {"turns": args.long_turns, "max_seconds": args.long_minutes * 60.0},
        "scaling_bounds": {str(k): {"max_turns": v[0], "max_seconds": v[1]} for k, v in SCALING_BOUNDS.items()},
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
                entry["train"] = train(v, args.retrain == "all" or v.name in args.retrain.split(","), args.reuse_any)
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
                asyncio.run(serve_and_measure(v, levels, examples, deadline, profile, entry["serve"], not args.no_parse,
                                              args.long_turns, args.long_minutes * 60.0))
            except Exception as exc:  # noqa: BLE001
                report["errors"].append(f"{v.name}: {type(exc).__name__}: {exc}")
                entry.setdefault("serve", {})
                exit_code = 1
        scaling_levels = [int(x) for x in args.scaling_levels.split(",") if x.strip()]
        ours = next((v for v in variants if v.name == "ours" and "error" not in report["variants"][v.name]["train"]), None)
        if scaling_levels and ours is not None:
            try:
                report["scaling"] = measure_scaling(ours.model, WORK / "scaling", scaling_levels, args.scaling_minutes * 60.0)
            except Exception as exc:  # noqa: BLE001
                report["errors"].append(f"scaling: {type(exc).__name__}: {exc}")
                exit_code = 1
    finally:
        stop_all()
        report["finished"] = dt.datetime.now().astimezone().isoformat(timespec="seconds")
        report["wall_s"] = round(time.monotonic() - t0, 1)
        report["load_end"] = loadavg()
        names = list(report["variants"])
        metrics = all_metrics(report)
        report["metrics"] = metrics
        report["targets"] = {n: evaluate_targets(metrics, names[0], n) for n in names[1:]}
        out = ROOT / args.out
        out.mkdir(parents=True, exist_ok=True)
        (out / "results.json").write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
        try:
            write_markdown(report, out / "results.md")
            write_plot(report, out / "latency.png")
            write_turn_plot(report, out / "turn_latency.png")
        except Exception as exc:  # noqa: BLE001
            log(f"report/plot failed: {type(exc).__name__}: {exc}")
            exit_code = 1
        log(f"wrote {out}/results.md, results.json, latency.png, turn_latency.png in {report['wall_s']:.0f} s")
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
