"""The database behind the records: one engine, short transactions, versioned migrations.

The same code runs on SQLite (embedded default, WAL, full fsync so an acknowledged webhook
survives a crash) and PostgreSQL (production). The schema is owned by Alembic
(``connector/store/migrations``); :meth:`Store.migrate` brings any database to the latest version.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, ExceptionContext
from sqlalchemy.exc import DBAPIError
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
from connector.store.sqlite_writer import WriterLockedConnection

__all__ = ["Store", "Base", "Submission", "Ticket", "Attempt", "Status", "DeliveryFailure",
           "HookSubscription", "HookDelivery", "OutboxStatus"]

log = logging.getLogger("connector.store")
T = TypeVar("T")
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
#: Serializes concurrent migrations from several processes starting at once (PostgreSQL).
MIGRATION_LOCK_ID = 7_402_113


def make_engine(url: str, *, pre_ping: bool = True, **kwargs: Any) -> Engine:
    """An engine with the settings each backend needs to be safe under concurrent use."""
    if url.startswith("sqlite"):
        memory = url in ("sqlite://", "sqlite:///:memory:")
        if not memory:
            path = url.split("///", 1)[1]
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        connect_args: dict[str, Any] = {"check_same_thread": False, "timeout": 30}
        if not memory:
            # Writers queue on a lock file instead of SQLite's sleeping busy handler.
            connect_args["factory"] = WriterLockedConnection
        engine = create_engine(
            url,
            connect_args=connect_args,
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
    engine = create_engine(url, pool_pre_ping=pre_ping, pool_size=10, max_overflow=20, **kwargs)
    event.listen(engine, "handle_error", _failed_ping_means_dropped)
    return engine


def _failed_ping_means_dropped(context: ExceptionContext) -> None:
    """A pooled connection that fails its pre-ping in any way is replaced, not handed out.

    SQLAlchemy replaces it only when the driver's error looks like a disconnect. A connection
    whose server process was terminated can fail its ping with psycopg's ProgrammingError
    ("can't change 'autocommit' now: connection in transaction status ACTIVE") instead, which
    then reached the caller: a worker recording that Halo had created a ticket lost that
    knowledge, and the submission was held as ambiguous (tests/faults/test_database_dropped.py).
    """
    if context.is_pre_ping:
        context.is_disconnect = True


class Store:
    """Owns the engine and hands out sessions; one per process."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # The ack path's connection is checked by using it (see DriverConnection), not by a ping
        # round trip on every checkout. SQLite has nothing to ping: it shares the main engine.
        self._driver_engine = self.engine if self.engine.dialect.name == "sqlite" else \
            make_engine(url, pre_ping=False, **engine_kwargs)
        self._driver_connections: list[DriverConnection] = []

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

    def driver_connection(self) -> DriverConnection:
        """A long-lived bare DB-API connection for a hot path that makes its own short
        transactions below the ORM, one user at a time (the webhook ack's batched insert)."""
        connection = DriverConnection(self._driver_engine)
        self._driver_connections.append(connection)
        return connection

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
        for connection in self._driver_connections:
            connection.close()
        self.engine.dispose()
        self._driver_engine.dispose()


class DriverConnection:
    """One pooled connection kept checked out, so its page and statement caches stay warm.

    Not thread-safe: its user serializes access. A connection the database dropped fails on
    first use: it is discarded and the work runs once more on a fresh one, so the work must be
    safe to repeat (the ack's insert is: its dedupe key makes a second try find the first).
    Driver errors come out as SQLAlchemy's, like everywhere else (a database outage answers 503).
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._proxied: Any = None
        self._pid = 0

    def run(self, work: Callable[[Any], T]) -> T:
        dialect = self._engine.dialect
        driver_error = dialect.loaded_dbapi.Error
        for attempt in (1, 2):
            proxied = self._checkout()
            try:
                return work(proxied.driver_connection)
            except driver_error as error:
                dropped = dialect.is_disconnect(error, proxied.dbapi_connection, None)
                if dropped:
                    self._discard(error)
                if not dropped or attempt == 2:
                    raise DBAPIError.instance(None, None, error, driver_error, connection_invalidated=dropped,
                                              dialect=dialect) from error
        raise AssertionError("unreachable")

    def _checkout(self) -> Any:
        if self._proxied is None or self._pid != os.getpid():  # a forked child opens its own
            try:
                self._proxied = self._engine.raw_connection()
            except self._engine.dialect.loaded_dbapi.Error as error:
                raise DBAPIError.instance(None, None, error, self._engine.dialect.loaded_dbapi.Error,
                                          dialect=self._engine.dialect) from error
            self._pid = os.getpid()
        return self._proxied

    def _discard(self, error: BaseException) -> None:
        proxied, self._proxied = self._proxied, None
        proxied.invalidate(error)

    def close(self) -> None:
        if self._proxied is not None and self._pid == os.getpid():
            self._proxied.close()
        self._proxied = None


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config
