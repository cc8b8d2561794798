"""Database connections dropped during work: web and worker recover by themselves, no tight
error loop, every submission delivered exactly once.

While webhooks arrive and are delivered, the test repeatedly terminates (``pg_terminate_backend``)
every PostgreSQL backend of *this test's* processes, found by the ``application_name`` set in
their DATABASE_URL, never anyone else's. A request that hits a dead connection may answer 5xx;
the sender retries it as real senders do. Pooled connections are checked before use
(``pool_pre_ping``), so the next transaction reconnects.
"""

from __future__ import annotations

import threading
import time
import uuid

import psycopg
import pytest
import requests

from tests import backends
from tests.faults.conftest import production_only, send

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

STORM_SECONDS = 4.0


def _terminate(application_name: str, stop: threading.Event, killed: list[int]) -> None:
    with psycopg.connect(backends.POSTGRES_URL.replace("+psycopg", ""), autocommit=True,
                         application_name="fault-test-killer") as connection:
        while not stop.is_set():
            rows = connection.execute(
                "SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = %s AND pid <> pg_backend_pid()", (application_name,)).fetchall()
            killed.extend(pid for pid, done in rows if done)
            stop.wait(0.25)


def _send_until_acknowledged(base: str, event_id: str) -> int:
    """Like a sender: retry on an error or no answer, a little later."""
    for _ in range(20):
        try:
            response = send(base, event_id, timeout=5)
            if response.status_code < 300:
                return response.status_code
        except requests.RequestException:
            pass
        time.sleep(0.3)
    return 0


@production_only
def test_database_connections_dropped_during_work_recover_and_deliver_once(deployment):
    application_name = f"fault-{uuid.uuid4().hex[:10]}"
    deployment.env["DATABASE_URL"] += f"&application_name={application_name}"
    _, base = deployment.web(workers=1)
    worker = deployment.worker()
    assert send(base, "db-warm-up").status_code == 202  # both processes are up and connected
    deployment.wait_delivered(["db-warm-up"], timeout=20)
    events = [f"db-{n}" for n in range(24)]
    stop, killed = threading.Event(), []
    killer = threading.Thread(target=_terminate, args=(application_name, stop, killed))
    killer.start()
    started = time.monotonic()
    try:
        for event_id in events:
            assert _send_until_acknowledged(base, event_id) == 202
            time.sleep(STORM_SECONDS / len(events))
    finally:
        stop.set()
        killer.join()
    storm = time.monotonic() - started
    assert killed, "the test's processes never had a connection to drop"

    deployment.wait_delivered(events, timeout=100)
    deployment.assert_exactly_once(["db-warm-up", *events])
    assert worker.alive()
    errors = worker.log_text().count("Traceback")
    assert errors <= 4 * storm * 4, errors  # bounded: at most a few per thread per second
    time.sleep(2)
    assert worker.log_text().count("Traceback") == errors  # and none once the database is back
