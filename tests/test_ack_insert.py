"""The ack path's one-statement insert stores exactly what the general (ORM) path stores, and
keeps its guarantees: one row per event, the outbox, the committed-id fence, dropped connections."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from connector.delivery import ack_insert, intake
from connector.delivery.intake import record_submission
from connector.store import HookDelivery, HookSubscription, Status, Store, Submission
from connector.store.fence import LOCK_CLASS
from connector.store.types import utcnow
from connector.ticket import Customer, TicketRequest
from tests import backends

HEADERS = {"content-type": "application/json", "user-agent": "Typeform Webhooks"}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    made = Store(backends.database_url(tmp_path))
    made.migrate()
    yield made
    made.dispose()


def record(store: Store, event_id: str | None, **overrides: Any) -> intake.Recorded:
    arguments: dict[str, Any] = dict(
        tenant="default", channel="webhook", source="typeform", raw_body=b'{"event_id": "x"}',
        headers=HEADERS, content_type="application/json", ticket_request=None, event_id=event_id,
        status=Status.PENDING)
    arguments.update(overrides)
    return record_submission(store, **arguments)


def row(store: Store, submission_id: int) -> dict[str, Any]:
    with store.session() as session:
        found = session.get(Submission, submission_id)
        assert found is not None
        return {column.key: getattr(found, column.key) for column in Submission.__table__.columns}


def general_path_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(intake, "insert_pending", lambda *args: None)


def test_the_fast_path_stores_the_row_the_general_path_stores(store: Store, monkeypatch: pytest.MonkeyPatch):
    request = TicketRequest(subject="Help", message="Line one\nLine two",
                            customer=Customer(email="pat@example.com", name="Pat Doe"))
    common = dict(ticket_request=request, raw_body=b'{"form": "\\u00e9t\\u00e9"}\xff', status=None)
    fast = record(store, "evt-fast", **common)
    general_path_only(monkeypatch)
    general = record(store, "evt-general", **common)
    assert fast.submission_id != general.submission_id
    fast_row, general_row = row(store, fast.submission_id), row(store, general.submission_id)
    for stamp in ("received_at", "updated_at", "next_attempt_at"):  # taken a moment apart
        fast_stamp, general_stamp = fast_row.pop(stamp), general_row.pop(stamp)
        assert fast_stamp.tzinfo is not None and abs(fast_stamp - general_stamp).total_seconds() < 5
    differing = {"id", "event_id", "dedupe_key"}
    assert {k: v for k, v in fast_row.items() if k not in differing} == \
           {k: v for k, v in general_row.items() if k not in differing}
    assert fast_row["dedupe_key"] == "webhook:typeform:evt-fast"
    assert fast_row["status"] == Status.PENDING and fast_row["raw_body"].endswith(b"\xff")


def test_it_is_the_path_a_plain_webhook_takes(store: Store, monkeypatch: pytest.MonkeyPatch):
    taken: list[str] = []
    real = ack_insert.AckInsert.run
    monkeypatch.setattr(ack_insert.AckInsert, "run", lambda self, *args: taken.append("fast") or real(self, *args))
    record(store, "evt-1")
    assert taken == ["fast"]


def test_a_second_delivery_of_an_event_finds_the_first(store: Store):
    first = record(store, "evt-dup")
    again = record(store, "evt-dup", raw_body=b"a retry may differ")
    assert (again.submission_id, again.duplicate, again.status) == (first.submission_id, True, Status.PENDING)
    assert first.duplicate is False
    with store.session() as session:
        assert session.execute(select(Submission.raw_body)).scalars().all() == [b'{"event_id": "x"}']


def test_a_duplicate_reports_the_state_the_first_reached(store: Store):
    first = record(store, "evt-state")
    with store.session() as session:
        session.get(Submission, first.submission_id).status = Status.DELIVERED  # type: ignore[union-attr]
    assert record(store, "evt-state").status == Status.DELIVERED


def test_with_a_subscriber_the_general_path_writes_the_outbox_row(store: Store):
    with store.session() as session:
        session.add(HookSubscription(tenant="default", event="new_submission", target_url="https://example.com/h",
                                     secret="whsec_x", created_at=utcnow()))
    assert ack_insert.insert_pending(store, values(store, "evt-sub")) is None
    with store.session() as session:
        assert session.execute(select(Submission.id)).all() == [], "the fast path wrote nothing"
    recorded = record(store, "evt-sub")
    with store.session() as session:
        outbox = session.execute(select(HookDelivery)).scalars().all()
    assert [(o.event, o.item["id"]) for o in outbox] == [("new_submission", recorded.submission_id)]


def test_other_tenants_subscriptions_do_not_divert_the_fast_path(store: Store):
    with store.session() as session:
        session.add(HookSubscription(tenant="other", event="new_submission", target_url="https://example.com/h",
                                     secret="whsec_x", created_at=utcnow()))
    assert ack_insert.insert_pending(store, values(store, "evt-mine")) is not None


@pytest.mark.parametrize("change", [{"dedupe_key": None}, {"status": Status.NEEDS_ATTENTION}])
def test_only_pending_events_with_an_id_take_the_fast_path(store: Store, change: dict[str, Any]):
    assert ack_insert.insert_pending(store, {**values(store, "evt-x"), **change}) is None


def values(store: Store, event_id: str) -> dict[str, Any]:
    now = utcnow()
    return dict(tenant="default", channel="webhook", source="typeform", event_id=event_id,
                dedupe_key=intake.dedupe_key("webhook", "typeform", event_id), received_at=now, updated_at=now,
                content_type="application/json", headers=HEADERS, raw_body=b"{}", **intake.EMPTY_REQUEST_COLUMNS,
                status=Status.PENDING, status_reason=None, attempts=0, next_attempt_at=now, lease_until=None,
                phase=None)


def test_one_batch_mixes_tenants_subscribers_copies_and_earlier_events(store: Store):
    """What a busy process's batch may hold; each row must come out as if it were alone."""
    with store.session() as session:
        session.add(HookSubscription(tenant="watched", event="new_submission", target_url="https://example.com/h",
                                     secret="whsec_x", created_at=utcnow()))
    earlier = record(store, "evt-earlier")
    batch = [values(store, "evt-a"), values(store, "evt-earlier"), {**values(store, "evt-w"), "tenant": "watched"},
             values(store, "evt-a"), {**values(store, "evt-b"), "tenant": "other"}, values(store, "evt-c")]
    writer = ack_insert.writer_for(store)
    new_a, again_earlier, watched, again_a, other_b, new_c = writer.connection.run(
        lambda connection: writer.statements.run(connection, batch))
    assert watched is None, "a subscribed tenant's row is left to the general path"
    assert again_earlier is not None and (again_earlier.submission_id, again_earlier.duplicate) == \
        (earlier.submission_id, True)
    assert new_a is not None and again_a is not None and other_b is not None and new_c is not None
    assert (new_a.duplicate, again_a.duplicate, again_a.submission_id) == (False, True, new_a.submission_id)
    assert not other_b.duplicate and not new_c.duplicate
    with store.session() as session:
        stored = dict(session.execute(select(Submission.id, Submission.tenant)).all())
    assert stored == {earlier.submission_id: "default", new_a.submission_id: "default",
                      other_b.submission_id: "other", new_c.submission_id: "default"}


@pytest.mark.skipif(not backends.production(), reason="the committed-id fence exists on PostgreSQL only")
def test_the_insert_waits_for_a_poll_holding_the_fence(store: Store):
    """A cursor poll takes the fence exclusively; an insert must not draw its id meanwhile."""
    done = threading.Event()
    with store.engine.connect() as poll:
        poll.execute(text("SELECT pg_advisory_xact_lock(:c, hashtext(current_schema() || '.submissions'))"),
                     {"c": LOCK_CLASS})
        thread = threading.Thread(target=lambda: (record(store, "evt-fenced"), done.set()))
        thread.start()
        assert not done.wait(0.5), "the insert ran while the fence was held"
        poll.rollback()
    assert done.wait(10)
    thread.join(10)


@pytest.mark.skipif(not backends.production(), reason="server-side connection drops are a PostgreSQL matter")
def test_a_connection_the_database_dropped_is_replaced_and_the_insert_goes_through(store: Store):
    pids: list[int] = []
    real = ack_insert.AckInsert.run

    def run(self: ack_insert.AckInsert, connection: Any, rows: Any) -> Any:
        pids.append(connection.info.backend_pid)
        return real(self, connection, rows)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ack_insert.AckInsert, "run", run)
        record(store, "evt-before")
        with store.engine.connect() as admin:
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pids[0]})
            admin.commit()
        recorded = record(store, "evt-after")
    assert len(pids) == 3 and pids[1] == pids[0] != pids[2], "tried the dropped connection once, then a new one"
    assert row(store, recorded.submission_id)["event_id"] == "evt-after"


def test_acks_arriving_together_share_one_transaction_and_one_wake_up(store: Store, monkeypatch: pytest.MonkeyPatch):
    """While one batch commits, the acks that arrive queue up; the next turn takes them all."""
    first_commit_started, let_it_finish = threading.Event(), threading.Event()
    batches: list[int] = []
    real = ack_insert.AckInsert.run

    def run(self: ack_insert.AckInsert, connection: Any, rows: Any) -> Any:
        batches.append(len(rows))
        if len(batches) == 1:
            first_commit_started.set()
            assert let_it_finish.wait(10)
        return real(self, connection, rows)

    monkeypatch.setattr(ack_insert.AckInsert, "run", run)
    woken: list[list[int]] = []
    results: dict[str, intake.Recorded] = {}

    def wake(ids: Any) -> None:  # one waker for all, as the app's deliveries.wake
        woken.append(list(ids))

    def ack(event_id: str) -> None:
        results[event_id] = record(store, event_id, wake=wake)

    first = threading.Thread(target=ack, args=("evt-0",))
    first.start()
    assert first_commit_started.wait(10)
    # Six more acks arrive while the first commits, one of them a copy of another.
    later = [threading.Thread(target=ack, args=(event_id,))
             for event_id in ("evt-1", "evt-2", "evt-3", "evt-4", "evt-5", "evt-5")]
    for thread in later:
        thread.start()
    deadline = threading.Event()
    while len(store._ack_writer.combiner._queue) < 6 and not deadline.wait(0.01):  # type: ignore[attr-defined]
        pass
    let_it_finish.set()
    for thread in [first, *later]:
        thread.join(10)
    assert batches == [1, 6]
    ids = {event_id: recorded.submission_id for event_id, recorded in results.items()}
    assert len(set(ids.values())) == 6
    assert sorted(map(sorted, woken)) == [[ids["evt-0"]], sorted(set(ids.values()) - {ids["evt-0"]})], \
        "one wake-up per batch, naming each submission once"
    assert all(recorded.woken for recorded in results.values())


def test_a_failed_batch_fails_every_ack_in_it_and_the_next_one_goes_through(store: Store,
                                                                             monkeypatch: pytest.MonkeyPatch):
    from sqlalchemy.exc import OperationalError

    real = ack_insert.AckInsert.run
    failing = {"once": True}

    def run(self: ack_insert.AckInsert, connection: Any, rows: Any) -> Any:
        if failing.pop("once", False):
            raise OperationalError("INSERT", {}, Exception("disk I/O error"))
        return real(self, connection, rows)

    monkeypatch.setattr(ack_insert.AckInsert, "run", run)
    with pytest.raises(OperationalError):
        record(store, "evt-fails")
    assert record(store, "evt-fails").duplicate is False


def test_the_combiner_hands_every_caller_its_own_result():
    seen: list[list[int]] = []
    gate = threading.Event()

    def run_batch(items: list[int]) -> list[int]:
        seen.append(items)
        gate.wait(10)
        return [item * 10 for item in items]

    combiner: ack_insert.Combiner[int, int] = ack_insert.Combiner(run_batch, max_batch=3)
    out: dict[int, int] = {}
    threads = [threading.Thread(target=lambda n=n: out.__setitem__(n, combiner.submit(n))) for n in range(8)]
    for thread in threads:
        thread.start()
    gate.set()
    for thread in threads:
        thread.join(10)
    assert out == {n: n * 10 for n in range(8)}
    assert sorted(item for batch in seen for item in batch) == list(range(8))
    assert max(len(batch) for batch in seen) <= 3


def test_the_combiners_wake_up_locks_serve_caller_after_caller_even_after_a_failed_batch():
    """Each caller leaves its lock held, so the next caller can sleep on it: rounds of callers
    racing, some batches failing, must still each get exactly their own answer."""
    failing = {3, 11}
    gate = threading.Event()

    def run_batch(items: list[int]) -> list[int]:
        gate.wait(10)
        if failing & set(items):
            raise ValueError(f"batch {items} failed")
        return [item * 10 for item in items]

    combiner: ack_insert.Combiner[int, int] = ack_insert.Combiner(run_batch, max_batch=3)
    out: dict[int, object] = {}

    def submit(n: int) -> None:
        try:
            out[n] = combiner.submit(n)
        except ValueError as error:
            out[n] = error

    for start in (0, 8, 16):
        gate.clear()
        threads = [threading.Thread(target=submit, args=(n,)) for n in range(start, start + 8)]
        for thread in threads:
            thread.start()
        gate.set()
        for thread in threads:
            thread.join(10)
    answered = {n: value for n, value in out.items() if not isinstance(value, ValueError)}
    refused = {n for n, value in out.items() if isinstance(value, ValueError)}
    assert set(out) == set(range(24)) and failing <= refused
    assert answered == {n: n * 10 for n in answered}
    spare = combiner._spare_locks
    assert 0 < len(spare) <= 8 and all(lock.locked() for lock in spare), "reused, and held for the next"


def test_a_batch_wake_up_is_one_queue_message_that_fans_out_in_the_worker(tmp_path: Path, make_app):
    from tests.conftest import base_env

    app = make_app(base_env(tmp_path))
    svc = app.extensions["halo_connector"]
    delivered: list[int] = []
    svc.deliveries.deliver = delivered.append  # type: ignore[method-assign]
    huey = svc.huey
    huey.flush()
    svc.deliveries.wake([11, 12, 13])
    assert huey.pending_count() == 1
    task = huey.dequeue()
    assert task.name == "deliver_batch" and task.args == ([11, 12, 13],)
    huey.execute(task)
    assert delivered == [11]
    assert sorted(huey.dequeue().args[0] for _ in range(huey.pending_count())) == [12, 13]
