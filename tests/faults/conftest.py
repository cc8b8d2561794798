"""Fault tests run the production shape as real processes: the sandbox as Halo, gunicorn for the
web side and ``flask --app app worker`` processes, on the suite's backend (tests/backends.py: each
test its own SQLite file or PostgreSQL schema, and its own queue name). Faults are done to those
processes (SIGKILL, SIGSTOP), to servers started for the test alone (a private redis-server), or
to the test's own database connections; never to the machine's shared PostgreSQL or Redis.

Every test ends with the same check: the sandbox received exactly one ticket per submitted event,
and the connector's records agree.
"""

from __future__ import annotations

import collections
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select

from bench import common
from connector.store import Attempt, Store, Submission
from tests import backends

#: Short enough that a test waits seconds, not minutes, for a dead worker's lease.
LEASE_SECONDS = "3"


def wait_until(predicate: Callable[[], Any], timeout: float, what: str, every: float = 0.2) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail naming ``what`` otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(every)


@dataclass
class Deployment:
    """The processes of one test, its environment, and readers of what happened."""

    workdir: Path
    env: dict[str, str]
    sandbox: common.Proc
    halo: str
    procs: list[common.Proc] = field(default_factory=list)
    _store: Store | None = None

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store(self.env["DATABASE_URL"])
        return self._store

    def web(self, name: str = "web", workers: int = 2, **env: str) -> tuple[common.Proc, str]:
        proc, base = common.start_gunicorn({**self.env, **env}, self.workdir, name=name, workers=workers)
        self.procs.append(proc)
        return proc, base

    def worker(self, name: str = "worker", threads: int = 4, **env: str) -> common.Proc:
        proc = common.start_worker({**self.env, **env}, self.workdir, name=name, threads=threads)
        self.procs.append(proc)
        return proc

    def set_faults(self, spec: str | None) -> None:
        """Replace the sandbox's runtime faults (None clears them)."""
        url = f"{self.halo}/control/faults"
        response = (requests.delete(url, timeout=5) if spec is None
                    else requests.put(url, json={"spec": spec}, timeout=5))
        assert response.status_code < 300, response.text

    def tickets_by_event(self) -> collections.Counter[str | None]:
        return collections.Counter(common.ticket_event_id(t) for t in common.sandbox_tickets(self.halo))

    def statuses(self) -> dict[str, str]:
        """Each submission's status, by event id."""
        with self.store.session() as session:
            rows = session.execute(select(Submission.event_id, Submission.status)).all()
        return {row.event_id: row.status for row in rows}

    def attempts(self) -> dict[str, list[Attempt]]:
        """Each submission's attempts, oldest first, by event id."""
        with self.store.session() as session:
            rows = session.execute(select(Submission.event_id, Attempt).join(
                Attempt, Attempt.submission_id == Submission.id).order_by(Attempt.id)).all()
        found: dict[str, list[Attempt]] = collections.defaultdict(list)
        for event_id, attempt in rows:
            found[event_id].append(attempt)
        return found

    def wait_delivered(self, event_ids: list[str], timeout: float) -> None:
        try:
            wait_until(lambda: all(self.statuses().get(e) == "delivered" for e in event_ids), timeout,
                       f"{len(event_ids)} submissions to be delivered")
        except AssertionError as error:
            raise AssertionError(f"{error}; statuses {self.statuses()}\n{self.logs()}") from None

    def assert_exactly_once(self, event_ids: list[str]) -> None:
        """What the sandbox received: one ticket per event, nothing else; the records agree."""
        received = self.tickets_by_event()
        assert received == collections.Counter(event_ids), received
        assert set(self.statuses().values()) == {"delivered"}, self.statuses()
        assert len(self.statuses()) == len(event_ids)

    def logs(self) -> str:
        return "\n".join(f"--- {p.name} ---\n{p.log_text()[-4000:]}" for p in [self.sandbox, *self.procs])


def send(base: str, event_id: str, *, timeout: float = 10.0, session: requests.Session | None = None,
         **kwargs: Any) -> requests.Response:
    """One signed Typeform delivery, as the sender makes it."""
    return common.post_typeform(session or requests.Session(), base, event_id, timeout=timeout, **kwargs)


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[Deployment]:
    """The sandbox as Halo, and the environment web and worker processes of this test share:
    the suite's backend, short leases, no quick retries inside a call (each Halo answer becomes a
    recorded attempt), a short read timeout."""
    sandbox, halo = common.start_sandbox(tmp_path)
    env = common.connector_env("embedded", tmp_path, f"{halo}/api/sdk")
    env.update({"DATABASE_URL": backends.database_url(tmp_path), "REDIS_URL": "",
                **backends.queue_env(), "DELIVERY_LEASE_SECONDS": LEASE_SECONDS,
                "HALO_MAX_RETRIES": "0", "HALO_READ_TIMEOUT": "5", "LOG_LEVEL": "INFO"})
    common.migrate(env)
    running = Deployment(tmp_path, env, sandbox, halo)
    try:
        yield running
    finally:
        for proc in reversed(running.procs):
            proc.stop()
        running.sandbox.stop()
        if running._store is not None:
            running._store.dispose()


@dataclass
class OwnRedis:
    """A redis-server of the test's own (on a free port, no persistence), to stop and restart."""

    workdir: Path
    port: int
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import redis

        client = redis.Redis(port=self.port)
        wait_until(lambda: _pings(client), 10, "the test's redis-server")
        client.close()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)

    def pause(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)


def _pings(client: Any) -> bool:
    try:
        return bool(client.ping())
    except Exception:
        return False


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is needed for this fault test (it is installed in CI)")
    server = OwnRedis(tmp_path, common.free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()  # SIGKILL also ends a server the test left paused


production_only = pytest.mark.skipif(
    not backends.production(),
    reason="PostgreSQL/Redis fault: runs in the TEST_BACKEND=production pass of `make test`")
