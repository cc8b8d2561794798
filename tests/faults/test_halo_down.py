"""Halo down for a while, then back: nothing is lost, nothing is sent twice.

The sandbox *process* is killed (connections refused, like a Halo outage or a network cut), the
webhooks keep arriving and are acknowledged from the database alone, the worker records failed
attempts and backs off; when the sandbox is started again on the same port and database, every
submission is delivered exactly once.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from bench import common
from tests.faults.conftest import send, wait_until

pytestmark = pytest.mark.slow


def test_halo_down_then_back_delivers_each_submission_once(deployment):
    _, base = deployment.web()
    deployment.worker()
    before = [f"before-{n}" for n in range(3)]
    for event_id in before:
        assert send(base, event_id).status_code == 202
    deployment.wait_delivered(before, timeout=20)

    deployment.sandbox.stop()  # Halo is gone: connections are refused
    during = [f"during-{n}" for n in range(5)]
    for event_id in during:
        assert send(base, event_id).status_code == 202  # the ack never waits for Halo
    wait_until(lambda: all(len(deployment.attempts().get(e, [])) >= 2 for e in during), 30,
               "each submission to fail at least twice while Halo is down")
    assert {deployment.statuses()[e] for e in during} <= {"retrying", "delivering"}
    failed = [a for e in during for a in deployment.attempts()[e]]
    assert {a.error_code for a in failed if a.outcome} == {"halo_unavailable"}

    port = urlsplit(deployment.halo).port
    deployment.sandbox, _ = common.start_sandbox(deployment.workdir, port=port)
    deployment.wait_delivered(during, timeout=45)
    deployment.assert_exactly_once(before + during)
