"""The webhook ack's insert: below the ORM, and shared by the acks that arrive together.

Every acknowledged webhook is a durable insert, so this is the hottest write in the service.
Through the ORM session it cost about 0.5 ms of CPU and, on PostgreSQL, five round trips; the
ack's whole budget is about two bare Flask requests. Here:

* The row goes in through one statement compiled once per database, with SQLAlchemy's own bind
  processing, so the stored values are the ORM's. On SQLite it is ``INSERT ... ON CONFLICT DO
  NOTHING RETURNING id``; on PostgreSQL the same statement also takes the committed-id fence
  (``connector.store.fence``) and counts the tenant's ``new_submission`` subscriptions.
* Acks that arrive while another is committing wait for it and then go in together (flat
  combining, see :class:`Combiner`): one transaction, one disk sync, one worker wake-up for the
  lot. Alone, an ack commits by itself at once; under load the batches grow on their own.

It covers the common case only: a pending submission with an event id that nobody subscribed
to hear about (no outbox row to write). For anything else :func:`insert_pending` returns None
and :func:`record_submission` takes the general path, which is the reference behaviour this
must match (tests/test_ack_insert.py).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import bindparam, func, literal_column, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect

from connector.store import HookSubscription, Status, Store, Submission
from connector.store.fence import shared_lock_sql

SUBMISSIONS = Submission.__table__
#: Inserted values, as record_submission builds them.
COLUMNS = ("tenant", "channel", "source", "event_id", "dedupe_key", "received_at", "updated_at",
           "content_type", "headers", "raw_body", "ticket_request", "customer_email", "customer_name",
           "customer_user_id", "resolved_by", "subject", "status", "status_reason", "attempts",
           "next_attempt_at", "lease_until", "phase")
DEDUPE = ("tenant", "dedupe_key")
#: A literal, not a parameter: the statements then take only the row's values.
EVENT = literal_column("'new_submission'")
#: The most rows one transaction takes; later arrivals form the next batch.
MAX_BATCH = 64

Wake = Callable[[Sequence[int]], None]


@dataclass(frozen=True)
class Stored:
    """What became of one row: its id, its state, whether it had arrived before, and whether a
    worker has been asked to deliver it."""

    submission_id: int
    status: str
    reason: str | None
    duplicate: bool
    woken: bool


@dataclass
class Row:
    values: Mapping[str, Any]
    wake: Wake | None


class AckInsert:
    """The compiled statements of one database, and one batch's transaction on a driver connection."""

    def __init__(self, dialect: Dialect) -> None:
        self.postgres = dialect.name == "postgresql"
        self._processors: dict[str, Callable[[Any], Any] | None] = {
            name: SUBMISSIONS.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in COLUMNS}
        self._existing = select(Submission.id, Submission.status, Submission.status_reason).where(
            Submission.tenant == bindparam("tenant"), Submission.dedupe_key == bindparam("dedupe_key")
        ).compile(dialect=dialect)
        self._subscribers = select(func.count()).select_from(HookSubscription).where(
            HookSubscription.tenant == bindparam("tenant"), HookSubscription.event == EVENT).compile(dialect=dialect)
        if self.postgres:
            self._insert = _postgres_insert().compile(dialect=dialect)
        else:
            self._insert = (sqlite.insert(SUBMISSIONS).values({name: bindparam(name) for name in COLUMNS})
                            .on_conflict_do_nothing(index_elements=DEDUPE).returning(SUBMISSIONS.c.id)
                            .compile(dialect=dialect))

    def bind(self, values: Mapping[str, Any]) -> dict[str, Any]:
        return {name: (processor(values[name]) if processor else values[name])
                for name, processor in self._processors.items()}

    @staticmethod
    def _params(compiled: Any, params: Mapping[str, Any]) -> Any:
        """``params`` as the driver takes them for ``compiled`` (a tuple for SQLite's ``?``)."""
        if compiled.positiontup is None:
            return params
        return tuple(params[name] for name in compiled.positiontup)

    def _execute(self, cursor: Any, compiled: Any, params: Mapping[str, Any]) -> list[Any]:
        cursor.execute(compiled.string, self._params(compiled, params))
        return cursor.fetchall()

    def run(self, connection: Any, rows: Sequence[Mapping[str, Any]]) -> list[Stored | None]:
        """Store ``rows`` in one transaction. None for a row the general path must store: its
        tenant has ``new_submission`` subscribers (the outbox row), or its duplicate vanished."""
        params = [self.bind(values) for values in rows]
        cursor = connection.cursor()
        try:
            # PostgreSQL counts subscribers inside the insert statement itself.
            subscribed = set() if self.postgres else {
                tenant for tenant in {bound["tenant"] for bound in params}
                if self._execute(cursor, self._subscribers, {"tenant": tenant})[0][0]}
            results: list[Stored | None] = []
            for values, bound in zip(rows, params):
                inserted = [] if bound["tenant"] in subscribed else self._execute(cursor, self._insert, bound)
                if bound["tenant"] in subscribed or (self.postgres and inserted[0][0]):
                    results.append(None)
                elif inserted and inserted[0][-1] is not None:
                    results.append(Stored(inserted[0][-1], values["status"], values["status_reason"], False, False))
                else:
                    found = self._execute(cursor, self._existing, {"tenant": bound["tenant"],
                                                                   "dedupe_key": bound["dedupe_key"]})
                    results.append(Stored(*found[0], True, False) if found else None)
            connection.commit()
            return results
        except BaseException:
            connection.rollback()
            raise
        finally:
            cursor.close()


def _postgres_insert() -> Any:
    """``(subscriber count, new id or NULL)``: the row goes in only if the tenant has no
    ``new_submission`` subscription; a NULL id with a count of 0 means a duplicate.

    The fence's shared lock sits in an ``OFFSET 0`` subquery, which the planner keeps as its own
    step below the insert, so it is held before the row's id is drawn from the sequence and
    until the transaction commits, as ``fence.before_insert`` does for the general path.
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


J = TypeVar("J")
R = TypeVar("R")


class _Slot(Generic[J, R]):
    __slots__ = ("item", "done", "result", "error")

    def __init__(self, item: J) -> None:
        self.item = item
        self.done = False
        self.result: R | None = None
        self.error: BaseException | None = None


class Combiner(Generic[J, R]):
    """Flat combining: each caller queues its item, then takes the turn; whoever holds the turn
    runs every queued item (up to ``max_batch``) in one ``run_batch`` call and hands each caller
    its result. A caller whose item a previous turn already ran just returns.

    Nothing waits on a timer: a lone caller runs at once, and callers that arrive during a
    commit are exactly the ones the next turn takes.
    """

    def __init__(self, run_batch: Callable[[list[J]], Sequence[R]], max_batch: int = MAX_BATCH) -> None:
        self._run_batch = run_batch
        self._max_batch = max_batch
        self._turn = threading.Lock()
        self._queue_guard = threading.Lock()
        self._queue: list[_Slot[J, R]] = []

    def submit(self, item: J) -> R:
        slot: _Slot[J, R] = _Slot(item)
        with self._queue_guard:
            self._queue.append(slot)
        while not slot.done:
            with self._turn:
                if slot.done:
                    break
                with self._queue_guard:
                    batch, self._queue = self._queue[:self._max_batch], self._queue[self._max_batch:]
                try:
                    results = self._run_batch([queued.item for queued in batch])
                except BaseException as error:
                    for queued in batch:
                        queued.error, queued.done = error, True
                else:
                    for queued, result in zip(batch, results, strict=True):
                        queued.result, queued.done = result, True
        if slot.error is not None:
            raise slot.error
        return slot.result  # type: ignore[return-value]


class AckWriter:
    """The ack insert of one store: its statements and its combiner (one per process)."""

    def __init__(self, store: Store) -> None:
        self.statements = AckInsert(store.engine.dialect)
        # Only the combiner's turn uses it, so one connection serves the whole process.
        self.connection = store.driver_connection()
        self.combiner: Combiner[Row, Stored | None] = Combiner(self._run_batch)

    def _run_batch(self, rows: list[Row]) -> list[Stored | None]:
        values = [row.values for row in rows]
        return _wake(rows, self.connection.run(lambda connection: self.statements.run(connection, values)))


def _wake(rows: list[Row], results: list[Stored | None]) -> list[Stored | None]:
    """One wake-up per batch (per waker) for what is new or still pending after a retry."""
    due: dict[Wake, dict[int, None]] = {}
    for row, result in zip(rows, results):
        if row.wake is not None and result is not None and (not result.duplicate or result.status == Status.PENDING):
            due.setdefault(row.wake, {})[result.submission_id] = None
    for wake, ids in due.items():
        wake(list(ids))
    return [result if result is None or row.wake is None or result.submission_id not in due.get(row.wake, ())
            else Stored(result.submission_id, result.status, result.reason, result.duplicate, True)
            for row, result in zip(rows, results)]


_writers_guard = threading.Lock()


def writer_for(store: Store) -> AckWriter:
    writer: AckWriter | None = getattr(store, "_ack_writer", None)
    if writer is None:
        with _writers_guard:
            writer = getattr(store, "_ack_writer", None) or AckWriter(store)
            store._ack_writer = writer  # type: ignore[attr-defined]
    return writer


def insert_pending(store: Store, values: Mapping[str, Any], wake: Wake | None = None) -> Stored | None:
    """Store a pending submission through the fast path, waking workers through ``wake`` (once
    for the whole batch it joins); None when the general path must store it."""
    if values["status"] != Status.PENDING or values["dedupe_key"] is None:
        return None
    return writer_for(store).combiner.submit(Row(values, wake))
