"""The Huey queue that wakes delivery workers: SQLite embedded, Redis when REDIS_URL is set.

Huey drops a task whose worker is killed mid-run; that is fine here because tasks only point
at records, and the periodic sweep (every minute, and once when a worker starts) re-enqueues
anything due that nobody is working on.
"""

from __future__ import annotations

import atexit
import logging
import threading
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from huey import Huey, RedisHuey, crontab
from huey.consumer import Consumer
from huey.storage import SqliteStorage

from connector.config import DEFAULT_VAR_DIR, Settings
from connector.delivery.service import Deliveries
from connector.hooks.sender import HookSender
from connector.store.sqlite_writer import WriterLockedConnection

log = logging.getLogger("connector.queue")
#: Idle workers poll the SQLite queue at most a second apart (Huey's default backs off to 10 s,
#: which would delay a quiet system's first ticket); Redis blocks on the list instead.
CONSUMER_OPTIONS: dict[str, Any] = dict(worker_type="thread", periodic=True, check_worker_health=True,
                                        scheduler_interval=1, initial_delay=0.05, max_delay=1.0)


def make_huey(settings: Settings) -> Huey:
    """Redis when configured, else a SQLite queue file beside the SQLite database (or in var/,
    created here: a PostgreSQL deployment without Redis has nothing else that makes it)."""
    if settings.redis_url:
        return RedisHuey(settings.queue_name, url=settings.redis_url, results=False, utc=True)
    filename = queue_file(settings)
    filename.parent.mkdir(parents=True, exist_ok=True)
    return Huey(settings.queue_name, storage_class=QueueFileStorage, filename=str(filename),
                results=False, utc=True, timeout=30, factory=WriterLockedConnection)


class QueueFileStorage(SqliteStorage):
    """Huey's SQLite storage, committing without waiting for the disk (``synchronous=NORMAL``).

    The queue only wakes workers: the records are committed with a full sync before any 2xx,
    and the sweep re-enqueues whatever is due and unclaimed. So a wake-up lost to a power cut
    costs at most a sweep interval, never a submission, while a synced queue write would double
    the disk waits of every webhook ack. In WAL mode NORMAL cannot corrupt the file.
    """

    def _create_connection(self) -> Any:
        connection = super()._create_connection()
        connection.execute("PRAGMA synchronous=NORMAL")
        return connection


def queue_file(settings: Settings) -> Path:
    url = settings.database_url
    if url.startswith("sqlite:///") and ":memory:" not in url:
        return Path(url[len("sqlite:///"):]).with_name("queue.db")
    return DEFAULT_VAR_DIR / "queue.db"


def connect(huey: Huey, deliveries: Deliveries, hooks: HookSender | None = None) -> None:
    """Register the delivery, REST-hook and sweep tasks on ``huey`` and point ``deliveries``
    (and ``hooks``) at them."""

    @huey.task(name="deliver", retries=0)
    def deliver_task(submission_id: int) -> None:
        deliveries.deliver(submission_id)

    @huey.periodic_task(crontab(minute="*"), name="sweep")
    def sweep_task() -> None:
        try:
            deliveries.sweep()
        finally:
            if hooks is not None:
                hooks.sweep()

    def enqueue(submission_id: int, eta: datetime | None) -> None:
        if eta is None:
            deliver_task(submission_id)
        else:
            deliver_task.schedule(args=(submission_id,), eta=eta)

    @huey.task(name="deliver_batch", retries=0)
    def deliver_batch_task(submission_ids: list[int]) -> None:
        """Submissions acknowledged together: the others go back on the queue for the other
        worker threads, this one delivers the first."""
        first, *others = submission_ids
        for submission_id in others:
            deliver_task(submission_id)
        deliveries.deliver(first)

    def enqueue_batch(submission_ids: Sequence[int]) -> None:
        deliver_batch_task(list(submission_ids))

    deliveries.bind_queue(enqueue, enqueue_batch)
    if hooks is None:
        return

    @huey.task(name="deliver_hook", retries=0)
    def deliver_hook_task(outbox_id: int) -> None:
        hooks.deliver(outbox_id)

    def enqueue_hook(outbox_id: int, eta: datetime | None) -> None:
        if eta is None:
            deliver_hook_task(outbox_id)
        else:
            deliver_hook_task.schedule(args=(outbox_id,), eta=eta)

    hooks.bind_queue(enqueue_hook)


#: How long a stopping web process waits for an embedded delivery in flight (a Halo call is
#: bounded by its own timeouts); gunicorn's graceful_timeout (20-30 s) leaves room for it.
EMBEDDED_SHUTDOWN_SECONDS = 10.0


class EmbeddedConsumer(Consumer):
    """A consumer whose threads live in someone else's process (gunicorn, ``flask run``, any WSGI
    server), which owns the signals. Huey's ``Consumer.start()`` installs SIGTERM/SIGINT/SIGHUP
    handlers meant for ``Consumer.run()``'s loop, which an embedded consumer never runs: from a
    request thread that raised (every request answered 500), and from gunicorn's main thread it
    swallowed the worker's SIGTERM (a stop took the whole graceful timeout, then SIGKILL)."""

    def _set_signal_handlers(self) -> None:
        pass


class EmbeddedWorker:
    """A Huey consumer running in threads inside the web process (the one-machine default)."""

    def __init__(self, huey: Huey, deliveries: Deliveries, *, workers: int = 2) -> None:
        self.huey = huey
        self.deliveries = deliveries
        self.workers = workers
        self._consumer: Consumer | None = None
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        return self._consumer is not None

    def start(self) -> None:
        if self._consumer is not None:  # the common case, checked on every request
            return
        with self._lock:
            if self._consumer is not None:
                return
            consumer = EmbeddedConsumer(self.huey, workers=self.workers,
                                        shutdown_timeout=EMBEDDED_SHUTDOWN_SECONDS, **CONSUMER_OPTIONS)
            consumer.start()
            self._consumer = consumer
            # Its threads are daemons: without this, a normal exit (gunicorn's SIGTERM, Ctrl-C)
            # would cut a delivery off mid-call instead of letting it finish.
            atexit.register(self.stop)
        log.info("embedded delivery worker started (%d threads)", self.workers)
        threading.Thread(target=self._sweep_once, name="initial-sweep", daemon=True).start()

    def _sweep_once(self) -> None:
        try:
            self.deliveries.sweep()
        except Exception:
            log.exception("initial sweep failed; the periodic sweep will retry")

    def stop(self) -> None:
        """Let the delivery in flight finish (up to EMBEDDED_SHUTDOWN_SECONDS), then stop."""
        with self._lock:
            consumer, self._consumer = self._consumer, None
        if consumer is not None:
            atexit.unregister(self.stop)
            consumer.stop(graceful=True)


def run_consumer(huey: Huey, deliveries: Deliveries, *, workers: int = 4, **options: Any) -> None:
    """Run a standalone worker process until SIGTERM/SIGINT (``flask worker``)."""
    deliveries.sweep()
    consumer = huey.create_consumer(workers=workers, **{**CONSUMER_OPTIONS, **options})
    consumer.run()
