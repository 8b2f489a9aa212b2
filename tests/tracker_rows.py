"""A tracker store's database for the purge tests: an endpoints file naming it (as the Rasa server is
given one), the store Rasa builds from that file, turns stored with chosen times, and its rows."""
from __future__ import annotations

import asyncio
import json
from pathlib import Path

import sqlalchemy as sa
from rasa.core.tracker_store import TrackerStore
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import read_endpoint_config
from sqlalchemy.engine import URL, make_url

from tests.channel_stand_ins import kasuhara_domain

STORE_TYPE = "bot.rasa.compact_store.CompactingSQLTrackerStore"


def write_endpoints(path: Path, tracker_url: URL | str, fold_turns: int = 2, keep_turns: int = 1) -> Path:
    """An endpoints file whose tracker_store is the project's store on `tracker_url` (folding often,
    so that conversations get snapshots)."""
    url = make_url(tracker_url)
    lines = ["tracker_store:", f"  type: {STORE_TYPE}", f"  fold_turns: {fold_turns}", f"  keep_turns: {keep_turns}"]
    if url.get_backend_name() == "sqlite":
        lines += ["  dialect: sqlite", f'  db: "{url.database}"']
    else:
        lines += ["  dialect: postgresql", f"  url: {url.host}", f"  port: {url.port or 5432}", f"  db: {url.database}",
                  f"  username: {url.username}"]
        if url.password:
            lines.append(f"  password: {url.password}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def tracker_store(endpoints: Path):
    """The store the Rasa server builds from `endpoints` (it creates the tables)."""
    return TrackerStore.create(read_endpoint_config(str(endpoints), "tracker_store"), kasuhara_domain())


def play_turn(store, sender: str, text: str, at: float, new_session: bool = False) -> None:
    """One employee turn stored as Rasa stores it, its events at `at` (a session start just before)."""
    domain = kasuhara_domain()

    async def turn() -> None:
        tracker = await store.retrieve(sender) or DialogueStateTracker(sender, domain.slots)
        events = []
        if new_session or not tracker.events:
            events += [ActionExecuted("action_session_start", timestamp=at - 0.3), SessionStarted(timestamp=at - 0.2),
                       ActionExecuted("action_listen", timestamp=at - 0.1)]
        events += [UserUttered(text, {"name": "report_incident", "confidence": 1.0}, timestamp=at),
                   SlotSet("stage", "fact_finding", timestamp=at + 0.1),
                   ActionExecuted("utter_ask", timestamp=at + 0.2),
                   BotUttered(f"「{text}」について伺います", timestamp=at + 0.3),
                   ActionExecuted("action_listen", timestamp=at + 0.4)]
        for event in events:
            tracker.update(event, domain)
        await store.save(tracker)

    asyncio.run(turn())


def rows(store, sender: str) -> list[dict]:
    """The sender's `events` rows in order: id, type, action, text."""
    with store.engine.connect() as connection:
        found = connection.execute(
            sa.text("SELECT id, type_name, action_name, data FROM events WHERE sender_id = :s ORDER BY id"), {"s": sender})
        return [{"id": r.id, "type": r.type_name, "action": r.action_name, "text": json.loads(r.data).get("text")}
                for r in found]


def has_snapshot(store, sender: str) -> bool:
    with store.engine.connect() as connection:
        return connection.execute(sa.text("SELECT count(*) FROM tracker_snapshots WHERE sender_id = :s"),
                                  {"s": sender}).scalar_one() == 1


def create_tables(url: URL | str) -> None:
    """The tables a Rasa server creates at start, for tests that need an empty tracker store."""
    from rasa.core.tracker_store import SQLTrackerStore

    from bot.rasa.compact_store import _Base

    engine = sa.create_engine(url)
    try:
        SQLTrackerStore.Base.metadata.create_all(engine)
        _Base.metadata.create_all(engine)
    finally:
        engine.dispose()
