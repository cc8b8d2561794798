"""SQLite writers queue on the file's writer lock instead of SQLite's sleeping busy handler."""

from __future__ import annotations

import fcntl
import multiprocessing
import os
import sqlite3
import threading
from pathlib import Path

import pytest

from connector.store import Store
from connector.store.sqlite_writer import WriterLockedConnection, writer_lock
from tests.helpers import open_files


def connect(path: Path, *, timeout: float = 30.0, autocommit: bool = False) -> WriterLockedConnection:
    connection = sqlite3.connect(path, timeout=timeout, factory=WriterLockedConnection, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    # SQLite itself must never wait: if two writers ever met inside SQLite, they would fail.
    connection.execute("PRAGMA busy_timeout=0")
    if autocommit:
        connection.isolation_level = None
    return connection


def held_elsewhere(path: Path) -> bool:
    """Whether some open file holds the lock (tried from a file of our own, without waiting)."""
    fd = os.open(writer_lock(path).lock_path, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """The file with its table, and no connection left open: a connection open across a fork
    loses the children's commits (SQLite's locks are per process, and the child would inherit
    the parent's view of them). ``with connection`` only commits, and on Python 3.11 a
    connection is freed by the cycle collector, not when its last name goes, so it is closed
    here by hand."""
    path = tmp_path / "w.db"
    connection = connect(path)
    connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, who TEXT)")
    connection.commit()
    connection.close()
    return path


def test_a_writer_holds_the_lock_from_its_first_write_until_commit(db: Path):
    connection = connect(db)
    connection.execute("SELECT count(*) FROM t").fetchone()
    assert not held_elsewhere(db), "reads never take the writer lock"
    connection.execute("INSERT INTO t (who) VALUES ('a')")
    assert held_elsewhere(db)
    connection.execute("INSERT INTO t (who) VALUES ('b')")  # same transaction, still one hold
    connection.commit()
    assert not held_elsewhere(db)
    connection.close()


@pytest.mark.parametrize("ending", ["rollback", "close"])
def test_rollback_and_close_give_the_lock_back(db: Path, ending: str):
    connection = connect(db)
    connection.cursor().execute("UPDATE t SET who = 'x'")
    assert held_elsewhere(db)
    getattr(connection, ending)()
    assert not held_elsewhere(db)


def test_a_failed_write_keeps_the_lock_until_its_transaction_ends(db: Path):
    connection = connect(db)
    connection.execute("INSERT INTO t (id, who) VALUES (1, 'a')")
    with pytest.raises(sqlite3.IntegrityError):
        connection.execute("INSERT INTO t (id, who) VALUES (1, 'again')")
    assert held_elsewhere(db) and connection.in_transaction
    connection.rollback()
    assert not held_elsewhere(db)


def test_an_autocommit_write_holds_the_lock_only_for_its_statement(db: Path):
    connection = connect(db, autocommit=True)
    connection.execute("INSERT INTO t (who) VALUES ('a')")
    assert not held_elsewhere(db)
    connection.execute("BEGIN IMMEDIATE")
    assert held_elsewhere(db)
    connection.execute("INSERT INTO t (who) VALUES ('b')")
    connection.commit()
    assert not held_elsewhere(db)


def test_a_writer_waits_no_longer_than_its_timeout(db: Path):
    holder = connect(db)
    holder.execute("INSERT INTO t (who) VALUES ('holder')")
    waiter = connect(db, timeout=0.2)
    errors: list[Exception] = []

    def write() -> None:
        try:
            waiter.execute("INSERT INTO t (who) VALUES ('waiter')")
        except sqlite3.OperationalError as error:
            errors.append(error)

    thread = threading.Thread(target=write)
    thread.start()
    thread.join(10)
    assert [str(e) for e in errors] == ["database is locked"]
    holder.commit()


def _hammer(path: str, label: str, rows: int, failures: multiprocessing.SimpleQueue) -> None:  # type: ignore[type-arg]
    def write(thread: int) -> None:
        connection = connect(Path(path))
        try:
            for number in range(rows):
                connection.execute("INSERT INTO t (who) VALUES (?)", (f"{label}-{thread}-{number}",))
                connection.commit()
        except Exception as error:  # reported to the test, which fails on any
            failures.put(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_threads_in_several_processes_write_without_ever_meeting_inside_sqlite(db: Path):
    """With SQLite's own busy timeout at zero, any two writers meeting inside SQLite would fail
    with "database is locked"; the writer lock queues them all first."""
    if os.path.isdir("/proc/self/fd"):
        assert open_files(db) == [], "a SQLite connection must not cross the fork"
    context = multiprocessing.get_context("fork")
    failures = context.SimpleQueue()  # put() has written when it returns: no feeder thread to race
    processes = [context.Process(target=_hammer, args=(str(db), f"p{n}", 150, failures)) for n in range(2)]
    for process in processes:
        process.start()
    _hammer(str(db), "parent", 150, failures)
    for process in processes:
        process.join(60)
        assert process.exitcode == 0
    reported = []
    while not failures.empty():
        reported.append(failures.get())
    assert reported == []
    with sqlite3.connect(db) as connection:
        assert connection.execute("SELECT count(*) FROM t").fetchone()[0] == 3 * 4 * 150


def test_a_child_forked_while_the_parent_holds_the_lock_waits_for_the_parent(db: Path):
    """The child must neither inherit the hold (sharing the parent's open lock file) nor find the
    thread lock stuck (its holder thread is not in the child). SQLite connections must not cross
    a fork, so this is checked on the lock itself."""
    lock = writer_lock(db)
    lock.acquire(timeout=5)
    context = multiprocessing.get_context("fork")
    acquired = context.Event()

    def child() -> None:
        lock.acquire(timeout=5)
        acquired.set()
        lock.release()

    process = context.Process(target=child)
    process.start()
    assert not acquired.wait(0.5), "the child took the lock while the parent held it"
    lock.release()
    assert acquired.wait(10)
    process.join(10)
    assert process.exitcode == 0


def test_the_store_and_its_sessions_use_the_writer_lock(tmp_path: Path):
    store = Store(f"sqlite:///{tmp_path}/s.db")
    store.migrate()
    with store.engine.connect() as connection:
        assert isinstance(connection.connection.driver_connection, WriterLockedConnection)
    with store.session() as session:
        session.connection().exec_driver_sql(
            "INSERT INTO hook_subscriptions (tenant, event, target_url, secret, created_at, client) "
            "VALUES ('t', 'new_ticket', 'https://example.com/h', 's', '2026-01-01 00:00:00', 'api')")
        assert held_elsewhere(tmp_path / "s.db")
    assert not held_elsewhere(tmp_path / "s.db")
    store.dispose()
