"""A committed-id fence for the polled feeds, so cursor polling never skips a record.

Make polls with ``after_id`` (the largest id it has seen). On PostgreSQL, ids come from a
sequence when a row is inserted, not when it commits: a transaction holding id 10 can commit
after one holding id 11, and a poll in between would serve 11, move Make's cursor past 10, and
lose it forever. Writers to a feed table therefore hold a *shared* advisory lock from before
their insert until they commit; a cursor poll briefly takes the same lock *exclusively*, which
waits for the in-flight writers, reads ``max(id)``, and serves only ids up to it. Every id at or
below that ceiling is committed or rolled back; every later insert gets a larger id.

SQLite has one writer at a time and assigns ids inside its write lock, so ids commit in order
there and no fence is needed.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

log = logging.getLogger("connector.store")

#: First key of the two-int advisory locks (the migration lock uses the one-int form). The
#: second is a hash of schema and table, so deployments (and test runs) sharing one database in
#: separate schemas never wait for each other.
LOCK_CLASS = 7_402_114
FEEDS = ("submissions", "tickets", "delivery_failures")
_LOCK_KEY = "hashtext(current_schema() || '.' || :table)"
#: How long a poll waits for in-flight writers before answering with nothing new.
POLL_LOCK_TIMEOUT = "2s"


def _is_postgres(bind: Any) -> bool:
    return bind.dialect.name == "postgresql"


def shared_lock_sql(table: str) -> str:
    """The SQL expression a writer to ``table`` evaluates first (for statements that take the
    fence themselves, like the ack path's one-statement insert)."""
    assert table in FEEDS
    return f"pg_advisory_xact_lock_shared({LOCK_CLASS}, hashtext(current_schema() || '.{table}'))"


def before_insert(session: Session, table: str) -> None:
    """Call inside a writer's transaction before inserting into a feed table."""
    assert table in FEEDS
    if _is_postgres(session.get_bind()):
        session.execute(text(f"SELECT pg_advisory_xact_lock_shared(:c, {_LOCK_KEY})"),
                        {"c": LOCK_CLASS, "table": table})


def committed_ceiling(engine: Any, model: Any) -> int | None:
    """The largest id below which every row of ``model`` has settled, or None when ids always
    commit in order (SQLite). Returns 0 when the writers did not finish in time, so the poll
    answers "nothing new yet" rather than risking a gap."""
    if not _is_postgres(engine):
        return None
    table = model.__tablename__
    try:
        with engine.begin() as connection:
            connection.execute(text(f"SET LOCAL lock_timeout = '{POLL_LOCK_TIMEOUT}'"))
            connection.execute(text(f"SELECT pg_advisory_xact_lock(:c, {_LOCK_KEY})"),
                               {"c": LOCK_CLASS, "table": table})
            return connection.execute(select(func.max(model.id))).scalar() or 0
    except OperationalError:
        log.warning("poll of %s waited too long for writers; answering nothing new", table)
        return 0
