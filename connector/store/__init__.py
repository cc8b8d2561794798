"""The database behind the records: one engine, short transactions, versioned migrations.

The same code runs on SQLite (embedded default, WAL, full fsync so an acknowledged webhook
survives a crash) and PostgreSQL (production). The schema is owned by Alembic
(``connector/store/migrations``); :meth:`Store.migrate` brings any database to the latest version.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from connector.store.models import (
    Attempt,
    Base,
    DeliveryFailure,
    HookDelivery,
    HookSubscription,
    OutboxStatus,
    Status,
    Submission,
    Ticket,
)

__all__ = ["Store", "Base", "Submission", "Ticket", "Attempt", "Status", "DeliveryFailure",
           "HookSubscription", "HookDelivery", "OutboxStatus"]

log = logging.getLogger("connector.store")
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
#: Serializes concurrent migrations from several processes starting at once (PostgreSQL).
MIGRATION_LOCK_ID = 7_402_113


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine with the settings each backend needs to be safe under concurrent use."""
    if url.startswith("sqlite"):
        memory = url in ("sqlite://", "sqlite:///:memory:")
        if not memory:
            path = url.split("///", 1)[1]
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            poolclass=StaticPool if memory else None,
            **kwargs,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            if not memory:
                cursor.execute("PRAGMA journal_mode=WAL")
            # FULL: a commit reported to the sender survives power loss, not only a crash.
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, **kwargs)


class Store:
    """Owns the engine and hands out sessions; one per process."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: committed when the block ends, rolled back on error."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def on_commit(self, callback: Any, *, on_rollback: Any = None) -> None:
        """Call ``callback(session)`` after each commit (and ``on_rollback(session)`` after a
        rollback) of this store's sessions: how outbox rows written in a transaction wake a
        worker only once they are durable."""
        event.listen(self._sessions, "after_commit", callback)
        if on_rollback is not None:
            event.listen(self._sessions, "after_rollback", on_rollback)

    def ping(self) -> None:
        """Raise if the database cannot answer a trivial query."""
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def migrate(self) -> None:
        """Upgrade the schema to the latest Alembic revision (safe to call on every start)."""
        from alembic import command

        config = alembic_config(self.url)
        with self.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": MIGRATION_LOCK_ID})
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config
