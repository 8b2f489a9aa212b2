"""The retention purge deletes the purged consultations' conversations in the tracker store too,
the conversations without a record past the retention period, and the channels' conversation
references of both or not refreshed within it (bot/desk/store.py `purge`, bot/rasa/transcripts.py),
on SQLite and PostgreSQL, with the tracker store in the records' database or in another; and deletes
nothing when the tracker store cannot be reached (the store, the admin page, the command line)."""
from __future__ import annotations

import re
import socket
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import insert, select
from sqlalchemy.engine import make_url

from bot.database import engine_for
from bot.desk.app import create_app
from bot.desk.store import DeskStore
from bot.rasa.transcripts import TrackerTranscripts, TranscriptStoreUnavailable
from bot.schema import conversation_references
from bot.settings import PROJECT_ROOT, Settings
from tests.conftest import postgres_database
from tests.test_desk import FAST_HASHER, PASSWORD, Clock, csrf, sign_in
from tests.tracker_rows import has_snapshot, play_turn, rows, tracker_store, write_endpoints

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=timezone.utc)
DAYS = 365
DAY = 86400.0


def ago(seconds: float) -> float:
    return NOW.timestamp() - seconds


def at(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, timezone.utc)


@pytest.fixture(params=["sqlite-separate", "sqlite-same", "postgresql-separate", "postgresql-same"])
def databases(request, tmp_path):
    """(records URL, tracker store URL): the tracker store in the records' database ("same", as the
    production compose file has it) or in one of its own ("separate", as `make run` has it)."""
    backend, layout = request.param.split("-")
    if backend == "sqlite":
        records = f"sqlite:///{tmp_path / 'records.db'}"
        yield records, (records if layout == "same" else f"sqlite:///{tmp_path / 'tracker.db'}")
        return
    with postgres_database("test_purge_records") as records:
        # a session time zone other than UTC, as in conftest.database_url
        records_url = records.update_query_dict({"options": "-c timezone=Asia/Tokyo"}).render_as_string(
            hide_password=False)
        if layout == "same":
            yield records_url, records
            return
        with postgres_database("test_purge_tracker") as tracker:
            yield records_url, tracker


class World:
    """Consultations of several kinds, each with its conversation stored as Rasa stores it."""

    def __init__(self, records_url: str, tracker_url, tmp_path: Path) -> None:
        self.clock = Clock()
        self.clock.now = NOW
        self.records_url = records_url
        self.desk = DeskStore(records_url, clock=self.clock, hasher=FAST_HASHER)
        self.endpoints = write_endpoints(tmp_path / "endpoints.yml", tracker_url)
        self.tracker = tracker_store(self.endpoints)
        self.records: dict[str, int] = {}

    def consultation(self, name: str, sender: str, start: float, turns: int, new_session: bool = True) -> None:
        for number in range(turns):
            when = start + 60 * number
            text = f"{name}の発言{number}"
            play_turn(self.tracker, sender, text, when, new_session=new_session and number == 0)
            if number == 0:
                self.records[name] = self.desk.records.start(sender, "botframework", started_at=at(when))
            self.desk.records.record_turn(self.records[name], text, sent_at=at(when))

    def reference(self, sender: str, updated: float) -> None:
        """A Teams conversation reference, as bot/channels/references.py stores it, last refreshed at `updated`."""
        engine = engine_for(self.records_url)
        with engine.begin() as connection:
            connection.execute(insert(conversation_references).values(
                channel="botframework", sender_id=sender, reference={"conversation": {"id": sender}}, updated_at=at(updated)))
        engine.dispose()

    def references(self) -> set[str]:
        engine = engine_for(self.records_url)
        with engine.connect() as connection:
            senders = set(connection.execute(select(conversation_references.c.sender_id)).scalars())
        engine.dispose()
        return senders

    def transcripts(self) -> TrackerTranscripts:
        return TrackerTranscripts.from_endpoints(self.endpoints)

    def close(self) -> None:
        self.tracker.engine.dispose()
        self.desk.dispose()


@pytest.fixture
def world(databases, tmp_path):
    records_url, tracker_url = databases
    built = World(records_url, tracker_url, tmp_path)
    # an old consultation, alone in its conversation
    built.consultation("old", "employee-old", ago(400 * DAY), turns=5)
    # a recent one
    built.consultation("recent", "employee-recent", ago(3600), turns=5)
    # one conversation (a Teams user's) with an old consultation and, in a later session, a recent one
    built.consultation("shared-old", "employee-shared", ago(400 * DAY), turns=3)
    built.consultation("shared-new", "employee-shared", ago(2 * DAY), turns=3)
    # an old consultation whose last messages came after the cut-off
    built.consultation("tail", "employee-tail", ago(DAYS * DAY + 120), turns=5)
    # "最初から" across the cut-off: a kept consultation in the same session as a purged one
    built.consultation("restart-old", "employee-restart", ago(DAYS * DAY + 1800), turns=2)
    built.consultation("restart-new", "employee-restart", ago(DAYS * DAY - 1800), turns=2, new_session=False)
    # conversations without a record (the rehearsal's): an old one and one used since the cut-off
    play_turn(built.tracker, "no-record", "記録のない会話", ago(500 * DAY))
    play_turn(built.tracker, "no-record-recent", "記録のない古い会話", ago(400 * DAY))
    play_turn(built.tracker, "no-record-recent", "記録のない最近の会話", ago(DAY))
    # the channels' references: refreshed long ago, of a purged conversation, of kept ones
    built.reference("employee-left", ago(400 * DAY))
    built.reference("employee-tail", ago(DAYS * DAY - 600))
    built.reference("no-record", ago(500 * DAY))
    built.reference("employee-shared", ago(2 * DAY))
    built.reference("employee-recent", ago(3600))
    yield built
    built.close()


def texts(world: World, sender: str) -> list[str]:
    return [row["text"] for row in rows(world.tracker, sender) if row["type"] == "user"]


def test_a_purge_deletes_the_old_consultations_conversations_and_nothing_else(world):
    before = {sender: rows(world.tracker, sender) for sender in
              ("employee-old", "employee-recent", "employee-shared", "employee-tail", "employee-restart", "no-record")}
    assert has_snapshot(world.tracker, "employee-old") and has_snapshot(world.tracker, "employee-shared")
    assert has_snapshot(world.tracker, "employee-recent")

    result = world.desk.purge(DAYS, world.transcripts())

    kept = {r["id"] for r in world.desk.records.list()}
    assert kept == {world.records["recent"], world.records["shared-new"], world.records["restart-new"]}
    assert result.records == 4
    # the old conversation: every row and its snapshot
    assert rows(world.tracker, "employee-old") == [] and not has_snapshot(world.tracker, "employee-old")
    assert rows(world.tracker, "employee-tail") == []  # its messages after the cut-off too
    # the recent one: untouched, snapshot included
    assert rows(world.tracker, "employee-recent") == before["employee-recent"]
    assert has_snapshot(world.tracker, "employee-recent")
    # the old conversation without a record goes whole; the one used since the cut-off stays whole
    assert rows(world.tracker, "no-record") == [] and not has_snapshot(world.tracker, "no-record")
    assert texts(world, "no-record-recent") == ["記録のない古い会話", "記録のない最近の会話"]
    assert result.transcripts.unrecorded == ("no-record",)
    assert world.references() == {"employee-shared", "employee-recent"} and result.references == 3
    # the shared conversation: the old session is gone, the recent one whole, from its session start
    shared = rows(world.tracker, "employee-shared")
    opening = next(i for i, row in enumerate(before["employee-shared"]) if row["text"] == "shared-newの発言0") - 3
    assert before["employee-shared"][opening]["action"] == "action_session_start"
    assert shared == before["employee-shared"][opening:]
    assert texts(world, "employee-shared") == [f"shared-newの発言{n}" for n in range(3)]
    assert not has_snapshot(world.tracker, "employee-shared")  # it held the old session's text
    # the same session across the cut-off: from the listen before the kept consultation's first message
    restart = rows(world.tracker, "employee-restart")
    assert restart[0]["action"] == "action_listen" and restart[1]["text"] == "restart-newの発言0"
    assert texts(world, "employee-restart") == ["restart-newの発言0", "restart-newの発言1"]
    gone = sum(len(before[s]) - len(rows(world.tracker, s)) for s in before)
    assert (result.transcripts.conversations, result.transcripts.events) == (4, gone)
    assert result.transcripts.snapshots >= 2

    # the conversations left still serve the next turn
    tracker = __import__("asyncio").run(world.tracker.retrieve("employee-shared"))
    assert tracker.latest_message.text == "shared-newの発言2"
    assert all("shared-old" not in (getattr(e, "text", "") or "") for e in tracker.events)
    play_turn(world.tracker, "employee-shared", "続きです", NOW.timestamp())
    assert texts(world, "employee-shared")[-1] == "続きです"


def test_a_dry_run_counts_and_deletes_nothing(world):
    senders = ("employee-old", "employee-recent", "employee-shared", "employee-tail", "employee-restart")
    before = {sender: rows(world.tracker, sender) for sender in senders}
    preview = world.desk.purge(DAYS, world.transcripts(), dry_run=True)
    assert preview.dry_run and preview.records == 4 and preview.transcripts.conversations == 4
    assert {sender: rows(world.tracker, sender) for sender in senders} == before
    assert has_snapshot(world.tracker, "employee-old") and rows(world.tracker, "no-record")
    assert len(world.desk.records.list()) == 7 and len(world.references()) == 5
    assert preview.transcripts.unrecorded == ("no-record",) and preview.references == 3
    assert ("会話履歴（Rasa の tracker store）は 4 件、記録のない会話は 1 件、チャネルの通知先は 3 件です（削除していません）"
            in preview.summary_ja())
    done = world.desk.purge(DAYS, world.transcripts())
    assert (done.records, done.transcripts, done.references) == (preview.records, preview.transcripts, preview.references)


def test_nothing_is_deleted_when_the_tracker_store_cannot_be_reached(world, tmp_path):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    unreachable = write_endpoints(tmp_path / "down.yml", f"postgresql://postgres@127.0.0.1:{port}/kasuhara")
    with pytest.raises(TranscriptStoreUnavailable, match="会話履歴は削除していません"):
        world.desk.purge(DAYS, TrackerTranscripts.from_endpoints(unreachable))
    missing = write_endpoints(tmp_path / "missing.yml", f"sqlite:///{tmp_path / 'nowhere' / 'tracker.db'}")
    with pytest.raises(TranscriptStoreUnavailable, match="見つかりません"):
        world.desk.purge(DAYS, TrackerTranscripts.from_endpoints(missing))
    assert not (tmp_path / "nowhere").exists()  # not created empty
    assert len(world.desk.records.list()) == 7 and len(world.references()) == 5
    assert rows(world.tracker, "employee-old") and has_snapshot(world.tracker, "employee-old")
    assert rows(world.tracker, "no-record")


# --- where the tracker store is: the endpoints file, read as the Rasa server reads it ------------
def test_the_tracker_store_is_read_from_the_endpoints_files(monkeypatch, tmp_path):
    local = TrackerTranscripts.from_endpoints(PROJECT_ROOT / "endpoints.yml")
    assert local.url == make_url(f"sqlite:///{PROJECT_ROOT / 'var' / 'tracker.db'}")  # make run's cwd
    for name, value in {"POSTGRES_HOST": "db.internal", "POSTGRES_PORT": "5433", "POSTGRES_DB": "kasuhara",
                        "POSTGRES_USER": "bot", "POSTGRES_PASSWORD": "p@ss", "ACTION_ENDPOINT_URL": "http://a/webhook",
                        "REDIS_HOST": "r", "REDIS_PORT": "6379"}.items():
        monkeypatch.setenv(name, value)
    production = TrackerTranscripts.from_endpoints(PROJECT_ROOT / "endpoints.production.yml")
    assert (production.url.drivername, production.url.host, production.url.port, production.url.database,
            production.url.username, production.url.password) == ("postgresql", "db.internal", 5433, "kasuhara",
                                                                    "bot", "p@ss")
    assert "p@ss" not in production.describe()
    monkeypatch.delenv("POSTGRES_HOST")
    with pytest.raises(TranscriptStoreUnavailable, match="tracker_store を読めません"):
        TrackerTranscripts.from_endpoints(PROJECT_ROOT / "endpoints.production.yml")
    # Helm's values give login_db (where Rasa first connects to create db): the events are in db
    helm = tmp_path / "helm.yml"
    helm.write_text("tracker_store:\n  type: sql\n  dialect: postgresql\n  url: pg\n  db: events_db\n"
                    "  login_db: postgres\n", encoding="utf-8")
    assert TrackerTranscripts.from_endpoints(helm).url.database == "events_db"
    redis = tmp_path / "redis.yml"
    redis.write_text("tracker_store:\n  type: redis\n  url: localhost\n", encoding="utf-8")
    with pytest.raises(TranscriptStoreUnavailable, match="SQL の tracker store だけ"):
        TrackerTranscripts.from_endpoints(redis)
    none = tmp_path / "none.yml"
    none.write_text("action_endpoint:\n  url: http://127.0.0.1:5055/webhook\n", encoding="utf-8")
    in_memory = TrackerTranscripts.from_endpoints(none)
    assert not in_memory.stored and in_memory.purge({}, NOW, set()).conversations == 0
    with pytest.raises(TranscriptStoreUnavailable, match="見つかりません"):
        TrackerTranscripts.from_endpoints(tmp_path / "absent.yml")


def test_a_tracker_database_without_the_events_table_is_refused(tmp_path):
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    transcripts = TrackerTranscripts.from_endpoints(write_endpoints(tmp_path / "e.yml", f"sqlite:///{empty}"))
    with pytest.raises(TranscriptStoreUnavailable, match="events 表がありません"):
        transcripts.purge({}, NOW, set())


# --- the admin page and the command line ---------------------------------------------------------
def test_the_admin_page_purges_and_audits_the_counts(world, tmp_path):
    settings = Settings(database_url=world.records_url, secret_file=tmp_path / "desk-secret", endpoints_file=world.endpoints)
    world.desk.create_user("admin", "管理者", PASSWORD, "admin")
    app = create_app(settings, world.desk)
    client = sign_in(app, "admin")
    world.desk.set_retention_days(DAYS, "admin")
    response = client.post("/admin/purge", data={"csrf_token": csrf(client, "/admin/retention")})
    page = client.get(response.headers["Location"]).text
    assert "4 件の記録と、その会話履歴 4 件を削除しました" in page
    detail = next(e["detail"] for e in world.desk.audit_entries() if e["action"] == "records.purge")
    assert re.fullmatch(r"days=365 deleted=4 conversations=4 unrecorded=1 events=\d+ snapshots=\d+ references=3",
                        detail)
    assert rows(world.tracker, "employee-old") == [] and rows(world.tracker, "no-record") == []


def test_the_admin_page_says_nothing_was_deleted_when_the_tracker_store_is_down(world, tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    down = write_endpoints(tmp_path / "down.yml", f"postgresql://postgres@127.0.0.1:{port}/kasuhara")
    settings = Settings(database_url=world.records_url, secret_file=tmp_path / "desk-secret", endpoints_file=down)
    world.desk.create_user("admin", "管理者", PASSWORD, "admin")
    client = sign_in(create_app(settings, world.desk), "admin")
    world.desk.set_retention_days(DAYS, "admin")
    response = client.post("/admin/purge", data={"csrf_token": csrf(client, "/admin/retention")})
    assert response.status_code == 503
    assert "削除できませんでした。記録も会話履歴も削除していません。" in response.text
    assert "会話履歴のデータベース" in response.text and "postgresql://postgres@127.0.0.1" in response.text
    assert len(world.desk.records.list()) == 7 and rows(world.tracker, "employee-old")
    assert rows(world.tracker, "no-record") and len(world.references()) == 5
    actions = [e["action"] for e in world.desk.audit_entries()]
    assert "records.purge_failed" in actions and "records.purge" not in actions


def run_purge(records_url: str, endpoints: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {"DATABASE_URL": records_url, "ENDPOINTS_FILE": str(endpoints), "DESK_RETENTION_DAYS": str(DAYS),
           "DESK_SECRET_FILE": str(tmp_path / "secret"), "USER": "operator", "PATH": "/usr/bin:/bin",
           "PYTHONIOENCODING": "utf-8"}
    return subprocess.run([sys.executable, "-m", "bot.desk", "purge", *args], capture_output=True, text=True,
                          cwd=PROJECT_ROOT, env=env, timeout=120)


def test_the_command_line_purge(tmp_path):
    """Real time (the command's clock): one old consultation and one recent, on SQLite."""
    records_url, tracker_url = f"sqlite:///{tmp_path / 'records.db'}", f"sqlite:///{tmp_path / 'tracker.db'}"
    endpoints = write_endpoints(tmp_path / "endpoints.yml", tracker_url)
    world = World(records_url, tracker_url, tmp_path)
    try:
        now = datetime.now(timezone.utc).timestamp()
        world.consultation("old", "employee-old", now - 400 * DAY, turns=3)
        world.consultation("recent", "employee-recent", now - 3600, turns=3)
        recent = rows(world.tracker, "employee-recent")

        preview = run_purge(records_url, endpoints, tmp_path, "--dry-run")
        assert preview.returncode == 0, preview.stderr
        assert "記録は 1 件、その会話履歴（Rasa の tracker store）は 1 件、記録のない会話は 0 件" in preview.stdout
        assert rows(world.tracker, "employee-old")

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        down = write_endpoints(tmp_path / "down.yml", f"postgresql://postgres@127.0.0.1:{port}/kasuhara")
        failed = run_purge(records_url, down, tmp_path)
        assert failed.returncode == 1 and failed.stdout == ""
        assert "会話履歴のデータベース" in failed.stderr and "記録も会話履歴も削除していません" in failed.stderr
        assert len(world.desk.records.list()) == 2 and rows(world.tracker, "employee-old")

        purged = run_purge(records_url, endpoints, tmp_path)
        assert purged.returncode == 0, purged.stderr
        assert "記録を 1 件、その会話履歴（Rasa の tracker store）を 1 件" in purged.stdout
        assert rows(world.tracker, "employee-old") == [] and rows(world.tracker, "employee-recent") == recent
        assert [r["id"] for r in world.desk.records.list()] == [world.records["recent"]]
        audit = [(e["actor"], e["action"]) for e in world.desk.audit_entries()]
        assert ("operator", "records.purge") in audit and ("operator", "records.purge_failed") in audit
    finally:
        world.close()

