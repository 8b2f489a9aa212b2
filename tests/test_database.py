"""bot/database.py and migrations/: engines, migrations that match bot/schema.py, a database made
by the code before migrations adopted with its rows, and processes that start together."""
from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timezone

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, insert, inspect, select

from bot.database import alembic_config, current_revision, engine_for, head_revision, upgrade_to_head
from bot.records import ConsultationStore
from bot.schema import Base
from bot.settings import PROJECT_ROOT
from tests import legacy_schema

T0 = datetime(2025, 4, 1, 0, 30, tzinfo=timezone.utc)


def schema_differences(engine, metadata) -> list:
    with engine.connect() as connection:
        return compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), metadata)


def migrate(engine, revision: str) -> None:
    with engine.connect() as connection:
        command.upgrade(alembic_config(connection), revision)


def test_a_sqlite_file_gets_its_folder(tmp_path):
    engine = engine_for(f"sqlite:///{tmp_path / 'var' / 'app.db'}")
    upgrade_to_head(engine)
    assert (tmp_path / "var" / "app.db").exists()
    assert set(inspect(engine).get_table_names()) == {*Base.metadata.tables, "alembic_version"}


def test_the_migrations_build_exactly_the_schema_in_bot_schema(database_url):
    engine = engine_for(database_url)
    try:
        upgrade_to_head(engine)
        assert schema_differences(engine, Base.metadata) == []
        with engine.connect() as connection:
            assert current_revision(connection) == head_revision() == "0003"
    finally:
        engine.dispose()


def test_the_first_migration_is_the_schema_before_migrations(database_url):
    engine = engine_for(database_url)
    try:
        migrate(engine, "0001")
        assert schema_differences(engine, legacy_schema.metadata) == []
        assert schema_differences(engine, Base.metadata) != []  # the comparison does see a difference
    finally:
        engine.dispose()


@pytest.mark.parametrize("tables", ["all", "records only"])
def test_a_database_made_before_migrations_keeps_its_records(database_url, tables):
    """As deployed before: create_all, no alembic_version, maybe without the timer/channel tables."""
    engine = engine_for(database_url)
    legacy = legacy_schema.metadata.sorted_tables
    if tables == "records only":
        legacy = [legacy_schema.consultations, legacy_schema.consultation_messages, legacy_schema.audit_log]
    legacy_schema.metadata.create_all(engine, tables=legacy)
    with engine.begin() as connection:
        record_id = connection.execute(insert(legacy_schema.consultations).values(
            conversation_id="conv-1", source_channel="slack", started_at=T0, updated_at=T0, status="open",
            behaviors=["verbal_abuse"], types=[], demand="土下座しろ", reasons=["暴言"], legal_risks=[],
            escalations=["supervisor"], verdict="harassment",
        )).inserted_primary_key[0]
        connection.execute(insert(legacy_schema.consultation_messages).values(
            consultation_id=record_id, sent_at=T0, text="怒鳴られています"))
    engine.dispose()

    store = ConsultationStore(database_url)  # upgrades to head on start, as every process does
    try:
        record = store.get(record_id)
        assert (record["demand"], record["verdict"], record["behaviors"]) == ("土下座しろ", "harassment", ["verbal_abuse"])
        assert [m["text"] for m in record["messages"]] == ["怒鳴られています"]
        assert record["exact_words"] == record["follow_up_items"] == record["staff_present"] == []
        assert record["police_called"] is None and record["employee_department"] is None
        store.update(record_id, exact_words=["土下座しろ"], employee_department="市民課", police_called=False)
        assert store.get(record_id)["exact_words"] == ["土下座しろ"]
        assert store.start("conv-2", "rest") > record_id
    finally:
        store.dispose()
    engine = engine_for(database_url)
    try:
        assert schema_differences(engine, Base.metadata) == []
    finally:
        engine.dispose()


def test_downgrade_and_upgrade_again_on_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'app.db'}"
    store = ConsultationStore(url)
    record_id = store.start("conv-1", "rest", started_at=T0)
    store.dispose()
    engine = engine_for(url)
    with engine.connect() as connection:
        command.downgrade(alembic_config(connection), "0001")
    assert schema_differences(engine, legacy_schema.metadata) == []
    upgrade_to_head(engine)
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(legacy_schema.consultations)).scalar() == 1
    engine.dispose()
    assert ConsultationStore(url).get(record_id)["source_channel"] == "rest"


def test_processes_starting_together_take_turns_migrating(database_url):
    code = ("import sys; from bot.database import engine_for, upgrade_to_head; "
            "upgrade_to_head(engine_for(sys.argv[1])); print('ok')")
    processes = [subprocess.Popen([sys.executable, "-c", code, database_url], cwd=PROJECT_ROOT,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    results = [process.communicate(timeout=120) for process in processes]
    assert [process.returncode for process in processes] == [0, 0, 0], [err for _, err in results]
    engine = engine_for(database_url)
    try:
        assert schema_differences(engine, Base.metadata) == []
    finally:
        engine.dispose()


def test_the_alembic_command_line_migrates_database_url(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    result = subprocess.run([str(PROJECT_ROOT / ".venv" / "bin" / "alembic"), "upgrade", "head"], cwd=PROJECT_ROOT,
                            env={"DATABASE_URL": url, "PATH": "/usr/bin:/bin"}, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    engine = engine_for(url)
    with engine.connect() as connection:
        assert current_revision(connection) == head_revision()
    engine.dispose()
