"""Web workers recycled under load, forked from a master that built the app (``preload_app``).

gunicorn.conf.py builds the app once in the master (imports, migrations, the queue's schema) and
forks every worker from it, including the replacements ``max_requests`` starts. Before each fork
the master closes the connections building the app opened, so no worker shares a database or
queue connection with its parent or a sibling. Here workers are recycled every ~10 requests
while deliveries arrive from several senders at once: every delivery must be acknowledged,
stored once and delivered once, and the master must really have forked new workers.
"""

from __future__ import annotations

import threading

import pytest

from bench import common
from tests.faults.conftest import send

pytestmark = pytest.mark.slow

SENDERS = 4
EACH = 15


def test_recycled_preloaded_workers_ack_and_store_every_delivery_once(deployment):
    web, base = deployment.web(workers=2, GUNICORN_MAX_REQUESTS="10")
    first_workers = set(common.children(web.pid))
    deployment.worker()
    answers: list[int] = []
    lock = threading.Lock()

    def sender(number: int) -> None:
        for index in range(EACH):
            status = send(base, f"recycled-{number}-{index}").status_code
            with lock:
                answers.append(status)

    threads = [threading.Thread(target=sender, args=(n,)) for n in range(SENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert answers == [202] * (SENDERS * EACH), deployment.logs()
    assert set(common.children(web.pid)) - first_workers, "max_requests replaced the workers"
    assert "Booting worker" in web.log_text()
    event_ids = [f"recycled-{n}-{i}" for n in range(SENDERS) for i in range(EACH)]
    deployment.wait_delivered(event_ids, timeout=60)
    deployment.assert_exactly_once(event_ids)
