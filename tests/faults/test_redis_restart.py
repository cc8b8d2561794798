"""Redis restarted under running web and worker processes: they recover by themselves, without a
tight error loop, and nothing is lost.

The test's own redis-server (never the machine's) is killed and started again on the same port
with an empty dataset, as after a crash without persistence. While it is down, webhooks are still
acknowledged (the record is the durable part; the wake-up fails and is logged), and the worker's
queue reads fail with a backoff (Huey sleeps between failed reads, up to a second per thread).
After the restart, new webhooks are delivered at once, and the ones whose wake-up was lost are
found by the sweep (due work idle for 30 s, checked every minute): each exactly once.
"""

from __future__ import annotations

import time

import pytest

from tests.faults.conftest import production_only, send, wait_until

pytestmark = pytest.mark.slow

DOWN_SECONDS = 5.0
THREADS = 2


@production_only
def test_redis_restart_workers_recover_without_tight_loop(deployment, own_redis):
    deployment.env["REDIS_URL"] = own_redis.url
    _, base = deployment.web(workers=1)
    worker = deployment.worker(threads=THREADS)
    before = [f"redis-before-{n}" for n in range(3)]
    for event_id in before:
        assert send(base, event_id).status_code == 202
    deployment.wait_delivered(before, timeout=20)

    errors_before = worker.log_text().count("Error reading from queue")
    own_redis.stop()
    went_down = time.monotonic()
    during = [f"redis-during-{n}" for n in range(3)]
    for event_id in during:
        assert send(base, event_id).status_code == 202  # stored; only the wake-up failed
    time.sleep(max(0.0, DOWN_SECONDS - (time.monotonic() - went_down)))
    errors = worker.log_text().count("Error reading from queue") - errors_before
    # Each thread backs off to one failed read a second (0.05 s growing by 15 % per failure):
    # about 20 reads in the first 5 s; a tight loop would make thousands.
    assert 0 < errors <= THREADS * 30, errors
    own_redis.start()

    after = [f"redis-after-{n}" for n in range(3)]
    for event_id in after:
        assert send(base, event_id).status_code == 202
    deployment.wait_delivered(after, timeout=20)
    assert worker.alive()
    deployment.wait_delivered(during, timeout=100)
    deployment.assert_exactly_once(before + during + after)
    assert "could not enqueue submission" in deployment.procs[0].log_text()
    time.sleep(1)
    errors_now = worker.log_text().count("Error reading from queue")
    time.sleep(2)
    assert worker.log_text().count("Error reading from queue") == errors_now  # the loop has stopped
