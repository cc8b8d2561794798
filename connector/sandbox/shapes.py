"""Every JSON body the sandbox answers with, documented or provisional, in one place.

Halo's docs show only a few response bodies (reference/halo-api.md §1.5, §2.6, §2.8). Everything
else here is a **provisional** guess, labelled as such on each function, so that when Halo's real
shapes become known this is the only module to change. The connector's Halo client must not rely
on any provisional detail: ``tickets/create`` can answer in three shapes (:data:`TICKET_SHAPES`)
precisely so that the client's tolerance can be tested.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any, Mapping

#: Where a reserved-key 400 points (the docs pages that list the rejected trait keys).
USER_TRAITS_DOCS_URL = "https://docs.haloagents.ai/contacts/user-traits"
COMPANY_TRAITS_DOCS_URL = "https://docs.haloagents.ai/contacts/company-traits"

#: PROVISIONAL. How ``tickets/create`` names the new ticket's id: ``{"id": …}``,
#: ``{"ticket_id": …}`` or ``{"ticket": {"id": …}}``. Chosen per request with the
#: ``X-Sandbox-Ticket-Shape`` header, else by ``SandboxConfig.ticket_shape``.
TICKET_SHAPES = ("id", "ticket_id", "nested")
DEFAULT_TICKET_SHAPE = "id"

#: PROVISIONAL. Status of a successful create/identify (the overview only lists "200 — Success").
SUCCESS_STATUS = 200


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def timestamp(moment: datetime | None = None) -> str:
    """DOCUMENTED format (companies page): ISO 8601 with microseconds and ``+00:00``, not ``Z``."""
    moment = moment or utc_now()
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


def series_time(moment: datetime) -> str:
    """DOCUMENTED format of ``scheduled_for`` in the series example: milliseconds and ``Z``."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


# --- errors ----------------------------------------------------------------------------------


def error(message: str, **extra: Any) -> dict[str, Any]:
    """INFERRED: ``{"error": "<message>"}``, from the series error table; extra keys only where documented."""
    return {"error": message, **extra}


def reserved_keys_error(kind: str, keys: list[str]) -> dict[str, Any]:
    """DOCUMENTED keys (changelog 0.8.0): ``error``, ``reserved_keys`` (every offending key), ``docs_url``.

    The wording of ``error`` is provisional.
    """
    docs_url = USER_TRAITS_DOCS_URL if kind == "user" else COMPANY_TRAITS_DOCS_URL
    return error(
        f"System-managed {kind} trait keys cannot be set: {', '.join(keys)}",
        reserved_keys=keys,
        docs_url=docs_url,
    )


def unauthorized(message: str) -> dict[str, Any]:
    """PROVISIONAL (open question 18): 401 body for a missing or unknown widget key."""
    return error(message)


# --- records ---------------------------------------------------------------------------------


def user_record(row: Mapping[str, Any]) -> dict[str, Any]:
    """PROVISIONAL: an end user as Halo might return it (recognised traits flattened to columns)."""
    return {
        "id": row["id"],
        "external_id": row["external_id"],
        "org_id": row["org_id"],
        "email": row["email"],
        "name": row["name"],
        **(row["traits"] or {}),
        "custom_fields": row["custom_fields"] or {},
        "context": row["context"] or {},
        "company_id": row["company_id"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "first_seen": row["first_seen"],
        "last_seen": row["last_seen"],
    }


def company_record(row: Mapping[str, Any]) -> dict[str, Any]:
    """PARTLY DOCUMENTED: ``signed_up_at``/``created_at``/``updated_at`` are timestamptz strings."""
    return {
        "id": row["id"],
        "external_id": row["external_id"],
        "org_id": row["org_id"],
        "name": row["name"],
        **(row["traits"] or {}),
        "custom_fields": row["custom_fields"] or {},
        "context": row["context"] or {},
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


# --- endpoint answers ------------------------------------------------------------------------


def ticket_created(
    ticket: Mapping[str, Any], user: Mapping[str, Any], *, user_created: bool, shape: str
) -> dict[str, Any]:
    """PROVISIONAL (open question 1): the docs show no tickets/create response at all."""
    details = {
        "subject": ticket["subject"],
        "status": ticket["status"],
        "priority": ticket["priority"],
        "source": ticket["source"],
        "ai_enabled": ticket["ai_enabled"],
        "end_user_id": user["id"],
        "created_at": ticket["created_at"],
    }
    if shape == "nested":
        return {"success": True, "ticket": {"id": ticket["id"], **details}, "user_created": user_created}
    key = "ticket_id" if shape == "ticket_id" else "id"
    return {"success": True, key: ticket["id"], **details, "user_created": user_created}


def user_identified(user: Mapping[str, Any], *, created: bool) -> dict[str, Any]:
    """PROVISIONAL (open question 6)."""
    return {"success": True, "created": created, "user": user_record(user)}


def users_updated(*, created: int, updated: int, skipped: int) -> dict[str, Any]:
    """PARTLY DOCUMENTED: only the ``skipped`` count is known to exist."""
    return {"success": True, "created": created, "updated": updated, "skipped": skipped}


def company_identified(company: Mapping[str, Any], *, created: bool, linked_user_id: str | None) -> dict[str, Any]:
    """PROVISIONAL (open question 6); the record's timestamp format is documented."""
    return {
        "success": True,
        "created": created,
        "company": company_record(company),
        "linked_user_id": linked_user_id,
    }


def events_accepted() -> dict[str, Any]:
    """DOCUMENTED: ``{"success": true}``."""
    return {"success": True}


def chat_reply(*, session_id: str, agent_id: str, mode: str) -> dict[str, Any]:
    """PROVISIONAL (open question 8): keys ``response``/``session_id``/``agent_id`` are inferred."""
    return {
        "response": "This is the local Halo sandbox: your message was received. No AI runs here.",
        "session_id": session_id,
        "agent_id": agent_id,
        "mode": mode,
    }


def series_enrolled(scheduled_for: datetime) -> dict[str, Any]:
    """DOCUMENTED (series page)."""
    return {"success": True, "enrolled": True, "scheduled_for": series_time(scheduled_for)}


def series_already_enrolled() -> dict[str, Any]:
    """DOCUMENTED (series page), message verbatim."""
    return {"success": True, "already_enrolled": True, "message": "User is already enrolled in this series"}


def series_removed(removed: int) -> dict[str, Any]:
    """PROVISIONAL: the remove response is not visible in the docs."""
    return {"success": True, "removed": removed > 0}


def org_config(org: Mapping[str, Any]) -> dict[str, Any]:
    """DOCUMENTED example shape (config page); the values are the sandbox's own."""
    return {
        "agent": {
            "id": agent_id_for(org["id"]),
            "name": "Sandbox Bot",
            "skills": ["ticket_creation"],
            "avatar_config": {},
            "voice_config": {},
            "flow_config": {"steps": [], "custom_variables": []},
            "live_help_label": "Live Help",
            "video_display_mode": "modal",
            "status": "active",
        },
        "organization": {"name": org["name"], "settings": {}},
    }


def agent_id_for(org_id: str) -> str:
    return str(uuid.uuid5(uuid.UUID(org_id), "sandbox-agent"))


# --- the sandbox's own views (not Halo's) -----------------------------------------------------


def inspected_ticket(row: Mapping[str, Any], user: Mapping[str, Any] | None) -> dict[str, Any]:
    """One ticket as ``GET /sandbox/inspect/tickets`` lists it: what was sent and whom it resolved to."""
    return {
        "id": row["id"],
        "org_id": row["org_id"],
        "created_at": row["created_at"],
        "subject": row["subject"],
        "message": row["message"],
        "metadata": row["metadata"],
        "source": row["source"],
        "priority": row["priority"],
        "status": row["status"],
        "ai_enabled": row["ai_enabled"],
        "customer_email": row["request_email"] or (user["email"] if user else None),
        "customer_name": row["request_name"] or (user["name"] if user else None),
        "request": {
            "user_id": row["request_user_id"],
            "email": row["request_email"],
            "name": row["request_name"],
        },
        "user": user_record(user) if user else None,
    }


def inspected_event(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "org_id": row["org_id"],
        "created_at": row["created_at"],
        "event_type": row["event_type"],
        "element_selector": row["element_selector"],
        "page_url": row["page_url"],
        "metadata": row["metadata"],
        "user_id": row["user_id"],
        "end_user_id": row["end_user_id"],
        "session_id": row["session_id"],
    }
