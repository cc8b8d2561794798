"""Every item that reached the connector, normalized, whatever became of it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import defer

from connector.operations import Context, OutputField, Trigger
from connector.polling import PollingInput, poll
from connector.records import submission_item
from connector.store import Submission, Ticket


def perform(ctx: Context, data: dict[str, Any]) -> list[dict[str, Any]]:
    query = (select(Submission).where(Submission.tenant == ctx.tenant)
             .options(defer(Submission.raw_body), defer(Submission.headers)))
    submissions = [row[0] for row in poll(ctx, query, Submission, Submission.received_at, data)]
    if not submissions:
        return []
    # A second, keyed query rather than a join: planners may walk the whole tickets index to
    # merge-join a page from the middle of a large table.
    with ctx.services.store.session() as session:
        tickets = {row.submission_id: row for row in session.execute(
            select(Ticket.submission_id, Ticket.id, Ticket.halo_ticket_id)
            .where(Ticket.submission_id.in_([s.id for s in submissions])))}
    items = []
    for submission in submissions:
        ticket = tickets.get(submission.id)
        items.append(submission_item(submission, ticket.id if ticket else None,
                                     ticket.halo_ticket_id if ticket else None))
    return items


trigger = Trigger(
    key="new_submission",
    noun="Submission",
    label="New Submission",
    description="Triggers when a form, webhook, email or action reaches the connector.",
    help="Fires once per item, whether or not it became a ticket: status says where it is "
         "(pending, delivered, needs_attention…).",
    input_schema=PollingInput,
    perform=perform,
    output_fields=(
        OutputField("id", "Submission ID", "integer", important=True),
        OutputField("received_at", "Received At", "datetime"),
        OutputField("updated_at", "Updated At", "datetime"),
        OutputField("status", "Status", important=True,
                    help="pending, delivering, retrying, delivered, needs_attention, dead, failed "
                         "or rejected."),
        OutputField("status_reason", "Status Reason"),
        OutputField("channel", "Channel", help="webhook, email, zapier, make or api."),
        OutputField("source", "Source", help="The sender or route, e.g. typeform or create_ticket."),
        OutputField("external_id", "External ID", help="The sender's own id for this item."),
        OutputField("customer_email", "Customer Email", important=True),
        OutputField("customer_name", "Customer Name"),
        OutputField("customer_user_id", "Customer User ID"),
        OutputField("resolved_by", "Customer Found By",
                    help="Which rule found the real customer (e.g. header:reply-to)."),
        OutputField("subject", "Subject", important=True),
        OutputField("message", "Message"),
        OutputField("metadata", "Fields", "object", help="The structured fields it carried."),
        OutputField("priority", "Priority"),
        OutputField("attempts", "Delivery Attempts", "integer"),
        OutputField("ticket_id", "Ticket Record ID", "integer",
                    help="Set once the ticket exists in Halo."),
        OutputField("halo_ticket_id", "Halo Ticket ID"),
    ),
    sample={
        "id": 57,
        "received_at": "2024-09-15T09:59:58Z",
        "updated_at": "2024-09-15T09:59:59Z",
        "status": "delivered",
        "status_reason": None,
        "channel": "webhook",
        "source": "typeform",
        "external_id": "a1b2c3d4",
        "customer_email": "jane@example.com",
        "customer_name": "Jane Doe",
        "customer_user_id": None,
        "resolved_by": "route:email_field",
        "subject": "Contact form: pricing question",
        "message": "Do you offer annual plans?",
        "metadata": {"company_size": "11-50", "topic": "Pricing"},
        "priority": "normal",
        "attempts": 1,
        "ticket_id": 42,
        "halo_ticket_id": "tkt_8f3a2c",
    },
    date_field="received_at",
)
