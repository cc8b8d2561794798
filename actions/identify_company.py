"""Create or update a company in Halo (companies/identify), optionally linking a user to it."""

from __future__ import annotations

from datetime import timezone
from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from connector.operations import Action, Context, OutputField
from connector.records import iso
from connector.schemas import InputSchema
from connector.store.types import utcnow
from connector.traits import answer_fields, plain, trait_problems

#: Named inputs that become traits of the same name (Halo's dedicated company columns).
NAMED_TRAITS = ("name", "domain", "industry", "plan", "employee_count", "signed_up_at")


class IdentifyCompanyInput(InputSchema):
    OBJECT_FIELDS = ("traits",)

    company_id = fields.String(required=True, validate=validate.Length(min=1, max=255), metadata={
        "label": "Company ID", "help": "Your own id for the company."})
    name = fields.String(validate=validate.Length(max=255), metadata={"label": "Name"})
    domain = fields.String(validate=validate.Length(max=255), metadata={
        "label": "Domain", "help": "e.g. example.com"})
    industry = fields.String(validate=validate.Length(max=255), metadata={"label": "Industry"})
    plan = fields.String(validate=validate.Length(max=255), metadata={"label": "Plan"})
    employee_count = fields.Integer(validate=validate.Range(min=0), metadata={
        "label": "Employee Count"})
    signed_up_at = fields.AwareDateTime(default_timezone=timezone.utc, metadata={
        "label": "Signed Up At", "help": "When the company signed up in your product (ISO 8601)."})
    traits = fields.Dict(keys=fields.String(), metadata={
        "label": "Other Traits", "dict": True,
        "help": "Any other attributes (mrr, renewal_date, monthly_spend…); unknown keys become "
                "custom fields in Halo."})
    user_id = fields.String(validate=validate.Length(max=255), metadata={
        "label": "User ID to Link", "help": "A customer's User ID to add to this company."})

    @validates_schema(skip_on_field_errors=False)
    def _halo_rules(self, data: dict[str, Any], **_kwargs: Any) -> None:
        problems = trait_problems(company_traits(data), company=True)
        if problems:
            raise ValidationError({"traits": problems})


def company_traits(data: dict[str, Any]) -> dict[str, Any]:
    traits = {key: plain(value) for key, value in (data.get("traits") or {}).items()}
    for key in NAMED_TRAITS:
        if data.get(key) is not None:
            traits[key] = plain(data[key])
    return traits


def perform(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    traits = company_traits(data)
    answer = ctx.services.halo.identify_company(data["company_id"], user_id=data.get("user_id"),
                                                traits=traits)
    found = answer_fields(answer, "company")
    return {
        "company_id": data["company_id"],
        "name": traits.get("name"),
        "traits": traits,
        "user_id": data.get("user_id"),
        "identified_at": iso(utcnow()),
        "halo_company_id": found["halo_id"],
        "created_at": found["created_at"],
        "updated_at": found["updated_at"],
    }


action = Action(
    key="identify_company",
    noun="Company",
    label="Create or Update Company",
    description="Creates or updates a company in Halo and can link a customer to it.",
    help="Plan, size and revenue traits let agents and Halo's AI prioritise the company's tickets.",
    input_schema=IdentifyCompanyInput,
    perform=perform,
    output_fields=(
        OutputField("company_id", "Company ID", important=True),
        OutputField("name", "Name", important=True),
        OutputField("traits", "Traits", "object", help="Every trait sent to Halo."),
        OutputField("user_id", "Linked User ID"),
        OutputField("identified_at", "Identified At", "datetime"),
        OutputField("halo_company_id", "Halo Company ID",
                    help="Halo's own id, when its answer has one."),
        OutputField("created_at", "Created in Halo At", "datetime"),
        OutputField("updated_at", "Updated in Halo At", "datetime"),
    ),
    sample={
        "company_id": "company_456",
        "name": "Acme Corp",
        "traits": {"name": "Acme Corp", "plan": "enterprise", "industry": "SaaS",
                   "employee_count": 150},
        "user_id": "user_123",
        "identified_at": "2024-09-15T09:59:59Z",
        "halo_company_id": "c_91d2",
        "created_at": "2024-08-12T15:32:00Z",
        "updated_at": "2024-09-15T09:59:59Z",
    },
)
