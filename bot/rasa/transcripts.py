"""The conversations Rasa keeps in its tracker store (table `events`, and `tracker_snapshots` of
bot/rasa/compact_store.py), found and deleted for the desk's retention purge (bot/desk/store.py).

Where they are: the `tracker_store` section of the endpoints file the Rasa server runs with
(`Settings.endpoints_file`: ENDPOINTS_FILE, else endpoints.yml, the file `make run` passes to the
server), read with Rasa's own reader (environment variables expanded as the server expands them)
and made a URL by Rasa's `SQLTrackerStore.get_db_url`. It may be the records' database or another.
A relative SQLite path is taken from the project folder, where `make run` starts the server.

What goes, for each conversation (Rasa's sender id = the record's `conversation_id`) of a purged
consultation record:
- its events from the first one to the end of the Rasa session that holds the later of the purged
  records' last message and the retention cut-off (up to the next `action_session_start`; without
  one, to the last event);
- but nothing of a record of the same conversation that stays: when one is kept, its opening and
  everything after stay (from the session start before its first message, else from the
  action_listen before it), so a conversation in progress is not disturbed;
- its snapshot row whenever any of its events go (the snapshot holds their text; the store rebuilds
  it from the events left at a later turn).

And every conversation that has no consultation record at all (the rehearsal's, or one whose
records are gone) and no event since the cut-off goes whole, events and snapshot.

The set of rows is fixed when the purge looks (`id` below a bound), so a turn being stored while the
purge runs keeps its events. Everything is one transaction on the tracker store's database: when it
cannot be reached, nothing there is deleted and `TranscriptStoreUnavailable` says why, in Japanese.
"""
from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent
# A record's start is its opening message's Rasa timestamp (actions/facts.py); stored as a datetime
# it may be off by under a microsecond.
TIMESTAMP_SLACK = 0.001
CONNECT_TIMEOUT_SECONDS = 10
SESSION_START = "action_session_start"
ACTION_LISTEN = "action_listen"

EVENTS = sa.table(
    "events",
    sa.column("id", sa.Integer),
    sa.column("sender_id", sa.String),
    sa.column("type_name", sa.String),
    sa.column("timestamp", sa.Float),
    sa.column("action_name", sa.String),
)
SNAPSHOTS = sa.table("tracker_snapshots", sa.column("sender_id", sa.String))


class TranscriptStoreUnavailable(Exception):
    """The tracker store's database could not be used: nothing was deleted there. The message is
    Japanese, for the admin at the screen or the operator at the terminal."""


@dataclass(frozen=True)
class ConversationSpan:
    """What of one conversation goes: up to the end of the session holding `purged_until` (the
    later of the purged records' last message and the cut-off), never from `kept_from` on (the
    start of the conversation's oldest record that stays, if any)."""

    purged_until: datetime
    kept_from: datetime | None = None


@dataclass(frozen=True)
class TranscriptCount:
    conversations: int = 0  # conversations of purged records that lost events
    events: int = 0
    snapshots: int = 0
    unrecorded: tuple[str, ...] = ()  # conversations without a record, gone whole


class TrackerTranscripts:
    """The tracker store's database (`url`; None when the endpoints file names no tracker store, so
    Rasa keeps conversations in memory only and none are stored)."""

    def __init__(self, url: URL | str | None, engine_kwargs: Mapping[str, Any] | None = None,
                 source: str = "") -> None:
        self.url = make_url(url) if url is not None else None
        self.engine_kwargs = dict(engine_kwargs or {})
        self.source = source  # where the URL came from, for messages

    @property
    def stored(self) -> bool:
        return self.url is not None

    def describe(self) -> str:
        """The database without its password, for messages and the audit log."""
        if self.url is None:
            return "なし（tracker_store の設定がなく、会話はメモリだけに置かれます）"
        return self.url.render_as_string(hide_password=True)

    @classmethod
    def from_endpoints(cls, path: Path) -> "TrackerTranscripts":
        """The tracker store of the endpoints file `path`, as the Rasa server reads it."""
        from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs, validate_port
        from rasa.shared.exceptions import RasaException
        from rasa.shared.utils.common import class_from_module_path
        from rasa.utils.endpoints import read_endpoint_config

        if not Path(path).is_file():  # Rasa's reader would answer "no tracker store" for a missing file
            raise TranscriptStoreUnavailable(
                f"エンドポイントの設定ファイル {path} が見つかりません（ENDPOINTS_FILE）。会話履歴は削除していません。")
        try:
            config = read_endpoint_config(str(path), "tracker_store")
        except (RasaException, OSError, ValueError) as error:
            raise TranscriptStoreUnavailable(
                f"エンドポイントの設定ファイル {path} の tracker_store を読めません（{_short(error)}）。"
                "会話履歴は削除していません。") from None
        if config is None or config.type is None:
            return cls(None, source=str(path))
        store_type = str(config.type)
        if store_type.lower() != "sql":
            try:
                store_class = class_from_module_path(store_type)
                is_sql = isinstance(store_class, type) and issubclass(store_class, SQLTrackerStore)
            except (ImportError, AttributeError):
                is_sql = False
            if not is_sql:
                raise TranscriptStoreUnavailable(
                    f"会話履歴の保存先（{path} の tracker_store、type: {store_type}）からは削除できません。"
                    "SQL の tracker store だけに対応しています。会話履歴は削除していません。")
        options = dict(config.kwargs)
        try:
            url = SQLTrackerStore.get_db_url(
                options.get("dialect", "sqlite"), config.url, validate_port(options.get("port")),
                options.get("db", "rasa.db"), options.get("username"), options.get("password"),
                None,  # login_db is where Rasa first connects to create `db`; the events are in `db`
                options.get("query"),
            )
            url = make_url(url)
        except (RasaException, ValueError, TypeError, sa.exc.ArgumentError) as error:
            raise TranscriptStoreUnavailable(
                f"{path} の tracker_store から接続先を作れません（{_short(error)}）。会話履歴は削除していません。") from None
        if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
            database = Path(url.database)
            if not database.is_absolute():
                url = url.set(database=str(PROJECT_ROOT / database))
        return cls(url, create_engine_kwargs(url), source=str(path))

    # --- the purge -----------------------------------------------------------------------------
    def purge(self, spans: Mapping[str, ConversationSpan], cutoff: datetime, recorded: Set[str],
              dry_run: bool = False) -> TranscriptCount:
        """Delete (with dry_run: count) what goes of each conversation in `spans`, and every
        conversation not in `recorded` (the senders that have records) without an event since
        `cutoff`, in one transaction; TranscriptStoreUnavailable when the database cannot be used
        (nothing deleted)."""
        if self.url is None:
            return TranscriptCount()
        engine = self._engine()
        try:
            with engine.begin() as connection:
                tables = set(sa.inspect(connection).get_table_names())
                if "events" not in tables:
                    raise TranscriptStoreUnavailable(
                        f"会話履歴のデータベース（{self.describe()}）に events 表がありません。Rasa サーバーが"
                        "まだ一度も起動していないか、別のデータベースです。会話履歴は削除していません。")
                has_snapshots = "tracker_snapshots" in tables
                conversations = events = snapshots = 0
                idle = connection.execute(
                    sa.select(EVENTS.c.sender_id, sa.func.max(EVENTS.c.id)).group_by(EVENTS.c.sender_id)
                    .having(sa.func.max(EVENTS.c.timestamp) < cutoff.timestamp())).all()
                unrecorded = {sender: last + 1 for sender, last in idle if sender not in recorded}
                for sender_id in [*spans, *sorted(unrecorded)]:
                    bound = unrecorded.get(sender_id) or _bound(connection, sender_id, spans[sender_id])
                    if bound is None:
                        continue
                    going = sa.and_(EVENTS.c.sender_id == sender_id, EVENTS.c.id < bound)
                    count = connection.execute(sa.select(sa.func.count()).select_from(EVENTS).where(going)).scalar_one()
                    if not count:
                        continue
                    conversations += sender_id in spans
                    events += count
                    snapshot = SNAPSHOTS.c.sender_id == sender_id
                    if has_snapshots:
                        snapshots += connection.execute(
                            sa.select(sa.func.count()).select_from(SNAPSHOTS).where(snapshot)).scalar_one()
                    if not dry_run:
                        connection.execute(sa.delete(EVENTS).where(going))
                        if has_snapshots:
                            connection.execute(sa.delete(SNAPSHOTS).where(snapshot))
                return TranscriptCount(conversations, events, snapshots, tuple(sorted(unrecorded)))
        except TranscriptStoreUnavailable:
            raise
        except (SQLAlchemyError, OSError) as error:
            raise self._unavailable(error) from error
        finally:
            engine.dispose()

    def _engine(self) -> sa.engine.Engine:
        assert self.url is not None
        kwargs = dict(self.engine_kwargs)
        connect_args = dict(kwargs.pop("connect_args", {}) or {})
        backend = self.url.get_backend_name()
        if backend == "sqlite":
            database = self.url.database
            if database and database != ":memory:" and not Path(database).is_file():
                # connecting would create an empty file, and the purge would find nothing to delete
                raise TranscriptStoreUnavailable(
                    f"会話履歴のデータベース {database} が見つかりません（{self.source} の tracker_store）。"
                    "会話履歴は削除していません。")
            connect_args.setdefault("timeout", 30)  # a Rasa server may be writing: wait for it
        elif backend == "postgresql":
            connect_args.setdefault("connect_timeout", CONNECT_TIMEOUT_SECONDS)
        return sa.create_engine(self.url, future=True, connect_args=connect_args, **kwargs)

    def _unavailable(self, error: BaseException) -> TranscriptStoreUnavailable:
        return TranscriptStoreUnavailable(
            f"会話履歴のデータベース（{self.describe()}）を使えませんでした（{_short(error)}）。"
            "会話履歴は削除していません。")


def _bound(connection: sa.engine.Connection, sender_id: str, span: ConversationSpan) -> int | None:
    """The first `events.id` of the conversation that stays (every row below it goes); None when
    the conversation has no events."""
    of_sender = EVENTS.c.sender_id == sender_id

    def first(*conditions: Any) -> int | None:
        return connection.execute(sa.select(sa.func.min(EVENTS.c.id)).where(of_sender, *conditions)).scalar()

    def last(*conditions: Any) -> int | None:
        return connection.execute(sa.select(sa.func.max(EVENTS.c.id)).where(of_sender, *conditions)).scalar()

    is_session_start = sa.and_(EVENTS.c.type_name == "action", EVENTS.c.action_name == SESSION_START)
    final = last()
    if final is None:
        return None
    bound = first(is_session_start, EVENTS.c.timestamp > span.purged_until.timestamp())
    if bound is None:
        bound = final + 1
    if span.kept_from is not None:
        kept_start = span.kept_from.timestamp() - TIMESTAMP_SLACK
        opening = first(EVENTS.c.type_name == "user", EVENTS.c.timestamp >= kept_start)
        if opening is None:
            opening = first(EVENTS.c.timestamp >= kept_start)
        if opening is not None:
            previous_message = last(EVENTS.c.type_name == "user", EVENTS.c.id < opening) or 0
            between = sa.and_(EVENTS.c.id > previous_message, EVENTS.c.id < opening)
            listen = sa.and_(EVENTS.c.type_name == "action", EVENTS.c.action_name == ACTION_LISTEN)
            opening = first(between, is_session_start) or last(between, listen) or opening
            bound = min(bound, opening)
    return bound


def _short(error: BaseException) -> str:
    original = getattr(error, "orig", None) or error
    text = " ".join(str(original).split()) or type(original).__name__
    return f"{type(original).__name__}: {text}"[:300]
