"""Rasa's SQL tracker store, which also hands over the slots of the tracker it has just saved.

The REST channel answers every turn with the conversation's state (`custom.kasuhara`,
bot/channels/payload.py). Reading it back from the store after the turn meant a second SQL read
and a replay of every event of the conversation — about 10 % of the Rasa server's CPU per turn
(bench/profile/2-lean-ginza-top-ours-8.md). This store keeps the slots of each tracker it saves
until the channel takes them, once; the channel reads the store as before when they are not there
(another store type, or a turn this server did not save).

It also never exits the server: Rasa's `session_scope` turns any ValueError raised inside a
database session into `print_error_and_exit`, assuming a missing PostgreSQL schema. A sender id
with a lone surrogate (UnicodeEncodeError) or, on PostgreSQL, a NUL character (psycopg2 refuses
it) raised one, and the whole server stopped. Here such an error (and a missing schema) fails
that one request: TrackerStoreError, which Rasa's FailSafeTrackerStore logs before keeping the turn
in memory, and which the REST channel reports as 503 storage_error. The channels refuse such input
before (bot/text_input.py); this is the guard behind them.

endpoints.yml: `tracker_store: type: bot.rasa.tracker_store.SlotHandoverSQLTrackerStore` with the
options of Rasa's SQL store (dialect, url, db, …).
"""
from __future__ import annotations

import contextlib
import logging
from collections import OrderedDict
from typing import Any, Dict, Generator, Optional, Text

import rasa
import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs, ensure_schema_exists
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException

logger = logging.getLogger(__name__)

HANDOVER_LIMIT = 1024  # conversations whose slots wait to be taken (a turn takes its own at once)


# session_scope below restates Rasa's; a test checks that this version's still exits on ValueError.
RASA_VERSION_CHECKED = "3.6.21"
if rasa.__version__ != RASA_VERSION_CHECKED:
    logger.warning(
        "bot.rasa.tracker_store was checked against Rasa %s, this is %s: see tests/test_tracker_store.py.",
        RASA_VERSION_CHECKED,
        rasa.__version__,
    )


class TrackerStoreError(RasaException):
    """The database refused what this request tried to store or read; the server goes on."""


class SlotHandoverSQLTrackerStore(SQLTrackerStore):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Rasa's engine keeps pooled connections the database has dropped (PostgreSQL restarted or
        # its backends terminated); the next read failed and Rasa's FailSafeTrackerStore answered
        # that turn from an empty tracker. Pre-ping replaces a dead connection before use.
        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(url, pool_pre_ping=True, **create_engine_kwargs(url))
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        self._saved_slots: "OrderedDict[Text, Dict[Text, Any]]" = OrderedDict()

    @contextlib.contextmanager
    def session_scope(self) -> Generator[Any, None, None]:
        """Rasa's session scope with TrackerStoreError for this request where Rasa exits the server."""
        session = self.sessionmaker()
        try:
            try:
                ensure_schema_exists(session)
            except ValueError as missing:
                logger.error(
                    "PostgreSQL schema '%s' (POSTGRESQL_SCHEMA) not found: create it or unset the variable.", missing
                )
                raise TrackerStoreError(f"PostgreSQL schema '{missing}' not found") from None
            try:
                yield session
            except ValueError as error:
                session.rollback()
                logger.error("The tracker store refused a request: %s", error)
                raise TrackerStoreError(f"the database refused the request ({type(error).__name__})") from error
        finally:
            session.close()

    async def save(self, tracker: DialogueStateTracker) -> None:
        try:
            await self._save_events(tracker)
        except TrackerStoreError as error:
            self._hand_over(tracker.sender_id, error)
            raise
        self._hand_over(tracker.sender_id, tracker.current_slot_values())

    async def _save_events(self, tracker: DialogueStateTracker) -> None:
        """Store the tracker's new events (Rasa's way; bot/rasa/compact_store.py has another)."""
        await super().save(tracker)

    def _hand_over(self, sender_id: Text, slots_or_error: Any) -> None:
        self._saved_slots[sender_id] = slots_or_error
        self._saved_slots.move_to_end(sender_id)
        while len(self._saved_slots) > HANDOVER_LIMIT:
            self._saved_slots.popitem(last=False)

    def take_saved_slots(self, sender_id: Text) -> Optional[Dict[Text, Any]]:
        """The slots of the tracker last saved for `sender_id` by this store, once (else None);
        TrackerStoreError, once, when that save failed (Rasa then kept the turn in memory only)."""
        slots = self._saved_slots.pop(sender_id, None)
        if isinstance(slots, TrackerStoreError):
            raise slots
        return slots
