"""gunicorn settings for the web side in production: ``gunicorn -c gunicorn.conf.py 'app:create_app()'``.

Threaded workers (gthread) keep the ack path fast even if a request waits on the database; the
delivery work runs in separate ``flask --app app worker`` processes (WORKER_MODE=external).
Override any value with GUNICORN_* environment variables or command-line flags.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from typing import TypeVar

from connector.config import int_range, parse_bool
from connector.logs import RedactingFilter

T = TypeVar("T")


def _env(name: str, default: str, parse: Callable[[str], T]) -> T:
    """A GUNICORN_* (or PORT) value; a bad one stops the start with a message naming it."""
    try:
        return parse(os.environ.get(name, default))
    except ValueError as error:
        raise SystemExit(f"{name}: expected {error}") from None


bind = f"{os.environ.get('HOST', '0.0.0.0')}:{_env('PORT', '5000', int_range(1, 65535))}"
workers = _env("GUNICORN_WORKERS", str(multiprocessing.cpu_count()), int_range(1, 256))
worker_class = "gthread"
# Several gunicorns on one host would share the default control socket path; nothing uses it.
control_socket_disable = True
# Acks that arrive together share one commit (connector.delivery.ack_insert), so more threads
# mean bigger batches: 16 gave about 1.5x the ack throughput of 4 on 2 cores (bench/README.md).
threads = _env("GUNICORN_THREADS", "16", int_range(1, 1024))
# Senders give up after 10 s (Tally, GitHub) or 1 s (Sentry); nothing here should take long.
timeout = _env("GUNICORN_TIMEOUT", "30", int_range(0, 86_400))
graceful_timeout = 20
keepalive = 5
# Bounded request lines and headers (gunicorn defaults, stated so they are not lost).
limit_request_line = 4094
limit_request_fields = 100
accesslog = "-"
errorlog = "-"
# Recycle workers now and then so a slow leak can never grow without bound (web RSS stays flat
# at about 86 MB). Not often: under load each recycle costs 1-2 s of the server's throughput, as
# the old worker lingers on its kept-alive connections before the new one is forked; at 20,000
# that was 4-7% of peak ack throughput on 2 cores, at 100,000 it is under 2% (bench/README.md).
max_requests = _env("GUNICORN_MAX_REQUESTS", "100000", int_range(0, 1_000_000_000))
max_requests_jitter = max_requests // 10
# Build the app once in the master and fork workers from it: a worker (re)start is then a fork,
# not 2 s of imports, settings and migration checks, which under load a recycle every
# max_requests would take from the acks (bench/README.md). pre_fork closes the master's
# connections first, so no worker shares one.
preload_app = _env("GUNICORN_PRELOAD_APP", "true", parse_bool)


def on_starting(server):  # type: ignore[no-untyped-def]
    """Mask path secrets (/hooks/<sender>/<secret>) in access logs."""
    import logging

    logging.getLogger("gunicorn.access").addFilter(RedactingFilter())


def pre_fork(server, worker):  # type: ignore[no-untyped-def]
    """With preload_app, close the connections the master opened while building the app."""
    if server.cfg.preload_app:
        from app import release_connections

        release_connections(server.app.wsgi())
