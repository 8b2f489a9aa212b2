"""The report of a bench run: flat metrics, ratios and targets, results.md and latency.png."""
from __future__ import annotations

import json
import platform
import subprocess
from pathlib import Path
from typing import Dict, List, Optional

from bench.processes import log
from bench.stats import percentile

ROOT = Path(__file__).resolve().parent.parent

TARGETS = [
    # (key in the comparison, description, kind, threshold)
    ("turn_p50_ms@8", "turn latency p50 at 8 concurrent, ours/stock", "ratio_le", 0.5),
    ("turn_p95_ms@8", "turn latency p95 at 8 concurrent, ours/stock", "ratio_le", 0.5),
    ("turns_per_s@32", "turns/s at 32 concurrent, ours/stock", "ratio_ge", 2.0),
    ("peak_rss_rasa_mb", "peak RSS of the Rasa server, ours/stock", "ratio_le", 0.75),
    ("cold_start_s", "cold start, ours/stock", "ratio_le", 0.6),
    ("turn_p95_ms@8", "turn latency p95 at 8 concurrent, ours (absolute)", "abs_lt", 100.0),
]


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
