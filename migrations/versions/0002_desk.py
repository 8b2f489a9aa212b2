"""The record fields the consultation desk needs (exact words, staff present, apology, answers,
warnings, police, injuries, the employee's condition, follow-up items, department) and the
desk's own tables (users, sessions, follow-up notes, assignments, actions taken, alerts and their
e-mail outbox, customer keys and links, options).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa

from bot.schema import EMPTY_LIST, UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

LIST_FIELDS = ("exact_words", "staff_present", "answers_given", "follow_up_items")
RECORD_FIELDS = (
    sa.Column("apologised_for", sa.Text),
    sa.Column("answer_count", sa.Integer),
    sa.Column("warnings_given", sa.String(32)),
    sa.Column("police_called", sa.Boolean),
    sa.Column("injuries", sa.Text),
    sa.Column("employee_condition", sa.Text),
    sa.Column("employee_department", sa.String(128)),
)


def _consultation_fk() -> sa.Column:
    return sa.Column(
        "consultation_id", sa.Integer, sa.ForeignKey("consultations.id", ondelete="CASCADE"), nullable=False
    )


def upgrade() -> None:
    for name in LIST_FIELDS:
        op.add_column("consultations", sa.Column(name, sa.JSON, nullable=False, server_default=EMPTY_LIST))
    for column in RECORD_FIELDS:
        op.add_column("consultations", column.copy())
    op.create_index("ix_consultations_employee_department", "consultations", ["employee_department"])

    op.create_table(
        "desk_users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("display_name", sa.Text, nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("department", sa.String(128)),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("failed_logins", sa.Integer, nullable=False),
        sa.Column("locked_until", UTCDateTime),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "desk_sessions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("desk_users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_desk_sessions_user_id", "desk_sessions", ["user_id"])
    op.create_table(
        "follow_up_notes",
        sa.Column("id", sa.Integer, primary_key=True),
        _consultation_fk(),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
    )
    op.create_index("ix_follow_up_notes_consultation_id", "follow_up_notes", ["consultation_id"])
    op.create_table(
        "case_assignments",
        sa.Column("consultation_id", sa.Integer, sa.ForeignKey("consultations.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("assignee", sa.String(64)),
        sa.Column("due_on", sa.Date),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "actions_taken",
        sa.Column("id", sa.Integer, primary_key=True),
        _consultation_fk(),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("by", sa.String(64), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("consultation_id", "action", name="uq_actions_taken_consultation_action"),
    )
    op.create_index("ix_actions_taken_consultation_id", "actions_taken", ["consultation_id"])
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("consultation_id", sa.Integer, sa.ForeignKey("consultations.id", ondelete="CASCADE"),
                  nullable=False, unique=True),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("read_at", UTCDateTime),
        sa.Column("read_by", sa.String(64)),
    )
    op.create_table(
        "alert_deliveries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("alert_id", sa.Integer, sa.ForeignKey("alerts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("recipient", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", UTCDateTime, nullable=False),
        sa.Column("claimed_by", sa.String(64)),
        sa.Column("claimed_at", UTCDateTime),
        sa.Column("sent_at", UTCDateTime),
        sa.Column("last_error", sa.Text, nullable=False),
        sa.UniqueConstraint("alert_id", "recipient", name="uq_alert_deliveries_alert_recipient"),
    )
    op.create_index("ix_alert_deliveries_alert_id", "alert_deliveries", ["alert_id"])
    op.create_index("ix_alert_deliveries_status", "alert_deliveries", ["status"])
    op.create_table(
        "customer_keys",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "customer_links",
        sa.Column("consultation_id", sa.Integer, sa.ForeignKey("consultations.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("customer_key_id", sa.Integer, sa.ForeignKey("customer_keys.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("linked_by", sa.String(64), nullable=False),
        sa.Column("linked_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_customer_links_customer_key_id", "customer_links", ["customer_key_id"])
    op.create_table(
        "desk_options",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    for table in ("desk_options", "customer_links", "customer_keys", "alert_deliveries", "alerts", "actions_taken",
                  "case_assignments", "follow_up_notes", "desk_sessions", "desk_users"):
        op.drop_table(table)
    op.drop_index("ix_consultations_employee_department", "consultations")
    with op.batch_alter_table("consultations") as batch:
        for name in (*LIST_FIELDS, *(column.name for column in RECORD_FIELDS)):
            batch.drop_column(name)
