"""The load client: REST turns and /model/parse over loopback, bounded by count and time."""
from __future__ import annotations

import asyncio
import json
import statistics
import time
from typing import Dict, List

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
