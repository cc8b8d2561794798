"""Create or update a customer in Halo (users/identify), optionally linking them to a company."""

from __future__ import annotations

from datetime import timezone
from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from connector.operations import Action, Context, OutputField
from connector.records import iso
from connector.schemas import InputSchema
from connector.store.types import utcnow
from connector.traits import answer_fields, plain, trait_problems

#: Named inputs that become traits of the same name (Halo gives most of them dedicated columns).
NAMED_TRAITS = ("email", "name", "plan", "role", "signed_up_at", "avatar")


class IdentifyUserInput(InputSchema):
    OBJECT_FIELDS = ("traits",)

    user_id = fields.String(required=True, validate=validate.Length(min=1, max=255), metadata={
        "label": "User ID", "help": "Your own id for the customer; Halo stores it as external_id."})
    email = fields.Email(metadata={"label": "Email"})
    name = fields.String(validate=validate.Length(max=255), metadata={"label": "Name"})
    plan = fields.String(validate=validate.Length(max=255), metadata={
        "label": "Plan", "help": "Their plan in your product (shown to agents and Halo's AI)."})
    role = fields.String(validate=validate.Length(max=255), metadata={
        "label": "Role", "help": "Needed for Halo audiences that filter on role."})
    signed_up_at = fields.AwareDateTime(default_timezone=timezone.utc, metadata={
        "label": "Signed Up At", "help": "When they signed up in your product (ISO 8601)."})
    avatar = fields.Url(metadata={"label": "Avatar URL"})
    traits = fields.Dict(keys=fields.String(), metadata={
        "label": "Other Traits", "dict": True,
        "help": "Any other attributes (mrr, renewal_date, seats…). Halo keeps unknown keys as "
                "custom fields."})
    company_id = fields.String(validate=validate.Length(max=255), metadata={
        "label": "Company ID", "group": "company",
        "help": "Link the customer to this company (created in Halo if new)."})
    company_name = fields.String(validate=validate.Length(max=255), metadata={
        "label": "Company Name", "group": "company"})

    @validates_schema(skip_on_field_errors=False)
    def _halo_rules(self, data: dict[str, Any], **_kwargs: Any) -> None:
        problems = trait_problems(user_traits(data))
        if problems:
            raise ValidationError({"traits": problems})
        if data.get("company_name") and not data.get("company_id"):
            raise ValidationError({"company_id": ["A company name needs a company id."]})


def user_traits(data: dict[str, Any]) -> dict[str, Any]:
    traits = {key: plain(value) for key, value in (data.get("traits") or {}).items()}
    for key in NAMED_TRAITS:
        if data.get(key) is not None:
            traits[key] = plain(data[key])
    return traits


def perform(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    halo = ctx.services.halo
    traits = user_traits(data)
    answer = halo.identify_user(data["user_id"], traits=traits)
    if data.get("company_id"):
        company_traits = {"name": data["company_name"]} if data.get("company_name") else None
        halo.identify_company(data["company_id"], user_id=data["user_id"], traits=company_traits)
    found = answer_fields(answer, "user")
    return {
        "user_id": data["user_id"],
        "email": traits.get("email"),
        "name": traits.get("name"),
        "traits": traits,
        "company_id": data.get("company_id"),
        "identified_at": iso(utcnow()),
        "halo_user_id": found["halo_id"],
        "created_at": found["created_at"],
        "updated_at": found["updated_at"],
    }


action = Action(
    key="identify_user",
    noun="User",
    label="Create or Update User",
    description="Creates or updates a customer in Halo with their plan, role and other traits.",
    help="Use it when someone signs up or changes plan, so agents and Halo's AI see who they are. "
         "Every call counts as activity (Halo bumps the user's last seen).",
    input_schema=IdentifyUserInput,
    perform=perform,
    output_fields=(
        OutputField("user_id", "User ID", important=True),
        OutputField("email", "Email", important=True),
        OutputField("name", "Name"),
        OutputField("traits", "Traits", "object", help="Every trait sent to Halo."),
        OutputField("company_id", "Company ID"),
        OutputField("identified_at", "Identified At", "datetime"),
        OutputField("halo_user_id", "Halo User ID", help="Halo's own id, when its answer has one."),
        OutputField("created_at", "Created in Halo At", "datetime"),
        OutputField("updated_at", "Updated in Halo At", "datetime"),
    ),
    sample={
        "user_id": "user_123",
        "email": "jane@example.com",
        "name": "Jane Doe",
        "traits": {"email": "jane@example.com", "name": "Jane Doe", "plan": "pro", "role": "admin"},
        "company_id": "company_456",
        "identified_at": "2024-09-15T09:59:59Z",
        "halo_user_id": "5b0e7c1a",
        "created_at": "2024-08-12T15:32:00Z",
        "updated_at": "2024-09-15T09:59:59Z",
    },
)
