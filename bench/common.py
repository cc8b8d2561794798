"""What the production benchmarks (and the process fault tests) share: real processes on free ports.

A benchmark of the production shape has to run the shape: gunicorn with the project's
``gunicorn.conf.py`` for the web side, ``flask --app app worker`` processes, and the Halo sandbox
as a separate process standing in for Halo. This module starts and stops those, builds the
connector's environment for either backend (embedded: SQLite + SqliteHuey; production:
PostgreSQL + Redis in a schema and queue of their own), signs Typeform deliveries with
example.com data, sends load open-loop at a fixed rate, and reads RSS from ``/proc``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import requests

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BIN = Path(PYTHON).parent
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
TYPEFORM_SECRET = "bench-typeform-secret"
CONNECTOR_KEY = "bench-key-123456"
HALO_KEY = "ab_live_bench"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (``pct`` in 0-100); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


# --- processes ---------------------------------------------------------------------------------


@dataclass
class Proc:
    """A child process in its own session (so a kill reaches its children), logging to a file."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    #: The checkout it runs from (``bench/ab_ack.py`` runs two).
    cwd: Path = PROJECT_ROOT
    popen: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = field(default=None, repr=False)

    def start(self) -> Proc:
        self._log = open(self.log_path, "ab")
        self.popen = subprocess.Popen(self.argv, env=self.env, cwd=self.cwd, stdout=self._log,
                                      stderr=subprocess.STDOUT, start_new_session=True)
        return self

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` to the whole process group (gunicorn's workers, the consumer's threads)."""
        if self.alive():
            try:
                os.killpg(self.pid, sig)
            except ProcessLookupError:
                pass

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL if it has not gone after ``timeout`` seconds."""
        if self.popen is None:
            return
        self.kill(signal.SIGTERM)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill(signal.SIGKILL)
            self.popen.wait(5)
        if self._log is not None:
            self._log.close()

    def wait_dead(self, timeout: float = 10.0) -> None:
        assert self.popen is not None
        self.popen.wait(timeout)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def wait_http(url: str, timeout: float = 30.0, proc: Proc | None = None) -> None:
    """Wait until ``url`` answers anything below 500 (or fail, with the process log tail).

    On failure ``proc`` is stopped first: its caller never got it back to stop, and a server
    left answering 500 would outlive the test or benchmark that started it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and not proc.alive():
            raise RuntimeError(f"{proc.name} exited:\n{proc.log_text()[-3000:]}")
        try:
            if requests.get(url, timeout=1).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    tail = ""
    if proc is not None:
        proc.stop()
        tail = proc.log_text()[-3000:]
    raise RuntimeError(f"{url} did not answer within {timeout:g} s\n{tail}")


def start_sandbox(workdir: Path, *, port: int | None = None, faults: str | None = None) -> tuple[Proc, str]:
    """The Halo sandbox as its own process; returns it and its API base URL."""
    port = port or free_port()
    argv = [PYTHON, "-m", "connector.sandbox", "--port", str(port),
            "--database-url", f"sqlite:///{workdir}/sandbox.db"]
    if faults:
        argv += ["--faults", faults]
    env = {**base_process_env(), "SANDBOX_FAULTS": ""}
    proc = Proc("sandbox", argv, env, workdir / "sandbox.log").start()
    base = f"http://127.0.0.1:{port}/sandbox"
    wait_http(f"{base}/inspect/tickets", proc=proc)
    return proc, base


def base_process_env() -> dict[str, str]:
    """The parent's environment without settings that would leak into a child (.env values are
    only loaded for unset variables, so every connector variable is set explicitly)."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV", "SYSTEMROOT")
    env = {name: os.environ[name] for name in keep if name in os.environ}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def connector_env(backend: str, workdir: Path, halo_url: str, **overrides: str) -> dict[str, str]:
    """The environment of a production-shaped connector (external workers, no sandbox inside)."""
    env = {
        **base_process_env(),
        "HALO_API_URL": halo_url,
        "HALO_API_KEY": HALO_KEY,
        "CONNECTOR_API_KEYS": CONNECTOR_KEY,
        "TYPEFORM_SECRET": TYPEFORM_SECRET,
        "WORKER_MODE": "external",
        "SANDBOX_ENABLED": "false",
        "LOG_LEVEL": "WARNING",
        "ROUTES_FILE": "",
        "PUBLIC_URL": "",
    }
    if backend == "production":
        env["DATABASE_URL"] = postgres_schema_url()
        env["REDIS_URL"] = REDIS_URL
        env["QUEUE_NAME"] = f"bench-{uuid.uuid4().hex[:10]}"
    elif backend == "embedded":
        env["DATABASE_URL"] = f"sqlite:///{workdir}/connector.db"
        env["REDIS_URL"] = ""
    else:
        raise ValueError(f"backend must be embedded or production, not {backend!r}")
    env.update(overrides)
    return env


def postgres_schema_url() -> str:
    """A fresh schema of its own on the shared PostgreSQL (dropped by :func:`drop_schema`)."""
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL.replace("+psycopg", ""), autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    return f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"


def drop_schema(database_url: str) -> None:
    """Drop the schema :func:`postgres_schema_url` made (no-op for SQLite)."""
    if "search_path%3D" not in database_url:
        return
    import psycopg

    schema = database_url.rsplit("search_path%3D", 1)[1].split("&", 1)[0]
    with psycopg.connect(POSTGRES_URL.replace("+psycopg", ""), autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def drop_queue(env: Mapping[str, str]) -> None:
    """Delete a Redis queue's keys (only the queue named in ``env``)."""
    if not env.get("REDIS_URL"):
        return
    import redis

    client = redis.Redis.from_url(env["REDIS_URL"])
    for key in client.scan_iter(f"*{env['QUEUE_NAME']}*"):
        client.delete(key)


def migrate(env: Mapping[str, str], root: Path = PROJECT_ROOT) -> None:
    """``flask --app app db upgrade``, as a deployment runs it once before starting processes."""
    subprocess.run([str(BIN / "flask"), "--app", "app", "db", "upgrade"], env=dict(env),
                   cwd=root, check=True, capture_output=True)


def start_gunicorn(env: Mapping[str, str], workdir: Path, *, app: str = "app:create_app()",
                   name: str = "web", port: int | None = None, workers: int | None = None,
                   root: Path = PROJECT_ROOT) -> tuple[Proc, str]:
    """gunicorn with the gunicorn.conf.py of ``root`` (this checkout); returns it and its base URL."""
    port = port or free_port()
    env = {**env, "HOST": "127.0.0.1", "PORT": str(port)}
    if workers is not None:
        env["GUNICORN_WORKERS"] = str(workers)
    argv = [str(BIN / "gunicorn"), "-c", str(root / "gunicorn.conf.py"),
            "--access-logfile", str(workdir / f"{name}-access.log"), app]
    proc = Proc(name, argv, env, workdir / f"{name}.log", cwd=root).start()
    base = f"http://127.0.0.1:{port}"
    wait_http(f"{base}/health", proc=proc)
    return proc, base


def start_worker(env: Mapping[str, str], workdir: Path, *, name: str = "worker", threads: int = 4) -> Proc:
    """A ``flask --app app worker`` process."""
    argv = [str(BIN / "flask"), "--app", "app", "worker", "--threads", str(threads)]
    return Proc(name, argv, dict(env), workdir / f"{name}.log").start()


def rss_mb(pid: int) -> float:
    """Resident memory of one process, in MB (from /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return math.nan


def children(pid: int) -> list[int]:
    """Direct children of ``pid`` (gunicorn's workers under its arbiter)."""
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        for line in text.splitlines():
            if line.startswith("PPid:") and int(line.split()[1]) == pid:
                found.append(int(status.parent.name))
                break
    return found


# --- Typeform deliveries -----------------------------------------------------------------------


def typeform_body(event_id: str, *, email: str = "pat@example.com", note: str = "",
                  hidden: Mapping[str, str] | None = None) -> bytes:
    """A realistic Typeform ``form_response`` with example.com data (``hidden``: hidden fields)."""
    payload = {
        "event_id": event_id,
        "event_type": "form_response",
        "form_response": {
            "form_id": "bench01",
            "token": event_id,
            "submitted_at": "2026-11-27T10:00:00Z",
            "landed_at": "2026-11-27T09:58:00Z",
            "hidden": dict(hidden or {}),
            "definition": {
                "id": "bench01",
                "title": "Support request",
                "fields": [
                    {"id": "f_email", "ref": "email", "type": "email", "title": "Your email"},
                    {"id": "f_name", "ref": "name", "type": "short_text", "title": "Your name"},
                    {"id": "f_msg", "ref": "message", "type": "long_text", "title": "How can we help?"},
                    {"id": "f_plan", "ref": "plan", "type": "multiple_choice", "title": "Plan"},
                ],
            },
            "answers": [
                {"type": "email", "email": email, "field": {"id": "f_email", "type": "email", "ref": "email"}},
                {"type": "text", "text": "Pat Example", "field": {"id": "f_name", "type": "short_text", "ref": "name"}},
                {"type": "text", "text": f"My order has not arrived yet. {note}".strip(),
                 "field": {"id": "f_msg", "type": "long_text", "ref": "message"}},
                {"type": "choice", "choice": {"label": "Pro"},
                 "field": {"id": "f_plan", "type": "multiple_choice", "ref": "plan"}},
            ],
        },
    }
    return json.dumps(payload, separators=(",", ":")).encode()


def typeform_headers(raw: bytes, secret: str = TYPEFORM_SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), raw, hashlib.sha256).digest()
    return {"Content-Type": "application/json",
            "Typeform-Signature": "sha256=" + base64.b64encode(digest).decode()}


def post_typeform(session: requests.Session, base: str, event_id: str, *, timeout: float = 10.0,
                  **kwargs: Any) -> requests.Response:
    raw = typeform_body(event_id, **kwargs)
    return session.post(f"{base}/hooks/typeform", data=raw, headers=typeform_headers(raw), timeout=timeout)


# --- load --------------------------------------------------------------------------------------


@dataclass
class Sent:
    """One request of an open-loop run: when it was due, when it was answered, and how."""

    index: int
    due: float
    done: float
    status: int

    @property
    def latency(self) -> float:
        """Seconds from when it was due (not when a thread got to it): no coordinated omission."""
        return self.done - self.due


def open_loop(send: Callable[[requests.Session, int], int], *, rate: float, seconds: float,
              threads: int = 32) -> list[Sent]:
    """Call ``send(session, i)`` ``rate`` times a second for ``seconds``, on schedule.

    Request *i* is due at ``start + i / rate`` whatever happened to earlier ones, and its latency
    is counted from then, so a stall shows up as latency instead of as fewer requests.
    """
    total = int(rate * seconds)
    start = time.perf_counter() + 0.2
    results: list[Sent] = []
    lock = threading.Lock()
    counter = iter(range(total))

    def run() -> None:
        session = requests.Session()
        while True:
            with lock:
                index = next(counter, None)
            if index is None:
                return
            due = start + index / rate
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            try:
                status = send(session, index)
            except requests.RequestException:
                status = 0
            done = time.perf_counter()
            with lock:
                results.append(Sent(index, due, done, status))

    pool = [threading.Thread(target=run, daemon=True) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return sorted(results, key=lambda sent: sent.index)


@contextmanager
def workspace(prefix: str) -> Iterator[Path]:
    """A temporary directory for logs and SQLite files, removed afterwards."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix=prefix) as name:
        yield Path(name)


def sandbox_tickets(base: str, limit: int = 10_000) -> list[dict[str, Any]]:
    """What the sandbox received, newest first."""
    response = requests.get(f"{base}/inspect/tickets", params={"limit": limit}, timeout=30)
    response.raise_for_status()
    return response.json()


def ticket_event_id(ticket: Mapping[str, Any]) -> str | None:
    """The sender's event id the connector put in the ticket's provenance metadata."""
    metadata = ticket.get("metadata") or {}
    return (metadata.get("connector") or {}).get("event_id")


@dataclass
class Stack:
    """A running production-shaped deployment: the sandbox as Halo, gunicorn, worker processes."""

    workdir: Path
    env: dict[str, str]
    sandbox: Proc
    halo: str
    web: Proc
    base: str
    workers: list[Proc]

    def processes(self) -> dict[str, list[int]]:
        """Web processes (gunicorn's workers; the arbiter only forks) and worker processes."""
        return {"web": children(self.web.pid), "worker": [proc.pid for proc in self.workers]}

    def rss(self) -> dict[str, float]:
        """The largest RSS, in MB, among the web processes and among the worker processes."""
        return {kind: max((rss_mb(pid) for pid in pids), default=math.nan)
                for kind, pids in self.processes().items()}


@contextmanager
def stack(backend: str, prefix: str, *, workers: int = 1, threads: int = 4, web_workers: int | None = None,
          faults: str | None = None, **overrides: str) -> Iterator[Stack]:
    """Start the sandbox, migrate, start gunicorn and ``workers`` worker processes; stop and
    clean up (schema, queue keys, files) afterwards."""
    with workspace(prefix) as workdir:
        sandbox, halo = start_sandbox(workdir, faults=faults)
        env = connector_env(backend, workdir, f"{halo}/api/sdk", **overrides)
        procs: list[Proc] = [sandbox]
        try:
            migrate(env)
            web, base = start_gunicorn(env, workdir, workers=web_workers)
            procs.append(web)
            pool = [start_worker(env, workdir, name=f"worker{n}", threads=threads) for n in range(workers)]
            procs += pool
            yield Stack(workdir, env, sandbox, halo, web, base, pool)
        finally:
            for proc in reversed(procs):
                proc.stop()
            drop_schema(env["DATABASE_URL"])
            drop_queue(env)


class Backlog:
    """Reads how much work waits: undelivered submissions, the oldest one's age, the queue length."""

    def __init__(self, env: Mapping[str, str]) -> None:
        from connector.config import load_settings
        from connector.delivery.queue import make_huey
        from connector.store import Store

        settings = load_settings(dict(env))
        self.store = Store(settings.database_url)
        self.huey = make_huey(settings)

    def sample(self) -> dict[str, float]:
        from sqlalchemy import func, select

        from connector.store import Status, Submission
        from connector.store.types import utcnow

        waiting = (Status.PENDING, Status.RETRYING, Status.DELIVERING)
        with self.store.session() as session:
            count, oldest = session.execute(
                select(func.count(), func.min(Submission.received_at))
                .where(Submission.status.in_(waiting))).one()
            delivered = session.execute(select(func.count()).where(
                Submission.status == Status.DELIVERED)).scalar_one()
        age = (utcnow() - oldest).total_seconds() if oldest is not None else 0.0
        return {"undelivered": float(count), "oldest_age_s": age, "queue": float(self.huey.pending_count()),
                "delivered": float(delivered)}

    def close(self) -> None:
        self.store.dispose()
