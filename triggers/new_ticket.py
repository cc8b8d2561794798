"""Every ticket the connector created in Halo, whatever brought it in (actions, webhooks, email)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from connector.operations import Context, Trigger
from connector.polling import PollingInput, poll
from connector.records import TICKET_OUTPUT, TICKET_SAMPLE, ticket_to_dict
from connector.store import Ticket


def perform(ctx: Context, data: dict[str, Any]) -> list[dict[str, Any]]:
    query = select(Ticket).where(Ticket.tenant == ctx.tenant)
    return [ticket_to_dict(ticket) for ticket, in poll(ctx, query, Ticket, Ticket.created_at, data)]


trigger = Trigger(
    key="new_ticket",
    noun="Ticket",
    label="New Ticket",
    description="Triggers when the connector creates a ticket in Halo, from any channel.",
    help="Covers tickets from Zapier, Make, webhooks and forwarded email.",
    input_schema=PollingInput,
    perform=perform,
    output_fields=TICKET_OUTPUT,
    sample=TICKET_SAMPLE,
    date_field="created_at",
)
