"""One writer at a time on a SQLite file, queued in the kernel instead of SQLite's busy handler.

SQLite allows one write transaction per file. When a second connection wants to write, its
busy handler sleeps 1, 2, 5, 10 ... up to 100 ms between retries, however soon the lock frees:
under a burst of webhook acks (several gunicorn processes, several threads each) most of the
wall time went into those sleeps, and p99 into hundreds of milliseconds. Here every connection
takes a per-file writer lock just before its first write statement and gives it back when the
transaction ends: a thread lock inside the process, then ``flock`` on a lock file beside the
database across processes. A waiting writer sleeps in the kernel and runs the moment the lock is
free. A crashed holder releases the ``flock`` with its process.

Connections are made with ``sqlite3.connect(..., factory=WriterLockedConnection)`` (see
``connector.store.make_engine`` and the Huey queue file); nothing else changes for callers.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any

#: The lock file's name: the database file's name with this added.
LOCK_SUFFIX = ".writer-lock"

#: Statements that make a transaction a write transaction (after leading whitespace, any case).
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "BEGIN IMMEDIATE", "BEGIN EXCLUSIVE")
_WRITES_LEN = max(len(word) for word in _WRITES)


class WriterLock:
    """The writer lock of one database file, for this process."""

    def __init__(self, path: Path) -> None:
        self.lock_path = path.with_name(path.name + LOCK_SUFFIX)
        self._thread_lock = threading.Lock()
        self._fd: int | None = None
        self._pid = 0

    def acquire(self, timeout: float) -> None:
        """Wait for the lock; after ``timeout`` seconds raise what SQLite would: "database is locked"."""
        if not self._thread_lock.acquire(timeout=timeout):
            raise sqlite3.OperationalError("database is locked")
        try:
            fcntl.flock(self._file(), fcntl.LOCK_EX)
        except BaseException:
            self._thread_lock.release()
            raise

    def release(self) -> None:
        try:
            if self._fd is not None and self._pid == os.getpid():
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._thread_lock.release()

    def _file(self) -> int:
        # Opened once per process: a forked child must not share its parent's open file, or the
        # two would hold the flock together.
        if self._fd is None or self._pid != os.getpid():
            self._fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._pid = os.getpid()
        return self._fd

    def _after_fork(self) -> None:
        """A child starts with the thread lock free: the thread that held it is not there."""
        self._thread_lock = threading.Lock()
        self._fd = None


_locks: dict[str, WriterLock] = {}
_locks_guard = threading.Lock()


def writer_lock(database: str | os.PathLike[str]) -> WriterLock:
    """The process's lock for ``database`` (one per file, whatever the spelling of its path)."""
    path = Path(database).resolve()
    with _locks_guard:
        lock = _locks.get(str(path))
        if lock is None:
            lock = _locks[str(path)] = WriterLock(path)
        return lock


def _reset_after_fork() -> None:
    global _locks_guard
    _locks_guard = threading.Lock()
    for lock in _locks.values():
        lock._after_fork()


os.register_at_fork(after_in_child=_reset_after_fork)


class WriterLockedConnection(sqlite3.Connection):
    """A ``sqlite3`` connection that holds its file's writer lock from its first write statement
    until the transaction ends (commit, rollback or close)."""

    def __init__(self, database: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(database, *args, **kwargs)
        self._writer_lock = writer_lock(database)
        self._lock_timeout = float(kwargs.get("timeout", 5.0))
        self._holding = False

    def cursor(self, factory: Any = None) -> sqlite3.Cursor:  # type: ignore[override]
        return super().cursor(factory or WriterLockedCursor)

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:  # type: ignore[override]
        return self.cursor().execute(sql, parameters)

    def executemany(self, sql: str, parameters: Any, /) -> sqlite3.Cursor:  # type: ignore[override]
        return self.cursor().executemany(sql, parameters)

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._release()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._release()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._release()

    def before_statement(self, sql: str) -> None:
        if not self._holding and sql.lstrip()[:_WRITES_LEN].upper().startswith(_WRITES):
            self._writer_lock.acquire(self._lock_timeout)
            self._holding = True

    def after_statement(self) -> None:
        """A write outside a transaction (autocommit) ends with its statement."""
        if self._holding and not self.in_transaction:
            self._release()

    def _release(self) -> None:
        if self._holding:
            self._holding = False
            self._writer_lock.release()


class WriterLockedCursor(sqlite3.Cursor):
    """Takes the connection's writer lock before a write statement (see the module docstring)."""

    connection: WriterLockedConnection

    def execute(self, sql: str, parameters: Any = (), /) -> WriterLockedCursor:  # type: ignore[override]
        self.connection.before_statement(sql)
        try:
            super().execute(sql, parameters)
        finally:
            self.connection.after_statement()
        return self

    def executemany(self, sql: str, parameters: Any, /) -> WriterLockedCursor:  # type: ignore[override]
        self.connection.before_statement(sql)
        try:
            super().executemany(sql, parameters)
        finally:
            self.connection.after_statement()
        return self
