"""The committed-id fence on PostgreSQL: ids that commit out of order are never skipped by a
cursor poll (needs the PostgreSQL server at 127.0.0.1:5432)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from connector.delivery import record_submission
from connector.operations import Context
from connector.store import Status, Store, Submission
from connector.store.fence import before_insert
from connector.store.types import utcnow
from tests import backends
from triggers import new_submission

pytestmark = pytest.mark.postgres


@pytest.fixture
def store() -> Iterator[Store]:
    """A store in a schema of its own on the test PostgreSQL server (whatever TEST_BACKEND says:
    the fence only exists there)."""
    schema = f"fence_{uuid.uuid4().hex[:10]}"
    admin = create_engine(backends.POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as error:  # pragma: no cover - depends on the machine
        admin.dispose()
        pytest.skip(f"PostgreSQL not available: {type(error).__name__}")
    store = Store(f"{backends.POSTGRES_URL}?options=-csearch_path%3D{schema}")
    store.migrate()
    yield store
    store.dispose()
    with admin.connect() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def poll(store: Store, **params) -> list[int]:
    ctx = Context(tenant="default", client="api", services=SimpleNamespace(store=store))  # type: ignore[arg-type]
    return [item["id"] for item in new_submission.perform(ctx, params)]


def submission() -> Submission:
    now = utcnow()
    return Submission(tenant="default", channel="webhook", source="test", received_at=now,
                      updated_at=now, headers={}, raw_body=b"", status=Status.PENDING, attempts=0)


def record(store: Store) -> int:
    return record_submission(store, tenant="default", channel="webhook", source="test", raw_body=b"",
                             headers={}, content_type=None, ticket_request=None).submission_id


def test_a_cursor_poll_waits_for_a_lower_id_still_being_written(store):
    slow = Session(store.engine)
    before_insert(slow, "submissions")
    early = submission()
    slow.add(early)
    slow.flush()  # holds the lower id, not committed yet
    early_id = early.id
    later = record(store)  # a larger id, committed first
    assert later > early_id
    assert poll(store) == [later]  # Zapier-style (no cursor) polls never wait
    answer: list[list[int]] = []
    poller = threading.Thread(target=lambda: answer.append(poll(store, after_id=0)))
    poller.start()
    time.sleep(0.5)
    assert poller.is_alive(), "the cursor poll must not answer while a lower id is in flight"
    slow.commit()
    slow.close()
    poller.join(5)
    assert answer == [[later, early_id]]


def test_a_writer_that_never_finishes_makes_the_poll_answer_nothing_new_rather_than_skip(store):
    first = record(store)
    slow = Session(store.engine)
    before_insert(slow, "submissions")
    slow.add(submission())
    slow.flush()
    record(store)
    started = time.monotonic()
    try:
        assert poll(store, after_id=first) == []
    finally:
        slow.rollback()
        slow.close()
    assert time.monotonic() - started < 10
    assert len(poll(store, after_id=first)) == 1


def test_without_writers_in_flight_cursor_polls_answer_at_once(store):
    made = [record(store) for _ in range(5)]
    assert poll(store, after_id=made[1], limit=2) == [made[3], made[2]]
    assert poll(store, after_id=made[3]) == [made[4]]
