"""SQLAlchemy engines and the schema's migrations (SQLite by default, PostgreSQL in production),
shared by the records, the timer service, the channels' conversation references and the desk.

Every process that opens the database first upgrades it to the newest migration
(`upgrade_to_head`); `alembic upgrade head` (migrations/env.py) does the same from the shell.
Several processes starting together take turns: a PostgreSQL advisory lock, or a lock file beside
the SQLite file, is held while migrating, and whoever comes second finds the schema up to date.
"""
from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine, make_url

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS = PROJECT_ROOT / "migrations"
# Any constant shared by every process of the project; pg_advisory_lock takes a 64-bit integer.
POSTGRES_MIGRATION_LOCK = 0x6B617375_68617261


def engine_for(url: str) -> Engine:
    """An engine for `url`; for a SQLite file, its folder is created and writers wait for each
    other (several processes share the file) instead of failing at once."""
    parsed = make_url(url)
    connect_args: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        connect_args = {"check_same_thread": False, "timeout": 30}
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    return create_engine(url, future=True, connect_args=connect_args)


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@lru_cache(maxsize=1)
def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


@contextmanager
def migration_lock(connection: Connection) -> Iterator[None]:
    """Held while migrating: one process at a time per database."""
    url = connection.engine.url
    if url.get_backend_name() == "postgresql":
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": POSTGRES_MIGRATION_LOCK})
        connection.commit()
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": POSTGRES_MIGRATION_LOCK})
            connection.commit()
    elif url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        with open(f"{url.database}.migrate.lock", "a") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock_file, fcntl.LOCK_UN)
    else:
        yield


def upgrade_to_head(engine: Engine) -> None:
    """Bring the database to the newest migration; a database created before the migrations
    existed (tables, no alembic_version) is upgraded in place, keeping its rows."""
    with engine.connect() as connection:
        if current_revision(connection) == head_revision():
            return
    with engine.connect() as connection, migration_lock(connection):
        command.upgrade(alembic_config(connection), "head")
