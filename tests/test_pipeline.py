"""connector.store.pipeline: a batch of executions in one libpq pipeline is one transaction, its
errors are psycopg's own, and a batch cut off half way never leaves a connection in doubt."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import errors

from connector.store.pipeline import PreparedBatch
from tests import backends

pytestmark = pytest.mark.skipif(not backends.production(), reason="a libpq pipeline is a PostgreSQL matter")

INSERT = "INSERT INTO items (key, body) VALUES ($1, $2) RETURNING id"


def batch() -> PreparedBatch:
    return PreparedBatch("test_insert_item", INSERT, param_types=[0, 17], formats=[0, 1])


@pytest.fixture
def connect(tmp_path: Path) -> Iterator[Any]:
    """Open connections to a fresh schema holding ``items`` (closed at the end)."""
    url = backends.database_url(tmp_path).replace("+psycopg", "")
    base, options = url.split("?options=")
    opened: list[psycopg.Connection[Any]] = []

    def open_connection() -> psycopg.Connection[Any]:
        connection = psycopg.connect(base, options=options.replace("%3D", "="), autocommit=True)
        opened.append(connection)
        return connection

    setup = open_connection()
    setup.execute("CREATE TABLE items (id serial PRIMARY KEY, key text UNIQUE NOT NULL, body bytea)")
    yield open_connection
    for connection in opened:
        connection.close()


def stored(connection: psycopg.Connection[Any]) -> list[tuple[str, bytes | None]]:
    return [(key, None if body is None else bytes(body))
            for key, body in connection.execute("SELECT key, body FROM items ORDER BY id")]


def test_each_row_gets_its_own_result_in_order_and_the_bytes_go_in_as_sent(connect: Any):
    connection = connect()
    rows = [[f"k{n}".encode(), bytes([n, 0, 255]) + b"\xff\x00"] for n in range(5)]
    results = batch().run(connection, rows)
    ids = [int(result.get_value(0, 0)) for result in results]
    assert ids == sorted(ids) and len(set(ids)) == 5
    assert stored(connection) == [(f"k{n}", bytes([n, 0, 255]) + b"\xff\x00") for n in range(5)]
    assert connection.info.transaction_status == psycopg.pq.TransactionStatus.IDLE, "committed at the sync"


def test_a_failing_row_rolls_back_the_whole_batch_with_the_servers_error(connect: Any):
    connection = connect()
    prepared = batch()
    prepared.run(connection, [[b"taken", b"first"]])
    with pytest.raises(errors.UniqueViolation):
        prepared.run(connection, [[b"new-1", b"x"], [b"taken", b"again"], [b"new-2", b"y"]])
    assert stored(connection) == [("taken", b"first")], "nothing of the failed batch is kept"
    prepared.run(connection, [[b"after", b"z"]])
    assert [key for key, _ in stored(connection)] == ["taken", "after"], "the connection is usable after"


def test_a_batch_larger_than_the_socket_buffers_goes_through(connect: Any):
    """Sending several MB fills the socket while the server is already answering: the flush must
    read as well as write, or both sides wait for each other forever."""
    connection = connect()
    body = bytes(range(256)) * 2048  # 512 KB, sent and (RETURNING it) answered back
    echo = PreparedBatch("test_insert_echo", INSERT.replace("RETURNING id", "RETURNING id, body"),
                         param_types=[0, 17], formats=[0, 1])
    rows = [[f"big-{n}".encode(), body] for n in range(24)]
    results: list[Any] = []
    # In a thread of its own, so a deadlock fails the test instead of hanging the suite.
    sender = threading.Thread(target=lambda: results.extend(echo.run(connection, rows)), daemon=True)
    sender.start()
    sender.join(60)
    assert not sender.is_alive(), "the pipeline deadlocked: the flush never read the server's answers"
    assert len(results) == 24
    sizes = connection.execute("SELECT count(*), sum(length(body)) FROM items").fetchone()
    assert sizes == (24, 24 * len(body))


def test_the_statement_is_prepared_again_on_a_new_connection(connect: Any):
    prepared = batch()
    first, second = connect(), connect()
    prepared.run(first, [[b"on-first", None]])
    prepared.run(second, [[b"on-second", None]])
    prepared.run(first, [[b"first-again", None]])
    assert [key for key, _ in stored(first)] == ["on-first", "on-second", "first-again"]
    names = {name for (name,) in second.execute("SELECT name FROM pg_prepared_statements")}
    assert "test_insert_item" in names


def test_a_batch_cut_off_half_way_closes_the_connection_and_stores_nothing(connect: Any):
    connection, observer = connect(), connect()
    with pytest.raises(TypeError):  # the second row's key is not bytes: found after the first was sent
        batch().run(connection, [[b"sent", b"x"], ["not bytes", b"y"]])
    assert connection.closed, "a pipeline left mid-flight is not trusted again"
    assert stored(observer) == []


def test_a_failing_row_in_the_first_batch_keeps_the_statement_prepared(connect: Any):
    """The statement is prepared in the first batch's pipeline; a row's error aborts the batch's
    transaction but not the statement, and the next batch must not prepare it twice."""
    connection, other = connect(), connect()
    other.execute("INSERT INTO items (key) VALUES ('taken')")
    prepared = batch()
    with pytest.raises(errors.UniqueViolation):
        prepared.run(connection, [[b"new", None], [b"taken", None]])
    prepared.run(connection, [[b"after", None]])
    assert [key for key, _ in stored(connection)] == ["taken", "after"]


def test_a_statement_the_server_refuses_to_prepare_raises_its_error_and_stores_nothing(connect: Any):
    connection = connect()
    broken = PreparedBatch("test_broken", "INSERT INTO no_such_table (key) VALUES ($1)", [0], [0])
    with pytest.raises(errors.UndefinedTable):
        broken.run(connection, [[b"k"]])
    with pytest.raises(errors.UndefinedTable):  # not taken for prepared: tried again, refused again
        broken.run(connection, [[b"k"]])
    assert stored(connection) == []


def test_the_first_batch_waits_for_a_locked_table_on_the_socket_not_inside_libpq(connect: Any, monkeypatch):
    """Preparing an INSERT waits for the table's lock. That wait must go through ``select`` like
    every other, which gevent makes cooperative, never through a blocking libpq call that would
    stall a whole gevent web process (tests/faults/test_web_waits_cooperatively.py)."""
    import select as select_module

    connection, locker = connect(), connect()
    waits = []
    real_select = select_module.select

    def counted(*args: Any) -> Any:
        waits.append(args)
        return real_select(*args)

    monkeypatch.setattr(select_module, "select", counted)
    with locker.transaction():
        locker.execute("LOCK TABLE items IN ACCESS EXCLUSIVE MODE")
        sender = threading.Thread(target=lambda: batch().run(connection, [[b"waited", None]]), daemon=True)
        sender.start()
        sender.join(1.0)
        assert sender.is_alive(), "the batch waits for the lock"
        assert waits, "and it waits in select"
    sender.join(10)
    assert not sender.is_alive()
    assert [key for key, _ in stored(connection)] == ["waited"]
