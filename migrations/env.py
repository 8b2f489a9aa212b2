"""Alembic environment: migrates the connection bot.database.upgrade_to_head passes in or, from
the `alembic` command line, DATABASE_URL (bot/settings.py) under the same migration lock."""
from logging.config import fileConfig

from alembic import context

from bot.database import engine_for, migration_lock
from bot.schema import Base
from bot.settings import load_settings


def run_migrations(connection) -> None:
    context.configure(connection=connection, target_metadata=Base.metadata)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:  # called by bot.database.upgrade_to_head, which holds the lock
        run_migrations(connection)
        return
    if context.config.config_file_name is not None:
        fileConfig(context.config.config_file_name)
    engine = engine_for(load_settings().database_url)
    try:
        with engine.connect() as connection, migration_lock(connection):
            run_migrations(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported: run them against the database")
run_migrations_online()
