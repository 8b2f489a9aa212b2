"""The scheduler against a temp SQLite database and a stand-in Rasa HTTP API on loopback.

Limits are seconds here: each record's deadline is set a few seconds ahead, with a warning
period of about a second, and the schedulers poll every 0.05-0.1 s.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from bot.records import ConsultationStore
from bot.settings import PROJECT_ROOT
from bot.timer_service import RasaTrigger, TimerService
from bot.timers import TRIGGER_INTENT, ReminderKind

WARN = timedelta(seconds=1)


class StandInRasa:
    """Records POST /conversations/<id>/trigger_intent calls; can fail the first N of them."""

    def __init__(self, fail_first: int = 0, status: int = 200) -> None:
        self.calls: list[dict] = []
        self.fail_first = fail_first
        self.status = status
        self.lock = threading.Lock()
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                url = urlsplit(self.path)
                with stand_in.lock:
                    failing = stand_in.fail_first > 0
                    stand_in.fail_first -= 1
                    if not failing:
                        stand_in.calls.append(
                            {"path": url.path, "query": parse_qs(url.query), "body": json.loads(body), "at": time.time()}
                        )
                status = 500 if failing else stand_in.status
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"messages": []}')

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def conversations(self) -> Counter:
        return Counter(call["path"].split("/")[2] for call in self.calls)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def rasa():
    stand_in = StandInRasa()
    yield stand_in
    stand_in.close()


@pytest.fixture
def db_url(tmp_path):
    return f"sqlite:///{tmp_path / 'records.db'}"


@pytest.fixture
def store(db_url):
    store = ConsultationStore(db_url)
    yield store
    store.dispose()


def live_record(store, conversation_id: str, seconds_to_deadline: float) -> int:
    record_id = store.start(conversation_id, "socketio")
    store.update(record_id, ongoing=True,
                 deadline_at=datetime.now(timezone.utc) + timedelta(seconds=seconds_to_deadline))
    return record_id


def service(db_url, rasa, token=None, **options) -> TimerService:
    options.setdefault("poll_interval", 0.05)
    return TimerService(db_url, RasaTrigger(rasa.url, token, timeout=5), WARN, **options)


class Running:
    """Schedulers in threads for the duration of a with-block."""

    def __init__(self, *services: TimerService) -> None:
        self.services = services
        self.threads = [threading.Thread(target=s.run, daemon=True) for s in services]

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        for s in self.services:
            s.stop()
        for thread in self.threads:
            thread.join(5)
        for s in self.services:
            s.dispose()


def wait_for(condition, timeout: float, message: str) -> None:
    end = time.time() + timeout
    while time.time() < end:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError(message)


def statuses(timer_service: TimerService) -> dict:
    return {(row["consultation_id"], row["kind"]): row["status"] for row in timer_service.history()}


def test_near_and_reached_fire_once_each_at_their_times(db_url, store, rasa):
    record_id = live_record(store, "web-session-1", 2.0)
    deadline = datetime.fromisoformat(store.get(record_id)["deadline_at"]).timestamp()
    scheduler = service(db_url, rasa, token="s3cret")
    with Running(scheduler):
        wait_for(lambda: len(rasa.calls) >= 2, 6, f"expected two reminders, got {rasa.calls}")
        time.sleep(0.5)  # keep polling: nothing more may be sent
        history = statuses(scheduler)
    assert len(rasa.calls) == 2
    near, reached = rasa.calls
    assert deadline - WARN.total_seconds() <= near["at"] < deadline
    assert deadline <= reached["at"] < deadline + 1.0
    for call in rasa.calls:
        assert call["path"] == "/conversations/web-session-1/trigger_intent"
        assert call["query"] == {"output_channel": ["latest"], "token": ["s3cret"]}
        assert call["body"] == {"name": TRIGGER_INTENT}
    assert history == {(record_id, "near"): "sent", (record_id, "reached"): "sent"}


def test_without_a_token_none_is_sent_and_odd_conversation_ids_are_quoted(db_url, store, rasa):
    live_record(store, "slack:T1/C2 thread", -0.1)
    scheduler = service(db_url, rasa)
    assert scheduler.poll() == [(1, ReminderKind.REACHED)]
    scheduler.dispose()
    assert rasa.calls[0]["path"] == "/conversations/slack:T1%2FC2%20thread/trigger_intent"
    assert rasa.calls[0]["query"] == {"output_channel": ["latest"]}


def test_a_failed_send_does_not_put_the_api_token_in_the_log_or_the_database():
    from bench.processes import free_port

    result = RasaTrigger(f"http://127.0.0.1:{free_port()}", "s3cret-token", timeout=5)("employee-1", ReminderKind.NEAR)
    assert not result.ok and "ConnectionError" in result.detail and "token=***" in result.detail
    assert "s3cret-token" not in result.detail


def test_two_schedulers_at_once_send_each_reminder_once(db_url, store, rasa):
    records = {live_record(store, f"employee-{n}", 1.2 + n * 0.1): f"employee-{n}" for n in range(6)}
    first, second = service(db_url, rasa, poll_interval=0.01), service(db_url, rasa, poll_interval=0.01)
    with Running(first, second):
        wait_for(lambda: len(rasa.calls) >= 12, 8, f"expected 12 reminders, got {len(rasa.calls)}")
        time.sleep(0.5)
    assert rasa.conversations() == Counter({conversation: 2 for conversation in records.values()})
    senders = {row["claimed_by"] for row in first.history() if row["status"] == "sent"}
    assert len(first.history()) == 12
    assert senders <= {first.name, second.name}


def test_two_scheduler_processes_race_for_the_same_reminders(db_url, store, rasa, tmp_path):
    for n in range(4):
        live_record(store, f"employee-{n}", -0.5)  # all overdue: both processes see them at once
    processes = [start_process(db_url, rasa, tmp_path / f"p{n}.log") for n in range(2)]
    try:
        wait_for(lambda: len(rasa.calls) >= 4, 15, f"expected 4 reminders, got {rasa.calls}")
        time.sleep(1.0)
    finally:
        stop_processes(processes)
    # Overdue and never warned: only the "time is up" push goes out, once per conversation.
    assert rasa.conversations() == Counter({f"employee-{n}": 1 for n in range(4)})


def start_process(db_url, rasa, log_file):
    env = {**os.environ, "DATABASE_URL": db_url, "RASA_URL": rasa.url, "TIMER_POLL_SECONDS": "0.05",
           "TIMER_WARN_BEFORE_SECONDS": str(WARN.total_seconds()), "LOG_LEVEL": "WARNING"}
    env.pop("RASA_AUTH_TOKEN", None)
    return subprocess.Popen([sys.executable, "-m", "bot.timer_service"], cwd=PROJECT_ROOT, env=env,
                            stdout=log_file.open("w"), stderr=subprocess.STDOUT)


def stop_processes(processes):
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            assert process.wait(5) == 0, f"timer service exited with {process.returncode}"
        except subprocess.TimeoutExpired:
            process.kill()
            raise


def test_a_scheduler_restarted_after_the_deadline_sends_the_missed_reminder_once(db_url, store, rasa, tmp_path):
    # The warning falls due 5 s ahead: well after the process has started, even on a loaded machine
    # (a start-up slower than the time to the warning made the first process skip it as missed).
    record_id = live_record(store, "employee-1", 6.0)
    process = start_process(db_url, rasa, tmp_path / "first.log")
    try:
        wait_for(lambda: len(rasa.calls) == 1, 10, "the warning before the limit was not sent")
    finally:
        stop_processes([process])
    time.sleep(max(0.0, datetime.fromisoformat(store.get(record_id)["deadline_at"]).timestamp() - time.time()) + 0.2)
    assert len(rasa.calls) == 1  # down over the deadline: nothing sent meanwhile

    process = start_process(db_url, rasa, tmp_path / "second.log")
    try:
        wait_for(lambda: len(rasa.calls) == 2, 8, "the missed 'time is up' reminder was not sent after the restart")
        time.sleep(0.5)
    finally:
        stop_processes([process])
    assert len(rasa.calls) == 2

    # A third start finds nothing left to send.
    again = service(db_url, rasa)
    assert again.poll() == []
    assert statuses(again) == {(record_id, "near"): "sent", (record_id, "reached"): "sent"}
    again.dispose()


def test_down_through_both_reminders_sends_only_time_is_up_and_stale_ones_nothing(db_url, store, rasa):
    missed = live_record(store, "employee-1", -2.0)
    stale = live_record(store, "employee-2", -3600.0)
    scheduler = service(db_url, rasa, max_late=timedelta(minutes=15))
    assert scheduler.poll() == [(missed, ReminderKind.REACHED)]
    assert scheduler.poll() == []
    assert rasa.conversations() == Counter({"employee-1": 1})
    assert statuses(scheduler) == {
        (missed, "near"): "skipped", (missed, "reached"): "sent",
        (stale, "near"): "skipped", (stale, "reached"): "skipped",
    }
    scheduler.dispose()


def test_a_record_closed_before_the_deadline_gets_nothing(db_url, store, rasa):
    closed = live_record(store, "employee-closed", 1.2)
    kept = live_record(store, "employee-kept", 1.2)
    scheduler = service(db_url, rasa)
    with Running(scheduler):
        store.close(closed)
        wait_for(lambda: len(rasa.calls) >= 2, 5, "the open record's reminders were not sent")
        time.sleep(0.3)
    assert rasa.conversations() == Counter({"employee-kept": 2})
    assert all(cid == kept for cid, _ in statuses(scheduler))


def test_a_record_closed_between_poll_and_send_is_skipped(db_url, store, rasa):
    record_id = live_record(store, "employee-1", -0.1)
    scheduler = service(db_url, rasa)
    deadlines = store.open_deadlines()
    store.close(record_id)
    scheduler.store.open_deadlines = lambda: deadlines  # the poll read the record just before it closed
    assert scheduler.poll() == []
    assert rasa.calls == []
    assert statuses(scheduler)[(record_id, "reached")] == "skipped"
    scheduler.dispose()


def test_a_failed_send_is_retried_until_it_goes_through_once(db_url, store):
    rasa = StandInRasa(fail_first=2)
    try:
        record_id = live_record(store, "employee-1", -0.1)
        scheduler = service(db_url, rasa)
        assert scheduler.poll() == []
        assert statuses(scheduler)[(record_id, "reached")] == "failed"
        assert scheduler.poll() == []
        assert scheduler.poll() == [(record_id, ReminderKind.REACHED)]
        assert scheduler.poll() == []
        assert len(rasa.calls) == 1
        assert scheduler.history()[-1]["attempts"] == 3
        scheduler.dispose()
    finally:
        rasa.close()


def test_rasa_refusing_the_reminder_is_not_retried(db_url, store):
    rasa = StandInRasa(status=404)  # e.g. the intent is missing from the deployed model's domain
    try:
        record_id = live_record(store, "employee-1", -0.1)
        scheduler = service(db_url, rasa)
        scheduler.poll()
        scheduler.poll()
        assert len(rasa.calls) == 1
        assert statuses(scheduler)[(record_id, "reached")] == "rejected"
        scheduler.dispose()
    finally:
        rasa.close()


def test_a_claim_left_by_a_crashed_scheduler_is_taken_over_after_the_timeout(db_url, store, rasa):
    record_id = live_record(store, "employee-1", -0.1)
    crashed = service(db_url, rasa)
    crashed.send = lambda *_: (_ for _ in ()).throw(SystemExit)  # dies after claiming, before sending
    with pytest.raises(SystemExit):
        crashed.poll()
    crashed.dispose()
    later = datetime.now(timezone.utc) + timedelta(minutes=3)
    fresh = service(db_url, rasa, claim_timeout=timedelta(minutes=2))
    assert fresh.poll() == []  # the claim is still fresh: maybe its owner is only slow
    fresh.clock = lambda: later
    assert fresh.poll() == [(record_id, ReminderKind.REACHED)]
    assert len(rasa.calls) == 1
    fresh.dispose()
