"""Durable intake and delivery: exactly one ticket per event, retries, dead letters, recovery."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests
import responses
from sqlalchemy import func, select

from connector.delivery import Deliveries, record_submission
from connector.errors import HaloUnavailable
from connector.halo import HaloClient
from connector.store import Attempt, Status, Store, Submission, Ticket
from connector.ticket import Company, Customer, TicketRequest
from tests import backends

HALO = "https://halo.test/api/sdk"


class Clock:
    """Starts a moment after the real clock (intake stamps records with real time), then moves
    only when told to."""

    def __init__(self) -> None:
        self.start = datetime.now(timezone.utc) + timedelta(milliseconds=100)
        self.now = self.start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class Queue(list):
    def __call__(self, submission_id: int, eta: datetime | None) -> None:
        self.append((submission_id, eta))


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = Store(backends.database_url(tmp_path))
    store.migrate()
    yield store
    store.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def queue() -> Queue:
    return Queue()


def deliveries(store: Store, clock: Clock, queue: Queue, **options) -> Deliveries:
    halo = HaloClient(HALO, "ab_live_k", max_retries=0, sleep=lambda s: None)
    return Deliveries(store, halo, enqueue=queue, clock=clock, rng=lambda: 0.5, **options)


def request(**overrides) -> TicketRequest:
    values = dict(subject="Printer on fire", message="It is on fire.", origin="typeform",
                  event_id="evt_1", customer=Customer(email="pat@example.com", name="Pat"))
    values.update(overrides)
    return TicketRequest(**values)


def record(store: Store, ticket_request: TicketRequest | None = None, **options):
    values = dict(tenant="default", channel="webhook", source="typeform", raw_body=b'{"a":1}',
                  headers={"Content-Type": "application/json"}, content_type="application/json",
                  ticket_request=ticket_request or request(), event_id="evt_1")
    values.update(options)
    return record_submission(store, **values)


def count(store: Store, model) -> int:
    with store.session() as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


def status_of(store: Store, submission_id: int) -> Submission:
    with store.session() as session:
        return session.get(Submission, submission_id)


# --- intake -----------------------------------------------------------------------------------


def test_an_identified_submission_is_stored_pending_with_its_raw_body(store):
    recorded = record(store)
    assert not recorded.duplicate and recorded.status == Status.PENDING
    stored = status_of(store, recorded.submission_id)
    assert stored.raw_body == b'{"a":1}' and stored.customer_email == "pat@example.com"
    assert TicketRequest.from_dict(stored.ticket_request) == request()


def test_a_submission_without_a_customer_is_kept_as_needing_attention(store):
    recorded = record(store, request(customer=Customer(name="Anonymous")))
    assert recorded.status == Status.NEEDS_ATTENTION
    assert "No customer" in status_of(store, recorded.submission_id).status_reason


def test_the_same_event_is_stored_once(store):
    first = record(store)
    second = record(store, raw_body=b"retry")
    assert second.duplicate and second.submission_id == first.submission_id
    assert count(store, Submission) == 1


def test_events_without_an_id_are_never_merged(store):
    record(store, event_id=None)
    record(store, event_id=None)
    assert count(store, Submission) == 2


def test_ten_identical_deliveries_at_once_store_one_submission(store):
    results = []
    barrier = threading.Barrier(10)

    def deliver() -> None:
        barrier.wait()
        results.append(record(store))

    threads = [threading.Thread(target=deliver) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert count(store, Submission) == 1
    assert len({r.submission_id for r in results}) == 1
    assert sum(not r.duplicate for r in results) == 1


# --- delivery ---------------------------------------------------------------------------------


def test_delivery_identifies_user_and_company_then_creates_the_ticket(store, clock, queue):
    recorded = record(store, request(customer=Customer(user_id="u1", email="pat@example.com",
                                                       name="Pat", traits={"plan": "pro"}),
                                     company=Company("c1", "Acme", {"industry": "SaaS"})))
    worker = deliveries(store, clock, queue)
    with responses.RequestsMock() as halo:
        halo.post(f"{HALO}/users/identify", json={})
        halo.post(f"{HALO}/companies/identify", json={})
        halo.post(f"{HALO}/tickets/create", json={"ticket": {"id": "t_9"}})
        outcome = worker.deliver(recorded.submission_id)
        paths = [call.request.url.rsplit("/api/sdk/", 1)[1] for call in halo.calls]
        bodies = [json.loads(call.request.body) for call in halo.calls]
    assert paths == ["users/identify", "companies/identify", "tickets/create"]
    assert bodies[0]["traits"] == {"plan": "pro", "name": "Pat", "email": "pat@example.com"}
    assert bodies[1] == {"company_id": "c1", "user_id": "u1", "traits": {"industry": "SaaS", "name": "Acme"}}
    assert bodies[2]["metadata"]["connector"]["submission_id"] == recorded.submission_id
    assert outcome.status == Status.DELIVERED and outcome.ticket.halo_ticket_id == "t_9"
    assert status_of(store, recorded.submission_id).status == Status.DELIVERED


def test_an_email_only_customer_goes_straight_to_tickets_create(store, clock, queue):
    recorded = record(store)
    with responses.RequestsMock() as halo:
        halo.post(f"{HALO}/tickets/create", json={"id": "t"})
        deliveries(store, clock, queue).deliver(recorded.submission_id)
        assert len(halo.calls) == 1


def test_delivering_twice_creates_one_ticket(store, clock, queue):
    recorded = record(store)
    worker = deliveries(store, clock, queue)
    with responses.RequestsMock() as halo:
        halo.post(f"{HALO}/tickets/create", json={"id": "t"})
        worker.deliver(recorded.submission_id)
        assert worker.deliver(recorded.submission_id) is None
        assert len(halo.calls) == 1
    assert count(store, Ticket) == 1


def test_two_workers_racing_for_one_submission_make_one_call(store, clock, queue):
    recorded = record(store)
    worker = deliveries(store, clock, queue)
    barrier = threading.Barrier(4)
    with responses.RequestsMock() as halo:
        halo.post(f"{HALO}/tickets/create", json={"id": "t"})

        def run() -> None:
            barrier.wait()
            worker.deliver(recorded.submission_id)

        threads = [threading.Thread(target=run) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(halo.calls) == 1
    assert count(store, Ticket) == 1


def test_halo_down_is_retried_later_with_backoff(store, clock, queue):
    recorded = record(store)
    worker = deliveries(store, clock, queue)
    with responses.RequestsMock() as halo:
        halo.post(f"{HALO}/tickets/create", status=503)
        outcome = worker.deliver(recorded.submission_id)
    assert outcome.status == Status.RETRYING
    stored = status_of(store, recorded.submission_id)
    # attempt 1, base 2 s, rng 0.5: min(3600, 2 * 2**1) * 0.5 = 2 s
    assert stored.next_attempt_at == clock.start + timedelta(seconds=2)
    assert queue == [(recorded.submission_id, clock.start + timedelta(seconds=2))]
    # not due yet: nothing happens
    assert worker.deliver(recorded.submission_id) is None
    clock.advance(seconds=2)
    with responses.RequestsMock() as halo:
        halo.post(f"{HALO}/tickets/create", json={"id": "t"})
        assert worker.deliver(recorded.submission_id).status == Status.DELIVERED
    assert count(store, Attempt) == 2


def test_retry_after_from_halo_sets_the_earliest_next_attempt(store, clock, queue):
    recorded = record(store)
    with responses.RequestsMock() as halo:
        halo.post(f"{HALO}/tickets/create", status=429, headers={"Retry-After": "120"})
        deliveries(store, clock, queue).deliver(recorded.submission_id)
    assert status_of(store, recorded.submission_id).next_attempt_at == clock.start + timedelta(seconds=120)


def test_after_the_retry_horizon_a_submission_is_dead_lettered(store, clock, queue):
    recorded = record(store)
    worker = deliveries(store, clock, queue, retry_seconds=3600)
    clock.advance(minutes=59, seconds=59)
    with responses.RequestsMock() as halo:
        halo.post(f"{HALO}/tickets/create", status=500)
        outcome = worker.deliver(recorded.submission_id)
    assert outcome.status == Status.DEAD
    assert "Gave up after 1 attempts" in status_of(store, recorded.submission_id).status_reason
    assert queue == []


def test_halo_rejecting_the_data_needs_attention_with_halos_words(store, clock, queue):
    recorded = record(store)
    with responses.RequestsMock() as halo:
        halo.post(f"{HALO}/tickets/create", status=400, json={"error": "metadata too large"})
        outcome = deliveries(store, clock, queue).deliver(recorded.submission_id)
    assert outcome.status == Status.NEEDS_ATTENTION
    assert "metadata too large" in status_of(store, recorded.submission_id).status_reason


def test_a_bad_halo_key_keeps_retrying_so_fixing_it_delivers_everything(store, clock, queue):
    recorded = record(store)
    with responses.RequestsMock() as halo:
        halo.post(f"{HALO}/tickets/create", status=401)
        assert deliveries(store, clock, queue).deliver(recorded.submission_id).status == Status.RETRYING


def test_no_answer_to_tickets_create_is_held_not_duplicated(store, clock, queue):
    recorded = record(store)
    with responses.RequestsMock() as halo:
        halo.post(f"{HALO}/tickets/create", body=requests.ReadTimeout())
        outcome = deliveries(store, clock, queue).deliver(recorded.submission_id)
    assert outcome.status == Status.NEEDS_ATTENTION
    assert "may have been processed" in status_of(store, recorded.submission_id).status_reason
    assert queue == []


def test_no_answer_is_retried_when_the_operator_prefers_duplicates_to_waiting(store, clock, queue):
    recorded = record(store)
    with responses.RequestsMock() as halo:
        halo.post(f"{HALO}/tickets/create", body=requests.ReadTimeout())
        outcome = deliveries(store, clock, queue, ambiguous="retry").deliver(recorded.submission_id)
    assert outcome.status == Status.RETRYING


def test_a_submission_without_a_customer_is_never_sent(store, clock, queue):
    recorded = record(store, request(customer=Customer()))
    with responses.RequestsMock():
        assert deliveries(store, clock, queue).deliver(recorded.submission_id) is None


# --- recovery -----------------------------------------------------------------------------------


def test_sweep_re_enqueues_due_work_the_queue_lost(store, clock, queue):
    recorded = record(store)
    worker = deliveries(store, clock, queue)
    assert worker.sweep() == 0  # just stored: its wake-up may still be on the way
    clock.advance(minutes=2)
    assert worker.sweep() == 1
    assert queue == [(recorded.submission_id, None)]


def test_sweep_takes_back_an_expired_lease_from_a_dead_worker(store, clock, queue):
    recorded = record(store)
    worker = deliveries(store, clock, queue, lease_seconds=60)
    with store.session() as session:  # a worker claimed it, then died before calling Halo
        session.get(Submission, recorded.submission_id).status = Status.DELIVERING
        session.get(Submission, recorded.submission_id).lease_until = clock.start + timedelta(seconds=60)
    clock.advance(seconds=61)
    worker.sweep()
    assert queue == [(recorded.submission_id, None)]
    with responses.RequestsMock() as halo:
        halo.post(f"{HALO}/tickets/create", json={"id": "t"})
        assert worker.deliver(recorded.submission_id).status == Status.DELIVERED


def test_sweep_holds_a_submission_whose_worker_died_mid_create(store, clock, queue):
    recorded = record(store)
    worker = deliveries(store, clock, queue, lease_seconds=60)
    with store.session() as session:
        row = session.get(Submission, recorded.submission_id)
        row.status, row.phase, row.lease_until = Status.DELIVERING, "creating", clock.start + timedelta(seconds=60)
    clock.advance(seconds=61)
    worker.sweep()
    assert queue == []
    stored = status_of(store, recorded.submission_id)
    assert stored.status == Status.NEEDS_ATTENTION and "may exist" in stored.status_reason


def test_replay_after_fixing_the_mapping_delivers(store, clock, queue):
    recorded = record(store, request(customer=Customer()))
    worker = deliveries(store, clock, queue)
    assert worker.replay(recorded.submission_id) == Status.NEEDS_ATTENTION
    assert worker.replay(recorded.submission_id, request()) == Status.PENDING
    assert queue == [(recorded.submission_id, None)]
    with responses.RequestsMock() as halo:
        halo.post(f"{HALO}/tickets/create", json={"id": "t"})
        assert worker.deliver(recorded.submission_id).status == Status.DELIVERED
    with pytest.raises(ValueError, match="already delivered"):
        worker.replay(recorded.submission_id)


# --- synchronous (Zapier/Make actions) ------------------------------------------------------------


def test_a_synchronous_failure_is_recorded_as_failed_and_raised_not_retried(store, clock, queue):
    recorded = record(store, status=Status.DELIVERING)
    worker = deliveries(store, clock, queue)
    with responses.RequestsMock() as halo:
        halo.post(f"{HALO}/tickets/create", status=503)
        with pytest.raises(HaloUnavailable):
            worker.deliver_now(recorded.submission_id)
    assert status_of(store, recorded.submission_id).status == Status.FAILED
    assert queue == []
    # a replayed run retries it, with the corrected request
    with responses.RequestsMock() as halo:
        halo.post(f"{HALO}/tickets/create", json={"id": "t"})
        outcome = worker.deliver_now(recorded.submission_id, request(subject="Fixed"))
        assert json.loads(halo.calls[0].request.body)["subject"] == "Fixed"
    assert outcome.status == Status.DELIVERED


# --- a dropped database connection while recording the outcome --------------------------------


def _drop_connection_once(monkeypatch, method: str, invalidated: bool = True) -> list[int]:
    """Make ``Deliveries.<method>`` fail once as if the database dropped the connection."""
    from sqlalchemy.exc import OperationalError

    original = getattr(Deliveries, method)
    calls: list[int] = []

    def flaky(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("COMMIT", {}, Exception("server closed the connection"),
                                   connection_invalidated=invalidated)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Deliveries, method, flaky)
    return calls


@responses.activate
def test_a_ticket_halo_created_is_recorded_again_when_the_connection_drops(store, clock, queue, monkeypatch):
    """Only this process knows Halo created the ticket: losing that would hold it as ambiguous."""
    responses.post(f"{HALO}/tickets/create", json={"id": "t_1"})
    calls = _drop_connection_once(monkeypatch, "_record_success")
    submission_id = record(store).submission_id
    outcome = deliveries(store, clock, queue).deliver(submission_id)
    assert outcome.status == Status.DELIVERED and len(calls) == 2
    assert status_of(store, submission_id).status == Status.DELIVERED
    assert len(responses.calls) == 1 and count(store, Ticket) == 1


@responses.activate
def test_other_database_errors_while_recording_are_not_retried(store, clock, queue, monkeypatch):
    from sqlalchemy.exc import OperationalError

    responses.post(f"{HALO}/tickets/create", json={"id": "t_1"})
    calls = _drop_connection_once(monkeypatch, "_record_success", invalidated=False)
    submission_id = record(store).submission_id
    with pytest.raises(OperationalError):
        deliveries(store, clock, queue).deliver(submission_id)
    assert len(calls) == 1
