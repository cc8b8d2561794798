"""The connector's records: every inbound item, every ticket it created, every delivery attempt.

Halo has no read API, so these records are the source of truth for the polling triggers, the
searches and the delivery queue (Huey only wakes workers up; see ``connector.delivery``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from connector.store.types import BigId, UTCDateTime, utcnow


class Base(DeclarativeBase):
    pass


class Status:
    """Where a submission is in its life. Only these strings are ever stored."""

    PENDING = "pending"                  # stored, waiting for a worker
    DELIVERING = "delivering"            # leased by a worker right now
    RETRYING = "retrying"                # failed transiently, next_attempt_at says when
    DELIVERED = "delivered"              # the ticket exists in Halo
    NEEDS_ATTENTION = "needs_attention"  # kept for a person: no customer, Halo rejected it, ...
    DEAD = "dead"                        # retried until the horizon, then dead-lettered
    FAILED = "failed"                    # a synchronous caller (Zapier, Make) was told it failed
    REJECTED = "rejected"                # bad input at the entry point, kept as sent

    ALL = (PENDING, DELIVERING, RETRYING, DELIVERED, NEEDS_ATTENTION, DEAD, FAILED, REJECTED)
    #: States the failed_delivery trigger reports.
    PROBLEMS = (NEEDS_ATTENTION, DEAD, FAILED, REJECTED)
    #: States a worker may pick up.
    DUE = (PENDING, RETRYING)


class Submission(Base):
    """One inbound item as it arrived (raw body, headers without secrets) and what became of it."""

    __tablename__ = "submissions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))     # webhook | email | zapier | make | api
    source: Mapped[str] = mapped_column(String(64))      # sender, route or operation key
    event_id: Mapped[str | None] = mapped_column(String(255))
    #: Unique per tenant: one ticket per sender event, however often it is delivered.
    dedupe_key: Mapped[str | None] = mapped_column(String(400))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    content_type: Mapped[str | None] = mapped_column(String(255))
    headers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    raw_body: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    #: The normalized TicketRequest (``TicketRequest.to_dict()``), None until it could be built.
    ticket_request: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    customer_email: Mapped[str | None] = mapped_column(String(320))
    customer_name: Mapped[str | None] = mapped_column(String(255))
    customer_user_id: Mapped[str | None] = mapped_column(String(255))
    resolved_by: Mapped[str | None] = mapped_column(String(100))
    subject: Mapped[str | None] = mapped_column(String(1000))
    status: Mapped[str] = mapped_column(String(20))
    status_reason: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: "creating" while tickets/create is in flight: a lease that expires in this phase means the
    #: ticket may exist, so it is not blindly retried.
    phase: Mapped[str | None] = mapped_column(String(20))

    __table_args__ = (
        UniqueConstraint("tenant", "dedupe_key", name="uq_submissions_tenant_dedupe"),
        Index("ix_submissions_tenant_id", "tenant", "id"),
        Index("ix_submissions_tenant_status_id", "tenant", "status", "id"),
        Index("ix_submissions_status_next", "status", "next_attempt_at"),
        Index("ix_submissions_tenant_email", "tenant", "customer_email"),
        Index("ix_submissions_tenant_received", "tenant", "received_at", "id"),
    )


class Ticket(Base):
    """A ticket the connector created in Halo (by any channel): what the triggers and searches list."""

    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant: Mapped[str] = mapped_column(String(64))
    submission_id: Mapped[int] = mapped_column(BigId, ForeignKey("submissions.id"), unique=True)
    halo_ticket_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    channel: Mapped[str] = mapped_column(String(16))
    origin: Mapped[str] = mapped_column(String(64))
    event_id: Mapped[str | None] = mapped_column(String(255))
    customer_email: Mapped[str | None] = mapped_column(String(320))
    customer_name: Mapped[str | None] = mapped_column(String(255))
    customer_user_id: Mapped[str | None] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(1000))
    source: Mapped[str | None] = mapped_column(String(50))
    priority: Mapped[str | None] = mapped_column(String(20))
    ai_enabled: Mapped[bool | None] = mapped_column(Boolean)
    #: The tickets/create body as sent (fitted to Halo's limits), for triggers and audits.
    request: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: Halo's answer, kept as-is because its shape is undocumented.
    response: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    __table_args__ = (
        Index("ix_tickets_tenant_id", "tenant", "id"),
        Index("ix_tickets_tenant_email", "tenant", "customer_email"),
        Index("ix_tickets_tenant_event", "tenant", "event_id"),
        Index("ix_tickets_tenant_halo", "tenant", "halo_ticket_id"),
        Index("ix_tickets_tenant_created", "tenant", "created_at", "id"),
    )


class Attempt(Base):
    """One delivery attempt, for `flask deliveries show` and for understanding failures."""

    __tablename__ = "attempts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    submission_id: Mapped[int] = mapped_column(BigId, ForeignKey("submissions.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: delivered | retry | needs_attention | dead | failed
    outcome: Mapped[str | None] = mapped_column(String(20))
    error_code: Mapped[str | None] = mapped_column(String(40))
    halo_status: Mapped[int | None] = mapped_column()
    message: Mapped[str | None] = mapped_column(Text)


class DeliveryFailure(Base):
    """One time a submission landed in a problem state: what the failed_delivery trigger lists.

    A row per failure (not per submission) so a submission that fails again after a replay gets
    a new, larger id, and Zapier and Make trigger again.
    """

    __tablename__ = "delivery_failures"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant: Mapped[str] = mapped_column(String(64))
    submission_id: Mapped[int] = mapped_column(BigId, ForeignKey("submissions.id"), index=True)
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    error_code: Mapped[str | None] = mapped_column(String(40))
    attempts: Mapped[int] = mapped_column(default=0)

    __table_args__ = (
        Index("ix_delivery_failures_tenant_id", "tenant", "id"),
        Index("ix_delivery_failures_tenant_failed", "tenant", "failed_at", "id"),
    )


class HookSubscription(Base):
    """A REST-hook subscription: deliver a trigger's items to ``target_url`` as they happen."""

    __tablename__ = "hook_subscriptions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant: Mapped[str] = mapped_column(String(64))
    #: The trigger key whose items are delivered (new_ticket, new_submission, failed_delivery).
    event: Mapped[str] = mapped_column(String(64))
    target_url: Mapped[str] = mapped_column(String(2048))
    #: Standard Webhooks signing secret (``whsec_…``), shown once at subscribe.
    secret: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Who subscribed (zapier, make, api), for listings.
    client: Mapped[str] = mapped_column(String(16), default="api")

    __table_args__ = (Index("ix_hook_subscriptions_tenant_event", "tenant", "event"),)


class OutboxStatus:
    PENDING = "pending"      # waiting for (another) attempt at next_attempt_at
    SENDING = "sending"      # leased by a worker right now
    DELIVERED = "delivered"  # the target answered 2xx
    DEAD = "dead"            # retried until the horizon, or the target is refused
    CANCELLED = "cancelled"  # the subscription is gone (unsubscribed, or the target answered 410)

    DUE = (PENDING,)
    FINISHED = (DELIVERED, DEAD, CANCELLED)


class HookDelivery(Base):
    """The transactional outbox: one item to POST to one subscription, written in the same
    transaction as the change it announces, delivered (and retried) by a worker."""

    __tablename__ = "hook_outbox"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    subscription_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("hook_subscriptions.id", ondelete="SET NULL"), index=True)
    tenant: Mapped[str] = mapped_column(String(64))
    event: Mapped[str] = mapped_column(String(64))
    #: Standard Webhooks ``webhook-id``: the same on every retry, so receivers can dedupe.
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    #: The item exactly as the polling trigger lists it (snapshot at the time of the event).
    item: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(20), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status: Mapped[int | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_hook_outbox_status_next", "status", "next_attempt_at"),)
