"""The webhook ack's insert: one short transaction on the bare driver connection.

Every acknowledged webhook is a durable insert, so this is the hottest write in the service.
Through the ORM session it cost about 0.5 ms of CPU and, on PostgreSQL, five round trips
(pre-ping, fence lock, insert, subscriber check, commit); the ack's whole budget is about two
bare Flask requests. Here the same row goes in through one statement compiled once per
database, with SQLAlchemy's own bind processing, so the stored values are the ORM's:

* SQLite: ``INSERT ... ON CONFLICT DO NOTHING RETURNING id`` and a fully synced commit, under the
  file's writer lock (``connector.store.sqlite_writer``).
* PostgreSQL: a single autocommitted statement that takes the committed-id fence
  (``connector.store.fence``), counts the tenant's ``new_submission`` subscriptions, and inserts
  only when there are none: one round trip.

It covers the common case only: a pending submission that nobody subscribed to hear about
(no outbox row to write). Anything else returns None and :func:`record_submission` takes the
general path, which is the reference behaviour this must match (tests/test_ack_insert.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import bindparam, func, literal_column, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect

from connector.store import HookSubscription, Status, Store, Submission
from connector.store.fence import shared_lock_sql

SUBMISSIONS = Submission.__table__
#: Inserted values, in the order record_submission builds them.
COLUMNS = ("tenant", "channel", "source", "event_id", "dedupe_key", "received_at", "updated_at",
           "content_type", "headers", "raw_body", "ticket_request", "customer_email", "customer_name",
           "customer_user_id", "resolved_by", "subject", "status", "status_reason", "attempts",
           "next_attempt_at", "lease_until", "phase")
DEDUPE = ("tenant", "dedupe_key")
#: A literal, not a parameter: the statements then take only the row's values.
EVENT = literal_column("'new_submission'")


class AckInsert:
    """The compiled statements of one database, and how to bind a row to them."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect_name = dialect.name
        self._processors: dict[str, Callable[[Any], Any] | None] = {
            name: SUBMISSIONS.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in COLUMNS}
        existing = select(Submission.id, Submission.status, Submission.status_reason).where(
            Submission.tenant == bindparam("tenant"), Submission.dedupe_key == bindparam("dedupe_key"))
        self._existing = existing.compile(dialect=dialect)
        if dialect.name == "postgresql":
            self._insert = _postgres_insert().compile(dialect=dialect)
            self._subscribers = None
        else:
            subscribers = select(func.count()).select_from(HookSubscription).where(
                HookSubscription.tenant == bindparam("tenant"), HookSubscription.event == EVENT)
            self._subscribers = subscribers.compile(dialect=dialect)
            self._insert = (sqlite.insert(SUBMISSIONS).values({name: bindparam(name) for name in COLUMNS})
                            .on_conflict_do_nothing(index_elements=DEDUPE).returning(SUBMISSIONS.c.id)
                            .compile(dialect=dialect))

    def bind(self, values: Mapping[str, Any]) -> dict[str, Any]:
        return {name: (processor(values[name]) if processor else values[name])
                for name, processor in self._processors.items()}

    def positional(self, compiled: Any, params: Mapping[str, Any]) -> Any:
        """``params`` as the driver wants them for ``compiled`` (a tuple for SQLite's ``?``)."""
        if compiled.positiontup is None:
            return params
        return tuple(params[name] for name in compiled.positiontup)

    def sql(self, compiled: Any) -> str:
        return compiled.string

    # -- one attempt on a driver connection -------------------------------------------------

    def run(self, connection: Any, values: Mapping[str, Any]) -> tuple[int, str, str | None, bool] | None:
        """Insert, or find the row this event made before: ``(id, status, reason, duplicate)``.
        None when someone subscribed to new submissions (nothing was written)."""
        params = self.bind(values)
        if self.dialect_name == "postgresql":
            submission_id = self._run_postgres(connection, params)
        else:
            submission_id = self._run_sqlite(connection, params)
        if submission_id is False:
            return None
        if submission_id is not None:
            return submission_id, values["status"], values["status_reason"], False
        cursor = connection.cursor()
        try:
            cursor.execute(self.sql(self._existing),
                           self.positional(self._existing, {"tenant": params["tenant"],
                                                            "dedupe_key": params["dedupe_key"]}))
            row = cursor.fetchone()
        finally:
            cursor.close()
        if row is None:  # the conflicting row went away between the two statements
            raise LookupError("duplicate submission vanished")
        return row[0], row[1], row[2], True

    def _run_sqlite(self, connection: Any, params: Mapping[str, Any]) -> int | None | bool:
        cursor = connection.cursor()
        try:
            cursor.execute(self.sql(self._subscribers), self.positional(self._subscribers, params))
            if cursor.fetchone()[0]:
                return False
            cursor.execute(self.sql(self._insert), self.positional(self._insert, params))
            rows = cursor.fetchall()
            connection.commit()
        except BaseException:
            connection.rollback()
            raise
        finally:
            cursor.close()
        return rows[0][0] if rows else None

    def _run_postgres(self, connection: Any, params: Mapping[str, Any]) -> int | None | bool:
        connection.autocommit = True
        try:
            row = connection.execute(self.sql(self._insert), params).fetchone()
        finally:
            connection.autocommit = False
        subscribers, submission_id = row
        if subscribers:
            return False
        return submission_id


def _postgres_insert() -> Any:
    """``(subscriber count, new id or NULL on a duplicate)`` in one autocommitted statement.

    The fence's shared lock sits in an ``OFFSET 0`` subquery, which the planner keeps as its own
    step below the insert, so it is held before the row's id is drawn from the sequence and
    until the statement commits, as ``fence.before_insert`` does for the general path.
    """
    subscribers = select(func.count().label("n")).select_from(HookSubscription).where(
        HookSubscription.tenant == bindparam("tenant"), HookSubscription.event == EVENT).cte("subscribers")
    fence = select(literal_column(shared_lock_sql("submissions")).label("held")) \
        .offset(literal_column("0")).subquery("fence")
    source = select(*[bindparam(name, type_=SUBMISSIONS.c[name].type) for name in COLUMNS]) \
        .select_from(fence).where(subscribers.c.n == literal_column("0"))
    inserted = (postgresql.insert(SUBMISSIONS).from_select(list(COLUMNS), source)
                .on_conflict_do_nothing(index_elements=DEDUPE).returning(SUBMISSIONS.c.id).cte("inserted"))
    return select(select(subscribers.c.n).scalar_subquery(), select(inserted.c.id).scalar_subquery())


#: Compiled once per kind of database (the statements depend on nothing else).
_compiled: dict[tuple[str, str], AckInsert] = {}


def insert_pending(store: Store, values: Mapping[str, Any]) -> tuple[int, str, str | None, bool] | None:
    """Store a pending submission through the fast path; None when the general path must."""
    if values["status"] != Status.PENDING or values["dedupe_key"] is None:
        return None
    dialect = store.engine.dialect
    statements = _compiled.get((dialect.name, dialect.driver))
    if statements is None:
        statements = _compiled.setdefault((dialect.name, dialect.driver), AckInsert(dialect))
    return store.on_driver(lambda connection: statements.run(connection, values))
