"""Web workers recycled under load.

gunicorn.conf.py recycles each web worker after ``max_requests``. With threads (SQLite, or an
in-process delivery worker) the master builds the app once and forks every worker from it,
replacements included, closing the connections building the app opened before each fork. With
gevent (PostgreSQL + Redis + external workers) each worker imports the app itself after gevent
has patched the standard library, and notices its limit only at its next one-second tick.
Either way: workers are recycled every ~10 requests while several senders deliver at once, and
every delivery must be acknowledged, stored once and delivered once, with the senders still
sending after the first workers have been replaced.
"""

from __future__ import annotations

import threading
import time

import pytest

from bench import common
from tests.faults.conftest import send

pytestmark = pytest.mark.slow

SENDERS = 4
#: Each sender sends at least this many, and goes on until the first workers are gone...
AT_LEAST = 15
#: ...then this many more, so deliveries arrive while replacements serve.
AFTER_RECYCLE = 10
#: A bound, so a server that never recycles fails the test instead of hanging it.
AT_MOST = 400


def test_recycled_workers_ack_and_store_every_delivery_once(deployment):
    web, base = deployment.web(workers=2, GUNICORN_MAX_REQUESTS="10")
    first_workers = set(common.children(web.pid))
    deployment.worker()
    answers: list[int] = []
    sent: list[str] = []
    lock = threading.Lock()
    recycled = threading.Event()

    def sender(number: int) -> None:
        after = 0
        for index in range(AT_MOST):
            event_id = f"recycled-{number}-{index}"
            status = send(base, event_id).status_code
            with lock:
                answers.append(status)
                sent.append(event_id)
            if index + 1 >= AT_LEAST and recycled.is_set():
                after += 1
                if after >= AFTER_RECYCLE:
                    return
            time.sleep(0.02)

    threads = [threading.Thread(target=sender, args=(n,)) for n in range(SENDERS)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and any(thread.is_alive() for thread in threads):
        if not first_workers & set(common.children(web.pid)):
            recycled.set()
        time.sleep(0.05)
    for thread in threads:
        thread.join()

    assert recycled.is_set(), "max_requests replaced every first worker while senders sent"
    assert answers == [202] * len(sent), deployment.logs()
    assert "Booting worker" in web.log_text()
    deployment.wait_delivered(sent, timeout=60)
    deployment.assert_exactly_once(sent)
