"""The web process killed after the durable insert and before the 2xx; the sender retries.

The seam is real and needs no hook in the code: after the insert commits, the view wakes a worker
through the queue, then answers. The test makes that wake-up hang (the queue's SQLite file is
locked by the test, or, on the production backend, the test's own redis-server is frozen with
SIGSTOP), so the web process sits between the committed insert and its answer. The sender times
out; the test checks the row is stored, SIGKILLs gunicorn (arbiter and workers), lets the queue go,
starts a fresh web process and retries the same delivery as the sender would. The retry must be
acknowledged as a duplicate of the stored submission, and that submission delivered once.
"""

from __future__ import annotations

import signal
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import requests

from connector.config import load_settings
from connector.delivery.queue import queue_file
from tests import backends
from tests.faults.conftest import OwnRedis, send

pytestmark = pytest.mark.slow


@contextmanager
def frozen_queue(deployment, request: pytest.FixtureRequest) -> Iterator[None]:
    """Make every enqueue hang until the block ends."""
    if backends.production():
        redis: OwnRedis = request.getfixturevalue("own_redis")
        redis.pause()
        try:
            yield
        finally:
            redis.resume()
        return
    connection = sqlite3.connect(queue_file(load_settings(deployment.env)), isolation_level=None)
    connection.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        connection.execute("ROLLBACK")
        connection.close()


def test_web_killed_between_insert_and_ack_then_sender_retry_is_delivered_once(deployment, request):
    if backends.production():
        deployment.env["REDIS_URL"] = request.getfixturevalue("own_redis").url
    web, base = deployment.web(workers=1)
    send(base, "warm-up")  # the queue is created and connected before it is frozen
    with frozen_queue(deployment, request):
        with pytest.raises(requests.Timeout):
            send(base, "lost-ack", timeout=2)
        assert deployment.statuses().get("lost-ack") == "pending"  # durable before the answer
        web.kill(signal.SIGKILL)
        web.wait_dead()

    _, base = deployment.web(name="web-2", workers=1)
    deployment.worker()
    retry = send(base, "lost-ack")
    assert retry.status_code == 202
    assert retry.json()["duplicates"] == 1
    deployment.wait_delivered(["warm-up", "lost-ack"], timeout=20)
    deployment.assert_exactly_once(["warm-up", "lost-ack"])
