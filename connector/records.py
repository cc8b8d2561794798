"""Reading the records back: tickets and submissions as the platforms see them.

Triggers, searches and the create action all answer with these shapes, so a field mapped in a
Zap from a trigger sample is the same field a live REST-hook delivery carries.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from connector.store import Submission, Ticket
from connector.ticket import PROVENANCE_KEY


def iso(value: datetime | None) -> str | None:
    """ISO 8601 with an explicit UTC offset, as Zapier's D023/T003 checks require."""
    return value.isoformat(timespec="seconds").replace("+00:00", "Z") if value else None


def ticket_to_dict(ticket: Ticket) -> dict[str, Any]:
    request = ticket.request or {}
    metadata = dict(request.get("metadata") or {})
    metadata.pop(PROVENANCE_KEY, None)
    return {
        "id": ticket.id,
        "halo_ticket_id": ticket.halo_ticket_id,
        "created_at": iso(ticket.created_at),
        "subject": ticket.subject,
        "message": request.get("message"),
        "customer_email": ticket.customer_email,
        "customer_name": ticket.customer_name,
        "customer_user_id": ticket.customer_user_id,
        "source": ticket.source,
        "priority": ticket.priority or "normal",
        "ai_enabled": bool(ticket.ai_enabled),
        "metadata": metadata,
        "origin": ticket.origin,
        "channel": ticket.channel,
        "external_id": ticket.event_id,
        "submission_id": ticket.submission_id,
    }


def submission_summary(submission: Submission) -> dict[str, Any]:
    """A submission without its raw body: for CLI listings and triggers."""
    return {
        "id": submission.id,
        "received_at": iso(submission.received_at),
        "channel": submission.channel,
        "source": submission.source,
        "event_id": submission.event_id,
        "status": submission.status,
        "status_reason": submission.status_reason,
        "attempts": submission.attempts,
        "next_attempt_at": iso(submission.next_attempt_at),
        "customer_email": submission.customer_email,
        "customer_name": submission.customer_name,
        "customer_user_id": submission.customer_user_id,
        "resolved_by": submission.resolved_by,
        "subject": submission.subject,
    }
