"""Consultation records (what one consultation established) and the audit log, stored via SQLAlchemy.

Works on SQLite (default: a file under var/) and PostgreSQL. Timestamps are stored and returned
in UTC; every datetime passed in must be timezone-aware.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from bot import settings
from bot.database import engine_for, upgrade_to_head
from bot.desk_rules import alert_reason
from bot.exports import MASKED_LIST_FIELDS, MASKED_TEXT_FIELDS
from bot.privacy import mask_personal_data
from bot.schema import Alert, AuditEntry, Consultation, Message
from bot.codes import (
    Behavior,
    Coded,
    Escalation,
    HarassmentType,
    LegalRisk,
    RecordStatus,
    SituationChannel,
    SourceChannel,
    Verdict,
    WarningLevel,
)

# The columns of a record in table order, then its messages; get() returns exactly these.
RECORD_FIELDS: tuple[str, ...] = (*(column.name for column in Consultation.__table__.columns), "messages")

_CODE_FIELDS: dict[str, type[Coded]] = {
    "situation_channel": SituationChannel,
    "verdict": Verdict,
    "warnings_given": WarningLevel,
}
_CODE_LIST_FIELDS: dict[str, type[Coded]] = {
    "behaviors": Behavior,
    "types": HarassmentType,
    "legal_risks": LegalRisk,
    "escalations": Escalation,
}
_TEXT_LIST_FIELDS = frozenset({"reasons", "exact_words", "staff_present", "answers_given", "follow_up_items"})
_BOOL_FIELDS = frozenset({"ongoing", "our_fault", "demand_related", "identified", "recorded", "alone", "police_called"})
_TEXT_FIELDS = frozenset(
    {"demand", "notes", "apologised_for", "injuries", "employee_condition", "employee_department"}
)
_COUNT_FIELDS = frozenset({"elapsed_minutes", "answer_count"})
UPDATABLE_FIELDS: frozenset[str] = frozenset(
    {*_CODE_FIELDS, *_CODE_LIST_FIELDS, *_TEXT_LIST_FIELDS, *_BOOL_FIELDS, *_TEXT_FIELDS, *_COUNT_FIELDS}
    | {"deadline_at"}
)


ALERT_FIELDS = ("verdict", "behaviors", "escalations", "police_called")


class UnknownField(ValueError):
    """update() was given a field name a record does not have (or that update may not set)."""


class RecordNotFound(LookupError):
    """No consultation record has that id."""


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _utc(field: str, value: Any) -> datetime:
    if not isinstance(value, datetime):
        raise ValueError(f"{field}: expected a datetime, got {type(value).__name__}")
    if value.utcoffset() is None:
        raise ValueError(f"{field}: naive datetime; pass a timezone-aware one")
    return value.astimezone(timezone.utc)


def _list_of(field: str, value: Any) -> list:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ValueError(f"{field}: expected a list, got {type(value).__name__}")
    return list(value)


def _clean(field: str, value: Any) -> Any:
    """The value to store for one update() field; ValueError names the field."""
    if value is None:
        return [] if field in _CODE_LIST_FIELDS or field in _TEXT_LIST_FIELDS else None
    if field in _CODE_FIELDS:
        try:
            return _CODE_FIELDS[field].parse(value).value
        except ValueError as error:
            raise ValueError(f"{field}: {error}") from None
    if field in _CODE_LIST_FIELDS:
        try:
            # A set of codes: keep first-seen order, drop repeats.
            return list(dict.fromkeys(_CODE_LIST_FIELDS[field].parse(v).value for v in _list_of(field, value)))
        except ValueError as error:
            raise ValueError(f"{field}: {error}") from None
    if field in _TEXT_LIST_FIELDS:
        items = _list_of(field, value)
        if not all(isinstance(item, str) for item in items):
            raise ValueError(f"{field}: expected a list of strings")
        return items
    if field in _BOOL_FIELDS and not isinstance(value, bool):
        raise ValueError(f"{field}: expected true, false or None, got {value!r}")
    if field in _TEXT_FIELDS and not isinstance(value, str):
        raise ValueError(f"{field}: expected a string, got {type(value).__name__}")
    if field in _COUNT_FIELDS and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise ValueError(f"{field}: expected a non-negative integer, got {value!r}")
    if field == "deadline_at":
        return _utc(field, value)
    return value


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def as_dict(row: Consultation) -> dict:
    """A record row as get() returns it (its messages must be loaded or loadable)."""
    record: dict[str, Any] = {}
    for name in RECORD_FIELDS:
        value = getattr(row, name)
        if name == "messages":
            value = [{"sent_at": _iso(m.sent_at), "text": m.text} for m in value]
        elif isinstance(value, datetime):
            value = _iso(value)
        elif isinstance(value, list):
            value = list(value)
        record[name] = value
    return record


def record_row(s: Session, record_id: int) -> Consultation:
    """The record's row in this session; RecordNotFound when there is none."""
    row = s.get(Consultation, record_id)
    if row is None:
        raise RecordNotFound(f"consultation record {record_id} not found")
    return row


class ConsultationStore:
    """Consultation records and the audit log in one database; each method is its own transaction."""

    def __init__(self, url: str | None = None, mask_at_write: bool = False) -> None:
        """`mask_at_write` (MASK_PERSONAL_DATA_AT_WRITE): phone numbers, e-mail addresses and names
        in messages and free-text fields are masked before they are stored, not only when shown."""
        self._engine = engine_for(url or settings.database_url())
        self._mask_at_write = mask_at_write
        upgrade_to_head(self._engine)

    def _stored_text(self, text: str) -> str:
        return mask_personal_data(text) if self._mask_at_write else text

    def _stored_fields(self, values: dict[str, Any]) -> dict[str, Any]:
        if not self._mask_at_write:
            return values
        stored = dict(values)
        for name in MASKED_TEXT_FIELDS:
            if isinstance(stored.get(name), str):
                stored[name] = mask_personal_data(stored[name])
        for name in MASKED_LIST_FIELDS:
            if isinstance(stored.get(name), list):
                stored[name] = [mask_personal_data(item) for item in stored[name]]
        return stored

    def dispose(self) -> None:
        """Close the pooled connections (e.g. before dropping a test database)."""
        self._engine.dispose()

    def _session(self) -> Session:
        return Session(self._engine, future=True)

    def start(
        self, conversation_id: str, source_channel: str, started_at: datetime | None = None,
        *, unsaved_after: datetime | None = None,
    ) -> int:
        """A new open record; returns its id. Started again with the same `started_at` (a retried
        turn), it returns the open record that start made the first time.

        `unsaved_after`: a time after which the conversation, as Rasa saved it, holds no message
        (actions/facts.py `saved_until`). An open record of the conversation started later was
        started by an attempt at this turn that Rasa never saved (its server died mid-turn, the
        employee sent the message again): that record is returned."""
        if not isinstance(conversation_id, str) or not conversation_id:
            raise ValueError("conversation_id: expected a non-empty string")
        try:
            channel = SourceChannel.parse(source_channel).value
        except ValueError as error:
            raise ValueError(f"source_channel: {error}") from None
        started = _utc("started_at", started_at) if started_at is not None else _now()
        row = Consultation(
            conversation_id=conversation_id,
            source_channel=channel,
            started_at=started,
            updated_at=started,
            status=RecordStatus.OPEN.value,
            behaviors=[],
            types=[],
            reasons=[],
            legal_risks=[],
            escalations=[],
        )
        unsaved = _utc("unsaved_after", unsaved_after) if unsaved_after is not None else None
        with self._session() as s, s.begin():
            if started_at is not None:
                same_start = Consultation.started_at == started
                if unsaved is not None:
                    same_start = or_(same_start, Consultation.started_at > unsaved)
                same = select(Consultation.id).where(
                    Consultation.conversation_id == conversation_id,
                    same_start,
                    Consultation.status == RecordStatus.OPEN.value,
                )
                existing = s.execute(same.order_by(Consultation.id).limit(1)).scalar()
                if existing is not None:
                    return existing
            s.add(row)
            s.flush()
            return row.id

    def update(self, record_id: int, **fields: Any) -> None:
        """Set some of UPDATABLE_FIELDS; validates everything before writing anything.

        Code fields take codes from bot.codes; list fields replace the stored list (None clears it).
        """
        self.record_turn(record_id, None, **fields)

    def record_turn(
        self,
        record_id: int,
        text: str | None,
        *,
        sent_at: datetime | None = None,
        unsaved_after: datetime | None = None,
        add_exact_words: Sequence[str] = (),
        **fields: Any,
    ) -> None:
        """One employee turn in one transaction: their message (None: none to add) and the facts now known.

        A message with a `sent_at` is stored once: the same text at the same time again (a retried
        or replayed turn) adds nothing; nor does the same text stored later than `unsaved_after`
        (see start(): the message of an attempt Rasa never saved, sent again). `add_exact_words` go
        after the stored ones, each once: the action server sees only the latest messages of a long
        conversation (bot/rasa/compact_store.py)."""
        unknown = sorted(set(fields) - UPDATABLE_FIELDS)
        if unknown:
            raise UnknownField(f"unknown field(s): {', '.join(unknown)}")
        if text is not None and not isinstance(text, str):
            raise ValueError(f"text: expected a string, got {type(text).__name__}")
        sent = _utc("sent_at", sent_at) if sent_at is not None else None
        unsaved = _utc("unsaved_after", unsaved_after) if unsaved_after is not None else None
        values = self._stored_fields({name: _clean(name, value) for name, value in fields.items()})
        added = self._stored_fields({"exact_words": _clean("exact_words", list(add_exact_words))})["exact_words"]
        with self._session() as s, s.begin():
            row = record_row(s, record_id)
            if text is not None:
                self._add_message_once(s, row.id, self._stored_text(text), sent, unsaved)
            for name, value in values.items():
                setattr(row, name, value)
            if added:
                row.exact_words = list(dict.fromkeys([*(row.exact_words or []), *added]))
            row.updated_at = _now()
            self._raise_alert(s, row)

    @staticmethod
    def _raise_alert(s: Session, row: Consultation) -> None:
        """An urgent record reaches the desk in the same transaction that made it urgent (once)."""
        reason = alert_reason({name: getattr(row, name) for name in ALERT_FIELDS})
        if reason is not None and s.execute(select(Alert.id).where(Alert.consultation_id == row.id)).first() is None:
            s.add(Alert(consultation_id=row.id, reason=reason.value, created_at=row.updated_at))

    def add_message(self, record_id: int, text: str, sent_at: datetime | None = None) -> None:
        """Append one of the employee's messages (kept ordered by sent_at, then arrival); with a
        `sent_at`, only once (as record_turn)."""
        if not isinstance(text, str):
            raise ValueError(f"text: expected a string, got {type(text).__name__}")
        sent = _utc("sent_at", sent_at) if sent_at is not None else None
        with self._session() as s, s.begin():
            row = record_row(s, record_id)
            self._add_message_once(s, row.id, self._stored_text(text), sent)
            row.updated_at = _now()

    @staticmethod
    def _add_message_once(
        s: Session, record_id: int, text: str, sent_at: datetime | None, unsaved_after: datetime | None = None
    ) -> None:
        if sent_at is not None:
            same_time = Message.sent_at == sent_at
            if unsaved_after is not None:
                same_time = or_(same_time, Message.sent_at > unsaved_after)
            same = select(Message.id).where(Message.consultation_id == record_id, same_time, Message.text == text)
            if s.execute(same.limit(1)).first() is not None:
                return
        s.add(Message(consultation_id=record_id, sent_at=sent_at or _now(), text=text))

    def close(self, record_id: int, closed_at: datetime | None = None) -> None:
        """Mark the record closed; closing an already closed record changes nothing."""
        closed = _utc("closed_at", closed_at) if closed_at is not None else _now()
        with self._session() as s, s.begin():
            row = record_row(s, record_id)
            if row.status == RecordStatus.CLOSED.value:
                return
            row.status = RecordStatus.CLOSED.value
            row.closed_at = closed
            row.updated_at = _now()

    def get(self, record_id: int) -> dict:
        """RECORD_FIELDS; datetimes as ISO 8601 strings in UTC."""
        with self._session() as s, s.begin():
            return as_dict(record_row(s, record_id))

    def latest_open(self, conversation_id: str) -> int | None:
        """The most recently started open record of a conversation, if any."""
        query = (
            select(Consultation.id)
            .where(Consultation.conversation_id == conversation_id)
            .where(Consultation.status == RecordStatus.OPEN.value)
            .order_by(Consultation.started_at.desc(), Consultation.id.desc())
            .limit(1)
        )
        with self._session() as s, s.begin():
            return s.execute(query).scalar()

    def list(self, status: str | None = None, limit: int | None = 100) -> list[dict]:
        """Records as get() returns them, newest first; limit None means all."""
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
            raise ValueError(f"limit: expected a positive integer or None, got {limit!r}")
        query = (
            select(Consultation)
            .options(selectinload(Consultation.messages))
            .order_by(Consultation.started_at.desc(), Consultation.id.desc())
            .limit(limit)
        )
        if status is not None:
            try:
                query = query.where(Consultation.status == RecordStatus.parse(status).value)
            except ValueError as error:
                raise ValueError(f"status: {error}") from None
        with self._session() as s, s.begin():
            return [as_dict(row) for row in s.execute(query).scalars()]

    def open_deadlines(self) -> list[tuple[int, str, datetime]]:
        """(id, conversation_id, deadline_at) of open records that have a deadline, soonest first."""
        query = (
            select(Consultation.id, Consultation.conversation_id, Consultation.deadline_at)
            .where(Consultation.status == RecordStatus.OPEN.value)
            .where(Consultation.deadline_at.is_not(None))
            .order_by(Consultation.deadline_at, Consultation.id)
        )
        with self._session() as s, s.begin():
            return [tuple(row) for row in s.execute(query)]

    def audit(self, actor: str, action: str, record_id: int | None = None, detail: str = "") -> None:
        with self._session() as s, s.begin():
            s.add(AuditEntry(at=_now(), actor=actor, action=action, record_id=record_id, detail=detail))

    def audit_entries(self, limit: int = 100) -> list[dict]:
        """Newest first: {"id", "at", "actor", "action", "record_id", "detail"}."""
        query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
        with self._session() as s, s.begin():
            return [
                {
                    "id": e.id,
                    "at": _iso(e.at),
                    "actor": e.actor,
                    "action": e.action,
                    "record_id": e.record_id,
                    "detail": e.detail,
                }
                for e in s.execute(query).scalars()
            ]
