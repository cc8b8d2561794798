"""The schema: Alembic migrations create exactly what the models declare."""

from __future__ import annotations

from pathlib import Path

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
