"""Every table of the project's database, on one declarative Base (SQLite by default, PostgreSQL
in production). Changes go through Alembic migrations (migrations/versions/); tests check that
the migrated database matches these classes.

Timestamps are stored in UTC (UTCDateTime) and read back timezone-aware.
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import declarative_base, relationship
from sqlalchemy.types import TypeDecorator

EMPTY_LIST = text("'[]'")


class UTCDateTime(TypeDecorator):
    """A datetime stored in UTC and always read back timezone-aware (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


Base = declarative_base()


# --- consultation records (written by the actions) -----------------------------------------------
class Message(Base):
    __tablename__ = "consultation_messages"

    id = Column(Integer, primary_key=True)
    consultation_id = Column(Integer, ForeignKey("consultations.id"), nullable=False, index=True)
    sent_at = Column(UTCDateTime, nullable=False)
    text = Column(Text, nullable=False)


class Consultation(Base):
    __tablename__ = "consultations"

    id = Column(Integer, primary_key=True)
    conversation_id = Column(Text, nullable=False, index=True)
    source_channel = Column(String(32), nullable=False)
    started_at = Column(UTCDateTime, nullable=False)
    updated_at = Column(UTCDateTime, nullable=False)
    closed_at = Column(UTCDateTime)
    status = Column(String(16), nullable=False, index=True)
    situation_channel = Column(String(32))
    ongoing = Column(Boolean)
    elapsed_minutes = Column(Integer)
    behaviors = Column(JSON, nullable=False)
    types = Column(JSON, nullable=False)
    demand = Column(Text)
    our_fault = Column(Boolean)
    demand_related = Column(Boolean)
    identified = Column(Boolean)
    recorded = Column(Boolean)
    alone = Column(Boolean)
    verdict = Column(String(32))
    reasons = Column(JSON, nullable=False)
    legal_risks = Column(JSON, nullable=False)
    escalations = Column(JSON, nullable=False)
    notes = Column(Text)
    deadline_at = Column(UTCDateTime)
    # What the desk needs to act on (migration 0002).
    exact_words = Column(JSON, nullable=False, default=list, server_default=EMPTY_LIST)  # quoted as typed
    staff_present = Column(JSON, nullable=False, default=list, server_default=EMPTY_LIST)  # "役割: 氏名" each
    apologised_for = Column(Text)
    answers_given = Column(JSON, nullable=False, default=list, server_default=EMPTY_LIST)
    answer_count = Column(Integer)  # how often the answer was given
    warnings_given = Column(String(32))
    police_called = Column(Boolean)
    injuries = Column(Text)
    employee_condition = Column(Text)
    follow_up_items = Column(JSON, nullable=False, default=list, server_default=EMPTY_LIST)
    employee_department = Column(String(128), index=True)
    messages = relationship(Message, order_by=[Message.sent_at, Message.id])


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id = Column(Integer, primary_key=True)
    at = Column(UTCDateTime, nullable=False)
    actor = Column(Text, nullable=False)
    action = Column(Text, nullable=False)
    # No foreign key: the audit log must accept any entry and outlive whatever it refers to.
    record_id = Column(Integer, index=True)
    detail = Column(Text, nullable=False)


# --- the time-box scheduler (bot/timer_service.py) -----------------------------------------------
class TimerReminder(Base):
    """One row per reminder ever acted on. status: claimed (being sent), sent, failed (will be
    retried), rejected (Rasa refused it: 4xx), skipped (superseded / expired / record closed)."""

    __tablename__ = "timer_reminders"
    __table_args__ = (UniqueConstraint("consultation_id", "kind", name="uq_timer_reminders_consultation_kind"),)

    id = Column(Integer, primary_key=True)
    consultation_id = Column(Integer, nullable=False)
    kind = Column(String(16), nullable=False)
    conversation_id = Column(Text, nullable=False)
    deadline_at = Column(UTCDateTime, nullable=False)
    due_at = Column(UTCDateTime, nullable=False)
    status = Column(String(16), nullable=False)
    claimed_by = Column(String(64), nullable=False)
    claimed_at = Column(UTCDateTime, nullable=False)
    sent_at = Column(UTCDateTime)
    attempts = Column(Integer, nullable=False, default=0)
    detail = Column(Text, nullable=False, default="")


# --- the channels' conversation references (bot/channels/references.py) --------------------------
class ConversationReference(Base):
    """One row per (channel, sender id): the latest place the sender wrote from."""

    __tablename__ = "conversation_references"

    channel = Column(String(16), primary_key=True)
    sender_id = Column(Text, primary_key=True)
    reference = Column(JSON, nullable=False)
    updated_at = Column(UTCDateTime, nullable=False)


timer_reminders = TimerReminder.__table__
conversation_references = ConversationReference.__table__


# --- the consultation desk (bot/desk/) -----------------------------------------------------------
class DeskUser(Base):
    __tablename__ = "desk_users"

    id = Column(Integer, primary_key=True)
    username = Column(String(64), nullable=False, unique=True)
    display_name = Column(Text, nullable=False)
    password_hash = Column(Text, nullable=False)
    role = Column(String(16), nullable=False)  # bot.codes.DeskRole
    department = Column(String(128))  # a supervisor sees this department's records
    active = Column(Boolean, nullable=False, default=True)
    failed_logins = Column(Integer, nullable=False, default=0)
    locked_until = Column(UTCDateTime)
    created_at = Column(UTCDateTime, nullable=False)


class DeskSession(Base):
    """A signed-in browser: the cookie holds a random token, only its SHA-256 is stored."""

    __tablename__ = "desk_sessions"

    id = Column(Integer, primary_key=True)
    token_hash = Column(String(64), nullable=False, unique=True)
    user_id = Column(Integer, ForeignKey("desk_users.id", ondelete="CASCADE"), nullable=False, index=True)
    csrf_token = Column(String(64), nullable=False)
    created_at = Column(UTCDateTime, nullable=False)
    expires_at = Column(UTCDateTime, nullable=False)


class FollowUpNote(Base):
    __tablename__ = "follow_up_notes"

    id = Column(Integer, primary_key=True)
    consultation_id = Column(Integer, ForeignKey("consultations.id", ondelete="CASCADE"), nullable=False, index=True)
    author = Column(String(64), nullable=False)
    at = Column(UTCDateTime, nullable=False)
    text = Column(Text, nullable=False)


class CaseAssignment(Base):
    """Who at the desk follows a record up, and by when (one row per record)."""

    __tablename__ = "case_assignments"

    consultation_id = Column(Integer, ForeignKey("consultations.id", ondelete="CASCADE"), primary_key=True)
    assignee = Column(String(64))
    due_on = Column(Date)
    updated_by = Column(String(64), nullable=False)
    updated_at = Column(UTCDateTime, nullable=False)


class ActionTaken(Base):
    __tablename__ = "actions_taken"
    __table_args__ = (UniqueConstraint("consultation_id", "action", name="uq_actions_taken_consultation_action"),)

    id = Column(Integer, primary_key=True)
    consultation_id = Column(Integer, ForeignKey("consultations.id", ondelete="CASCADE"), nullable=False, index=True)
    action = Column(String(32), nullable=False)  # bot.codes.DeskAction
    by = Column(String(64), nullable=False)
    at = Column(UTCDateTime, nullable=False)


class Alert(Base):
    """An urgent consultation the desk must see at once (one per record)."""

    __tablename__ = "alerts"

    id = Column(Integer, primary_key=True)
    consultation_id = Column(
        Integer, ForeignKey("consultations.id", ondelete="CASCADE"), nullable=False, unique=True
    )
    reason = Column(String(16), nullable=False)  # bot.codes.AlertReason
    created_at = Column(UTCDateTime, nullable=False)
    read_at = Column(UTCDateTime)
    read_by = Column(String(64))


class AlertDelivery(Base):
    """The outbox: one e-mail per alert and recipient. status: pending, claimed, sent, failed
    (retried until max attempts, then given up: visible in the app)."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (UniqueConstraint("alert_id", "recipient", name="uq_alert_deliveries_alert_recipient"),)

    id = Column(Integer, primary_key=True)
    alert_id = Column(Integer, ForeignKey("alerts.id", ondelete="CASCADE"), nullable=False, index=True)
    recipient = Column(Text, nullable=False)
    status = Column(String(16), nullable=False, index=True)
    attempts = Column(Integer, nullable=False, default=0)
    next_attempt_at = Column(UTCDateTime, nullable=False)
    claimed_by = Column(String(64))
    claimed_at = Column(UTCDateTime)
    sent_at = Column(UTCDateTime)
    last_error = Column(Text, nullable=False, default="")


class CustomerKey(Base):
    """A customer the desk recognises, as an HMAC of the key the desk typed (never the key)."""

    __tablename__ = "customer_keys"

    id = Column(Integer, primary_key=True)
    key_hash = Column(String(64), nullable=False, unique=True)
    created_at = Column(UTCDateTime, nullable=False)


class CustomerLink(Base):
    __tablename__ = "customer_links"

    consultation_id = Column(Integer, ForeignKey("consultations.id", ondelete="CASCADE"), primary_key=True)
    customer_key_id = Column(Integer, ForeignKey("customer_keys.id", ondelete="CASCADE"), nullable=False, index=True)
    linked_by = Column(String(64), nullable=False)
    linked_at = Column(UTCDateTime, nullable=False)


class DeskOption(Base):
    """Settings an admin changes in the app (e.g. retention_days), one row per name."""

    __tablename__ = "desk_options"

    name = Column(String(64), primary_key=True)
    value = Column(Text, nullable=False)
    updated_by = Column(String(64), nullable=False)
    updated_at = Column(UTCDateTime, nullable=False)


# --- training records (the rehearsal mode; kept apart from consultations) -------------------------
class TrainingRecord(Base):
    """One finished exercise of the rehearsal mode: a role-play's score sheet, a case study or a drill."""

    __tablename__ = "training_records"

    id = Column(Integer, primary_key=True)
    created_at = Column(UTCDateTime, nullable=False, index=True)
    trainee = Column(String(255), nullable=False, index=True)  # the chat's sender id
    source_channel = Column(String(32), nullable=False)
    kind = Column(String(16), nullable=False)  # roleplay, case_study, drill
    scenario = Column(String(64))
    grade = Column(String(1))
    score = Column(Integer, nullable=False)
    total = Column(Integer, nullable=False)
    outcome = Column(String(16), nullable=False)
    detail = Column(JSON, nullable=False)
