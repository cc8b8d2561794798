"""Submissions that did not become tickets: rejected, needing a person, failed or given up."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import defer

from connector.operations import Context, OutputField, Trigger
from connector.polling import PollingInput, poll
from connector.records import failure_item
from connector.store import DeliveryFailure, Submission


def perform(ctx: Context, data: dict[str, Any]) -> list[dict[str, Any]]:
    query = (select(DeliveryFailure, Submission)
             .join(Submission, Submission.id == DeliveryFailure.submission_id)
             .where(DeliveryFailure.tenant == ctx.tenant)
             .options(defer(Submission.raw_body), defer(Submission.headers),
                      defer(Submission.ticket_request)))
    rows = poll(ctx, query, DeliveryFailure, DeliveryFailure.failed_at, data)
    return [failure_item(failure, submission) for failure, submission in rows]


trigger = Trigger(
    key="failed_delivery",
    noun="Failed Delivery",
    label="Failed Delivery",
    description="Triggers when a submission cannot become a ticket and needs attention.",
    help="Each failure is a new item (its id is the failure's own id), so a submission that "
         "fails again after a replay triggers again; Submission ID stays the same. Fix the cause, "
         "then replay it with `flask deliveries replay <submission id>`.",
    input_schema=PollingInput,
    perform=perform,
    output_fields=(
        OutputField("id", "Failure ID", "integer", important=True),
        OutputField("submission_id", "Submission ID", "integer", important=True),
        OutputField("failed_at", "Failed At", "datetime"),
        OutputField("status", "Status", important=True,
                    help="needs_attention, dead, failed or rejected."),
        OutputField("reason", "Reason", important=True),
        OutputField("error_code", "Error Code", help="e.g. halo_rejected, halo_unavailable."),
        OutputField("attempts", "Delivery Attempts", "integer"),
        OutputField("channel", "Channel"),
        OutputField("source", "Source"),
        OutputField("external_id", "External ID"),
        OutputField("customer_email", "Customer Email"),
        OutputField("customer_name", "Customer Name"),
        OutputField("customer_user_id", "Customer User ID"),
        OutputField("subject", "Subject"),
        OutputField("received_at", "Received At", "datetime"),
    ),
    sample={
        "id": 9,
        "submission_id": 58,
        "failed_at": "2024-09-15T10:04:12Z",
        "status": "needs_attention",
        "reason": "No customer email or user id was found.",
        "error_code": None,
        "attempts": 0,
        "channel": "email",
        "source": "mailgun",
        "external_id": "<20240915100410.1234@example.org>",
        "customer_email": None,
        "customer_name": None,
        "customer_user_id": None,
        "subject": "New form entry",
        "received_at": "2024-09-15T10:04:11Z",
    },
    date_field="failed_at",
)
