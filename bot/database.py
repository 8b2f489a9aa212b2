"""SQLAlchemy engines and tables for the project's databases (SQLite by default, PostgreSQL in
production), shared by the records, the timer service and the channels' conversation references."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, create_engine
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

CREATE_ATTEMPTS = 3


def engine_for(url: str) -> Engine:
    """An engine for `url`; for a SQLite file, its folder is created and writers wait for each
    other (several processes share the file) instead of failing at once. Pooled connections are
    checked before use: after a PostgreSQL restart (or its connections terminated) the pool holds
    dead ones, and the first action to use one would fail (tests/scale/test_replicas.py)."""
    parsed = make_url(url)
    connect_args: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        connect_args = {"check_same_thread": False, "timeout": 30}
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    return create_engine(url, future=True, connect_args=connect_args, pool_pre_ping=True)


def create_tables(metadata: MetaData, engine: Engine) -> None:
    """`metadata.create_all`, safe when several processes start together (the action server and
    one or more timer services): create_all checks, then creates, so a process that loses the race
    gets "table already exists". It then checks again and finds the table."""
    for attempt in range(1, CREATE_ATTEMPTS + 1):
        try:
            metadata.create_all(engine)
            return
        except (OperationalError, ProgrammingError, IntegrityError):
            if attempt == CREATE_ATTEMPTS:
                raise
