"""One machine, the delivery worker inside the web process (WORKER_MODE=embedded, the default):
served by gunicorn.conf.py or by ``make run`` (app.py), it takes webhooks, delivers them, and
stops promptly on SIGTERM (``docker stop``, systemd), as a service manager expects.

Huey's consumer used to take the process's signal handlers: under gunicorn.conf.py the first
request (run in a gthread thread) then failed with a 500, as did every later one, and under
``make run`` a SIGTERM was swallowed, so gunicorn waited out its graceful timeout and SIGKILLed
the worker with any delivery in flight.
"""

from __future__ import annotations

import signal
import subprocess

import pytest

from bench import common
from tests.faults.conftest import send

pytestmark = pytest.mark.slow

#: gunicorn's graceful timeout is 20 s (gunicorn.conf.py) or 30 s (app.py); a prompt stop is
#: well under either.
PROMPT_STOP_SECONDS = 10.0


def start(deployment, how: str) -> tuple[common.Proc, str]:
    if how == "gunicorn.conf.py":
        return deployment.web(workers=1, WORKER_MODE="embedded")
    port = common.free_port()
    env = {**deployment.env, "WORKER_MODE": "embedded", "HOST": "127.0.0.1", "PORT": str(port)}
    proc = common.Proc("make-run", [common.PYTHON, "app.py"], env, deployment.workdir / "make-run.log").start()
    deployment.procs.append(proc)
    base = f"http://127.0.0.1:{port}"
    common.wait_http(f"{base}/health", proc=proc)
    return proc, base


@pytest.mark.parametrize("how", ["gunicorn.conf.py", "app.py"])
def test_the_embedded_worker_delivers_and_sigterm_stops_the_service_promptly(deployment, how: str):
    proc, base = start(deployment, how)
    events = [f"embedded-{how}-{n}" for n in range(3)]
    assert [send(base, event).status_code for event in events] == [202] * 3, deployment.logs()
    deployment.wait_delivered(events, timeout=30)
    deployment.assert_exactly_once(events)

    proc.popen.send_signal(signal.SIGTERM)  # to the master only, as docker stop does to PID 1
    try:
        proc.popen.wait(PROMPT_STOP_SECONDS)
    except subprocess.TimeoutExpired:
        pytest.fail(f"still running {PROMPT_STOP_SECONDS:g} s after SIGTERM\n{deployment.logs()}")
    log = proc.log_text()
    assert "signal only works in main thread" not in log
    assert "Traceback" not in log, log[-3000:]
