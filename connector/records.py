"""Reading the records back: tickets and submissions as the platforms see them.

Triggers, searches and the create action all answer with these shapes, so a field mapped in a
Zap from a trigger sample is the same field a live REST-hook delivery carries.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from connector.operations import OutputField
from connector.store import DeliveryFailure, Submission, Ticket
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


#: A ticket as Create Ticket, Find Ticket and New Ticket answer it (one shape, so fields mapped
#: from one work with the others, and REST-hook deliveries match the polling sample).
TICKET_OUTPUT = (
    OutputField("id", "Ticket Record ID", "integer", important=True,
                help="The connector's id for this ticket (stable; use it to find the ticket again)."),
    OutputField("halo_ticket_id", "Halo Ticket ID", important=True),
    OutputField("created_at", "Created At", "datetime"),
    OutputField("subject", "Subject", important=True),
    OutputField("message", "Message"),
    OutputField("customer_email", "Customer Email", important=True),
    OutputField("customer_name", "Customer Name"),
    OutputField("customer_user_id", "Customer User ID"),
    OutputField("source", "Source"),
    OutputField("priority", "Priority"),
    OutputField("ai_enabled", "AI Enabled", "boolean"),
    OutputField("metadata", "Metadata", "object", help="The form fields sent with the ticket."),
    OutputField("origin", "Origin", help="Where the ticket came from: zapier, make, typeform, email…"),
    OutputField("channel", "Channel"),
    OutputField("external_id", "External ID"),
    OutputField("submission_id", "Submission ID", "integer"),
)

TICKET_SAMPLE: dict[str, Any] = {
    "id": 42,
    "halo_ticket_id": "tkt_8f3a2c",
    "created_at": "2024-09-15T09:59:59Z",
    "subject": "Bug: SEO settings missing from Share page",
    "message": "The SEO settings were previously available on the Share page.",
    "customer_email": "jane@example.com",
    "customer_name": "Jane Doe",
    "customer_user_id": "user_123",
    "source": "bug_report",
    "priority": "normal",
    "ai_enabled": False,
    "metadata": {"severity": "major", "area": "Form Editor"},
    "origin": "zapier",
    "channel": "zapier",
    "external_id": "row-17",
    "submission_id": 57,
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


def submission_item(submission: Submission, ticket_id: int | None = None,
                    halo_ticket_id: str | None = None) -> dict[str, Any]:
    """A submission as the new_submission trigger (and its REST hook) shows it: the resolved
    customer, what they sent, where it came from, where it is now, and its ticket if any."""
    request = submission.ticket_request or {}
    return {
        "id": submission.id,
        "received_at": iso(submission.received_at),
        "updated_at": iso(submission.updated_at),
        "status": submission.status,
        "status_reason": submission.status_reason,
        "channel": submission.channel,
        "source": submission.source,
        "external_id": submission.event_id,
        "customer_email": submission.customer_email,
        "customer_name": submission.customer_name,
        "customer_user_id": submission.customer_user_id,
        "resolved_by": submission.resolved_by,
        "subject": submission.subject,
        "message": request.get("message"),
        "metadata": dict(request.get("metadata") or {}),
        "priority": request.get("priority") or "normal",
        "attempts": submission.attempts,
        "ticket_id": ticket_id,
        "halo_ticket_id": halo_ticket_id,
    }


def failure_item(failure: DeliveryFailure, submission: Submission) -> dict[str, Any]:
    """One failure as the failed_delivery trigger shows it. ``id`` is the failure's own id, so
    the same submission failing again is a new item; ``submission_id`` is the stable one."""
    return {
        "id": failure.id,
        "submission_id": submission.id,
        "failed_at": iso(failure.failed_at),
        "status": failure.status,
        "reason": failure.reason,
        "error_code": failure.error_code,
        "attempts": failure.attempts,
        "channel": submission.channel,
        "source": submission.source,
        "external_id": submission.event_id,
        "customer_email": submission.customer_email,
        "customer_name": submission.customer_name,
        "customer_user_id": submission.customer_user_id,
        "subject": submission.subject,
        "received_at": iso(submission.received_at),
    }
