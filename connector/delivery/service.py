"""Deliver stored submissions to Halo: claim, call, record, and reschedule what failed.

One :class:`Deliveries` per process. :meth:`deliver` is the background task body and is safe to
run any number of times for the same submission: only the caller that wins the atomic claim
does the work. Failures are classified once, by the error hierarchy:

* retriable (Halo down, 429, 5xx, bad Halo key being fixed): rescheduled with full-jitter
  backoff that honours ``Retry-After``, until ``DELIVERY_RETRY_HOURS``, then dead-lettered;
* Halo rejected the data (``HaloValidationError``): kept as needing attention with Halo's words;
* outcome unknown (no answer to tickets/create): held or retried per ``AMBIGUOUS_DELIVERY``.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any, TypeVar, cast

from sqlalchemy import and_, bindparam, insert, or_, select, update
from sqlalchemy.exc import DBAPIError

from connector.errors import (
    ConnectorError,
    HaloError,
    HaloOutcomeUnknown,
    HaloValidationError,
    ServiceUnavailable,
)
from connector.delivery.intake import Claim, Recorded, request_columns
from connector.halo import HaloClient, TicketCreated
from connector.halo.retry import Backoff
from connector.hooks import outbox
from connector.store import Attempt, Status, Store, Submission, Ticket
from connector.store.fence import before_insert
from connector.store.types import utcnow
from connector.ticket import Customer, TicketRequest

log = logging.getLogger("connector.delivery")

CREATING = "creating"
#: Longer than the worst case of one delivery (three Halo calls with their quick retries).
DEFAULT_LEASE_SECONDS = 300
#: Background retries: 2 s, 4 s, 8 s … up to an hour apart, each drawn at random below that.
WORKER_BACKOFF = Backoff(base=2.0, cap=3600.0, floor=1.0)
#: Due work that has waited this long past its time is assumed lost from the queue.
SWEEP_GRACE = timedelta(seconds=30)
SWEEP_BATCH = 1000
#: Pauses before recording a Halo call's outcome again when the database dropped the connection.
RECORD_RETRY_PAUSES = (0.1, 0.5, 2.0)
T = TypeVar("T")


_SUBMISSION_AND_TICKET = (select(Submission.tenant, Submission.channel, Ticket.id)
                          .outerjoin(Ticket, Ticket.submission_id == Submission.id)
                          .where(Submission.id == bindparam("b_id")))
_INSERT_TICKET = insert(Ticket)
_MARK_DELIVERED = update(Submission).where(Submission.id == bindparam("b_id")).values(
    status=Status.DELIVERED, status_reason=None, phase=None, lease_until=None, next_attempt_at=None,
    updated_at=bindparam("b_now"))
_FINISH_ATTEMPT = update(Attempt).where(Attempt.id == bindparam("b_id")).values(
    finished_at=bindparam("b_now"), outcome="delivered")


@dataclass(frozen=True)
class Outcome:
    """What one delivery run did: the new status, the ticket (if any) and the error (if any)."""

    status: str
    ticket: Ticket | None = None
    error: ConnectorError | None = None


class Deliveries:
    """Delivery of submissions to Halo, shared by the worker, the CLI and synchronous actions."""

    def __init__(
        self,
        store: Store,
        halo: HaloClient,
        *,
        retry_seconds: float = 72 * 3600,
        ambiguous: str = "hold",
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        backoff: Backoff = WORKER_BACKOFF,
        enqueue: Callable[[int, datetime | None], None] | None = None,
        clock: Callable[[], datetime] = utcnow,
        rng: Callable[[], float] = random.random,
        reader: Callable[[Submission], TicketRequest | None] | None = None,
    ) -> None:
        """:param reader: builds the ticket request of a submission stored raw (webhooks are
            acknowledged before they are read); see ``connector.normalizers``."""
        self.store = store
        self.reader = reader
        self.halo = halo
        self.retry_window = timedelta(seconds=retry_seconds)
        self.ambiguous = ambiguous
        self.lease = timedelta(seconds=lease_seconds)
        self.backoff = backoff
        self._enqueue = enqueue
        self._enqueue_batch: Callable[[Sequence[int]], None] | None = None
        self._clock = clock
        self._rng = rng

    # --- waking workers ------------------------------------------------------------------------

    def bind_queue(self, enqueue: Callable[[int, datetime | None], None],
                   enqueue_batch: Callable[[Sequence[int]], None] | None = None) -> None:
        """:param enqueue_batch: one queue message for several submissions due now (else one
            ``enqueue`` each)."""
        self._enqueue = enqueue
        self._enqueue_batch = enqueue_batch

    def enqueue(self, submission_id: int, eta: datetime | None = None) -> None:
        """Ask a worker to look at a submission. Best effort: the sweeper covers lost wake-ups."""
        if self._enqueue is None:
            return
        try:
            self._enqueue(submission_id, eta)
        except Exception:  # the record is stored; the sweeper will find it
            log.exception("could not enqueue submission %s; the sweeper will pick it up", submission_id)

    def wake(self, submission_ids: Sequence[int]) -> None:
        """Ask workers to deliver these now, in one queue write when the queue can (the webhook
        ack's batched insert stores several at once). Best effort, like :meth:`enqueue`."""
        if self._enqueue_batch is None or len(submission_ids) == 1:
            for submission_id in submission_ids:
                self.enqueue(submission_id)
            return
        try:
            self._enqueue_batch(submission_ids)
        except Exception:  # the records are stored; the sweeper will find them
            log.exception("could not enqueue %d submissions; the sweeper will pick them up", len(submission_ids))

    # --- the task ------------------------------------------------------------------------------

    def deliver(self, submission_id: int) -> Outcome | None:
        """Deliver one submission if it is due and nobody else holds it (the background task).

        :returns: the outcome, or None when there was nothing to do (already delivered, leased
            elsewhere, not yet due).
        """
        now = self._clock()
        due = and_(Submission.status.in_(Status.DUE),
                   or_(Submission.next_attempt_at.is_(None), Submission.next_attempt_at <= now))
        stale = and_(Submission.status == Status.DELIVERING, Submission.lease_until < now,
                     or_(Submission.phase.is_(None), Submission.phase != CREATING))
        return self._run(submission_id, or_(due, stale), synchronous=False)

    def deliver_now(self, submission_id: int, ticket_request: TicketRequest | None = None) -> Outcome:
        """Deliver while a Zapier or Make action waits for the answer.

        Takes a submission just recorded as ``delivering`` by the caller, or one a previous call
        left ``failed`` (a replayed Zap), optionally with a corrected request. A failure is
        recorded as ``failed`` and raised, never retried in the background: the platform retries
        or reports it itself, and a background retry on top would duplicate the ticket.
        """
        claimable = or_(and_(Submission.status == Status.DELIVERING, Submission.attempts == 0),
                        Submission.status == Status.FAILED)
        outcome = self._run(submission_id, claimable, synchronous=True, replace=ticket_request)
        if outcome is None:
            raise ServiceUnavailable("This ticket is being created by another request; try again "
                                     "in a few seconds.", retry_after=5)
        return outcome

    def claim_for_now(self, request: TicketRequest) -> Claim:
        """The claim a synchronous caller records a new submission with (see :meth:`deliver_claimed`)."""
        return Claim(lease_until=self._clock() + self.lease,
                     phase=None if needs_identify(request) else CREATING)

    def deliver_claimed(self, recorded: Recorded, request: TicketRequest) -> Outcome:
        """Deliver a submission recorded with :meth:`claim_for_now` while the caller waits.

        The insert, the claim and the attempt row were one transaction, so the common path costs
        two commits in all (that one, and the ticket's). Fails like :meth:`deliver_now`.
        """
        assert recorded.attempt_id is not None and not recorded.duplicate
        return self._attempt(recorded.submission_id, 1, request, recorded.attempt_id,
                             synchronous=True, creating=not needs_identify(request))

    def _run(self, submission_id: int, claimable: Any, *, synchronous: bool,
             replace: TicketRequest | None = None) -> Outcome | None:
        claimed = self._claim(submission_id, claimable, replace)
        if claimed is None:
            return None
        attempts, request = claimed
        attempt_row = self._start_attempt(submission_id)
        return self._attempt(submission_id, attempts, request, attempt_row, synchronous=synchronous)

    def _attempt(self, submission_id: int, attempts: int, request: TicketRequest, attempt_row: int,
                 *, synchronous: bool, creating: bool = False) -> Outcome:
        try:
            payload, created = self._call_halo(submission_id, attempts, request, creating=creating)
        except ConnectorError as error:
            outcome = self._reconnecting(lambda: self._record_failure(
                submission_id, attempts, error, attempt_row, synchronous=synchronous))
            if synchronous:
                raise
            return outcome
        return self._reconnecting(lambda: self._record_success(
            submission_id, request, payload, created, attempt_row))

    def _reconnecting(self, record: Callable[[], T]) -> T:
        """Run ``record`` (one transaction) again on a fresh connection if the database dropped
        ours. Only this process knows how the Halo call ended: losing that on a dropped
        connection would turn a created ticket into an ambiguous one (held, or sent twice)."""
        for pause in (*RECORD_RETRY_PAUSES, None):
            try:
                return record()
            except DBAPIError as error:
                if not error.connection_invalidated or pause is None:
                    raise
                log.warning("database connection lost while recording a delivery; again in %.1f s", pause)
                time.sleep(pause)
        raise AssertionError("unreachable")

    def _claim(self, submission_id: int, claimable: Any,
               replace: TicketRequest | None) -> tuple[int, TicketRequest] | None:
        now = self._clock()
        values: dict[str, Any] = dict(status=Status.DELIVERING, lease_until=now + self.lease,
                                      attempts=Submission.attempts + 1, phase=None, updated_at=now)
        if replace is not None:
            values.update(request_columns(replace))
        with self.store.session() as session:
            result = session.execute(
                update(Submission).where(Submission.id == submission_id, claimable).values(**values))
            if result.rowcount != 1:
                return None
            row = session.execute(
                select(Submission.attempts, Submission.ticket_request).where(Submission.id == submission_id)
            ).one()
        if row.ticket_request:
            return row.attempts, TicketRequest.from_dict(row.ticket_request)
        request = self._read_stored(submission_id)
        return (row.attempts, request) if request is not None else None

    def _read_stored(self, submission_id: int) -> TicketRequest | None:
        """Build the request of a submission stored raw; park it for a person if that fails or
        finds no customer (the record keeps everything, so it can be replayed later)."""
        problem = "Nothing to deliver: the submission was never normalized into a ticket."
        request: TicketRequest | None = None
        if self.reader is not None:
            with self.store.session() as session:
                submission = session.get_one(Submission, submission_id)
                try:
                    request = self.reader(submission)
                except ConnectorError as error:
                    problem = error.message
            if request is not None:
                with self.store.session() as session:
                    session.execute(update(Submission).where(Submission.id == submission_id)
                                    .values(**request_columns(request)))
                if request.customer.identified:
                    return request
                problem = unidentified_reason(request)
        self._set_status(submission_id, Status.NEEDS_ATTENTION, problem)
        return None

    def _call_halo(self, submission_id: int, attempts: int, request: TicketRequest, *,
                   creating: bool = False) -> tuple[dict[str, Any], TicketCreated]:
        customer = request.customer
        if identifies_user(customer):
            assert customer.user_id is not None
            traits = dict(customer.traits)
            if customer.name:
                traits.setdefault("name", customer.name)
            if customer.email:
                traits.setdefault("email", customer.email)
            self.halo.identify_user(customer.user_id, traits=traits)
        if request.company:
            company_traits = dict(request.company.traits)
            if request.company.name:
                company_traits.setdefault("name", request.company.name)
            self.halo.identify_company(request.company.company_id, user_id=customer.user_id,
                                       traits=company_traits)
        payload = request.halo_payload(submission_id=submission_id)
        if not creating:
            self._mark_creating(submission_id, attempts)
        return payload, self.halo.create_ticket(payload)

    def _mark_creating(self, submission_id: int, attempts: int) -> None:
        with self.store.session() as session:
            session.execute(update(Submission)
                            .where(Submission.id == submission_id, Submission.attempts == attempts)
                            .values(phase=CREATING))

    def _record_success(self, submission_id: int, request: TicketRequest, payload: dict[str, Any],
                        created: TicketCreated, attempt_row: int) -> Outcome:
        now = self._clock()
        with self.store.session() as session:
            # Prepared Core statements: this runs while a Zapier or Make action waits.
            connection = session.connection()
            tenant, channel, existing = connection.execute(
                _SUBMISSION_AND_TICKET, {"b_id": submission_id}).one()
            if existing is not None:
                ticket = session.get_one(Ticket, existing)
            else:
                before_insert(session, "tickets")
                values = dict(
                    tenant=tenant,
                    submission_id=submission_id,
                    halo_ticket_id=created.ticket_id,
                    created_at=now,
                    channel=channel,
                    origin=request.origin,
                    event_id=request.event_id,
                    customer_email=request.customer.email,
                    customer_name=request.customer.name,
                    customer_user_id=request.customer.user_id,
                    subject=payload["subject"],
                    source=payload.get("source"),
                    priority=payload.get("priority"),
                    ai_enabled=payload.get("ai_enabled"),
                    request=payload,
                    response=created.body,
                )
                ticket_id = connection.execute(_INSERT_TICKET, values).inserted_primary_key[0]
                # A plain view of the new row (building an ORM instance costs more than the insert).
                ticket = cast(Ticket, SimpleNamespace(id=ticket_id, **values))
                outbox.ticket_created(session, ticket)
            connection.execute(_MARK_DELIVERED, {"b_id": submission_id, "b_now": now})
            connection.execute(_FINISH_ATTEMPT, {"b_id": attempt_row, "b_now": now})
        log.info("submission %s delivered as Halo ticket %s", submission_id, created.ticket_id)
        return Outcome(Status.DELIVERED, ticket=ticket)

    def _record_failure(self, submission_id: int, attempts: int, error: ConnectorError,
                        attempt_row: int, *, synchronous: bool) -> Outcome:
        now = self._clock()
        with self.store.session() as session:
            submission = session.get(Submission, submission_id)
            assert submission is not None
            status, reason, next_at = self._classify(submission, attempts, error, now,
                                                     synchronous=synchronous)
            submission.status = status
            submission.status_reason = reason
            submission.next_attempt_at = next_at
            submission.lease_until = None
            submission.phase = None
            submission.updated_at = now
            self._finish_attempt(session, attempt_row, "retry" if status == Status.RETRYING else status,
                                 error=error)
            if status in Status.PROBLEMS:
                outbox.submission_failed(session, submission, error.code)
        log.warning("submission %s attempt %d: %s (%s)", submission_id, attempts, error.code, status)
        if status == Status.RETRYING:
            self.enqueue(submission_id, next_at)
        return Outcome(status, error=error)

    def _classify(self, submission: Submission, attempts: int, error: ConnectorError, now: datetime,
                  *, synchronous: bool) -> tuple[str, str, datetime | None]:
        if synchronous:
            return Status.FAILED, error.message, None
        if isinstance(error, HaloOutcomeUnknown):
            if self.ambiguous == "hold":
                return (Status.NEEDS_ATTENTION, error.message + " Check the Halo inbox; replay it "
                        "if the ticket is missing.", None)
        elif isinstance(error, HaloValidationError) or not isinstance(error, HaloError):
            return Status.NEEDS_ATTENTION, error.message, None
        delay = self.backoff.delay(attempts, self._rng)
        if error.retry_after:
            delay = max(delay, error.retry_after)
        next_at = now + timedelta(seconds=delay)
        if next_at - submission.received_at > self.retry_window:
            return Status.DEAD, f"Gave up after {attempts} attempts: {error.message}", None
        return Status.RETRYING, error.message, next_at

    # --- attempts log --------------------------------------------------------------------------

    def _start_attempt(self, submission_id: int) -> int:
        with self.store.session() as session:
            row = Attempt(submission_id=submission_id, started_at=self._clock())
            session.add(row)
            session.flush()
            return row.id

    def _finish_attempt(self, session: Any, attempt_id: int, outcome: str,
                        error: ConnectorError | None = None) -> None:
        row = session.get(Attempt, attempt_id)
        if row is None:
            return
        row.finished_at = self._clock()
        row.outcome = outcome
        if error is not None:
            row.error_code = error.code
            row.halo_status = getattr(error, "halo_status", None)
            row.message = error.message

    def _set_status(self, submission_id: int, status: str, reason: str | None) -> None:
        with self.store.session() as session:
            session.execute(update(Submission).where(Submission.id == submission_id).values(
                status=status, status_reason=reason, lease_until=None, phase=None,
                next_attempt_at=None, updated_at=self._clock()))
            if status in Status.PROBLEMS:
                outbox.submission_failed(session, session.get_one(Submission, submission_id))

    # --- recovery ------------------------------------------------------------------------------

    def sweep(self) -> int:
        """Recover work the queue lost: due submissions never picked up, leases that expired.

        A lease that expired while tickets/create was in flight means the worker died not knowing
        whether Halo created the ticket; that case follows ``AMBIGUOUS_DELIVERY``.
        :returns: how many submissions were re-enqueued.
        """
        now = self._clock()
        with self.store.session() as session:
            expired_creating = session.execute(
                select(Submission.id).where(Submission.status == Status.DELIVERING,
                                            Submission.lease_until < now,
                                            Submission.phase == CREATING).limit(SWEEP_BATCH)
            ).scalars().all()
            for submission_id in expired_creating:
                if self.ambiguous == "hold":
                    held = session.execute(update(Submission).where(
                        Submission.id == submission_id, Submission.phase == CREATING).values(
                        status=Status.NEEDS_ATTENTION, phase=None, lease_until=None, updated_at=now,
                        status_reason="A worker stopped while Halo was creating this ticket; it may "
                                      "exist. Check the Halo inbox; replay it if the ticket is missing."))
                    if held.rowcount == 1:
                        outbox.submission_failed(session, session.get_one(Submission, submission_id))
                else:
                    session.execute(update(Submission).where(
                        Submission.id == submission_id, Submission.phase == CREATING).values(
                        status=Status.RETRYING, phase=None, lease_until=None, next_attempt_at=now,
                        updated_at=now))
            lost = session.execute(
                select(Submission.id).where(or_(
                    and_(Submission.status.in_(Status.DUE), Submission.next_attempt_at <= now - SWEEP_GRACE),
                    and_(Submission.status == Status.DELIVERING, Submission.lease_until < now),
                )).order_by(Submission.id).limit(SWEEP_BATCH)
            ).scalars().all()
        wake = list(lost)
        if self.ambiguous != "hold":
            wake += list(expired_creating)
        for submission_id in wake:
            self.enqueue(submission_id, None)
        if wake or expired_creating:
            log.info("sweep: re-enqueued %d, %d interrupted mid-create", len(wake), len(expired_creating))
        return len(wake)

    def replay(self, submission_id: int, ticket_request: TicketRequest | None = None) -> str:
        """Send a submission again (after a mapping fix or to retry a dead letter).

        :param ticket_request: a freshly normalized request replacing the stored one.
        :returns: the new status (``pending``, or ``needs_attention`` if still no customer).
        """
        now = self._clock()
        with self.store.session() as session:
            submission = session.get(Submission, submission_id)
            if submission is None:
                raise LookupError(submission_id)
            if submission.status == Status.DELIVERED:
                raise ValueError(f"submission {submission_id} was already delivered")
            if submission.status == Status.DELIVERING and submission.lease_until and submission.lease_until > now:
                raise ValueError(f"submission {submission_id} is being delivered right now")
            if ticket_request is not None:
                for column, value in request_columns(ticket_request).items():
                    setattr(submission, column, value)
            stored = submission.ticket_request
            identified = bool(stored) and TicketRequest.from_dict(stored).customer.identified
            if identified:
                submission.status = Status.PENDING
                submission.status_reason = None
                submission.next_attempt_at = now
            else:
                submission.status = Status.NEEDS_ATTENTION
                submission.status_reason = "No customer email or user id was found."
            submission.phase = None
            submission.lease_until = None
            submission.updated_at = now
            status = submission.status
            if status == Status.NEEDS_ATTENTION:
                outbox.submission_failed(session, submission)
        if status == Status.PENDING:
            self.enqueue(submission_id, None)
        return status


def identifies_user(customer: Customer) -> bool:
    """Whether users/identify is called before the ticket (a user id with something to say)."""
    return bool(customer.user_id and (customer.traits or customer.name or customer.email))


def needs_identify(request: TicketRequest) -> bool:
    """Whether any call precedes tickets/create (so the attempt does not start "creating")."""
    return identifies_user(request.customer) or request.company is not None


def unidentified_reason(request: TicketRequest) -> str:
    """Why a request has no customer, in the words of whoever built it."""
    for key in ("attention", "unresolved_reason"):
        reason = request.provenance.get(key)
        if isinstance(reason, str) and reason:
            return reason
    return "No customer email or user id was found."
