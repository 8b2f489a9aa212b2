"""The tables exactly as the code created them before the migrations (create_all in bot/records.py,
bot/timer_service.py and bot/channels/references.py at commit dd090df), frozen here so the tests can
make a database the way a deployed older version did and check that migrating it keeps its rows.
Never change this file: it is a snapshot of the past, not the schema (that is bot/schema.py)."""
from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, ForeignKey, Integer, MetaData, String, Table, Text, UniqueConstraint

from bot.schema import UTCDateTime

metadata = MetaData()

consultations = Table(
    "consultations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("conversation_id", Text, nullable=False, index=True),
    Column("source_channel", String(32), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("closed_at", UTCDateTime),
    Column("status", String(16), nullable=False, index=True),
    Column("situation_channel", String(32)),
    Column("ongoing", Boolean),
    Column("elapsed_minutes", Integer),
    Column("behaviors", JSON, nullable=False),
    Column("types", JSON, nullable=False),
    Column("demand", Text),
    Column("our_fault", Boolean),
    Column("demand_related", Boolean),
    Column("identified", Boolean),
    Column("recorded", Boolean),
    Column("alone", Boolean),
    Column("verdict", String(32)),
    Column("reasons", JSON, nullable=False),
    Column("legal_risks", JSON, nullable=False),
    Column("escalations", JSON, nullable=False),
    Column("notes", Text),
    Column("deadline_at", UTCDateTime),
)
consultation_messages = Table(
    "consultation_messages",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("consultation_id", Integer, ForeignKey("consultations.id"), nullable=False, index=True),
    Column("sent_at", UTCDateTime, nullable=False),
    Column("text", Text, nullable=False),
)
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("record_id", Integer, index=True),
    Column("detail", Text, nullable=False),
)
timer_reminders = Table(
    "timer_reminders",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("consultation_id", Integer, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("conversation_id", Text, nullable=False),
    Column("deadline_at", UTCDateTime, nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("status", String(16), nullable=False),
    Column("claimed_by", String(64), nullable=False),
    Column("claimed_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime),
    Column("attempts", Integer, nullable=False, default=0),
    Column("detail", Text, nullable=False, default=""),
    UniqueConstraint("consultation_id", "kind", name="uq_timer_reminders_consultation_kind"),
)
conversation_references = Table(
    "conversation_references",
    metadata,
    Column("channel", String(16), primary_key=True),
    Column("sender_id", Text, primary_key=True),
    Column("reference", JSON, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)
