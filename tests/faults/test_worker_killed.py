"""A worker killed with SIGKILL in the middle of a delivery.

Huey loses a task whose process dies, so recovery rests on the records: the submission stays
``delivering`` under a lease (DELIVERY_LEASE_SECONDS, 3 s here) and the sweep of the next worker
(once at start, then every minute) takes it over when the lease has expired.

What happens next depends on where the worker died:

* before ``tickets/create`` (here in ``users/identify``, made slow by the sandbox): nothing can
  have been created, so the next worker delivers it: exactly one ticket;
* during ``tickets/create`` (the sandbox stores the ticket, then stalls): Halo may have created
  the ticket and nobody knows. With AMBIGUOUS_DELIVERY=hold (the default) the submission is held
  as needing attention instead of sent again: the sandbox still has exactly one ticket.
"""

from __future__ import annotations

import signal
import time

import pytest
from sqlalchemy import select

from connector.store import Submission
from connector.store.types import utcnow
from tests.faults.conftest import send, wait_until

pytestmark = pytest.mark.slow


def _routes(deployment) -> str:
    """Map the form's hidden ``account`` field to the Halo user id, so users/identify comes first."""
    path = deployment.workdir / "routes.toml"
    path.write_text('[routes.typeform]\nuser_id = "account"\n')
    return str(path)


def _kill_and_replace(deployment, worker, stuck: str):
    """SIGKILL the worker while ``stuck`` is in flight; start another once its lease is over."""
    assert deployment.statuses()[stuck] == "delivering"
    worker.kill(signal.SIGKILL)
    worker.wait_dead()
    with deployment.store.session() as session:
        lease_until = session.execute(
            select(Submission.lease_until).where(Submission.event_id == stuck)).scalar_one()
    time.sleep(max(0.0, (lease_until - utcnow()).total_seconds()) + 0.2)
    assert deployment.statuses()[stuck] == "delivering"  # nobody finished it behind our back
    return deployment.worker(name="worker-2")


def test_worker_killed_before_create_is_delivered_once_by_the_next(deployment):
    deployment.env["ROUTES_FILE"] = _routes(deployment)
    _, base = deployment.web()
    deployment.set_faults("latency=30:1:path=users/identify")  # the first delivery stalls
    worker = deployment.worker()
    events = [f"kill-{n}" for n in range(4)]
    for event_id in events:
        assert send(base, event_id, hidden={"account": f"acct-{event_id}"}).status_code == 202
    wait_until(lambda: sorted(deployment.statuses().values()) == ["delivered"] * 3 + ["delivering"], 20,
               "three deliveries done and one stalled in users/identify")
    stuck = next(e for e, status in deployment.statuses().items() if status == "delivering")

    _kill_and_replace(deployment, worker, stuck)
    deployment.wait_delivered(events, timeout=20)
    deployment.assert_exactly_once(events)
    assert len(deployment.attempts()[stuck]) == 2


def test_worker_killed_during_create_is_held_not_sent_twice(deployment):
    _, base = deployment.web()
    deployment.set_faults("hang=30:after:1:path=tickets/create")  # stored, then no answer
    worker = deployment.worker()
    assert send(base, "kill-create").status_code == 202
    wait_until(lambda: deployment.tickets_by_event()["kill-create"] == 1, 20,
               "the sandbox to store the ticket while the worker waits for its answer")

    _kill_and_replace(deployment, worker, "kill-create")
    wait_until(lambda: deployment.statuses()["kill-create"] == "needs_attention", 20,
               "the interrupted create to be held for a person")
    time.sleep(2)  # give a wrong retry the chance to happen
    assert deployment.tickets_by_event() == {"kill-create": 1}
    with deployment.store.session() as session:
        reason = session.execute(select(Submission.status_reason)).scalar_one()
    assert "may exist" in reason
