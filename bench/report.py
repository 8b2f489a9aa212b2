"""The report of a bench run: flat metrics, ratios and targets, results.md and latency.png."""
from __future__ import annotations

import json
import platform
import subprocess
from pathlib import Path
from typing import Dict, List, Optional

from bench.processes import log
from bench.scaling import scaling_summary
from bench.stats import percentile

ROOT = Path(__file__).resolve().parent.parent

TARGETS = [
    # (key in the comparison, description, kind, threshold, unit); ratio_* compare with the base
    # variant (stock), abs_* the variant's own figure
    ("turn_p50_ms@8", "turn latency p50 at 8 concurrent, ours/stock", "ratio_le", 0.5, ""),
    ("turn_p95_ms@8", "turn latency p95 at 8 concurrent, ours/stock", "ratio_le", 0.5, ""),
    ("turns_per_s@32", "turns/s at 32 concurrent, ours/stock", "ratio_ge", 2.0, ""),
    ("peak_rss_rasa_mb", "peak RSS of the Rasa server, ours/stock", "ratio_le", 0.75, ""),
    ("cold_start_s", "cold start, ours/stock", "ratio_le", 0.6, ""),
    ("turn_p95_ms@8", "turn latency p95 at 8 concurrent, ours (absolute)", "abs_lt", 100.0, " ms"),
    ("cpu_ms_per_turn@8", "CPU per turn at 8 concurrent, Rasa + action server, ours", "abs_le", 40.0, " ms"),
    ("late_over_early", "500th / 10th turn latency of one conversation, ours", "abs_le", 1.5, ""),
    ("two_over_one_servers", "turns/s with 2 Rasa servers / with 1, ours on PostgreSQL + Redis", "abs_ge", 1.6, ""),
]
SCALED_VARIANT = "ours"  # the variant bench/scaling.py serves with one and with two servers


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
        cpu = r.get("cpu_ms_per_turn") or {}
        m[f"cpu_ms_per_turn@{level}"], m[f"cpu_rasa_ms_per_turn@{level}"] = cpu.get("total"), cpu.get("rasa")
    long = serve.get("long") or {}
    m["long_reached_turns"] = long.get("reached_turns")
    m["early_turn_ms"] = (long.get("early") or {}).get("median_ms")
    m["late_turn_ms"] = (long.get("late") or {}).get("median_ms")
    m["late_over_early"] = long.get("late_over_early")
    m["ms_per_100_turns"] = long.get("ms_per_100_turns")
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


def all_metrics(report: dict) -> Dict[str, Dict[str, Optional[float]]]:
    """flat_metrics of every variant; the one served by one and two servers also gets those figures."""
    metrics = {n: flat_metrics(report["variants"][n]) for n in report["variants"]}
    if SCALED_VARIANT in metrics and report.get("scaling"):
        summary = scaling_summary(report["scaling"])
        metrics[SCALED_VARIANT].update({
            "turns_per_s_one_server": summary["best"]["one"], "turns_per_s_two_servers": summary["best"]["two"],
            "two_over_one_servers": summary["best"]["ratio"],
        })
    return metrics


def ratio(a, b):  # ours / stock
    return round(a / b, 3) if a is not None and b not in (None, 0) else None


def evaluate_targets(metrics: Dict[str, Dict[str, Optional[float]]], base: str, other: str) -> List[dict]:
    out = []
    for key, text, kind, threshold, unit in TARGETS:
        ours, stock = metrics[other].get(key), metrics[base].get(key)
        if kind.startswith("abs_"):
            compare = {"abs_lt": (lambda v: v < threshold, "<"), "abs_le": (lambda v: v <= threshold, "<="),
                       "abs_ge": (lambda v: v >= threshold, ">=")}[kind]
            value, met = ours, (ours is not None and compare[0](ours))
            rule = f"{compare[1]} {threshold:g}{unit}"
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
        (f"cpu_ms_per_turn@{_lv}", f"CPU per turn at {_lv} concurrent, Rasa + action server (ms)"),
        (f"cpu_rasa_ms_per_turn@{_lv}", f"CPU per turn at {_lv} concurrent, Rasa server alone (ms)"),
    ]
ROWS += [
    ("long_reached_turns", "one long conversation: turns reached"),
    ("early_turn_ms", "its 10th turn: median of turns 5–15 (ms)"),
    ("late_turn_ms", "its 500th turn: median of turns 490–510, or of the last 21 reached (ms)"),
    ("late_over_early", "500th / 10th turn"),
    ("ms_per_100_turns", "latency growth over the conversation (ms per 100 turns, least squares from turn 5)"),
    ("turns_per_s_one_server", "turns/s, 1 Rasa server on PostgreSQL + Redis (best level)"),
    ("turns_per_s_two_servers", "turns/s, 2 Rasa servers on PostgreSQL + Redis (best level)"),
    ("two_over_one_servers", "2 servers / 1 server"),
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
    metrics = all_metrics(report)
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
    lines += _long_section(report) + _scaling_section(report)
    lines += [
        "",
        "## How it was measured",
        "",
        "- Training: `rasa train` with an empty training cache (bot/rasa/training.py), wall time and peak RSS;"
        " model size is the .tar.gz archive. Both train on a copy of data/, domain.yml and the configs taken when the"
        " run starts (bench/work/snapshot/), so edits during the run do not reach one model only. A model trained from"
        " inputs with the same fingerprint (config, domain.yml, data/, the code listed in bot/rasa/model_inputs.txt,"
        " Rasa version) is reused — from bench/work/, the machine's model cache or, for ours,"
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
        " bounds per level (turns, seconds): " + ", ".join(
            f"{k}: {v['max_turns']} / {v['max_seconds']:.0f}" for k, v in report["bounds"].items())
        + ". A turn counts as ok when HTTP 200 with a non-empty reply list; percentiles over ok turns.",
        "- /model/parse: every distinct hold-out text once, sequentially; intent accuracy and behaviour micro-F1 by"
        " `bot.nlu_evaluation.score` on those parses.",
        "- Peak RSS: VmHWM of the server process and all its descendants (sampled every 0.5 s, max per pid, summed).",
        "- CPU per turn: utime + stime (and those of exited children) from /proc/<pid>/stat of the Rasa server's and"
        " the action server's process trees, read before and after each level; the difference over the level's ok"
        " turns (bench/cpu.py); SQLite runs inside the Rasa server and the action server, so its work is counted. In the"
        " one-against-two part PostgreSQL's backends for the run's database are added; Redis and the load client are"
        " never counted. On a shared machine CPU time per turn rises with the load (the same work measured 30 to 95 ms"
        " per turn at different moments here): compare figures from one run.",
        "- Long conversation: one conversation, each turn waiting for the previous reply, never /finish or /restart"
        " (bench/conversations.py long_script: the form, then new facts in words, /ask_time_limit, /ask_judgement,"
        " /ask_escalation, questions in words, in a cycle), on the variant's own tracker store after the levels;"
        " bounded by turns and time" + (f" ({report['long_bounds']['turns']} turns, {report['long_bounds']['max_seconds'] / 60:.0f} min)"
                                        if report.get("long_bounds") else "") + ". Latency of every turn: turn_latency.png.",
        "- One against two servers (bench/scaling.py): ours' model on the production profile (endpoints.production.yml:"
        " PostgreSQL tracker store and records in a database of its own, Redis lock store under a key prefix of its own,"
        " one action server), both Rasa servers started once; at each level the load client sends every conversation"
        " to one server (round robin by conversation over the first server only, then over both); best turns/s over"
        " the levels.",
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


def _long_section(report: dict) -> List[str]:
    rows = [(n, (report["variants"][n].get("serve") or {}).get("long")) for n in report["variants"]]
    rows = [(n, long) for n, long in rows if long]
    if not rows:
        return []
    lines = ["", "## One long conversation", "",
             "| variant | turns reached | stopped by | failed | 10th turn (median 5–15) | 500th turn (median of window) | ratio | growth per 100 turns |",
             "|---|---:|---|---:|---:|---:|---:|---:|"]
    for n, long in rows:
        late = long["late"]
        window = f" (turns {late['turns'][0]}–{late['turns'][1]})" if late.get("turns") else ""
        lines.append(
            f"| {n} | {long['reached_turns']} of {long['planned_turns']} | {long['stopped']} ({long['seconds']:.0f} s) |"
            f" {long['failed']} | {_fmt(long['early']['median_ms'])} ms | {_fmt(late['median_ms'])} ms{window} |"
            f" {_fmt(long['late_over_early'])} | {_fmt(long['ms_per_100_turns'])} ms |")
    return lines + ["", "![latency per turn](turn_latency.png)"]


def _scaling_section(report: dict) -> List[str]:
    scaling = report.get("scaling")
    if not scaling:
        return []
    lines = ["", f"## One against two Rasa servers ({SCALED_VARIANT}, PostgreSQL + Redis)", ""]
    if scaling.get("skipped"):
        return lines + [f"Not measured: {scaling['skipped']}."]
    bounds = ", ".join(f"{k}: {v['max_turns']} / {v['max_seconds']:.0f}" for k, v in (report.get("scaling_bounds") or {}).items())
    lines += [f"Servers up in {scaling.get('servers_up_s')} s; load {scaling.get('load_before')} → {scaling.get('load_after')}."
              + (f" Bounds per run (turns / seconds): {bounds}." if bounds else ""), "",
              "| concurrent | servers | turns | failed | turns/s | p50 (ms) | p95 (ms) | CPU per turn: Rasa servers + action server + PostgreSQL (ms) | load after |",
              "|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for key, run in (scaling.get("runs") or {}).items():
        count, level = key.split("x")
        if run.get("skipped"):
            lines.append(f"| {level} | {count} | – | – | {run['skipped']} | | | | |")
            continue
        lines.append(f"| {level} | {count} | {run['turns']} | {run['failed']} | {_fmt(run['turns_per_s'])} | {_fmt(run['p50_ms'])} |"
                     f" {_fmt(run['p95_ms'])} | {_cpu_split(run['cpu_ms_per_turn'])} | {run['loadavg_after']} |")
    return lines


def _cpu_split(cpu: dict) -> str:
    rasa = sum(v for k, v in cpu.items() if k.startswith("rasa") and v is not None)
    return (f"{_fmt(cpu.get('total'))} = {_fmt(round(rasa, 1))} + {_fmt(cpu.get('actions'))} + {_fmt(cpu.get('postgres'))}"
            if cpu.get("total") is not None else "–")


def write_turn_plot(report: dict, path: Path) -> None:
    """Latency of every turn of the long conversation against its turn number (nothing without one)."""
    longs = {n: (report["variants"][n].get("serve") or {}).get("long") for n in report["variants"]}
    longs = {n: long for n, long in longs.items() if long and long.get("samples")}
    if not longs:
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4))
    for n, long in longs.items():
        ok = [s for s in long["samples"] if s["ok"]]
        ax.plot([s["turn"] for s in ok], [s["ms"] for s in ok], ".", markersize=3, alpha=0.6,
                label=f"{n}: {long['reached_turns']} turns, 10th {_fmt(long['early']['median_ms'])} ms, "
                      f"last {_fmt(long['late']['median_ms'])} ms")
    ax.set_xlabel("turn of the conversation")
    ax.set_ylabel("REST turn latency (ms)")
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    ax.set_title(f"make bench: one long conversation ({report['machine']['nproc']}-core machine, {report['started'][:10]})", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


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


def rerender(path: Path) -> int:
    """Rewrite results.md and latency.png next to an existing results.json (no measurement)."""
    report = json.loads(path.read_text(encoding="utf-8"))
    names = list(report["variants"])
    report["metrics"] = all_metrics(report)
    report["targets"] = {n: evaluate_targets(report["metrics"], names[0], n) for n in names[1:]}
    write_markdown(report, path.parent / "results.md")
    write_plot(report, path.parent / "latency.png")
    write_turn_plot(report, path.parent / "turn_latency.png")
    log(f"rewrote {path.parent / 'results.md'}, latency.png and turn_latency.png from {path}")
    return 0
