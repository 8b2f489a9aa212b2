"""Database fixtures: every store test runs on a temp SQLite file and on a fresh PostgreSQL database."""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError

# The server's maintenance database; each test gets its own database created through it.
POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@contextmanager
def postgres_database(prefix: str) -> Iterator[URL]:
    """A PostgreSQL database of its own (its URL), dropped afterwards; skips the test when PostgreSQL
    is not reachable."""
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT", future=True)
    name = f"{prefix}_{uuid.uuid4().hex}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as error:
        admin.dispose()
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {error.orig}")
    try:
        yield make_url(POSTGRES_ADMIN_URL).set(database=name)
    finally:
        with admin.connect() as connection:
            # FORCE: a store the test forgot to dispose must not keep the database alive.
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'records.db'}"
        return
    with postgres_database("test_records") as url:
        # A session time zone other than UTC proves the store converts what PostgreSQL returns.
        yield url.update_query_dict({"options": "-c timezone=Asia/Tokyo"}).render_as_string(hide_password=False)
