"""Create a Halo ticket from the real customer, optionally identifying the user and company first."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema
from sqlalchemy import select

from connector.delivery import record_submission
from connector.errors import ConnectorError
from connector.operations import Action, Context
from connector.records import TICKET_OUTPUT, TICKET_SAMPLE, ticket_to_dict
from connector.schemas import InputSchema
from connector.store import Status, Ticket
from connector.traits import trait_problems
from connector.ticket import Company, Customer, TicketRequest


class CreateTicketInput(InputSchema):
    OBJECT_FIELDS = ("metadata", "traits", "company_traits")

    email = fields.Email(metadata={"label": "Customer Email",
                                   "help": "The real customer's address. Give this or User ID."})
    user_id = fields.String(validate=validate.Length(max=255), metadata={
        "label": "User ID", "help": "Your own id for the customer (Halo's external_id)."})
    name = fields.String(validate=validate.Length(max=255), metadata={"label": "Customer Name"})
    subject = fields.String(required=True, metadata={
        "label": "Subject", "help": "The ticket title (Halo keeps 1,000 characters; longer is cut "
                                    "with a marker)."})
    message = fields.String(metadata={"label": "Message", "widget": "text",
                                      "help": "The ticket body. Defaults to the subject."})
    metadata = fields.Dict(keys=fields.String(), metadata={
        "label": "Metadata", "dict": True,
        "help": "Form fields, severity, category…: shown to your team and to Halo's AI."})
    source = fields.String(metadata={"label": "Source",
                                     "help": "Origin label in Halo, e.g. contact_form (50 characters)."})
    priority = fields.String(validate=validate.OneOf(["normal", "priority"]), metadata={
        "label": "Priority", "choices": {"normal": "Normal", "priority": "Priority"}})
    ai_enabled = fields.Boolean(metadata={
        "label": "Let Halo's AI Answer",
        "help": "Halo's email AI agent replies to the customer (needs AI email auto-reply on)."})
    external_id = fields.String(validate=validate.Length(max=255), metadata={
        "label": "External ID",
        "help": "Your id for this ticket (form response id, row id). The same external ID never "
                "opens a second ticket, so replayed runs are safe."})
    plan = fields.String(metadata={"label": "Customer Plan", "group": "customer"})
    role = fields.String(metadata={"label": "Customer Role", "group": "customer"})
    traits = fields.Dict(keys=fields.String(), metadata={
        "label": "Customer Traits", "dict": True, "group": "customer",
        "help": "Any other customer attributes, sent to Halo's users/identify (needs User ID)."})
    company_id = fields.String(validate=validate.Length(max=255), metadata={
        "label": "Company ID", "group": "company",
        "help": "Identify the customer's company first and link the customer to it."})
    company_name = fields.String(metadata={"label": "Company Name", "group": "company"})
    company_traits = fields.Dict(keys=fields.String(), metadata={
        "label": "Company Traits", "dict": True, "group": "company"})

    @validates_schema
    def _needs_customer(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if not data.get("email") and not data.get("user_id"):
            message = "Give the customer's email or user id."
            raise ValidationError({"email": [message], "user_id": [message]})
        user_traits = data.get("traits") or data.get("plan") or data.get("role")
        if user_traits and not data.get("user_id"):
            raise ValidationError({"user_id": ["Customer traits need a user id (Halo identifies "
                                               "users by id)."]})
        if (data.get("company_name") or data.get("company_traits")) and not data.get("company_id"):
            raise ValidationError({"company_id": ["Company name and traits need a company id."]})
        problems = {name: trait_problems(data.get(name) or {}, company=name == "company_traits")
                    for name in ("traits", "company_traits")}
        if any(problems.values()):
            raise ValidationError({name: found for name, found in problems.items() if found})


def build_request(ctx: Context, data: dict[str, Any]) -> TicketRequest:
    traits = dict(data.get("traits") or {})
    for key in ("plan", "role"):
        if data.get(key):
            traits[key] = data[key]
    company = None
    if data.get("company_id"):
        company = Company(company_id=data["company_id"], name=data.get("company_name"),
                          traits=dict(data.get("company_traits") or {}))
    return TicketRequest(
        subject=data["subject"],
        message=data.get("message"),
        customer=Customer(email=data.get("email"), user_id=data.get("user_id"), name=data.get("name"),
                          traits=traits, resolved_by="mapped_field"),
        metadata=dict(data.get("metadata") or {}),
        source=data.get("source"),
        priority=data.get("priority"),
        ai_enabled=data.get("ai_enabled"),
        company=company,
        origin=ctx.client,
        event_id=data.get("external_id"),
    )


def perform(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    services = ctx.services
    request = build_request(ctx, data)
    recorded = record_submission(
        services.store, tenant=ctx.tenant, channel=ctx.client, source="create_ticket",
        dedupe_source="create_ticket", raw_body=ctx.raw_body, headers={},
        content_type=ctx.content_type, ticket_request=request, event_id=request.event_id,
        claim=services.deliveries.claim_for_now(request))
    if not recorded.duplicate:
        outcome = services.deliveries.deliver_claimed(recorded, request)
    elif recorded.status == Status.DELIVERED:
        with services.store.session() as session:
            ticket = session.execute(
                select(Ticket).where(Ticket.submission_id == recorded.submission_id)).scalar_one()
        return ticket_to_dict(ticket)
    else:  # a replayed Zap after a failure: deliver the same submission with today's input
        outcome = services.deliveries.deliver_now(recorded.submission_id, request)
    if outcome.ticket is None:  # pragma: no cover - delivery raises on every failure
        raise ConnectorError("The ticket was not created.")
    return ticket_to_dict(outcome.ticket)


action = Action(
    key="create_ticket",
    noun="Ticket",
    label="Create Ticket",
    description="Creates a ticket in Halo from the real customer, with your form fields as metadata.",
    input_schema=CreateTicketInput,
    perform=perform,
    output_fields=TICKET_OUTPUT,
    sample=TICKET_SAMPLE,
    status=201,
    keeps_rejected_input=True,
)
