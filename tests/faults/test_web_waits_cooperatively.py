"""A web process whose requests wait on PostgreSQL keeps answering everything else.

On PostgreSQL + Redis with external workers, gunicorn.conf.py serves the web side with gevent:
one process, many requests, each waiting on a socket without holding the others up. That holds
only if every database wait goes through gevent: psycopg's own (the ORM's queries), which it
chooses at import, so the worker must import the app after gevent has patched the standard
library (no preloading); and the webhook ack's libpq pipeline, whose first batch on a connection
also prepares its statement. Here the submissions table is locked, so a polling trigger's query
and a webhook's durable insert both wait inside PostgreSQL, and the same single web process must
still answer ``/health`` at once, then both requests when the lock goes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
import requests
from sqlalchemy import text

from bench import common
from tests import backends
from tests.faults.conftest import send

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not backends.production(), reason="gevent serves the PostgreSQL deployment")]


def test_requests_waiting_on_a_locked_table_hold_up_no_other_request(deployment):
    web, base = deployment.web(workers=1)
    assert "Using worker: gevent" in web.log_text()
    answers: dict[str, int] = {}
    requests_made: dict[str, Callable[[], int]] = {
        "trigger": lambda: requests.get(f"{base}/v1/triggers/new_submission", timeout=30,
                                        headers={"X-API-Key": common.CONNECTOR_KEY}).status_code,
        "webhook": lambda: send(base, "waits-for-lock", timeout=30).status_code,
    }
    with deployment.store.engine.connect() as locker:
        locker.execute(text("LOCK TABLE submissions IN ACCESS EXCLUSIVE MODE"))
        waiting = [threading.Thread(target=lambda name=name, call=call: answers.__setitem__(name, call()))
                   for name, call in requests_made.items()]
        for thread in waiting:
            thread.start()
        time.sleep(1.0)
        assert answers == {}, "both wait for the lock"
        started = time.monotonic()
        health = requests.get(f"{base}/health", timeout=5)
        assert health.status_code == 200
        assert time.monotonic() - started < 1.0, "the process answered while its requests waited"
        locker.rollback()
    for thread in waiting:
        thread.join(30)
    assert answers == {"trigger": 200, "webhook": 202}
    deployment.worker()
    deployment.wait_delivered(["waits-for-lock"], timeout=60)
    deployment.assert_exactly_once(["waits-for-lock"])
