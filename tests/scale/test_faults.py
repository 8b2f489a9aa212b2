"""The faults a deployment meets, on the two-server cluster: a Rasa server killed (-9) with turns in
flight, PostgreSQL and Redis restarted, their connections dropped, and a time-box reminder due
while a server or the database is down. After each, the conversations go on, coherent (against
the references, tests/scale/conversations.py), every record written once and complete; the
reminder is sent exactly once.

The restarts need the cluster's own PostgreSQL and Redis (tests/scale/services.py); without them
those tests are skipped, saying why.
"""
from __future__ import annotations

import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from typing import Callable, Dict, List

import pytest
import redis
import requests

from bench.processes import stop_process
from bot.text_input import EXTERNAL_MESSAGE_PREFIX
from tests.scale.cluster import Cluster, Server
from tests.scale.conversations import (
    Conversation, Turn, alternating, check, converse, five_turns, go_on, half_way, script, send, upstreams,
)

pytestmark = pytest.mark.scale

# Rasa keeps a killed server's lock on its conversation until the lock's lifetime ends (60 s,
# rasa.core.lock_store.LOCK_LIFETIME); the retry of a turn in flight waits that long.
RETRY_TIMEOUT_S = 150.0
# A live exchange whose deadline (organization.yml: 30 minutes) is 5 minutes away; the reminder
# tested is the "near" one, made due a few seconds from now through TIMER_WARN_BEFORE_SECONDS.
TIMER_SCRIPT = ["窓口で怒鳴られています", "/affirm", "25分くらいです"]
# Reminders more than this overdue are skipped, not sent: those of the other tests' conversations
# (deadlines 10 minutes past, or 25 minutes ahead) are never sent by the timer services started here.
TIMER_MAX_LATE_S = 120


def until(condition: Callable[[], bool], timeout: float, what: str, step: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:.0f} s: {what}")
        time.sleep(step)


# ---------------------------------------------------------------------- time-box reminders


def live_exchange(cluster: Cluster, sender: str) -> datetime:
    """TIMER_SCRIPT sent, alternating between the servers; returns the record's deadline."""
    turns = [send(cluster.rasa[i % 2], sender, message) for i, message in enumerate(TIMER_SCRIPT)]
    assert [t.status for t in turns] == [200] * len(TIMER_SCRIPT), turns
    (row,) = cluster.query("SELECT deadline_at FROM consultations WHERE conversation_id = :s", s=sender)
    assert row.deadline_at is not None and row.deadline_at > datetime.now(timezone.utc), row
    return row.deadline_at


def warn_before(deadline: datetime, due: datetime) -> float:
    """TIMER_WARN_BEFORE_SECONDS that makes the "near" reminder of `deadline` due at `due`."""
    return (deadline - due).total_seconds()


def reminders(cluster: Cluster, sender: str) -> List[dict]:
    return [dict(row._mapping) for row in cluster.query(
        "SELECT r.kind, r.status, r.attempts, r.due_at FROM timer_reminders r "
        "JOIN consultations c ON c.id = r.consultation_id WHERE c.conversation_id = :s ORDER BY r.id", s=sender)]


def reminder_turns(cluster: Cluster, sender: str) -> int:
    """Reminders the conversation received: the user events Rasa records for a triggered intent."""
    rows = cluster.query("SELECT data FROM events WHERE sender_id = :s AND type_name = 'user'", s=sender)
    return sum(EXTERNAL_MESSAGE_PREFIX in row.data for row in rows)


def sent_once(cluster: Cluster, sender: str, timer: Server, timeout: float) -> dict:
    """Waits until the reminder is sent, then a few polls more: exactly one, and one in the tracker."""
    until(lambda: any(r["status"] == "sent" for r in reminders(cluster, sender)), timeout,
          f"the reminder of {sender} sent:\n{cluster.log_tail(timer)}", step=0.5)
    time.sleep(3)  # three more polls: nothing else may go out
    (row,) = reminders(cluster, sender)
    assert (row["kind"], row["status"]) == ("near", "sent"), row
    assert reminder_turns(cluster, sender) == 1
    return row


# ---------------------------------------------------------------------- kill -9


def in_flight(server: Server, sender: str, message: str) -> Future:
    """The turn sent from a thread of its own (its answer may never come)."""
    def attempt() -> Turn:
        try:
            return send(server, sender, message)
        except requests.ConnectionError:
            return Turn(server.name, 0, [])  # the server died before answering

    future: Future = Future()
    threading.Thread(target=lambda: future.set_result(attempt()), daemon=True).start()
    return future


def test_a_server_killed_mid_turn_loses_nothing(cluster, reference, balancer, capsys):
    """kill -9 of one server while it handles two turns (a conversation's first and one's third),
    stuck waiting for the action server, which had already got the turns: the employee sends
    each again to the other server, which waits for the dead server's lock, then answers; the
    other conversations go on on the live server (directly, and through nginx, which skips the
    dead one) and, after the restart, on both. A reminder due just after the kill is sent once the
    killed server (the one the timer service uses) is back. All coherent, each recorded once."""
    first, second = cluster.rasa
    nginx, access_log = balancer
    through_nginx = half_way(cluster, "kill-nginx", 2)
    directly = half_way(cluster, "kill-a", 4)
    after_restart = half_way(cluster, "kill-b", 4)
    third_turn = converse(five_turns(0), "kill-mid-0", alternating_from(cluster, five_turns(0)), turns=2)
    opening = Conversation(five_turns(1), "kill-mid-1", [], [])
    timed_deadline = live_exchange(cluster, "kill-timer")

    # Both turns reach `second`, which takes their locks and calls the (paused) action server.
    cluster.actions.pause()
    try:
        pending = {c.sender: in_flight(second, c.sender, script(c.index)[len(c.messages)]) for c in (third_turn, opening)}
        until(lambda: all(cluster.holds_lock(sender) for sender in pending), 30, "the turns' locks taken")
        time.sleep(1.0)  # past NLU: waiting for the action server
        second.kill_9()
    finally:
        cluster.actions.resume()
    killed_at = datetime.now(timezone.utc)
    lost = {sender: future.result(timeout=30) for sender, future in pending.items()}
    assert [t.status for t in lost.values()] == [0, 0], lost
    # the action server still ran them: the records hold what Rasa never saved
    until(lambda: len(cluster.query(
        "SELECT m.id FROM consultation_messages m JOIN consultations c ON c.id = m.consultation_id "
        "WHERE c.conversation_id IN ('kill-mid-0', 'kill-mid-1')")) == 4, 30, "the lost attempts recorded")

    timer = cluster.start_timer_service(second, warn_before(timed_deadline, killed_at + timedelta(seconds=3)),
                                        TIMER_MAX_LATE_S)
    try:
        second.start(cluster.env)  # the restart loads the model while the others go on
        with ThreadPoolExecutor(max_workers=2) as pool:
            # the employee sends them again, to the live server
            retried = {c.sender: pool.submit(resend, cluster, c, first) for c in (third_turn, opening)}
            with pytest.raises(requests.ConnectionError):
                send(second, "kill-a-0", "/affirm")  # nothing answers there any more (and nothing was stored)

            logged = len(access_log.read_text(encoding="utf-8").splitlines())
            for conversation in through_nginx:
                go_on(conversation, lambda _: nginx)
                check(cluster, conversation, reference)
            answered = [address for address, status in upstreams(access_log, logged) if status == "200"]
            assert set(answered) == {first.health_url.removeprefix("http://")} and len(answered) == 6

            for conversation in directly:
                go_on(conversation, lambda _: first)
                check(cluster, conversation, reference)
            waited = {sender: future.result() for sender, future in retried.items()}
        with capsys.disabled():
            print(f"\nkill -9 mid-turn: the retried turns were answered after "
                  f"{', '.join(f'{s:.1f} s' for s in waited.values())} (waiting for the dead server's lock)")
        cluster.wait_until_up([second])
        for conversation in after_restart:
            go_on(conversation, alternating(cluster, conversation))
            check(cluster, conversation, reference)
        for conversation in (third_turn, opening):
            go_on(conversation, alternating(cluster, conversation))
            check(cluster, conversation, reference)

        reminder = sent_once(cluster, "kill-timer", timer, timeout=60)
        assert reminder["attempts"] >= 2, "the reminder was not due while the server was down"
    finally:
        stop_process(timer.proc)


def alternating_from(cluster: Cluster, index: int) -> Callable[[int], Server]:
    return lambda turn: cluster.rasa[(index + turn) % 2]


def resend(cluster: Cluster, conversation: Conversation, server: Server) -> float:
    """The employee's retry of the turn that got no answer; returns how long it took."""
    message = script(conversation.index)[len(conversation.messages)]
    started = time.monotonic()
    turn = send(server, conversation.sender, message, timeout=RETRY_TIMEOUT_S)
    conversation.turns.append(turn)
    conversation.messages.append(message)
    return time.monotonic() - started


# ---------------------------------------------------------------------- PostgreSQL


def test_postgres_restarted_the_next_turn_goes_on(cluster, reference, private_postgres):
    started = half_way(cluster, "pg-restart", 4)
    private_postgres.restart()  # pg_ctl stop -m fast, start: every connection closed
    for conversation in started:
        go_on(conversation, alternating(cluster, conversation))
        check(cluster, conversation, reference)


def test_a_reminder_due_while_postgres_is_down_is_sent_once(cluster, private_postgres):
    deadline = live_exchange(cluster, "pg-timer")
    due = datetime.now(timezone.utc) + timedelta(seconds=15)
    timer = cluster.start_timer_service(cluster.rasa[0], warn_before(deadline, due), TIMER_MAX_LATE_S)
    try:
        assert datetime.now(timezone.utc) < due - timedelta(seconds=1), "the timer service started too late"
        private_postgres.stop("immediate")  # as a crash: recovery from the WAL at the next start
        down_at = datetime.now(timezone.utc)
        time.sleep(max(0.0, (due - down_at).total_seconds()) + 3)
        private_postgres.start()
        up_at = datetime.now(timezone.utc)
        reminder = sent_once(cluster, "pg-timer", timer, timeout=30)
        assert down_at < reminder["due_at"] < up_at
        assert "poll failed" in timer.log.read_text(errors="replace")  # it did poll while the database was down
        turn = send(cluster.rasa[1], "pg-timer", "土下座して謝れと言っています")
        assert turn.status == 200 and turn.payloads and all(p is not None for p in turn.payloads)
    finally:
        stop_process(timer.proc)


def test_postgres_connections_dropped_the_next_turn_goes_on(cluster, reference):
    started = half_way(cluster, "pg-fault", 4)
    assert cluster.terminate_database_connections() >= 3  # both Rasa servers' and the action server's
    for conversation in started:
        go_on(conversation, alternating(cluster, conversation))
        check(cluster, conversation, reference)


# ---------------------------------------------------------------------- Redis


def test_redis_restarted_the_next_turn_goes_on_and_locks_hold(cluster, reference, private_redis):
    """kill -9 of Redis and a fresh one on the same port (nothing persisted); then a turn sent to
    one server while the other handles the conversation's previous turn waits for it (the lock)."""
    first, second = cluster.rasa
    started = half_way(cluster, "redis-restart", 4)
    private_redis.kill_9()
    private_redis.start()
    for conversation in started:
        go_on(conversation, alternating(cluster, conversation))
        check(cluster, conversation, reference)
    assert lock_writes(private_redis) >= 12  # the new Redis took the servers' locks: one per turn at least

    both = converse(five_turns(2), "redis-lock", alternating_from(cluster, five_turns(2)), turns=2)
    third, fourth = script(both.index)[2:4]
    cluster.actions.pause()  # the third turn holds the lock on `first` until resume()
    try:
        on_first = in_flight(first, both.sender, third)
        until(lambda: cluster.holds_lock(both.sender), 30, "the third turn's lock taken")
        on_second = in_flight(second, both.sender, fourth)
        time.sleep(1.5)
        assert not on_second.done(), "the fourth turn was answered while the third held the lock"
    finally:
        cluster.actions.resume()
    answers: Dict[str, Turn] = {"third": on_first.result(timeout=60), "fourth": on_second.result(timeout=60)}
    both.turns += [answers["third"], answers["fourth"]]
    both.messages += [third, fourth]
    go_on(both, alternating(cluster, both))
    check(cluster, both, reference)  # served in order: the fourth turn saw the third's


def lock_writes(redis_service) -> int:
    """SET commands the Redis process has served (Rasa's lock store writes each lock with SET)."""
    client = redis.Redis(host="127.0.0.1", port=redis_service.port)
    try:
        return int(client.info("commandstats").get("cmdstat_set", {}).get("calls", 0))
    finally:
        client.close()


def test_lock_store_connections_killed_the_next_turn_goes_on(cluster, reference):
    started = half_way(cluster, "redis-fault", 4)
    assert cluster.kill_lock_store_connections() >= 2  # both Rasa servers'
    for conversation in started:
        go_on(conversation, alternating(cluster, conversation))
        check(cluster, conversation, reference)
