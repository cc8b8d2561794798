"""One prepared statement run for many rows in one libpq pipeline (PostgreSQL).

The webhook ack's batched insert (``connector.delivery.ack_insert``) is the hottest write in the
service. Through psycopg's cursor and pipeline a batch cost about 500 µs of client CPU plus
100 µs a row on a slow machine, and its thread waited on the socket five times a batch, each
time winning the GIL back from 15 busy request threads. Here the rows go out through psycopg's
own libpq binding (``psycopg.pq``, public, C in psycopg-binary) as executions of a statement
prepared once per connection, followed by one sync: one round trip and one wait a batch, about
a third of the client CPU (bench/README.md, "Ack, seventh session").

The executions between two syncs form one implicit transaction, committed at the sync (the
extended query protocol's rule), so a batch is all or nothing, as before. Errors come out as
psycopg's own (by SQLSTATE), so callers handle them like any other driver error.
"""

from __future__ import annotations

import select
import weakref
from collections.abc import Sequence
from typing import Any

from psycopg import errors, pq

#: A parameter as libpq takes it: text or binary bytes, or None for NULL.
Param = bytes | None

_SYNC = pq.ExecStatus.PIPELINE_SYNC
_ABORTED = pq.ExecStatus.PIPELINE_ABORTED
_TUPLES = pq.ExecStatus.TUPLES_OK
_COMMAND_OK = pq.ExecStatus.COMMAND_OK


class PreparedBatch:
    """``sql`` (with ``$n`` placeholders) prepared as ``name`` on each connection it meets.

    :param param_types: a type oid per parameter, 0 to let the server infer it.
    :param formats: per parameter, 0 for text, 1 for binary.
    """

    def __init__(self, name: str, sql: str, param_types: Sequence[int], formats: Sequence[int]) -> None:
        self.name = name.encode()
        self._sql = sql.encode()
        self._types = list(param_types)
        self._formats = list(formats)
        #: The libpq connections it is prepared on (a new one needs it again).
        self._prepared_on: weakref.WeakSet[Any] = weakref.WeakSet()

    def run(self, connection: Any, rows: Sequence[Sequence[Param]]) -> list[pq.abc.PGresult]:
        """Execute the statement once per row, committed together; one result per row, in order.

        ``connection`` is an idle psycopg connection that no one else uses meanwhile. If the
        exchange breaks off half way, the connection is closed (its next use fails as dropped and
        is replaced): a pipeline left mid-flight cannot be trusted again.
        """
        pgconn = connection.pgconn
        # Prepared in the same pipeline the first time, so that too waits on the socket through
        # select (cooperative under gevent) and costs no round trip of its own.
        prepare = pgconn not in self._prepared_on
        pgconn.enter_pipeline_mode()
        try:
            if prepare:
                pgconn.send_prepare(self.name, self._sql, self._types)
            for params in rows:
                pgconn.send_query_prepared(self.name, params, self._formats)
            pgconn.pipeline_sync()
            _flush(pgconn)
            results = _read_to_sync(pgconn)
            pgconn.exit_pipeline_mode()
        except BaseException:
            if pgconn.pipeline_status != pq.PipelineStatus.OFF:
                pgconn.finish()
            raise
        if prepare:
            prepared, results = results[0], results[1:]
            if prepared.status != _COMMAND_OK:
                raise errors.error_from_result(prepared, encoding=connection.info.encoding)
            # A prepared statement outlives the transaction, even one that a row's error aborts.
            self._prepared_on.add(pgconn)
        failed = next((r for r in results if r.status not in (_TUPLES, _ABORTED)), None)
        if failed is not None:
            raise errors.error_from_result(failed, encoding=connection.info.encoding)
        return results


def _flush(pgconn: Any) -> None:
    """Send everything queued; while the socket is full, read too, so a server blocked on
    sending its results can never deadlock with us (libpq's rule for nonblocking flushes)."""
    fileno = pgconn.socket
    while pgconn.flush():
        readable, _, _ = select.select([fileno], [fileno], [])
        if readable:
            pgconn.consume_input()


def _read_to_sync(pgconn: Any) -> list[pq.abc.PGresult]:
    """Every statement's result up to the pipeline's sync (the socket waits release the GIL)."""
    fileno = pgconn.socket
    results = []
    while True:
        while pgconn.is_busy():
            select.select([fileno], [], [])
            pgconn.consume_input()
        result = pgconn.get_result()
        if result is None:  # the end of one statement's results
            continue
        if result.status == _SYNC:
            return results
        results.append(result)
