"""gunicorn settings for the web side: ``gunicorn -c gunicorn.conf.py 'app:create_app()'``.

The worker class follows the deployment. With PostgreSQL, Redis and separate
``flask --app app worker`` processes (WORKER_MODE=external) a web process only ever waits on
sockets, so gevent serves it: one process keeps answering while its acks wait on PostgreSQL,
which measured about twice the ack throughput of threads on 2 cores (bench/README.md). Anything
else (SQLite, an in-process delivery worker) blocks outside the network, so it gets threads
(gthread). Override any value with GUNICORN_* environment variables or command-line flags.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from typing import TypeVar

from dotenv import dotenv_values

from connector.config import ENV_FILE, choice, int_range, parse_bool, web_waits_only_on_sockets
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
# The settings the app will see: the environment first, then .env (as app.create_app reads them).
_app_env = {**dotenv_values(ENV_FILE), **os.environ}
COOPERATIVE = "gevent"
worker_class = _env("GUNICORN_WORKER_CLASS",
                    COOPERATIVE if web_waits_only_on_sockets(_app_env) else "gthread",
                    choice("gthread", COOPERATIVE))
# Several gunicorns on one host would share the default control socket path; nothing uses it.
control_socket_disable = True
# Acks that arrive together share one commit (connector.delivery.ack_insert), so more threads
# mean bigger batches: 16 gave about 1.5x the ack throughput of 4 on 2 cores (bench/README.md).
threads = _env("GUNICORN_THREADS", "16", int_range(1, 1024))
# gevent: requests served at once by one process. Webhook acks need no pooled connection; other
# requests queue for the process's 30 database connections (connector.store) when more wait.
worker_connections = _env("GUNICORN_WORKER_CONNECTIONS", "100", int_range(1, 100_000))
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
# connections first, so no worker shares one. Not with gevent: its worker patches the standard
# library when it starts, and an app imported before that would keep blocking sockets and locks
# (psycopg, for one, picks its wait function at import), so each gevent worker imports the app
# itself after patching (2 s of CPU a recycle, once every 100,000 requests).
preload_app = _env("GUNICORN_PRELOAD_APP", "false" if worker_class == COOPERATIVE else "true", parse_bool)


def on_starting(server):  # type: ignore[no-untyped-def]
    """Refuse a preloaded app under gevent (however the two were set: the app is loaded by now,
    but no worker has started); mask path secrets (/hooks/<sender>/<secret>) in access logs."""
    import logging

    if server.cfg.preload_app and server.cfg.worker_class_str.lower().endswith(("gevent", "geventworker")):
        raise SystemExit("GUNICORN_PRELOAD_APP: gevent workers cannot use a preloaded app (it would "
                         "be imported before gevent patches the standard library); leave it unset or "
                         "set it to false, or use GUNICORN_WORKER_CLASS=gthread")

    logging.getLogger("gunicorn.access").addFilter(RedactingFilter())


def pre_fork(server, worker):  # type: ignore[no-untyped-def]
    """With preload_app, close the connections the master opened while building the app."""
    if server.cfg.preload_app:
        from app import release_connections

        release_connections(server.app.wsgi())
