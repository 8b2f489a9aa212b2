"""The schema as the code created it before migrations (create_all of records, timer service and
conversation references). A database made by that code has some or all of these tables and no
alembic_version: each table is created only where it is missing, so such a database is adopted
with its rows.

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa

from bot.schema import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "consultations" not in existing:
        op.create_table(
            "consultations",
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("conversation_id", sa.Text, nullable=False),
            sa.Column("source_channel", sa.String(32), nullable=False),
            sa.Column("started_at", UTCDateTime, nullable=False),
            sa.Column("updated_at", UTCDateTime, nullable=False),
            sa.Column("closed_at", UTCDateTime),
            sa.Column("status", sa.String(16), nullable=False),
            sa.Column("situation_channel", sa.String(32)),
            sa.Column("ongoing", sa.Boolean),
            sa.Column("elapsed_minutes", sa.Integer),
            sa.Column("behaviors", sa.JSON, nullable=False),
            sa.Column("types", sa.JSON, nullable=False),
            sa.Column("demand", sa.Text),
            sa.Column("our_fault", sa.Boolean),
            sa.Column("demand_related", sa.Boolean),
            sa.Column("identified", sa.Boolean),
            sa.Column("recorded", sa.Boolean),
            sa.Column("alone", sa.Boolean),
            sa.Column("verdict", sa.String(32)),
            sa.Column("reasons", sa.JSON, nullable=False),
            sa.Column("legal_risks", sa.JSON, nullable=False),
            sa.Column("escalations", sa.JSON, nullable=False),
            sa.Column("notes", sa.Text),
            sa.Column("deadline_at", UTCDateTime),
        )
        op.create_index("ix_consultations_conversation_id", "consultations", ["conversation_id"])
        op.create_index("ix_consultations_status", "consultations", ["status"])
    if "consultation_messages" not in existing:
        op.create_table(
            "consultation_messages",
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("consultation_id", sa.Integer, sa.ForeignKey("consultations.id"), nullable=False),
            sa.Column("sent_at", UTCDateTime, nullable=False),
            sa.Column("text", sa.Text, nullable=False),
        )
        op.create_index("ix_consultation_messages_consultation_id", "consultation_messages", ["consultation_id"])
    if "audit_log" not in existing:
        op.create_table(
            "audit_log",
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("at", UTCDateTime, nullable=False),
            sa.Column("actor", sa.Text, nullable=False),
            sa.Column("action", sa.Text, nullable=False),
            sa.Column("record_id", sa.Integer),
            sa.Column("detail", sa.Text, nullable=False),
        )
        op.create_index("ix_audit_log_record_id", "audit_log", ["record_id"])
    if "timer_reminders" not in existing:
        op.create_table(
            "timer_reminders",
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("consultation_id", sa.Integer, nullable=False),
            sa.Column("kind", sa.String(16), nullable=False),
            sa.Column("conversation_id", sa.Text, nullable=False),
            sa.Column("deadline_at", UTCDateTime, nullable=False),
            sa.Column("due_at", UTCDateTime, nullable=False),
            sa.Column("status", sa.String(16), nullable=False),
            sa.Column("claimed_by", sa.String(64), nullable=False),
            sa.Column("claimed_at", UTCDateTime, nullable=False),
            sa.Column("sent_at", UTCDateTime),
            sa.Column("attempts", sa.Integer, nullable=False),
            sa.Column("detail", sa.Text, nullable=False),
            sa.UniqueConstraint("consultation_id", "kind", name="uq_timer_reminders_consultation_kind"),
        )
    if "conversation_references" not in existing:
        op.create_table(
            "conversation_references",
            sa.Column("channel", sa.String(16), primary_key=True),
            sa.Column("sender_id", sa.Text, primary_key=True),
            sa.Column("reference", sa.JSON, nullable=False),
            sa.Column("updated_at", UTCDateTime, nullable=False),
        )


def downgrade() -> None:
    for table in ("conversation_references", "timer_reminders", "audit_log", "consultation_messages", "consultations"):
        op.drop_table(table)
