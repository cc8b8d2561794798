"""A storm of 429s with ``Retry-After``: every wait Halo asks for is honoured, then each
submission is delivered exactly once.

The sandbox answers the next 12 ``tickets/create`` calls with 429 and ``Retry-After: 2``. Each 429
is a recorded attempt; the next attempt of the same submission must start no sooner than 2 s
after that answer, whatever the (shorter) backoff would have chosen.
"""

from __future__ import annotations

import pytest

from tests.faults.conftest import send

pytestmark = pytest.mark.slow

RETRY_AFTER = 2.0
STORM = 12


def test_429_storm_honours_retry_after_and_delivers_once(deployment):
    _, base = deployment.web()
    deployment.set_faults(f"429:{STORM}:retry_after={RETRY_AFTER:g}:path=tickets/create")
    deployment.worker()
    events = [f"storm-{n}" for n in range(6)]
    for event_id in events:
        assert send(base, event_id).status_code == 202
    deployment.wait_delivered(events, timeout=60)
    deployment.assert_exactly_once(events)

    attempts = deployment.attempts()
    limited = [a for e in events for a in attempts[e] if a.error_code == "halo_rate_limited"]
    assert len(limited) == STORM  # the whole storm reached the worker, none was swallowed
    assert all(a.halo_status == 429 for a in limited)
    for event_id in events:
        runs = attempts[event_id]
        assert runs[-1].outcome == "delivered"
        for failed, following in zip(runs, runs[1:]):
            waited = (following.started_at - failed.finished_at).total_seconds()
            assert waited >= RETRY_AFTER - 0.05, (event_id, waited)
