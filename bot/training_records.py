"""Training records of the rehearsal mode in SQL (table training_records, bot/schema.py), apart
from the consultation records: saved by the action server, listed and exported for trainers."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.codes import SourceChannel
from bot.database import engine_for, upgrade_to_head
from bot.schema import TrainingRecord

TRAINING_FIELDS = ("id", "created_at", "trainee", "source_channel", "kind", "scenario", "grade", "score", "total",
                   "outcome", "detail")
KINDS = ("roleplay", "case_study", "drill")


class TrainingStore:
    def __init__(self, url: str) -> None:
        self._engine = engine_for(url)
        upgrade_to_head(self._engine)

    def dispose(self) -> None:
        self._engine.dispose()

    def save(self, result: dict[str, Any], trainee: str, source_channel: str, at: datetime | None = None) -> int:
        """Store one result of bot.rehearsal.session (kind, scenario, grade, score, total, outcome, detail)."""
        if not isinstance(trainee, str) or not trainee:
            raise ValueError("trainee: expected a non-empty string")
        if result.get("kind") not in KINDS:
            raise ValueError(f"kind: expected one of {', '.join(KINDS)}")
        row = TrainingRecord(
            created_at=at or datetime.now(timezone.utc), trainee=trainee,
            source_channel=SourceChannel.parse(source_channel).value, kind=result["kind"],
            scenario=result.get("scenario"), grade=result.get("grade"), score=int(result["score"]),
            total=int(result["total"]), outcome=str(result["outcome"]), detail=result.get("detail") or {},
        )
        with Session(self._engine, future=True) as session, session.begin():
            session.add(row)
            session.flush()
            return row.id

    def list(self, limit: int | None = None, kind: str | None = None) -> list[dict[str, Any]]:
        """Newest first."""
        query = select(TrainingRecord).order_by(TrainingRecord.created_at.desc(), TrainingRecord.id.desc())
        if kind is not None:
            query = query.where(TrainingRecord.kind == kind)
        if limit is not None:
            query = query.limit(limit)
        with Session(self._engine, future=True) as session:
            return [_as_dict(row) for row in session.scalars(query)]


def _as_dict(row: TrainingRecord) -> dict[str, Any]:
    record = {name: getattr(row, name) for name in TRAINING_FIELDS}
    record["created_at"] = row.created_at.isoformat()
    return record
