"""bench/: the load client counts every failure and spreads conversations over servers, the long
conversation is summarised by its windows, CPU is read from /proc, extra variants parse, the report
renders figures and targets.

(`make bench` itself is not run here: it trains and serves for minutes.)"""
from __future__ import annotations

import asyncio
import json

from aiohttp import web

from bench.client import run_level, run_long_conversation, summarize_long
from bench.conversations import long_script, script
from bench.cpu import ChangingPidsMeter, CpuMeter, cpu_per_turn, stat_ticks, tree_seconds
from bench.models import OUR_SERVER, RASA_SERVER, Variant, extra_variant
from bench.report import all_metrics, evaluate_targets, rerender
from bench.scaling import scaling_summary


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
            return await run_level([base], 2, "t", max_turns=20, max_seconds=30.0)
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

    ours = variant(400.0, 1000.0)
    ours["serve"]["levels"]["8"]["cpu_ms_per_turn"] = {"rasa": 30.0, "actions": 8.0, "total": 38.0}
    samples = [{"turn": t, "kind": "text", "ms": 100.0 + t, "ok": True, "error": None} for t in range(1, 511)]
    ours["serve"]["long"] = summarize_long(samples, 510, 300.0, 360.0)
    scaling = {"levels": [16], "servers_up_s": 50.0, "load_before": "1", "load_after": "2", "runs": {
        "1x16": {"turns": 600, "failed": 0, "turns_per_s": 10.0, "p50_ms": 1.0, "p95_ms": 2.0,
                 "cpu_ms_per_turn": {"total": 60.0}, "loadavg_after": "2"},
        "2x16": {"turns": 600, "failed": 0, "turns_per_s": 15.0, "p50_ms": 1.0, "p95_ms": 2.0,
                 "cpu_ms_per_turn": {"rasa1": 20.0, "rasa2": 21.0, "actions": 6.0, "postgres": 15.0, "total": 62.0},
                 "loadavg_after": "2"}}}
    report = {"started": "2026-12-01T12:00:00+00:00", "finished": "2026-12-01T12:10:00+00:00", "wall_s": 600.0,
              "git": {"commit": "abc1234", "dirty": False}, "load_start": "1.0", "load_end": "1.5",
              "machine": {"nproc": "2", "cpu": "test cpu", "python": "3.10", "free": "(free -m)"},
              "bounds": {"8": {"max_turns": 320, "max_seconds": 75.0}},
              "long_bounds": {"turns": 510, "max_seconds": 360.0}, "scaling": scaling,
              "variants": {"stock": variant(1000.0, 2000.0), "ours": ours}}
    results = tmp_path / "results.json"
    results.write_text(json.dumps(report), encoding="utf-8")

    assert rerender(results) == 0
    markdown = (tmp_path / "results.md").read_text(encoding="utf-8")
    assert "| REST turn p95 at 8 concurrent (ms) | 1000.0 | 400.0 | 0.400 |" in markdown
    assert "| turn latency p95 at 8 concurrent, ours/stock | <= 0.5 | 0.400 | met |" in markdown
    assert "| turn latency p95 at 8 concurrent, ours (absolute) | < 100 ms | 400.0 | **missed** |" in markdown
    assert "8: 320 / 75" in markdown
    assert "| CPU per turn at 8 concurrent, Rasa + action server, ours | <= 40 ms | 38.0 | met |" in markdown
    assert "| 500th / 10th turn latency of one conversation, ours | <= 1.5 | 5.450 | **missed** |" in markdown
    assert "| turns/s with 2 Rasa servers / with 1, ours on PostgreSQL + Redis | >= 1.6 | 1.500 | **missed** |" in markdown
    assert "| ours | 510 of 510 | completed (300 s) | 0 | 110.0 ms | 600.0 ms (turns 490–510) | 5.450 | 100.0 ms |" in markdown
    assert "| 16 | 2 | 600 | 0 | 15.0 | 1.000 | 2.000 | 62.0 = 41.0 + 6.000 + 15.0 | 2 |" in markdown
    for picture in ("latency.png", "turn_latency.png"):
        assert (tmp_path / picture).stat().st_size > 0


def _fake_proc(root, processes: dict) -> None:
    """A /proc with `processes` = {pid: (ppid, utime, stime, cutime, cstime)}, in the kernel's layout."""
    for pid, (ppid, *times) in processes.items():
        (root / str(pid)).mkdir()
        fields = ["S", str(ppid)] + ["0"] * 9 + [str(t) for t in times] + ["20", "0", "1"]
        (root / str(pid) / "stat").write_text(f"{pid} (python -m x) {' '.join(fields)}\n")


def test_cpu_is_read_from_proc_stat_for_the_whole_tree_and_divided_by_the_turns(tmp_path):
    from bench.cpu import CLOCK_TICKS

    line = "4242 (rasa (main) x) R 1 4242 4242 0 -1 4194560 100 0 0 0 150 50 7 3 20 0 1 0 100 0 0"
    assert stat_ticks(line) == 150 + 50 + 7 + 3
    _fake_proc(tmp_path, {100: (1, 100, 20, 5, 0), 101: (100, 30, 10, 0, 0), 102: (1, 999, 999, 0, 0)})
    assert tree_seconds(100, tmp_path) == (125 + 40) / CLOCK_TICKS  # 102 is not below 100

    meter = CpuMeter({"rasa": 100, "actions": 102}, tmp_path).start()
    (tmp_path / "101" / "stat").write_text(f"101 (w) S 100 {' '.join(['0'] * 9)} {CLOCK_TICKS * 2} 0 0 0 20 0 1\n")
    used = meter.stop()
    assert used == {"rasa": 2.0 - 40 / CLOCK_TICKS, "actions": 0.0}
    backends = [100, 101]  # 101 leaves, 102 joins: counted from zero
    database = ChangingPidsMeter(lambda: backends, tmp_path).start()
    backends = [100, 102]
    assert database.stop() == 999 * 2 / CLOCK_TICKS

    per = cpu_per_turn({"rasa": 2.0, "actions": 0.5}, 50)
    assert per["cpu_ms_per_turn"] == {"rasa": 40.0, "actions": 10.0, "total": 50.0}
    assert cpu_per_turn({"rasa": 1.0}, 0)["cpu_ms_per_turn"]["total"] is None


def test_a_long_conversation_is_summarised_by_its_10th_and_500th_turn_or_as_far_as_it_got():
    def samples(turns: int, ok=lambda t: True):
        return [{"turn": t, "kind": "text", "ms": float(t), "ok": ok(t), "error": None} for t in range(1, turns + 1)]

    full = summarize_long(samples(510), 510, 400.0, 480.0)
    assert (full["early"]["median_ms"], full["late"]["median_ms"], full["late"]["turns"]) == (10.0, 500.0, [490, 510])
    assert (full["late_over_early"], full["ms_per_100_turns"], full["stopped"]) == (50.0, 100.0, "completed")

    cut = summarize_long(samples(120, ok=lambda t: t != 105), 510, 480.0, 480.0)
    assert (cut["reached_turns"], cut["stopped"], cut["failed"]) == (120, "time bound", 1)
    assert cut["late"]["turns"] == [100, 120] and cut["late"]["n"] == 20  # turn 105 failed: not in the median
    assert cut["late"]["median_ms"] == 110.5

    broken = summarize_long(samples(30, ok=lambda t: t < 26), 510, 20.0, 480.0)
    assert broken["stopped"] == "failures"
    assert summarize_long([], 510, 0.0, 480.0)["late_over_early"] is None


def test_the_long_conversation_stays_in_the_consultation_and_stops_when_the_server_is_gone():
    turns = list(long_script(60))
    assert turns[: len(script(0)) - 1] == script(0)[:-1]
    assert not {"/finish", "/restart"} & {message for _, message in turns}
    received: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        body = await request.json()
        received.append(body["message"])
        if len(received) > 20:
            return web.json_response({"error": "gone"}, status=503)
        return web.json_response([{"recipient_id": body["sender"], "text": "はい"}])

    async def scenario() -> dict:
        runner, base = await _serve_rest(handler)
        try:
            return await run_long_conversation(base, "long", 60, 30.0)
        finally:
            await runner.cleanup()

    long = asyncio.run(scenario())
    assert received == [message for _, message in turns[:25]]  # 5 failures in a row, then it stops
    assert (long["reached_turns"], long["ok"], long["failed"], long["stopped"]) == (25, 20, 5, "failures")
    assert long["samples"][-1]["error"] == "HTTP 503"


def test_conversations_are_spread_over_the_servers_each_staying_on_one():
    seen: dict[str, set] = {}

    def handler_for(name: str):
        async def handler(request: web.Request) -> web.Response:
            body = await request.json()
            seen.setdefault(body["sender"], set()).add(name)
            return web.json_response([{"recipient_id": body["sender"], "text": "はい"}])
        return handler

    async def scenario() -> dict:
        (one, a), (two, b) = await _serve_rest(handler_for("a")), await _serve_rest(handler_for("b"))
        try:
            return await run_level([a, b], 4, "rr", max_turns=14 * 6, max_seconds=30.0)
        finally:
            await one.cleanup()
            await two.cleanup()

    result = asyncio.run(scenario())
    assert result["ok"] == 14 * 6
    assert all(len(servers) == 1 for servers in seen.values())
    assert sorted(next(iter(s)) for s in seen.values()).count("a") == len(seen) // 2 >= 2


def test_targets_of_the_new_figures_and_the_scaling_summary():
    scaling = {"levels": [16, 32], "runs": {
        "1x16": {"turns_per_s": 10.0}, "2x16": {"turns_per_s": 14.0},
        "1x32": {"turns_per_s": 11.0}, "2x32": {"skipped": "time bound"}}}
    summary = scaling_summary(scaling)
    assert summary["per_level"] == {"16": {"one": 10.0, "two": 14.0}, "32": {"one": 11.0, "two": None}}
    assert summary["best"] == {"one": 11.0, "two": 14.0, "ratio": 1.27}
    assert scaling_summary({"skipped": "no PostgreSQL"})["best"]["ratio"] is None

    report = {"scaling": scaling, "variants": {"stock": {}, "ours": {"serve": {
        "levels": {"8": {"cpu_ms_per_turn": {"total": 40.0}}}, "long": {"late_over_early": 1.2}}}}}
    metrics = all_metrics(report)
    targets = {t["metric"]: t for t in evaluate_targets(metrics, "stock", "ours")}
    assert (targets["cpu_ms_per_turn@8"]["met"], targets["cpu_ms_per_turn@8"]["rule"]) == (True, "<= 40 ms")
    assert targets["late_over_early"]["met"] is True
    assert (targets["two_over_one_servers"]["value"], targets["two_over_one_servers"]["met"]) == (1.27, False)
    assert targets["turn_p50_ms@8"]["met"] is None  # not measured: neither is a stock figure
