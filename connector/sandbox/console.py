"""The sandbox's own surface (not Halo's): the ticket page, JSON inspection and test controls.

``/sandbox/`` lists received tickets for a person; ``/sandbox/inspect/…`` gives tests and demos the
same data as JSON; ``/sandbox/control/…`` sets faults, seeds email series and wipes the data.
None of it needs a key: the sandbox is a local development tool.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, render_template, request, url_for

from connector.sandbox import rules, shapes
from connector.sandbox.faults import FaultSpecError, parse_json
from connector.sandbox.replies import json_response
from connector.sandbox.state import current
from connector.sandbox.store import companies, end_users, events

DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000
PAGE_TICKETS = 200
PAGE_MESSAGE_CHARS = 4_000
AUTOMATION_KINDS = ("series", "automation")
AUTOMATION_STATUSES = ("active", "paused", "draft")

console = Blueprint("console", __name__, template_folder="templates")


def _limit() -> int:
    raw = request.args.get("limit")
    if raw in (None, ""):
        return DEFAULT_LIMIT
    try:
        limit = int(raw)
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_LIMIT:
        raise rules.bad_request(f"limit must be a whole number from 1 to {MAX_LIMIT:,}")
    return limit


# --- inspection ------------------------------------------------------------------------------


@console.get("/inspect/tickets")
def inspect_tickets() -> Response:
    rows = current().store.recent_tickets(_limit(), request.args.get("org_id"))
    return json_response(200, [shapes.inspected_ticket(ticket, user) for ticket, user in rows])


@console.get("/inspect/users")
def inspect_users() -> Response:
    rows = current().store.recent(end_users, _limit(), request.args.get("org_id"))
    return json_response(200, [shapes.user_record(row) for row in rows])


@console.get("/inspect/companies")
def inspect_companies() -> Response:
    rows = current().store.recent(companies, _limit(), request.args.get("org_id"))
    return json_response(200, [shapes.company_record(row) for row in rows])


@console.get("/inspect/events")
def inspect_events() -> Response:
    rows = current().store.recent(events, _limit(), request.args.get("org_id"))
    return json_response(200, [shapes.inspected_event(row) for row in rows])


# --- control ---------------------------------------------------------------------------------


@console.route("/control/faults", methods=["GET", "PUT", "DELETE"])
def control_faults() -> Response:
    book = current().faults
    if request.method == "PUT":
        try:
            book.replace(parse_json(request.get_json(force=True, silent=True)))
        except FaultSpecError as exc:
            raise rules.bad_request(str(exc)) from None
    elif request.method == "DELETE":
        book.clear()
    return json_response(200, {"faults": book.snapshot()})


@console.post("/control/reset")
def control_reset() -> Response:
    current().reset()
    return json_response(200, {"success": True})


@console.put("/control/series/<series_id>")
def control_series(series_id: str) -> Response:
    """Create or change an automation so ``POST /series`` can find it (Halo's come from its dashboard)."""
    body = request.get_json(force=True, silent=True) or {}
    kind = body.get("kind", "series")
    status = body.get("status", "active")
    if kind not in AUTOMATION_KINDS:
        raise rules.bad_request("kind must be one of: " + ", ".join(AUTOMATION_KINDS))
    if status not in AUTOMATION_STATUSES:
        raise rules.bad_request("status must be one of: " + ", ".join(AUTOMATION_STATUSES))
    name = body.get("name")
    row = current().store.put_automation(series_id, kind=kind, status=status, name=name if isinstance(name, str) else None)
    return json_response(200, row)


# --- the page --------------------------------------------------------------------------------


@console.get("/")
def page() -> str:
    state = current()
    tickets = [_ticket_view(ticket, user) for ticket, user in state.store.recent_tickets(PAGE_TICKETS)]
    return render_template(
        "halo_sandbox/index.html",
        tickets=tickets,
        orgs=state.store.list_orgs(),
        faults=state.faults.snapshot(),
        api_base=request.host_url.rstrip("/") + url_for("halo_sandbox.console.page") + "api/sdk",
        identity_verification=state.config.identity_verification,
        page_limit=PAGE_TICKETS,
    )


def _ticket_view(ticket: dict[str, Any], user: dict[str, Any] | None) -> dict[str, Any]:
    record = shapes.inspected_ticket(ticket, user)
    message = record["message"] or ""
    return {
        **record,
        "when": record["created_at"][:19].replace("T", " ") + " UTC",
        "customer_id": record["request"]["user_id"] or (user["external_id"] if user else None),
        "message_excerpt": message[:PAGE_MESSAGE_CHARS],
        "message_cut": len(message) > PAGE_MESSAGE_CHARS,
        "metadata_items": [
            (key, value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, indent=1))
            for key, value in (record["metadata"] or {}).items()
        ],
    }
