"""Offline replay: one in-process connector per run, Halo stubbed with ``responses``.

The app is built once (SQLite in a temporary folder unless a database is given) and reset
between cases by emptying its tables, which keeps a case at a few milliseconds. Halo answers
either come from the fixture's ``replies`` or from an in-process sandbox (``sandbox: true``,
optionally with ``faults``); every call is recorded either way and compared in order.
Deliveries the webhook and email routes queue are run synchronously right after the answer,
as the background worker would.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import multiprocessing.util
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import responses
from flask import Flask
from sqlalchemy import select

from connector.harness.fixtures import Case, FixtureError
from connector.harness.inbound import HARNESS_API_KEY, Outgoing, build, harness_env
from connector.harness.outcome import Observed, Result, compare
from connector.store import Submission
from connector.store.models import Base

HALO_URL = "https://halo.harness.invalid/api/sdk"
BASE_URL = "http://localhost"
#: Submission columns a fixture may check (``expect.submissions``).
SUBMISSION_FIELDS = ("channel", "source", "status", "status_reason")


def offline_env(workdir: Path, overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {
        "HALO_API_URL": HALO_URL,
        "HALO_API_KEY": "ab_live_harness",
        "DATABASE_URL": f"sqlite:///{workdir}/connector.db",
        "WORKER_MODE": "external",
        "HALO_MAX_RETRIES": "0",
        "SANDBOX_ENABLED": "false",
        **harness_env(),
    }
    env.update(overrides or {})
    return env


class FakeHalo:
    """The Halo every replayed call reaches: declared replies or the sandbox, all recorded."""

    def __init__(self) -> None:
        from connector.sandbox import SandboxConfig, create_app
        from connector.sandbox.state import EXTENSION_KEY

        app = create_app(SandboxConfig(database_url="sqlite:///:memory:"))
        self.sandbox = app.test_client()
        #: The sandbox's state, reset directly (two HTTP round trips per case otherwise).
        self.state = app.extensions[EXTENSION_KEY]
        self.calls: list[dict[str, Any]] = []
        self.replies: list[dict[str, Any]] = []
        self.use_sandbox = True
        self.recording = True
        #: The sandbox holds data or faults from an earlier case (reset only then: it is not free).
        self._dirty = False

    def reset(self) -> None:
        """Forget the previous case: no calls, no replies, an empty sandbox without faults."""
        self.calls = []
        self.use_sandbox, self.replies = True, []
        if self._dirty:
            self.state.reset()
            self.state.faults.clear()
            self._dirty = False

    def answer_as(self, halo: Mapping[str, Any]) -> None:
        """Answer the case's own request as its fixture says (what ``given`` steps left in the
        sandbox stays there)."""
        self.calls = []
        self.use_sandbox = halo["sandbox"]
        self.replies = [dict(reply) for reply in halo["replies"]]
        if halo.get("faults"):
            self._dirty = True
            self.sandbox.put("/sandbox/control/faults", json={"spec": halo["faults"]})

    def __call__(self, request: Any) -> tuple[int, dict[str, str], bytes]:
        path = urlsplit(request.url).path[len(urlsplit(HALO_URL).path) + 1:]
        body = request.body or b""
        try:
            payload = json.loads(body) if body else None
        except ValueError:
            payload = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
        if self.recording:
            self.calls.append({"method": request.method, "path": path, "json": payload})
        if self.use_sandbox:
            self._dirty = True
            answer = self.sandbox.open(f"/sandbox/api/sdk/{path}", method=request.method, data=body,
                                       headers={k: v for k, v in request.headers.items()
                                                if k.lower() in ("authorization", "content-type")})
            return answer.status_code, dict(answer.headers), answer.get_data()
        for index, reply in enumerate(self.replies):
            if reply["method"] == request.method and reply["path"] == path:
                self.replies.pop(index)
                text = json.dumps(reply["json"] if reply["json"] is not None else {})
                return reply["status"], {"Content-Type": "application/json", **reply["headers"]}, \
                    text.encode()
        return 500, {"Content-Type": "application/json"}, \
            b'{"error": "the fixture declares no Halo reply for this call"}'


class OfflineRunner:
    """Replays cases against in-process connectors (one per distinct ``env``)."""

    def __init__(self, *, workdir: Path | None = None, env: Mapping[str, str] | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self._stack = ExitStack()
        if workdir is None:
            workdir = Path(self._stack.enter_context(tempfile.TemporaryDirectory(
                prefix="harness-", dir=_scratch_dir())))
        self.workdir = workdir
        self.base_env = dict(env or {})
        self.clock = clock
        self.halo = FakeHalo()
        self._apps: dict[tuple, tuple[Flask, list[int]]] = {}
        mock = self._stack.enter_context(responses.RequestsMock(assert_all_requests_are_fired=False))
        mock.add_passthru(re.compile(r"^(?!" + re.escape(HALO_URL) + ")"))
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            mock.add_callback(method, re.compile(re.escape(HALO_URL) + r"/.*"), callback=self.halo)

    def close(self) -> None:
        for app, _ in self._apps.values():
            app.extensions["halo_connector"].close()
        self._apps.clear()
        self._stack.close()

    def __enter__(self) -> OfflineRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def app_for(self, case_env: Mapping[str, str]) -> tuple[Flask, list[int]]:
        key = tuple(sorted(case_env.items()))
        if key not in self._apps:
            from app import create_app

            folder = self.workdir / f"app{len(self._apps)}"
            folder.mkdir(parents=True, exist_ok=True)
            env = offline_env(folder, {**self.base_env, **case_env})
            with _logging_left_alone():
                app = create_app(env)
            queued: list[int] = []
            services = app.extensions["halo_connector"]
            services.deliveries.bind_queue(
                lambda submission_id, eta: queued.append(submission_id) if eta is None else None)
            self._apps[key] = (app, queued)
        return self._apps[key]

    def run(self, case: Case) -> Result:
        started = time.perf_counter()
        result = Result(case)
        try:
            observed = self.observe(case)
        except FixtureError as error:
            result.problems = [error.message]
        except Exception as error:  # a crash in the connector is a failed case, not a dead run
            result.problems = [f"replay crashed: {type(error).__name__}: {error}"]
        else:
            result.observed = observed
            result.problems = compare(case, observed)
        result.seconds = time.perf_counter() - started
        return result

    def observe(self, case: Case) -> Observed:
        app, queued = self.app_for(case.env)
        services = app.extensions["halo_connector"]
        _empty(services.store)
        queued.clear()
        client = app.test_client()
        now = self.clock()
        self.halo.reset()
        self.halo.recording = False
        for step in case.given:
            _send(client, build(case, step["request"], step["channel"], base_url=BASE_URL,
                                api_key=HARNESS_API_KEY, now=now))
            _drain(services, queued)
        self.halo.answer_as(case.halo)
        self.halo.recording = True
        response = _send(client, build(case, case.request, case.channel, base_url=BASE_URL,
                                       api_key=HARNESS_API_KEY, now=now))
        _drain(services, queued)
        answer = response.get_json(silent=True)
        if answer is None:
            answer = response.get_data(as_text=True)
        submissions = None
        if case.expect.get("submissions") is not None:
            submissions = _submissions(services.store)
        return Observed(status=response.status_code, json=answer, headers=dict(response.headers),
                        calls=list(self.halo.calls), submissions=submissions)


@contextmanager
def _logging_left_alone() -> Iterator[None]:
    """``create_app`` sets the connector's log levels for the process; a replay inside a test
    run or a CLI command must not change them for everyone else."""
    loggers = [logging.getLogger(name) for name in ("connector", "huey", "alembic")]
    levels = [logger.level for logger in loggers]
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def _scratch_dir() -> str | None:
    """A memory-backed folder when the machine has one: the throwaway database then commits
    without waiting for a disk (most of a case's time otherwise)."""
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None


def _send(client: Any, outgoing: Outgoing) -> Any:
    if outgoing.form is not None:
        return client.open(outgoing.path, method=outgoing.method, data=outgoing.form,
                           headers=outgoing.headers, content_type="multipart/form-data")
    return client.open(outgoing.url_path, method=outgoing.method, data=outgoing.body,
                       headers=outgoing.headers)


def _drain(services: Any, queued: list[int]) -> None:
    """Run what the routes queued, as the worker would (each delivery may queue nothing more)."""
    while queued:
        services.deliveries.deliver(queued.pop(0))


#: Children first, so foreign keys never object; plain SQL (compiling deletes costs more than running them).
_EMPTY_TABLES = tuple(f"DELETE FROM {table.name}" for table in reversed(Base.metadata.sorted_tables))


def _empty(store: Any) -> None:
    with store.engine.begin() as connection:
        for statement in _EMPTY_TABLES:
            connection.exec_driver_sql(statement)


def _submissions(store: Any) -> list[dict[str, Any]]:
    with store.session() as session:
        rows = session.execute(select(Submission).order_by(Submission.id)).scalars()
        return [{name: _plain(getattr(row, name)) for name in SUBMISSION_FIELDS} for row in rows]


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def replay(cases: Iterable[Case], *, on_result: Callable[[Result], None] | None = None,
           env: Mapping[str, str] | None = None, jobs: int = 1) -> Iterator[Result]:
    """Replay ``cases`` offline, yielding each result (in order) as it is known.

    ``jobs`` > 1 spreads the cases over that many processes, each with its own connector.
    """
    cases = list(cases)
    if jobs > 1 and len(cases) > 1:
        with ProcessReplay(jobs, env=env) as processes:
            yield from processes.run(cases, on_result=on_result)
        return
    with OfflineRunner(env=env) as runner:
        for case in cases:
            result = runner.run(case)
            if on_result is not None:
                on_result(result)
            yield result


_worker_runner: OfflineRunner | None = None


def _start_worker(env: Mapping[str, str] | None) -> None:
    global _worker_runner
    _worker_runner = OfflineRunner(env=env)
    # Runs when the pool closes normally, so the worker's scratch database is removed.
    multiprocessing.util.Finalize(_worker_runner, _worker_runner.close, exitpriority=10)


def _run_in_worker(case: Case) -> Result:
    assert _worker_runner is not None
    return _worker_runner.run(case)


class ProcessReplay:
    """Offline replay spread over ``jobs`` processes, each with its own connector and database
    (kept for the pool's life, so several runs pay the start-up once)."""

    def __init__(self, jobs: int, *, env: Mapping[str, str] | None = None) -> None:
        self.pool = multiprocessing.get_context("fork").Pool(jobs, initializer=_start_worker,
                                                             initargs=(env,))

    def run(self, cases: Iterable[Case], *,
            on_result: Callable[[Result], None] | None = None) -> Iterator[Result]:
        for result in self.pool.imap(_run_in_worker, cases, chunksize=4):
            if on_result is not None:
                on_result(result)
            yield result

    def close(self) -> None:
        self.pool.close()
        self.pool.join()

    def __enter__(self) -> ProcessReplay:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
