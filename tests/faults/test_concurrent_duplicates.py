"""Ten identical deliveries at once: one submission, one ticket.

Ten threads release the same signed Typeform delivery together against gunicorn (two processes,
each serving many requests at once, so the copies really race on the database's unique event
key). Every copy must be acknowledged (a sender that sees an error retries, or disables the
hook), all answers must name the same submission, and the sandbox must receive one ticket.
"""

from __future__ import annotations

import threading

import pytest
import requests

from tests.faults.conftest import send

pytestmark = pytest.mark.slow

COPIES = 10


def test_ten_identical_deliveries_at_once_make_one_ticket(deployment):
    _, base = deployment.web(workers=2)
    deployment.worker()
    barrier = threading.Barrier(COPIES)
    answers: list[requests.Response] = []
    lock = threading.Lock()

    def deliver() -> None:
        session = requests.Session()
        session.get(f"{base}/health", timeout=5)  # connect first, so the posts leave together
        barrier.wait()
        response = send(base, "same-event", session=session)
        with lock:
            answers.append(response)

    threads = [threading.Thread(target=deliver) for _ in range(COPIES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [a.status_code for a in answers] == [202] * COPIES
    bodies = [a.json() for a in answers]
    assert len({tuple(b["submissions"]) for b in bodies}) == 1, bodies
    assert sorted(b["duplicates"] for b in bodies) == [0] + [1] * (COPIES - 1)
    deployment.wait_delivered(["same-event"], timeout=20)
    deployment.assert_exactly_once(["same-event"])
