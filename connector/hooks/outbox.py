"""The transactional outbox: announce a change in the transaction that makes it.

Called by intake and delivery inside their own ``store.session()`` blocks, so an outbox row
exists if and only if the change it announces was committed. The rows' ids are kept on the
session and handed to the hook worker once the transaction commits (see ``HookSender.attach``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from connector.hooks.signing import new_message_id
from connector.records import failure_item, submission_item, ticket_to_dict
from connector.store import DeliveryFailure, HookDelivery, HookSubscription, OutboxStatus, Status
from connector.store import Submission, Ticket
from connector.store.fence import before_insert
from connector.store.types import utcnow

#: The events a subscription can ask for: the keys of the triggers with an instant variant.
EVENTS = ("new_ticket", "new_submission", "failed_delivery")
#: Where the ids of outbox rows written in a transaction wait for its commit.
SESSION_KEY = "hook_outbox_ids"
#: Runs in every intake transaction, so built once and run below the ORM (no autoflush).
_SUBSCRIBERS = select(HookSubscription.id).where(HookSubscription.tenant == bindparam("tenant"),
                                                 HookSubscription.event == bindparam("event"))


def announce(session: Session, tenant: str, event: str,
             item: Callable[[], dict[str, Any]]) -> list[int]:
    """One outbox row per subscription of ``tenant`` to ``event``, carrying ``item()`` (only
    built when someone subscribed)."""
    subscriptions = session.connection().execute(
        _SUBSCRIBERS, {"tenant": tenant, "event": event}).scalars().all()
    if not subscriptions:
        return []
    payload = item()
    now = utcnow()
    rows = [HookDelivery(subscription_id=subscription_id, tenant=tenant, event=event,
                         message_id=new_message_id(), item=payload, created_at=now,
                         status=OutboxStatus.PENDING, attempts=0, next_attempt_at=now)
            for subscription_id in subscriptions]
    session.add_all(rows)
    session.flush()
    ids = [row.id for row in rows]
    session.info.setdefault(SESSION_KEY, []).extend(ids)
    return ids


def submission_recorded(session: Session, submission: Submission) -> None:
    """A new submission was stored (any channel, any state)."""
    announce(session, submission.tenant, "new_submission", lambda: submission_item(submission))
    if submission.status in Status.PROBLEMS:
        submission_failed(session, submission)


def ticket_created(session: Session, ticket: Ticket) -> None:
    announce(session, ticket.tenant, "new_ticket", lambda: ticket_to_dict(ticket))


def submission_failed(session: Session, submission: Submission, error_code: str | None = None) -> None:
    """A submission entered a problem state: record the failure (its own id, so each failure is
    a new failed_delivery item) and announce it."""
    before_insert(session, "delivery_failures")
    failure = DeliveryFailure(tenant=submission.tenant, submission_id=submission.id,
                              failed_at=utcnow(), status=submission.status,
                              reason=submission.status_reason, error_code=error_code,
                              attempts=submission.attempts)
    session.add(failure)
    session.flush()
    announce(session, submission.tenant, "failed_delivery", lambda: failure_item(failure, submission))
