"""bot/database.py: engines, and tables created safely when several processes start together."""
from __future__ import annotations

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, event, inspect
from sqlalchemy.exc import OperationalError

from bot.database import create_tables, engine_for


def _metadata() -> tuple[MetaData, Table]:
    metadata = MetaData()
    table = Table("reminders", metadata, Column("id", Integer, primary_key=True))
    return metadata, table


def test_a_sqlite_file_gets_its_folder(tmp_path):
    engine = engine_for(f"sqlite:///{tmp_path / 'var' / 'app.db'}")
    create_tables(_metadata()[0], engine)
    assert (tmp_path / "var" / "app.db").exists()
    assert inspect(engine).get_table_names() == ["reminders"]


def test_losing_the_race_to_another_process_is_not_an_error(tmp_path):
    url = f"sqlite:///{tmp_path / 'app.db'}"
    metadata, table = _metadata()
    other_process = engine_for(url)

    @event.listens_for(table, "before_create", once=True)
    def created_meanwhile(target, connection, **_):  # between create_all's check and its CREATE
        _metadata()[0].create_all(other_process)

    create_tables(metadata, engine_for(url))
    assert inspect(engine_for(url)).get_table_names() == ["reminders"]


def test_a_database_that_keeps_failing_still_raises(tmp_path, monkeypatch):
    metadata, _ = _metadata()

    def always_fails(*_args, **_kwargs):
        raise OperationalError("CREATE TABLE reminders", {}, Exception("disk I/O error"))

    monkeypatch.setattr(metadata, "create_all", always_fails)
    with pytest.raises(OperationalError):
        create_tables(metadata, engine_for(f"sqlite:///{tmp_path / 'app.db'}"))
