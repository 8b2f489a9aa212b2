"""The load client: REST turns and /model/parse over loopback, bounded by count and time."""
from __future__ import annotations

import asyncio
import json
import statistics
import time
from typing import Dict, List, Optional, Sequence

from bench.processes import API_TOKEN, loadavg
from bench.stats import percentile, rounded

REQUEST_TIMEOUT_S = 60.0


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


async def run_level(bases: Sequence[str], level: int, prefix: str, max_turns: int, max_seconds: float) -> dict:
    """`level` concurrent conversations, each sending its turns in order to one of the Rasa servers
    `bases` (round robin by conversation); bounded by turns and time."""
    import aiohttp

    from bench.conversations import conversations

    source = enumerate(conversations(f"{prefix}-c{level}"))
    samples: List[dict] = []
    budget = {"turns": max_turns}
    started = time.perf_counter()
    deadline = started + max_seconds

    async def worker(session) -> None:
        while budget["turns"] > 0 and time.perf_counter() < deadline:
            index, (sender, turns) = next(source)
            base = bases[index % len(bases)]
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
        by_kind[kind] = {"n": len(values), "p50_ms": rounded(percentile(values, 50)), "p95_ms": rounded(percentile(values, 95))}
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
        "p50_ms": rounded(percentile(ok, 50)),
        "p95_ms": rounded(percentile(ok, 95)),
        "p99_ms": rounded(percentile(ok, 99)),
        "mean_ms": rounded(statistics.fmean(ok)) if ok else None,
        "by_kind": by_kind,
        "loadavg_after": loadavg(),
        "latencies_ms": [round(v, 2) for v in ok],
    }


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
                    f"{base}/model/parse", json={"text": text}, params={"token": API_TOKEN}, timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
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
        "p50_ms": rounded(percentile(latencies, 50)),
        "p95_ms": rounded(percentile(latencies, 95)),
        "latencies_ms": [round(v, 2) for v in latencies],
    }
    return summary, results


LONG_EARLY = (5, 15)  # turns whose median is "the 10th turn"
LONG_LATE = (490, 510)  # "the 500th turn"; the last 21 turns reached when the run stopped before
LONG_GIVE_UP_AFTER = 5  # consecutive failed turns: the server is gone, stop early


async def run_long_conversation(base: str, sender: str, turns: int, max_seconds: float) -> dict:
    """One conversation of up to `turns` turns (bench.conversations.long_script), each waiting for the
    previous reply; bounded by `max_seconds`. Summarised by summarize_long, every turn kept."""
    import aiohttp

    from bench.conversations import long_script

    samples: List[dict] = []
    started = time.perf_counter()
    deadline = started + max_seconds
    failures_in_a_row = 0
    async with aiohttp.ClientSession() as session:
        for number, (kind, message) in enumerate(long_script(turns), start=1):
            if time.perf_counter() >= deadline or failures_in_a_row >= LONG_GIVE_UP_AFTER:
                break
            result = await post_turn(session, base, sender, message)
            failures_in_a_row = 0 if result["ok"] else failures_in_a_row + 1
            samples.append({"turn": number, "kind": kind, "ms": round(result["ms"], 2), "ok": result["ok"],
                            "error": result["error"] or (None if result["ok"] else f"HTTP {result['status']}")})
    return summarize_long(samples, turns, time.perf_counter() - started, max_seconds)


def summarize_long(samples: List[dict], planned: int, elapsed: float, max_seconds: float) -> dict:
    """Median latency of the early and the late window of a long conversation and their ratio.
    The late window is turns 490-510 when they were all reached, else the last 21 turns reached."""
    ok = [s for s in samples if s["ok"]]
    reached = samples[-1]["turn"] if samples else 0

    def window(lo: int, hi: int) -> dict:
        values = [s["ms"] for s in ok if lo <= s["turn"] <= hi]
        return {"turns": [lo, hi], "n": len(values), "median_ms": rounded(statistics.median(values)) if values else None}

    early = window(*LONG_EARLY)
    late_lo, late_hi = LONG_LATE if reached >= LONG_LATE[1] else (max(reached - 20, 1), reached)
    late = window(late_lo, late_hi) if reached > LONG_EARLY[1] else {"turns": None, "n": 0, "median_ms": None}
    growth: Optional[float] = None
    steady = [s for s in ok if s["turn"] >= LONG_EARLY[0]]  # the first turns (NLU warm-up, the form) apart
    if len({s["turn"] for s in steady}) >= 2:
        growth = round(statistics.linear_regression([s["turn"] for s in steady], [s["ms"] for s in steady]).slope * 100, 1)
    stopped = "completed" if reached >= planned else (
        "failures" if len(samples) >= LONG_GIVE_UP_AFTER and not any(s["ok"] for s in samples[-LONG_GIVE_UP_AFTER:])
        else "time bound")
    return {
        "planned_turns": planned,
        "reached_turns": reached,
        "stopped": stopped,
        "max_seconds": max_seconds,
        "seconds": round(elapsed, 1),
        "ok": len(ok),
        "failed": len(samples) - len(ok),
        "early": early,
        "late": late,
        "late_over_early": round(late["median_ms"] / early["median_ms"], 2)
        if late["median_ms"] is not None and early["median_ms"] else None,
        "ms_per_100_turns": growth,  # least-squares slope of latency over turn number
        "samples": samples,
    }
