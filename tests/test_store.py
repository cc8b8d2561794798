"""The schema: Alembic migrations create exactly what the models declare."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

import pytest

from connector.store import Base, Store
from tests import backends


def test_migrations_match_the_models(tmp_path: Path):
    store = Store(backends.database_url(tmp_path))
    store.migrate()
    with store.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    store.dispose()
    assert diff == []


def test_migrate_is_idempotent_and_creates_every_table(tmp_path: Path):
    store = Store(backends.database_url(tmp_path))
    store.migrate()
    store.migrate()
    tables = set(inspect(store.engine).get_table_names())
    store.dispose()
    assert {"submissions", "tickets", "attempts", "alembic_version"} <= tables


@pytest.mark.skipif(backends.production(), reason="SQLite settings")
def test_sqlite_runs_in_wal_mode_with_full_sync(tmp_path: Path):
    store = Store(f"sqlite:///{tmp_path}/m.db")
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    store.dispose()


@pytest.mark.skipif(not backends.production(), reason="pooled connections are pinged on PostgreSQL")
def test_a_pooled_connection_that_fails_its_ping_in_any_way_is_replaced(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch):
    """A connection whose server process was terminated can fail the ping with psycopg's
    ProgrammingError, not a disconnect error; it must be replaced, not raised to the caller."""
    import psycopg

    store = Store(backends.database_url(tmp_path))
    with store.engine.connect() as connection:
        first = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    dialect_class = type(store.engine.dialect)
    real_ping = dialect_class.do_ping
    failures = [psycopg.ProgrammingError(
        "can't change 'autocommit' now: connection in transaction status ACTIVE")]

    def ping(self: Any, dbapi_connection: Any) -> bool:
        if failures:
            raise failures.pop()
        return real_ping(self, dbapi_connection)

    monkeypatch.setattr(dialect_class, "do_ping", ping)
    try:
        with store.engine.connect() as connection:
            second = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    finally:
        store.dispose()
    assert failures == [], "the pooled connection was pinged"
    assert second != first, "a fresh connection replaced the one that failed its ping"
