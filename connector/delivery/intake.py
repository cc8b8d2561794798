"""Durable intake: store what arrived (once per sender event) before anyone answers 2xx."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from connector.delivery.ack_insert import insert_pending, worth_waking
from connector.hooks import outbox
from connector.store import Attempt, Status, Store, Submission
from connector.store.fence import before_insert
from connector.store.types import utcnow
from connector.ticket import TicketRequest


@dataclass(frozen=True)
class Recorded:
    """The stored submission: its id, its state, and whether it had arrived before."""

    submission_id: int
    status: str
    duplicate: bool
    reason: str | None = None
    #: The attempt opened with a :class:`Claim` (None otherwise, and for duplicates).
    attempt_id: int | None = None
    #: Whether ``wake`` was already called for it (else the caller wakes a worker if it should).
    woken: bool = False

    @property
    def wake_due(self) -> bool:
        """The caller should still wake a worker for it (see ``ack_insert.worth_waking``)."""
        return not self.woken and worth_waking(self.duplicate, self.status)


@dataclass(frozen=True)
class Claim:
    """Store the submission already claimed by the caller that will deliver it right away (a
    Zapier or Make action), with its first attempt opened, in the same transaction as the insert.

    :param phase: ``"creating"`` when the next Halo call is tickets/create itself.
    """

    lease_until: datetime
    phase: str | None = None


_INSERT_SUBMISSION = insert(Submission)
_INSERT_ATTEMPT = insert(Attempt)
#: The request columns of a submission that could not be normalized.
EMPTY_REQUEST_COLUMNS: dict[str, Any] = dict(ticket_request=None, customer_email=None, customer_name=None,
                                             customer_user_id=None, resolved_by=None, subject=None)


def dedupe_key(channel: str, source: str, event_id: str | None) -> str | None:
    return f"{channel}:{source}:{event_id}"[:400] if event_id else None


def record_submission(
    store: Store,
    *,
    tenant: str,
    channel: str,
    source: str,
    raw_body: bytes,
    headers: Mapping[str, str],
    content_type: str | None,
    ticket_request: TicketRequest | None,
    event_id: str | None = None,
    dedupe_source: str | None = None,
    problem: str | None = None,
    status: str | None = None,
    claim: Claim | None = None,
    wake: Callable[[Sequence[int]], None] | None = None,
) -> Recorded:
    """Insert a submission, or find the one this event already created.

    :param ticket_request: the normalized request, or None when it could not be built.
    :param dedupe_source: what the event id is unique within (default ``source``); a sender's
        event ids are unique per sender, whichever route they came through.
    :param problem: why it cannot be delivered as is; it is then kept as needing attention.
    :param status: force a state (``Status.REJECTED`` for bad input kept for inspection,
        ``Status.DELIVERING`` for a synchronous caller that delivers it right away).
    :param claim: store it as ``delivering`` with attempt 1 already open (see :class:`Claim`).
    :param wake: how to ask workers to deliver; the webhook ack's batched insert calls it once
        per batch (``Recorded.woken`` says so), saving each ack its own queue write.
    """
    if claim is not None:
        status = Status.DELIVERING
    if status is None:
        if problem is None and (ticket_request is None or not ticket_request.customer.identified):
            problem = "No customer email or user id was found."
        status = Status.NEEDS_ATTENTION if problem else Status.PENDING
    key = dedupe_key(channel, dedupe_source or source, event_id)
    now = utcnow()
    values: dict[str, Any] = dict(
        tenant=tenant,
        channel=channel,
        source=source,
        event_id=event_id,
        dedupe_key=key,
        received_at=now,
        updated_at=now,
        content_type=content_type,
        headers=dict(headers),
        raw_body=raw_body,
        **(request_columns(ticket_request) if ticket_request else EMPTY_REQUEST_COLUMNS),
        status=status,
        status_reason=problem,
        attempts=1 if claim else 0,
        next_attempt_at=now if status == Status.PENDING else None,
        lease_until=claim.lease_until if claim else None,
        phase=claim.phase if claim else None,
    )
    if claim is None and (fast := insert_pending(store, values, wake)) is not None:
        return Recorded(fast.submission_id, fast.status, duplicate=fast.duplicate, reason=fast.reason,
                        woken=fast.woken)
    try:
        with store.session() as session:
            before_insert(session, "submissions")
            # Core statements on the session's connection: this is the ack path, and the ORM's
            # unit of work would double its CPU cost for two plain inserts.
            connection = session.connection()
            submission_id = connection.execute(_INSERT_SUBMISSION, values).inserted_primary_key[0]
            attempt_id = None
            if claim is not None:
                attempt_id = connection.execute(_INSERT_ATTEMPT, {
                    "submission_id": submission_id, "started_at": now}).inserted_primary_key[0]
            # A plain view of the row for the outbox: an ORM instance costs more to build than
            # the insert itself.
            outbox.submission_recorded(session, SimpleNamespace(id=submission_id, **values))  # type: ignore[arg-type]
            return Recorded(submission_id, status, duplicate=False, reason=problem,
                            attempt_id=attempt_id)
    except IntegrityError:
        if key is None:
            raise
    with store.session() as session:
        existing = session.execute(
            select(Submission.id, Submission.status, Submission.status_reason).where(
                Submission.tenant == tenant, Submission.dedupe_key == key)
        ).one()
    return Recorded(existing.id, existing.status, duplicate=True, reason=existing.status_reason)


def request_columns(request: TicketRequest) -> dict[str, Any]:
    """The submission columns that mirror its ticket request (for listings and searches)."""
    customer = request.customer
    return {
        "ticket_request": request.to_dict(),
        "customer_email": customer.email[:320] if customer.email else None,
        "customer_name": customer.name[:255] if customer.name else None,
        "customer_user_id": customer.user_id[:255] if customer.user_id else None,
        "resolved_by": customer.resolved_by[:100] if customer.resolved_by else None,
        "subject": request.subject[:1000],
    }
