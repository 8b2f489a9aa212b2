"""bench/: the load client counts every failure, extra variants parse, the report renders targets.

(`make bench` itself is not run here: it trains and serves for minutes.)"""
from __future__ import annotations

import asyncio
import json

from aiohttp import web

from bench.client import run_level
from bench.models import OUR_SERVER, RASA_SERVER, Variant, extra_variant
from bench.report import rerender


async def _serve_rest(handler) -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    return runner, f"http://127.0.0.1:{port}"


def test_the_load_client_sends_each_conversation_in_order_and_counts_every_failure():
    received: list[tuple[str, str]] = []

    async def handler(request: web.Request) -> web.Response:
        body = await request.json()
        received.append((body["sender"], body["message"]))
        if body["message"] == "/deny":
            return web.json_response({"error": "boom"}, status=500)
        if body["message"] == "/affirm":
            return web.json_response([])  # HTTP 200 with nothing to say counts as a failure
        return web.json_response([{"recipient_id": body["sender"], "text": "はい"}])

    async def scenario() -> dict:
        runner, base = await _serve_rest(handler)
        try:
            return await run_level(base, 2, "t", max_turns=20, max_seconds=30.0)
        finally:
            await runner.cleanup()

    result = asyncio.run(scenario())
    assert result["turns"] == len(received) == 20
    failures = sum(1 for _, message in received if message in ("/deny", "/affirm"))
    assert result["failed"] == failures > 0
    assert result["ok"] == 20 - failures == len(result["latencies_ms"])
    assert sum(result["errors"].values()) == failures
    assert set(result["errors"]) <= {"HTTP 500", "empty reply"}
    first_turns = [message for sender, message in received if sender == "t-c2-00000"]
    assert first_turns[0].startswith("市役所の窓口で")  # the script's first message comes first


def test_an_extra_variant_reuses_a_model_with_its_own_environment_and_server():
    ours = Variant("ours", config=None, server=list(OUR_SERVER), tracker_store="bot.Store")  # type: ignore[arg-type]
    extra = extra_variant("ours-tf:ours:TF_THREADS=1,BENCH_SERVER=rasa,LIST=a,b", [ours])
    assert (extra.name, extra.model_from) == ("ours-tf", "ours")
    assert extra.env == {"TF_THREADS": "1", "LIST": "a,b"}
    assert extra.server == RASA_SERVER and extra.tracker_store == "bot.Store"
    assert extra.model == ours.model


def test_rerender_writes_the_table_and_the_targets_from_results_json(tmp_path):
    def variant(p95: float, rss: float) -> dict:
        level = {"p50_ms": p95 / 2, "p95_ms": p95, "p99_ms": p95, "turns_per_s": 10.0, "failed": 0,
                 "latencies_ms": [p95 / 2, p95]}
        return {"config": "c.yml", "env": {}, "train": {"seconds": 60.0, "model_mb": 20.0},
                "serve": {"cold_start_s": 20.0, "levels": {"8": level}, "memory": {"rasa": {"vmhwm_tree_mb": rss}}}}

    report = {"started": "2026-12-01T12:00:00+00:00", "finished": "2026-12-01T12:10:00+00:00", "wall_s": 600.0,
              "git": {"commit": "abc1234", "dirty": False}, "load_start": "1.0", "load_end": "1.5",
              "machine": {"nproc": "2", "cpu": "test cpu", "python": "3.10", "free": "(free -m)"},
              "bounds": {"8": {"max_turns": 320, "max_seconds": 75.0}},
              "variants": {"stock": variant(1000.0, 2000.0), "ours": variant(400.0, 1000.0)}}
    results = tmp_path / "results.json"
    results.write_text(json.dumps(report), encoding="utf-8")

    assert rerender(results) == 0
    markdown = (tmp_path / "results.md").read_text(encoding="utf-8")
    assert "| REST turn p95 at 8 concurrent (ms) | 1000.0 | 400.0 | 0.400 |" in markdown
    assert "| turn latency p95 at 8 concurrent, ours/stock | <= 0.5 | 0.400 | met |" in markdown
    assert "| turn latency p95 at 8 concurrent, ours (absolute) | < 100 ms | 400.0 | **missed** |" in markdown
    assert "8: 320 / 75" in markdown
    assert (tmp_path / "latency.png").stat().st_size > 0
