"""Deliver outbox rows to their subscribers: claim, POST, record, retry or give up.

:meth:`HookSender.deliver` is the Huey task body and is safe to run any number of times for the
same row: an atomic UPDATE (a lease) decides who sends it. A 2xx is delivered; a 410 deletes the
subscription (Zapier's answer once a Zap is off); anything else (3xx included: redirects are not
followed) is retried with full-jitter backoff that honours ``Retry-After``, until
``HOOKS_RETRY_HOURS`` after the event, then the row is dead. :meth:`sweep` re-enqueues rows whose
wake-up was lost or whose worker died.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import certifi
import urllib3
from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.orm import Session

from connector import __version__
from connector.halo.retry import Backoff, parse_retry_after
from connector.hooks.outbox import SESSION_KEY
from connector.hooks.signing import signed_headers
from connector.hooks.targets import (
    Resolver,
    Target,
    TargetRefused,
    TargetUnresolvable,
    check_target,
    resolve_host,
)
from connector.store import HookDelivery, HookSubscription, OutboxStatus, Store
from connector.store.types import utcnow

log = logging.getLogger("connector.hooks")

USER_AGENT = f"halo-connector-hooks/{__version__}"
#: 5 s, 10 s, 20 s … up to an hour apart, each drawn at random below that.
HOOK_BACKOFF = Backoff(base=5.0, cap=3600.0, floor=1.0)
#: Longer than one attempt can take (connect + read timeouts).
LEASE = timedelta(seconds=60)
SWEEP_GRACE = timedelta(seconds=30)
SWEEP_BATCH = 1000
#: Finished outbox rows (delivered, cancelled, dead) are kept this long for inspection.
RETENTION = timedelta(days=7)
#: Only the status line and headers matter; never read a large answer.
MAX_ANSWER_BYTES = 64 * 1024


@dataclass(frozen=True)
class Answer:
    status: int
    retry_after: float | None = None


Poster = Callable[[Target, bytes, dict[str, str], tuple[float, float]], Answer]


def post(target: Target, body: bytes, headers: dict[str, str], timeout: tuple[float, float], *,
         ca_certs: str | None = None) -> Answer:
    """POST to the checked address of ``target`` (no new DNS lookup), never following redirects.

    TLS is verified against the host name, which is also sent as SNI and ``Host``.
    :param ca_certs: CA bundle (default: certifi's).
    """
    options: dict[str, Any] = dict(timeout=urllib3.Timeout(connect=timeout[0], read=timeout[1]),
                                   retries=False, maxsize=1)
    if target.scheme == "https":
        pool: urllib3.HTTPConnectionPool = urllib3.HTTPSConnectionPool(
            target.address, target.port, server_hostname=target.host, assert_hostname=target.host,
            cert_reqs="CERT_REQUIRED", ca_certs=ca_certs or certifi.where(), **options)
    else:
        pool = urllib3.HTTPConnectionPool(target.address, target.port, **options)
    try:
        response = pool.urlopen("POST", target.path, body=body,
                                headers={**headers, "Host": target.host_header},
                                redirect=False, assert_same_host=False, preload_content=False)
        try:
            response.read(MAX_ANSWER_BYTES)
        finally:
            response.release_conn()
        return Answer(response.status, parse_retry_after(response.headers))
    finally:
        pool.close()


class HookSender:
    """Sends the outbox. One per process, shared by the worker task, the sweeper and tests."""

    def __init__(
        self,
        store: Store,
        *,
        allow_private: bool = False,
        retry_seconds: float = 24 * 3600,
        backoff: Backoff = HOOK_BACKOFF,
        timeout: tuple[float, float] = (3.05, 10.0),
        resolve: Resolver = resolve_host,
        poster: Poster = post,
        clock: Callable[[], datetime] = utcnow,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.store = store
        self.allow_private = allow_private
        self.horizon = timedelta(seconds=retry_seconds)
        self.backoff = backoff
        self.timeout = timeout
        self.resolve = resolve
        self.poster = poster
        self._clock = clock
        self._rng = rng
        self._enqueue: Callable[[int, datetime | None], None] | None = None

    # --- waking workers ------------------------------------------------------------------------

    def attach(self) -> None:
        """Wake a worker for each outbox row once the transaction that wrote it has committed."""
        self.store.on_commit(self._committed, on_rollback=self._rolled_back)

    def _committed(self, session: Session) -> None:
        for outbox_id in session.info.pop(SESSION_KEY, ()):
            self.enqueue(outbox_id)

    @staticmethod
    def _rolled_back(session: Session) -> None:
        session.info.pop(SESSION_KEY, None)

    def bind_queue(self, enqueue: Callable[[int, datetime | None], None]) -> None:
        self._enqueue = enqueue

    def enqueue(self, outbox_id: int, eta: datetime | None = None) -> None:
        """Best effort: the sweeper finds rows whose wake-up was lost."""
        if self._enqueue is None:
            return
        try:
            self._enqueue(outbox_id, eta)
        except Exception:
            log.exception("could not enqueue hook delivery %s; the sweeper will pick it up", outbox_id)

    def check(self, url: str) -> Target:
        return check_target(url, allow_private=self.allow_private, resolve=self.resolve)

    # --- the task ------------------------------------------------------------------------------

    def deliver(self, outbox_id: int) -> str | None:
        """Send one outbox row if it is due and nobody else holds it.

        :returns: the row's new status, or None when there was nothing to do.
        """
        claimed = self._claim(outbox_id)
        if claimed is None:
            return None
        row, subscription = claimed
        if subscription is None:
            return self._finish(row, OutboxStatus.CANCELLED, error="The subscription is gone.")
        body = json.dumps(row.item, ensure_ascii=False, separators=(",", ":")).encode()
        now = self._clock()
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
                   **signed_headers(subscription.secret, row.message_id, int(now.timestamp()), body)}
        try:
            target = self.check(subscription.target_url)
            answer = self.poster(target, body, headers, self.timeout)
        except TargetUnresolvable as unresolvable:
            return self._retry(row, error=str(unresolvable))
        except TargetRefused as refused:
            return self._finish(row, OutboxStatus.DEAD, error=str(refused))
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            return self._retry(row, error=f"Could not reach the target ({type(exc).__name__}).")
        if 200 <= answer.status < 300:
            return self._finish(row, OutboxStatus.DELIVERED, http_status=answer.status)
        if answer.status == 410:
            self._unsubscribe_gone(subscription.id)
            return self._finish(row, OutboxStatus.CANCELLED, http_status=410,
                                error="The target answered 410 Gone; the subscription was removed.")
        reason = ("The target answered a redirect, which is not followed." if 300 <= answer.status < 400
                  else f"The target answered {answer.status}.")
        return self._retry(row, error=reason, http_status=answer.status, retry_after=answer.retry_after)

    def _claim(self, outbox_id: int) -> tuple[HookDelivery, HookSubscription | None] | None:
        now = self._clock()
        due = or_(and_(HookDelivery.status == OutboxStatus.PENDING, HookDelivery.next_attempt_at <= now),
                  and_(HookDelivery.status == OutboxStatus.SENDING, HookDelivery.lease_until < now))
        with self.store.session() as session:
            result = session.execute(
                update(HookDelivery).where(HookDelivery.id == outbox_id, due).values(
                    status=OutboxStatus.SENDING, lease_until=now + LEASE,
                    attempts=HookDelivery.attempts + 1))
            if result.rowcount != 1:
                return None
            row = session.get(HookDelivery, outbox_id)
            assert row is not None
            subscription = (session.get(HookSubscription, row.subscription_id)
                            if row.subscription_id is not None else None)
            session.expunge_all()
        return row, subscription

    def _finish(self, row: HookDelivery, status: str, *, http_status: int | None = None,
                error: str | None = None) -> str:
        now = self._clock()
        values: dict[str, Any] = dict(status=status, lease_until=None, next_attempt_at=None,
                                      last_error=error)
        if http_status is not None:
            values["last_status"] = http_status
        if status == OutboxStatus.DELIVERED:
            values["delivered_at"] = now
        self._update(row, values)
        level = logging.INFO if status == OutboxStatus.DELIVERED else logging.WARNING
        log.log(level, "hook delivery %s: %s%s", row.id, status, f" ({error})" if error else "")
        return status

    def _update(self, row: HookDelivery, values: dict[str, Any]) -> None:
        """Record the outcome of this attempt, unless the row moved on without us (our lease
        expired and another worker claimed it, or it was cancelled meanwhile)."""
        with self.store.session() as session:
            session.execute(update(HookDelivery).where(
                HookDelivery.id == row.id, HookDelivery.attempts == row.attempts,
                HookDelivery.status == OutboxStatus.SENDING).values(**values))

    def _retry(self, row: HookDelivery, *, error: str, http_status: int | None = None,
               retry_after: float | None = None) -> str:
        now = self._clock()
        delay = self.backoff.delay(row.attempts - 1, self._rng)
        if retry_after:
            delay = max(delay, retry_after)
        next_at = now + timedelta(seconds=delay)
        if next_at - row.created_at > self.horizon:
            return self._finish(row, OutboxStatus.DEAD, http_status=http_status,
                                error=f"Gave up after {row.attempts} attempts: {error}")
        values: dict[str, Any] = dict(status=OutboxStatus.PENDING, lease_until=None,
                                      next_attempt_at=next_at, last_error=error)
        if http_status is not None:
            values["last_status"] = http_status
        self._update(row, values)
        log.warning("hook delivery %s attempt %d: %s Next in %.0f s.", row.id, row.attempts, error, delay)
        self.enqueue(row.id, next_at)
        return OutboxStatus.PENDING

    def _unsubscribe_gone(self, subscription_id: int) -> None:
        with self.store.session() as session:
            cancel_pending(session, subscription_id)
            session.execute(delete(HookSubscription).where(HookSubscription.id == subscription_id))
        log.info("hook subscription %s removed: its target answered 410", subscription_id)

    # --- recovery ------------------------------------------------------------------------------

    def sweep(self) -> int:
        """Re-enqueue due rows nobody picked up and rows whose worker died mid-send, and drop
        finished rows older than :data:`RETENTION`."""
        now = self._clock()
        with self.store.session() as session:
            expired = (select(HookDelivery.id)
                       .where(HookDelivery.created_at < now - RETENTION,
                              HookDelivery.status.in_(OutboxStatus.FINISHED))
                       .order_by(HookDelivery.id).limit(SWEEP_BATCH))  # the oldest: a short PK walk
            session.execute(delete(HookDelivery).where(HookDelivery.id.in_(expired.scalar_subquery())))
            lost = session.execute(
                select(HookDelivery.id).where(or_(
                    and_(HookDelivery.status == OutboxStatus.PENDING,
                         HookDelivery.next_attempt_at <= now - SWEEP_GRACE),
                    and_(HookDelivery.status == OutboxStatus.SENDING, HookDelivery.lease_until < now),
                )).order_by(HookDelivery.id).limit(SWEEP_BATCH)).scalars().all()
        for outbox_id in lost:
            self.enqueue(outbox_id)
        if lost:
            log.info("hook sweep: re-enqueued %d deliveries", len(lost))
        return len(lost)


def cancel_pending(session: Session, subscription_id: int) -> None:
    """Stop the deliveries still waiting for a subscription that is going away."""
    session.execute(update(HookDelivery).where(
        HookDelivery.subscription_id == subscription_id,
        HookDelivery.status.in_((OutboxStatus.PENDING, OutboxStatus.SENDING))).values(
        status=OutboxStatus.CANCELLED, next_attempt_at=None, lease_until=None,
        last_error="Unsubscribed."))
