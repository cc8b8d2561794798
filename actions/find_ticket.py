"""Find tickets the connector created (Halo has no read API, so its own records answer)."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema
from sqlalchemy import select

from connector.operations import Context, Search, SearchOrCreate
from connector.records import TICKET_OUTPUT, TICKET_SAMPLE, ticket_to_dict
from connector.schemas import InputSchema
from connector.store import Ticket

SEARCH_FIELDS = ("ticket_id", "halo_ticket_id", "external_id", "email")


class FindTicketInput(InputSchema):
    ticket_id = fields.Integer(validate=validate.Range(min=1), metadata={
        "label": "Ticket Record ID", "help": "The connector's id, from Create Ticket or New Ticket."})
    halo_ticket_id = fields.String(validate=validate.Length(max=255), metadata={
        "label": "Halo Ticket ID"})
    external_id = fields.String(validate=validate.Length(max=255), metadata={
        "label": "External ID",
        "help": "Your id for the ticket (the External ID given to Create Ticket), or the sender's "
                "event id for tickets from webhooks and email."})
    email = fields.Email(metadata={"label": "Customer Email",
                                   "help": "The customer's tickets, newest first."})
    limit = fields.Integer(load_default=10, validate=validate.Range(min=1, max=100), metadata={
        "label": "Maximum Results", "help": "How many tickets to answer (1–100, default 10)."})

    @validates_schema
    def _needs_a_criterion(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if not any(data.get(name) is not None for name in SEARCH_FIELDS):
            raise ValidationError("Give at least one of ticket_id, halo_ticket_id, external_id "
                                  "or email.")


def perform(ctx: Context, data: dict[str, Any]) -> list[dict[str, Any]]:
    query = select(Ticket).where(Ticket.tenant == ctx.tenant)
    if data.get("ticket_id") is not None:
        query = query.where(Ticket.id == data["ticket_id"])
    if data.get("halo_ticket_id"):
        query = query.where(Ticket.halo_ticket_id == data["halo_ticket_id"])
    if data.get("external_id"):
        query = query.where(Ticket.event_id == data["external_id"])
    if data.get("email"):
        email = data["email"]
        # Exact or lower-case spelling, so the (tenant, customer_email) index still answers.
        query = query.where(Ticket.customer_email.in_({email, email.lower()}))
    query = query.order_by(Ticket.id.desc()).limit(data["limit"])
    with ctx.services.store.session() as session:
        return [ticket_to_dict(ticket) for ticket in session.execute(query).scalars()]


search = Search(
    key="find_ticket",
    noun="Ticket",
    label="Find Ticket",
    description="Finds tickets created through the connector by id, external ID or customer email.",
    help="Newest first; no result is not an error. Only tickets this connector created can be "
         "found (Halo offers no way to read tickets).",
    input_schema=FindTicketInput,
    perform=perform,
    output_fields=TICKET_OUTPUT,
    sample=TICKET_SAMPLE,
    search_or_create=SearchOrCreate(
        create="create_ticket",
        label="Find or Create Ticket",
        description="Finds the ticket with this external ID or customer; creates it if there is none.",
        inputs={"external_id": "external_id", "email": "email"},
    ),
)
