"""A SQL tracker store whose turn cost does not grow with the conversation (RasaHQ/rasa#11828).

Rasa's SQL store reads and replays every event of the conversation's session on each turn, and the
policies featurize the whole tracker: turn time grew from 178 to 964 ms over 264 turns. This store
keeps, per conversation, a snapshot of the state at a boundary (row of `tracker_snapshots`):

- the slot values and the active loop at the start of the history kept,
- the history: the last KEEP_TURNS user turns of *applied* events before the boundary
  (`DialogueStateTracker.applied_events()`: what Rasa's replay and the policies use, after reverts
  and a form's happy-path turns were collapsed), verbatim,
- the boundary: the id of the last row of `events` folded into the snapshot.

`retrieve` returns SlotSet/ActiveLoop events restoring that state, the history, then the events
stored after the boundary (one indexed query, sender_id and id > boundary): at most about
KEEP_TURNS + FOLD_TURNS user turns, whatever the length. Applying it gives the same slots, active
loop and latest message as Rasa's full replay, and the same last states to the policies
(MemoizationPolicy max_history 4, the rules' short snippets; tests/test_compact_store.py checks
the predictions against full trackers). `save` appends only the events added since `retrieve`
(counted in a marker carried by the first synthetic event, so a copy of the tracker keeps it) and
folds the snapshot forward once more than FOLD_TURNS user turns follow the boundary, in the same
transaction. Every event is still stored in `events` once, in order; `retrieve_full_tracker` (the
HTTP API's GET /conversations/{id}/tracker, the desk) is Rasa's, complete.

What a compact tracker does not hold: user messages older than the history (the action server's
`tracker.events`); actions/facts.py reads only the latest ones, and the record keeps the quoted
words of earlier ones (bot/records.py merges them). The trigger message of a loop activated
before the history is empty (no slot mapping here reads it).

Several Rasa servers may share the tables; the Redis lock store makes one of them the only writer
of a conversation at a time, as for Rasa's own store.
endpoints.yml: `tracker_store: type: bot.rasa.compact_store.CompactingSQLTrackerStore`.
"""
from __future__ import annotations

import dataclasses
import itertools
import json
import logging
import time
from typing import Any, Dict, List, Optional, Text

import sqlalchemy as sa
from rasa.shared.core.constants import ACTION_LISTEN_NAME, REQUESTED_SLOT
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActiveLoop,
    Event,
    LoopInterrupted,
    SlotSet,
    UserUttered,
    deserialise_events,
)
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.orm import declarative_base

from bot.rasa.tracker_store import SlotHandoverSQLTrackerStore

logger = logging.getLogger(__name__)

# User turns of history kept before the boundary: MemoizationPolicy's max_history is 4, and a
# rule's snippet is shorter still; the rest is a margin (a revert undoes a turn or two).
KEEP_TURNS = 8
# User turns stored after the boundary before the snapshot is folded forward.
FOLD_TURNS = 8

MARK = "kasuhara_compact"  # metadata key of the first synthetic event

_Base = declarative_base()


class TrackerSnapshot(_Base):
    __tablename__ = "tracker_snapshots"

    sender_id = sa.Column(sa.String(255), primary_key=True)
    boundary_id = sa.Column(sa.Integer, nullable=False)  # last events.id folded in
    state = sa.Column(sa.Text, nullable=False)  # JSON: slots, active loop, history
    updated_at = sa.Column(sa.Float, nullable=False)


class CompactingSQLTrackerStore(SlotHandoverSQLTrackerStore):
    def __init__(self, *args: Any, keep_turns: int = KEEP_TURNS, fold_turns: int = FOLD_TURNS, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if keep_turns < 1 or fold_turns < 1:
            raise ValueError("keep_turns and fold_turns must be at least 1")
        self.keep_turns = int(keep_turns)
        self.fold_turns = int(fold_turns)
        try:
            _Base.metadata.create_all(self.engine)
            with self.engine.begin() as connection:
                # the tail query: sender_id = ? AND id > boundary (Rasa indexes sender_id alone)
                connection.execute(sa.text("CREATE INDEX IF NOT EXISTS ix_events_sender_id_id ON events (sender_id, id)"))
        except (sa.exc.OperationalError, sa.exc.ProgrammingError, sa.exc.IntegrityError) as error:
            # Several servers starting at once: one of them creates them (as Rasa's events table).
            logger.error("Could not create the tracker snapshot table or index: %s", error)

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        """The conversation's state at the snapshot, its history, and the events stored after it."""
        with self.session_scope() as session:
            snapshot = session.get(TrackerSnapshot, sender_id)
            if snapshot is None:
                rows = self._event_query(session, sender_id, fetch_events_from_all_sessions=False).all()
                state = None
            else:
                rows = (
                    session.query(self.SQLEvent)
                    .filter(self.SQLEvent.sender_id == sender_id, self.SQLEvent.id > snapshot.boundary_id)
                    .order_by(self.SQLEvent.id)
                    .all()
                )
                state = json.loads(snapshot.state)
            stored = [json.loads(row.data) for row in rows]
        if self.domain is None or (state is None and not stored):
            return None
        prefix = self._prefix(state) if state is not None else []
        tracker = DialogueStateTracker.from_events(sender_id, prefix + deserialise_events(stored), self.domain.slots)
        mark = {"handed_out": len(tracker.events), "stored_from": len(prefix)}
        if prefix:
            tracker.events[0].metadata[MARK] = mark
        setattr(tracker, MARK, mark)
        return tracker

    def _prefix(self, state: Dict[Text, Any]) -> List[Event]:
        """Events restoring `state` (the first carries the marker), then its history verbatim."""
        at = state.get("at")
        slots = dict(state["slots"])
        events: List[Event] = [SlotSet(REQUESTED_SLOT, slots.pop(REQUESTED_SLOT, None), timestamp=at)]
        events += [SlotSet(name, value, timestamp=at) for name, value in slots.items()]
        loop = state.get("loop")
        if loop:
            events.append(ActiveLoop(loop["name"], timestamp=at))
            if loop.get("rejected"):
                events.append(ActionExecutionRejected(loop["name"], timestamp=at))
            if loop.get("is_interrupted"):
                events.append(LoopInterrupted(True, timestamp=at))
        return events + deserialise_events(state["history"])

    async def _save_events(self, tracker: DialogueStateTracker) -> None:
        mark = _mark_of(tracker)
        if mark is None:  # a tracker this store did not hand out: Rasa's way, then ours
            await super()._save_events(tracker)
            mark = {"handed_out": len(tracker.events), "stored_from": 0}
            setattr(tracker, MARK, mark)
            return
        new = list(itertools.islice(tracker.events, mark["handed_out"], None))
        if self.event_broker is not None:
            await self._stream_new_events(self.event_broker, new, tracker.sender_id)
        with self.session_scope() as session:
            rows = [self._row(tracker.sender_id, event) for event in new]
            session.add_all(rows)
            session.flush()  # the rows' ids
            folded = bool(rows) and self._fold_due(tracker, mark) and self._fold(session, tracker, rows[-1].id)
            session.commit()
        mark["handed_out"] = len(tracker.events)
        if folded:
            mark["stored_from"] = len(tracker.events)

    def _row(self, sender_id: Text, event: Event) -> Any:
        """An `events` row as Rasa's SQLTrackerStore.save writes it."""
        data = event.as_dict()
        return self.SQLEvent(
            sender_id=sender_id,
            type_name=event.type_name,
            timestamp=data.get("timestamp"),
            intent_name=data.get("parse_data", {}).get("intent", {}).get("name"),
            action_name=data.get("name"),
            data=json.dumps(data),
        )

    def _fold_due(self, tracker: DialogueStateTracker, mark: Dict[Text, int]) -> bool:
        after_boundary = itertools.islice(tracker.events, mark["stored_from"], None)
        return sum(isinstance(event, UserUttered) for event in after_boundary) > self.fold_turns

    def _fold(self, session: Any, tracker: DialogueStateTracker, boundary_id: int) -> bool:
        """Move the snapshot to the tracker's end (stored up to `boundary_id`), unless a form's
        happy path has collapsed the latest turn out of the applied events: replaying those would
        not give the latest message and action the tracker has (then at a later turn)."""
        applied = tracker.applied_events()
        applied_ids = {id(event) for event in applied}
        for kind in (UserUttered, ActionExecuted):
            latest = next((event for event in reversed(tracker.events) if isinstance(event, kind)), None)
            if latest is not None and id(latest) not in applied_ids:
                return False
        start = history_start(applied, self.keep_turns)
        before = DialogueStateTracker.from_events(tracker.sender_id, applied[:start], self.domain.slots)
        state = {
            "at": applied[start].timestamp if start < len(applied) else time.time(),
            "slots": {
                name: slot.value for name, slot in before.slots.items() if slot.value != slot.initial_value
            },
            "loop": dataclasses.asdict(before.active_loop) if before.active_loop and before.active_loop.name else None,
            "history": [_without_mark(event.as_dict()) for event in applied[start:]],
        }
        session.merge(
            TrackerSnapshot(
                sender_id=tracker.sender_id, boundary_id=boundary_id, state=json.dumps(state), updated_at=time.time()
            )
        )
        return True


def history_start(applied: List[Event], keep_turns: int) -> int:
    """Index in `applied` of the action_listen before the `keep_turns`-th last user message
    (0 when there are fewer)."""
    turns = 0
    for index in range(len(applied) - 1, 0, -1):
        if isinstance(applied[index], UserUttered):
            turns += 1
            previous = applied[index - 1]
            if turns >= keep_turns and isinstance(previous, ActionExecuted) and previous.action_name == ACTION_LISTEN_NAME:
                return index - 1
    return 0


def _without_mark(event: Dict[Text, Any]) -> Dict[Text, Any]:
    metadata = {key: value for key, value in (event.get("metadata") or {}).items() if key != MARK}
    return {**event, "metadata": metadata} if "metadata" in event else event


def _mark_of(tracker: DialogueStateTracker) -> Optional[Dict[Text, int]]:
    mark = getattr(tracker, MARK, None)
    if mark is None and tracker.events:
        mark = tracker.events[0].metadata.get(MARK)
    return mark
