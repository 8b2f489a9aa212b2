"""Training records of the rehearsal mode (研修モード): score sheets, case studies and drills,
kept apart from the consultation records.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa

from bot.schema import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "training_records",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("trainee", sa.String(255), nullable=False),
        sa.Column("source_channel", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("scenario", sa.String(64)),
        sa.Column("grade", sa.String(1)),
        sa.Column("score", sa.Integer, nullable=False),
        sa.Column("total", sa.Integer, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
    )
    op.create_index("ix_training_records_created_at", "training_records", ["created_at"])
    op.create_index("ix_training_records_trainee", "training_records", ["trainee"])


def downgrade() -> None:
    op.drop_index("ix_training_records_trainee", "training_records")
    op.drop_index("ix_training_records_created_at", "training_records")
    op.drop_table("training_records")
