"""The Huey queue end to end: an embedded worker picks up stored submissions and recovers lost ones."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import responses
from sqlalchemy import select

from connector.delivery import record_submission
from connector.services import services
from connector.store import Status, Submission
from connector.ticket import Customer, TicketRequest
from tests.conftest import HALO, base_env


def wait_for(predicate, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def statuses(svc) -> list[str]:
    with svc.store.session() as session:
        return list(session.execute(select(Submission.status).order_by(Submission.id)).scalars())


def request(n: int) -> TicketRequest:
    return TicketRequest(subject=f"Ticket {n}", customer=Customer(email=f"c{n}@example.com"),
                         origin="typeform", event_id=f"evt_{n}")


def store_one(svc, n: int) -> int:
    recorded = record_submission(svc.store, tenant="default", channel="webhook", source="typeform",
                                 raw_body=b"{}", headers={}, content_type="application/json",
                                 ticket_request=request(n), event_id=f"evt_{n}")
    return recorded.submission_id


def test_embedded_worker_delivers_what_intake_enqueues(tmp_path: Path, make_app):
    app = make_app(base_env(tmp_path, WORKER_MODE="embedded"), start_worker=True)
    with app.app_context(), responses.RequestsMock(assert_all_requests_are_fired=False) as halo:
        halo.post(f"{HALO}/tickets/create", json={"id": "t"})
        svc = services()
        for n in range(5):
            svc.deliveries.enqueue(store_one(svc, n))
        assert wait_for(lambda: statuses(svc) == [Status.DELIVERED] * 5)
        assert len(halo.calls) == 5


def test_work_whose_wake_up_was_lost_is_delivered_when_a_worker_starts(tmp_path: Path, make_app):
    env = base_env(tmp_path, WORKER_MODE="embedded")
    first = make_app(env)  # stores but never runs a worker: a crash before the wake-up
    with first.app_context():
        store_one(services(), 1)
    second = make_app(env, start_worker=True)
    with second.app_context(), responses.RequestsMock(assert_all_requests_are_fired=False) as halo:
        halo.post(f"{HALO}/tickets/create", json={"id": "t"})
        svc = services()
        # make it look long overdue so the start-up sweep recovers it at once
        with svc.store.session() as session:
            row = session.get(Submission, 1)
            row.next_attempt_at = row.received_at.replace(year=row.received_at.year - 1)
        svc.worker.stop()
        svc.worker.start()
        assert wait_for(lambda: statuses(svc) == [Status.DELIVERED])


def test_first_request_starts_the_embedded_worker_and_cli_apps_never_do(tmp_path: Path, make_app):
    app = make_app(base_env(tmp_path, WORKER_MODE="embedded"))
    svc = app.extensions["halo_connector"]
    assert not svc.worker.running
    app.test_client().get("/health")
    assert svc.worker.running


HOST_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def test_a_request_thread_starts_the_embedded_worker_and_the_host_keeps_its_signals(tmp_path: Path, make_app):
    """Threaded servers (gunicorn's gthread, ``flask run``) run the first request in a thread of
    their own. Huey's consumer used to install its signal handlers there, which Python refuses
    outside the main thread: the request failed with a 500, and so did every later one."""
    app = make_app(base_env(tmp_path, WORKER_MODE="embedded"))
    svc = app.extensions["halo_connector"]
    handlers = [signal.getsignal(number) for number in HOST_SIGNALS]
    answers: list[int] = []
    thread = threading.Thread(target=lambda: answers.extend(
        app.test_client().get("/health").status_code for _ in range(2)))
    thread.start()
    thread.join()
    assert answers == [200, 200]
    assert svc.worker.running
    assert [signal.getsignal(number) for number in HOST_SIGNALS] == handlers


def test_the_embedded_worker_started_in_the_main_thread_leaves_the_hosts_signals_alone(
        tmp_path: Path, make_app):
    """gunicorn's worker (``make run``) builds the app in its main thread; a SIGTERM there must
    still reach gunicorn, or stopping the service waits out the graceful timeout."""
    handlers = [signal.getsignal(number) for number in HOST_SIGNALS]
    app = make_app(base_env(tmp_path, WORKER_MODE="embedded"), start_worker=True)
    assert app.extensions["halo_connector"].worker.running
    assert [signal.getsignal(number) for number in HOST_SIGNALS] == handlers


def test_the_sqlite_queue_skips_the_disk_sync_that_the_records_pay(tmp_path: Path):
    """Records commit with a full sync before any 2xx; the queue only wakes workers (the sweep
    re-enqueues lost wake-ups), so its file commits with synchronous=NORMAL and no second fsync."""
    from connector.config import load_settings
    from connector.delivery.queue import make_huey
    from connector.store import Store

    # The embedded setup whatever backend the suite runs on: this is about the SQLite queue file.
    env = {**base_env(tmp_path), "REDIS_URL": "", "DATABASE_URL": f"sqlite:///{tmp_path}/records.db"}
    settings = load_settings(env)
    queue = make_huey(settings)
    assert queue.storage.conn.execute("PRAGMA synchronous").fetchone()[0] == 1
    store = Store(settings.database_url)
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2
    store.engine.dispose()


def test_the_sqlite_queue_makes_its_folder_when_no_sqlite_database_did(tmp_path: Path, monkeypatch):
    """PostgreSQL without Redis keeps the queue in var/, which a fresh clone does not have and
    no SQLite database creates: the app must not fail at start with "unable to open database"."""
    from connector.config import load_settings
    from connector.delivery import queue

    var = tmp_path / "fresh-clone" / "var"
    monkeypatch.setattr(queue, "DEFAULT_VAR_DIR", var)
    settings = load_settings({**base_env(tmp_path), "REDIS_URL": "", "DATABASE_URL": "sqlite:///:memory:"})
    huey = queue.make_huey(settings)
    assert huey.pending_count() == 0  # opens the file
    assert (var / "queue.db").is_file()
