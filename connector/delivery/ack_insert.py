"""The webhook ack's insert: below the ORM, and shared by the acks that arrive together.

Every acknowledged webhook is a durable insert, so this is the hottest write in the service.
Through the ORM session it cost about 0.5 ms of CPU and, on PostgreSQL, five round trips; the
ack's whole budget is about two bare Flask requests. Here:

* The row goes in through one statement compiled once per database, storing exactly what the
  ORM stores (on SQLite through SQLAlchemy's own bind processing, on PostgreSQL through
  per-column libpq encoders, see :func:`_pq_encoder`). On SQLite it is ``INSERT ... ON CONFLICT
  DO NOTHING RETURNING id``; on PostgreSQL the same statement also takes the committed-id fence
  (``connector.store.fence``) and counts the tenant's ``new_submission`` subscriptions.
* Acks that arrive while another is committing wait for it and then go in together (flat
  combining, see :class:`Combiner`): one transaction, one disk sync, one worker wake-up for the
  lot. On PostgreSQL the batch's executions of the prepared statement and its commit travel in
  one libpq pipeline (``connector.store.pipeline``), one round trip and no per-statement Python.
  Alone, an ack commits by itself at once; under load the batches grow on their own.
* One long-lived connection per process serves every turn, so its caches stay warm.

It covers the common case only: a pending submission with an event id that nobody subscribed
to hear about (no outbox row to write). For anything else :func:`insert_pending` returns None
and :func:`record_submission` takes the general path, which is the reference behaviour this
must match (tests/test_ack_insert.py).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import JSON, Integer, LargeBinary, String, bindparam, func, literal_column, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeEngine

from connector.store import HookSubscription, Status, Store, Submission
from connector.store.fence import shared_lock_sql
from connector.store.pipeline import Param, PreparedBatch
from connector.store.types import UTCDateTime

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
#: Marks a row the fast path leaves to the general one.
GENERAL_PATH: Any = object()
#: PostgreSQL's type oid for bytea: the raw body goes in binary, as it arrived.
BYTEA_OID = 17

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
        self._existing = select(Submission.id, Submission.status, Submission.status_reason).where(
            Submission.tenant == bindparam("tenant"), Submission.dedupe_key == bindparam("dedupe_key")
        ).compile(dialect=dialect)
        if self.postgres:  # the insert statement counts the subscribers itself
            numbered = _postgres_insert().compile(dialect=type(dialect)(paramstyle="numeric_dollar"))
            encoders = [_pq_encoder(SUBMISSIONS.c[name].type, dialect) for name in numbered.positiontup]
            self._pq_params = [(name, encoder) for name, (_, _, encoder) in zip(numbered.positiontup, encoders)]
            self._batch = PreparedBatch("connector_ack_insert", numbered.string,
                                        param_types=[oid for oid, _, _ in encoders],
                                        formats=[fmt for _, fmt, _ in encoders])
        else:  # SQLAlchemy's own bind processing, then the driver's
            self._processors: dict[str, Callable[[Any], Any] | None] = {
                name: SUBMISSIONS.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in COLUMNS}
            self._subscribers = select(func.count()).select_from(HookSubscription).where(
                HookSubscription.tenant == bindparam("tenant"), HookSubscription.event == EVENT
            ).compile(dialect=dialect)
            self._insert = (sqlite.insert(SUBMISSIONS).values({name: bindparam(name) for name in COLUMNS})
                            .on_conflict_do_nothing(index_elements=DEDUPE).returning(SUBMISSIONS.c.id)
                            .compile(dialect=dialect))

    def _bind(self, values: Mapping[str, Any]) -> dict[str, Any]:
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
        """Store ``rows``, committed before this returns. None for a row the general path must
        store: its tenant has ``new_submission`` subscribers (the outbox row needs the ORM)."""
        try:
            new_ids = self._insert_postgres(connection, rows) if self.postgres \
                else self._insert_sqlite(connection, [self._bind(values) for values in rows])
            results: list[Stored | None] = []
            cursor = None  # opened for the first duplicate only: most batches have none
            for values, new_id in zip(rows, new_ids):
                if new_id is GENERAL_PATH:
                    results.append(None)
                elif new_id is not None:
                    results.append(Stored(new_id, values["status"], values["status_reason"], False, False))
                else:  # a duplicate: report the first copy's state (None if it has vanished since)
                    cursor = cursor or connection.cursor()
                    found = self._execute(cursor, self._existing, {"tenant": values["tenant"],
                                                                   "dedupe_key": values["dedupe_key"]})
                    results.append(Stored(*found[0], True, False) if found else None)
            if cursor is not None:
                cursor.close()
            connection.commit()
            return results
        except BaseException:
            connection.rollback()
            raise

    def _insert_sqlite(self, connection: Any, params: list[dict[str, Any]]) -> list[Any]:
        """The new ids (None for a duplicate), in the transaction ``run`` commits."""
        cursor = connection.cursor()
        subscribed = {tenant for tenant in {bound["tenant"] for bound in params}
                      if self._execute(cursor, self._subscribers, {"tenant": tenant})[0][0]}
        new_ids = [GENERAL_PATH if bound["tenant"] in subscribed
                   else next(iter(self._execute(cursor, self._insert, bound)), (None,))[0] for bound in params]
        cursor.close()
        return new_ids

    def _insert_postgres(self, connection: Any, rows: Sequence[Mapping[str, Any]]) -> list[Any]:
        """The new ids (None for a duplicate), committed: one pipelined round trip for the batch."""
        new_ids: list[Any] = []
        for result in self._batch.run(connection, [self._pq_row(values) for values in rows]):
            subscribers, new_id = result.get_value(0, 0), result.get_value(0, 1)
            new_ids.append(GENERAL_PATH if subscribers != b"0" else None if new_id is None else int(new_id))
        return new_ids

    def _pq_row(self, values: Mapping[str, Any]) -> list[Param]:
        row: list[Param] = []
        for name, encode in self._pq_params:
            value = values[name]
            if encode is not None:
                row.append(encode(value))
            else:  # a string column
                row.append(None if value is None else value.encode())
        return row


def _pq_encoder(column_type: TypeEngine[Any], dialect: Dialect) -> tuple[int, int, Callable[[Any], Param] | None]:
    """How one column's value goes to libpq: (type oid, 0 for text or 1 for binary, encoder or
    None for a string), storing what SQLAlchemy's own binding would (tests/test_ack_insert.py
    compares the two)."""
    if isinstance(column_type, UTCDateTime):
        to_utc = column_type.process_bind_param
        return 0, 0, lambda value: None if value is None else to_utc(value, dialect).isoformat().encode()  # type: ignore[union-attr]
    if isinstance(column_type, JSON):  # None is stored as JSON null, as SQLAlchemy's JSON does
        dumps = dialect._json_serializer or json.dumps  # type: ignore[attr-defined]
        return 0, 0, lambda value: b"null" if value is None else dumps(value).encode()
    if isinstance(column_type, LargeBinary):
        return BYTEA_OID, 1, lambda value: None if value is None else bytes(value)
    if isinstance(column_type, String):  # most columns: encoded inline by AckInsert._pq_row
        return 0, 0, None
    if isinstance(column_type, Integer):
        return 0, 0, lambda value: None if value is None else str(int(value)).encode()
    raise TypeError(f"no libpq encoding for {column_type!r}")


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
    """One caller's item; ``wakeup`` is held until the caller may go on (done, or its turn)."""

    __slots__ = ("item", "done", "result", "error", "wakeup")

    def __init__(self, item: J, wakeup: Any) -> None:
        self.item = item
        self.done = False
        self.result: R | None = None
        self.error: BaseException | None = None
        self.wakeup = wakeup


def _held_lock() -> Any:
    lock = threading.Lock()
    lock.acquire()
    return lock


class Combiner(Generic[J, R]):
    """Flat combining: callers queue their items; one of them at a time holds the turn, runs
    the queued items (up to ``max_batch``, its own first) in one ``run_batch`` call, hands every
    caller in the batch its result, passes the turn to the oldest caller still waiting, and only
    then calls ``after_batch`` (work that must follow the batch but need not hold up the next).

    Nothing waits on a timer: a lone caller runs at once, and callers that arrive during a
    commit are exactly the ones the next turn takes. Each waiting caller sleeps on a lock of its
    own until the turn's holder wakes it, once. A slot's lock is held again when its caller
    leaves (never released, or released once and taken back by the woken caller), so it serves
    the next caller: under gevent a lock is a Python object, and making one per ack cost about
    4 % of a web process's time.
    """

    def __init__(self, run_batch: Callable[[list[J]], Sequence[R]],
                 after_batch: Callable[[list[J], Sequence[R]], None] | None = None,
                 max_batch: int = MAX_BATCH) -> None:
        self._run_batch = run_batch
        self._after_batch = after_batch
        self._max_batch = max_batch
        self._guard = threading.Lock()
        self._queue: list[_Slot[J, R]] = []
        self._turn_taken = False
        self._spare_locks: list[Any] = []

    def submit(self, item: J) -> R:
        try:
            wakeup = self._spare_locks.pop()
        except IndexError:
            wakeup = _held_lock()
        slot: _Slot[J, R] = _Slot(item, wakeup)
        with self._guard:
            self._queue.append(slot)
            waits, self._turn_taken = self._turn_taken, True
        if waits:
            slot.wakeup.acquire()  # until our batch is done, or the turn passes to us
        if not slot.done:
            self._take_turn()
        self._spare_locks.append(wakeup)  # held: see the class's docstring
        if slot.error is not None:
            raise slot.error
        return slot.result  # type: ignore[return-value]

    def _take_turn(self) -> None:
        """Run the oldest queued items (this caller's among them), then pass the turn on."""
        with self._guard:
            batch, self._queue = self._queue[:self._max_batch], self._queue[self._max_batch:]
        items = [queued.item for queued in batch]
        results: Sequence[R] | None = None
        try:
            results = self._run_batch(items)
        except BaseException as error:
            for queued in batch:
                queued.error, queued.done = error, True
        else:
            for queued, result in zip(batch, results, strict=True):
                queued.result, queued.done = result, True
        with self._guard:
            successor = self._queue[0] if self._queue else None
            self._turn_taken = successor is not None
        for queued in batch[1:]:
            queued.wakeup.release()
        if successor is not None:
            successor.wakeup.release()
        if results is not None and self._after_batch is not None:
            self._after_batch(items, results)


class AckWriter:
    """The ack insert of one store: its statements and its combiner (one per process)."""

    def __init__(self, store: Store) -> None:
        self.statements = AckInsert(store.engine.dialect)
        # Only the combiner's turn uses it, so one connection serves the whole process.
        self.connection = store.driver_connection()
        self.combiner: Combiner[Row, Stored | None] = Combiner(self._run_batch, after_batch=_wake)

    def _run_batch(self, rows: list[Row]) -> list[Stored | None]:
        values = [row.values for row in rows]
        results = self.connection.run(lambda connection: self.statements.run(connection, values))
        return [_woken(result) if _due(row, result) else result for row, result in zip(rows, results)]


def worth_waking(duplicate: bool, status: str) -> bool:
    """Whether a stored submission should wake a worker: it is new, or it is a copy of one still
    pending (a retried delivery may mean the first request died between its insert and its
    wake-up; waking again is harmless, claims are atomic, and it spares the wait for the sweep)."""
    return not duplicate or status == Status.PENDING


def _due(row: Row, result: Stored | None) -> bool:
    return row.wake is not None and result is not None and worth_waking(result.duplicate, result.status)


def _woken(result: Stored | None) -> Stored:
    assert result is not None
    return Stored(result.submission_id, result.status, result.reason, result.duplicate, True)


def _wake(rows: list[Row], results: Sequence[Stored | None]) -> None:
    """One wake-up per batch (per waker), naming each submission once. Best effort: the
    records are committed, and the sweep finds any that a lost wake-up leaves behind."""
    due: dict[Wake, dict[int, None]] = {}
    for row, result in zip(rows, results):
        if result is not None and result.woken:
            due.setdefault(row.wake, {})[result.submission_id] = None  # type: ignore[index]
    for wake, ids in due.items():
        wake(list(ids))


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
