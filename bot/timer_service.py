"""The time-box scheduler: sends each reminder of a live exchange exactly once, across restarts.

    python -m bot.timer_service [--once] [--poll SECONDS]

Every few seconds it reads the open consultation records' deadlines (ConsultationStore
.open_deadlines(); a closed record has none, so closing cancels its reminders), works out which
reminders are due (bot/timers.py) and pushes each through Rasa's HTTP API:

    POST {RASA_URL}/conversations/{conversation_id}/trigger_intent?output_channel=latest
         {"name": "ask_time_limit"}            (+ &token=RASA_AUTH_TOKEN, else var/rasa-api-token)

Exactly once, even with several schedulers or after a restart: a reminder is claimed by INSERTing
its row into ``timer_reminders`` (unique per consultation and kind) in the records database
before it is sent; a second scheduler's INSERT fails and it moves on. A claim whose sender died
before finishing is taken over after ``claim_timeout``; a send that failed (Rasa down) is retried
on later polls until the reminder is ``max_late`` overdue.

Environment: DATABASE_URL (as bot/records.py), RASA_URL (default http://127.0.0.1:$RASA_PORT,
port 5005), RASA_AUTH_TOKEN, TIMER_POLL_SECONDS (5), TIMER_MAX_LATE_SECONDS (900),
TIMER_WARN_BEFORE_SECONDS (default: organization.yml time_limit.warn_before_minutes).
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable
from urllib.parse import quote

import requests
from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from bot import settings
from bot.codes import RecordStatus
from bot.database import engine_for
from bot.records import ConsultationStore
from bot.schema import timer_reminders as reminders
from bot.timers import TRIGGER_INTENT, Due, ReminderKind, due_reminders

# RFC 3986 path characters other than '/', kept unencoded (Teams ids look like '29:1abc…').
PATH_SAFE = ":@!$&'()*+,;="

log = logging.getLogger("bot.timer_service")


def conversation_path_segment(conversation_id: str) -> str:
    """The id as one URL path segment: '/', '%', non-ASCII and the like percent-encoded (the Rasa
    server decodes them: bot/rasa/guards.py), the characters a path allows kept as they are, and
    "." / ".." encoded so that no HTTP client takes them for a step up the path."""
    segment = quote(conversation_id, safe=PATH_SAFE)
    return segment.replace(".", "%2E") if segment in (".", "..") else segment


DONE_STATUSES = ("sent", "rejected", "skipped")


def _now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class SendResult:
    ok: bool
    permanent: bool = False  # a failure that retrying will not fix
    detail: str = ""


class RasaTrigger:
    """Triggers the reminder intent in one conversation through Rasa's HTTP API."""

    def __init__(self, base_url: str, token: str | None = None, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token or None
        self.timeout = timeout
        self._http = requests.Session()

    def __call__(self, conversation_id: str, kind: ReminderKind) -> SendResult:
        url = f"{self.base_url}/conversations/{conversation_path_segment(conversation_id)}/trigger_intent"
        params = {"output_channel": "latest"}
        if self.token:
            params["token"] = self.token
        try:
            response = self._http.post(url, params=params, json={"name": TRIGGER_INTENT}, timeout=self.timeout)
        except requests.RequestException as error:
            # the error names the URL, token and all: it goes to the log and to timer_reminders.detail
            message = str(error).replace(self.token, "***") if self.token else str(error)
            return SendResult(False, detail=f"{type(error).__name__}: {message}")
        if response.ok:
            return SendResult(True, detail=f"HTTP {response.status_code}")
        return SendResult(False, permanent=400 <= response.status_code < 500, detail=f"HTTP {response.status_code}: {response.text[:200]}")


class TimerService:
    """Polls the records database and sends due reminders; run several, each reminder goes out once."""

    def __init__(
        self,
        database_url: str | None,
        send: Callable[[str, ReminderKind], SendResult],
        warn_before: timedelta,
        poll_interval: float = 5.0,
        max_late: timedelta | None = timedelta(minutes=15),
        claim_timeout: timedelta = timedelta(minutes=2),
        clock: Callable[[], datetime] = _now,
        name: str | None = None,
    ) -> None:
        url = database_url or settings.database_url()
        self.store = ConsultationStore(url)  # upgrades the database to the newest migration
        self.send = send
        self.warn_before = warn_before
        self.poll_interval = poll_interval
        self.max_late = max_late
        self.claim_timeout = claim_timeout
        self.clock = clock
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._engine = engine_for(url)
        self._stop = threading.Event()

    # --- one poll ---------------------------------------------------------------------------
    def poll(self) -> list[tuple[int, ReminderKind]]:
        """Act on every due reminder once; returns the (record id, kind) this instance sent."""
        sent: list[tuple[int, ReminderKind]] = []
        now = self.clock()
        for record_id, conversation_id, deadline in self.store.open_deadlines():
            done = self._done_kinds(record_id, deadline)
            for due in due_reminders(deadline, now, self.warn_before, done, self.max_late):
                if self._handle(record_id, conversation_id, deadline, due):
                    sent.append((record_id, due.kind))
        return sent

    def _done_kinds(self, record_id: int, deadline: datetime) -> set[ReminderKind]:
        """Kinds not to look at again: finished, or claimed by someone whose claim is still fresh,
        or failed but to be retried (those are handled in _handle via a conditional update)."""
        query = select(reminders.c.kind, reminders.c.status, reminders.c.claimed_at).where(
            reminders.c.consultation_id == record_id
        )
        stale = self.clock() - self.claim_timeout
        with self._engine.connect() as connection:
            rows = connection.execute(query).all()
        return {
            ReminderKind(kind)
            for kind, status, claimed_at in rows
            if status in DONE_STATUSES or (status == "claimed" and claimed_at > stale)
        }

    def _claim(self, record_id: int, conversation_id: str, deadline: datetime, due: Due) -> bool:
        now = self.clock()
        row = dict(
            consultation_id=record_id,
            kind=due.kind.value,
            conversation_id=conversation_id,
            deadline_at=deadline,
            due_at=due.due_at,
            status="claimed" if due.send else "skipped",
            claimed_by=self.name,
            claimed_at=now,
            attempts=1 if due.send else 0,
            detail="" if due.send else due.reason,
        )
        try:
            with self._engine.begin() as connection:
                connection.execute(insert(reminders).values(**row))
            return True
        except IntegrityError:
            pass  # a row exists: take it over only if it failed, or its sender died mid-claim
        stale = now - self.claim_timeout
        values = dict(status=row["status"], claimed_by=self.name, claimed_at=now, detail=row["detail"],
                      deadline_at=deadline, due_at=due.due_at, attempts=reminders.c.attempts + (1 if due.send else 0))
        statement = (
            update(reminders)
            .where(reminders.c.consultation_id == record_id, reminders.c.kind == due.kind.value)
            .where(or_(reminders.c.status == "failed", and_(reminders.c.status == "claimed", reminders.c.claimed_at <= stale)))
            .values(**values)
        )
        with self._engine.begin() as connection:
            return connection.execute(statement).rowcount == 1

    def _finish(self, record_id: int, kind: ReminderKind, status: str, detail: str) -> None:
        statement = (
            update(reminders)
            .where(reminders.c.consultation_id == record_id, reminders.c.kind == kind.value)
            .where(reminders.c.claimed_by == self.name)
            .values(status=status, detail=detail, sent_at=self.clock() if status == "sent" else None)
        )
        with self._engine.begin() as connection:
            connection.execute(statement)

    def _handle(self, record_id: int, conversation_id: str, deadline: datetime, due: Due) -> bool:
        if not self._claim(record_id, conversation_id, deadline, due):
            return False  # another scheduler has it
        if not due.send:
            log.info("reminder %s of record %s not sent (%s)", due.kind.value, record_id, due.reason)
            return False
        # Closed (or moved) between the poll and the claim: do not disturb a finished consultation.
        record = self.store.get(record_id)
        if record["status"] != RecordStatus.OPEN.value:
            self._finish(record_id, due.kind, "skipped", "record closed")
            return False
        result = self.send(conversation_id, due.kind)
        if result.ok:
            self._finish(record_id, due.kind, "sent", result.detail)
            log.info("sent reminder %s of record %s to %s", due.kind.value, record_id, conversation_id)
            return True
        status = "rejected" if result.permanent else "failed"
        self._finish(record_id, due.kind, status, result.detail)
        log.warning("reminder %s of record %s %s: %s", due.kind.value, record_id, status, result.detail)
        return False

    # --- the loop ---------------------------------------------------------------------------
    def run(self) -> None:
        log.info("timer service %s polling every %.1fs", self.name, self.poll_interval)
        while not self._stop.is_set():
            try:
                self.poll()
            except Exception:  # keep polling: a database hiccup must not end the reminders
                log.exception("poll failed")
            self._stop.wait(self.poll_interval)

    def stop(self) -> None:
        self._stop.set()

    def dispose(self) -> None:
        self._engine.dispose()
        self.store.dispose()

    def history(self) -> list[dict]:
        """Every reminder row (for tests and troubleshooting)."""
        with self._engine.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(select(reminders).order_by(reminders.c.id))]


def _float_env(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value not in (None, "") else default


def service_from_environment(organization: settings.OrganizationSettings, poll: float | None = None) -> TimerService:
    warn_default = organization.warn_before_minutes * 60
    rasa_url = os.environ.get("RASA_URL") or f"http://127.0.0.1:{os.environ.get('RASA_PORT', '5005')}"
    return TimerService(
        database_url=None,
        send=RasaTrigger(rasa_url, settings.rasa_api_token()),
        warn_before=timedelta(seconds=_float_env("TIMER_WARN_BEFORE_SECONDS", warn_default)),
        poll_interval=poll if poll is not None else _float_env("TIMER_POLL_SECONDS", 5.0),
        max_late=timedelta(seconds=_float_env("TIMER_MAX_LATE_SECONDS", 900)),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.timer_service", description=__doc__.split("\n")[0])
    parser.add_argument("--once", action="store_true", help="poll once and exit")
    parser.add_argument("--poll", type=float, help="seconds between polls (default TIMER_POLL_SECONDS or 5)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    service = service_from_environment(settings.load_organization(), args.poll)
    if args.once:
        service.poll()
        return 0
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: service.stop())
    service.run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
