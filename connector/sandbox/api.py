"""The emulated Halo API, ``/sandbox/api/sdk/…``: one view per documented endpoint.

Every request passes, in order: CORS preflight, fault injection (before anything is read or
stored), the widget-key check (all but ``GET /config``), the endpoint's validation, identity
verification (``users/update`` checks its org token first, as its authentication), storage, and
finally any fault delay configured to happen after storing.
"""

from __future__ import annotations

import hmac
import re
import socket
import time
import uuid
from typing import Any

from flask import Blueprint, Response, g, request

from connector.sandbox import rules, shapes
from connector.sandbox.faults import FaultSpecError
from connector.sandbox.replies import json_response
from connector.sandbox.rules import ApiError
from connector.sandbox.state import current

API_PREFIX = "/api/sdk"
FAULT_HEADER = "X-Sandbox-Fault"
SHAPE_HEADER = "X-Sandbox-Ticket-Shape"
FAULT_APPLIED_HEADER = "X-Sandbox-Fault-Applied"
#: ``ab_live_…`` is Halo's documented widget key; ``ab_test_…`` is accepted for test setups.
WIDGET_KEY_PATTERN = re.compile(r"ab_(live|test)_[A-Za-z0-9_\-]+")
UNAUTHENTICATED_ENDPOINTS = {"config"}
ENDPOINTS = {
    "tickets/create": "POST", "users/identify": "POST", "users/update": "POST",
    "companies/identify": "POST", "events": "POST", "chat": "POST", "series": "POST", "config": "GET",
}

api = Blueprint("api", __name__, url_prefix=API_PREFIX)


def api_path() -> str:
    return request.path.split(API_PREFIX + "/", 1)[-1].strip("/")


# --- the pipeline in front of every endpoint ---------------------------------------------------


@api.before_request
def _preflight_faults_and_auth() -> Response | None:
    if request.method == "OPTIONS":
        return _preflight()
    response = _inject_faults()
    if response is not None:
        return response
    if api_path() not in UNAUTHENTICATED_ENDPOINTS:
        g.sandbox_org_id = _authenticate()
    return None


@api.after_request
def _delay_after_storing(response: Response) -> Response:
    plan = g.get("sandbox_fault_plan")
    if plan is not None:
        if plan.after_seconds:
            time.sleep(plan.after_seconds)
        if plan.applied:
            response.headers[FAULT_APPLIED_HEADER] = ",".join(plan.applied)
    return response


def _preflight() -> Response:
    response = Response(status=204)
    response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
    response.headers["Access-Control-Allow-Headers"] = request.headers.get(
        "Access-Control-Request-Headers", f"Authorization, Content-Type, {FAULT_HEADER}, {SHAPE_HEADER}"
    )
    response.headers["Access-Control-Max-Age"] = "600"
    return response


def _inject_faults() -> Response | None:
    try:
        plan = current().faults.plan(api_path(), request.headers.get(FAULT_HEADER))
    except FaultSpecError as exc:
        return json_response(400, shapes.error(f"{FAULT_HEADER}: {exc}"))
    if plan.empty:
        return None
    g.sandbox_fault_plan = plan
    if plan.before_seconds:
        time.sleep(plan.before_seconds)
    fault = plan.terminal
    if fault is None:
        return None
    if fault.kind == "drop":
        return _drop_connection()
    if fault.kind == "hang":
        time.sleep(fault.seconds)
        return json_response(504, shapes.error("Gateway timeout (sandbox fault hang)"))
    headers = {}
    retry_after = fault.retry_after_header()
    if retry_after is not None:
        headers["Retry-After"] = retry_after
    message = "Too many requests" if fault.status == 429 else "Sandbox fault"
    return json_response(fault.status, shapes.error(f"{message} (sandbox fault {fault.status})"), headers)


def _drop_connection() -> Response:
    """Shut the client's socket down without answering (dev server or gunicorn).

    The server's own attempt to write the (unsent) response then fails with a broken pipe, which
    both servers treat as a client that went away. Werkzeug's socket is also closed here (its
    file objects keep the descriptor alive); gunicorn closes its own, and writing to a descriptor
    closed under it would be logged as a server error.
    """
    environ = request.environ
    sock = environ.get("werkzeug.socket") or environ.get("gunicorn.socket")
    if sock is None:
        return json_response(500, shapes.error("Sandbox fault: drop is impossible on this server (no socket)"))
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    if "werkzeug.socket" in environ:
        sock.close()
    return Response(status=500)


def _authenticate() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key:
        raise ApiError(401, shapes.unauthorized("Missing API key: send Authorization: Bearer ab_live_…"))
    if not WIDGET_KEY_PATTERN.fullmatch(key):
        raise ApiError(401, shapes.unauthorized("Invalid API key"))
    allowed = current().config.api_keys
    if allowed is not None and not any(hmac.compare_digest(key, candidate) for candidate in allowed):
        raise ApiError(401, shapes.unauthorized("Invalid API key"))
    return current().org_for_key(key)


def _body() -> dict[str, Any]:
    return rules.json_object(request.get_json(force=True, silent=True))


def _ticket_shape() -> str:
    shape = request.headers.get(SHAPE_HEADER) or current().config.ticket_shape
    if shape not in shapes.TICKET_SHAPES:
        raise rules.bad_request(f"{SHAPE_HEADER} must be one of: {', '.join(shapes.TICKET_SHAPES)}")
    return shape


# --- endpoints -------------------------------------------------------------------------------


@api.post("/tickets/create")
def create_ticket() -> Response:
    body = _body()
    shape = _ticket_shape()
    fields = rules.ticket_fields(body)
    # INFERRED: the tickets page does not show a user_token field; the overview's general rule
    # (a non-anonymous user_id without a valid token is rejected when verification is on) applies.
    current().identity.check_user(fields["user_id"], body.get("user_token"))
    ticket, user, created = current().store.create_ticket(g.sandbox_org_id, fields)
    return json_response(shapes.SUCCESS_STATUS, shapes.ticket_created(ticket, user, user_created=created, shape=shape))


@api.post("/users/identify")
def identify_user() -> Response:
    body = _body()
    user_id = rules.required_user_id(body)
    fields = rules.user_identify_fields(body)
    current().identity.check_user(user_id, body.get("user_token"), exempt_anonymous=False)
    user, created = current().store.identify_user(
        g.sandbox_org_id, user_id, fields["columns"], fields["custom"], fields["context"], fields["session_id"]
    )
    return json_response(shapes.SUCCESS_STATUS, shapes.user_identified(user, created=created))


@api.post("/users/update")
def update_users() -> Response:
    body = _body()
    current().identity.check_org_update(body.get("user_token"))
    update_only = rules.optional_bool(body, "update_only") or False
    items = rules.update_items(body)
    counts = current().store.update_users(g.sandbox_org_id, items, update_only=update_only)
    return json_response(shapes.SUCCESS_STATUS, shapes.users_updated(**counts))


@api.post("/companies/identify")
def identify_company() -> Response:
    body = _body()
    if not rules.present(body, "company_id"):
        raise rules.bad_request("company_id is required")
    company_id = rules.optional_string(body, "company_id") or ""
    user_id = rules.optional_string(body, "user_id") or None
    fields = rules.company_identify_fields(body)
    current().identity.check_user(user_id, body.get("user_token"))
    company, created, linked = current().store.identify_company(
        g.sandbox_org_id, company_id, fields["columns"], fields["custom"], fields["context"], user_id
    )
    return json_response(
        shapes.SUCCESS_STATUS, shapes.company_identified(company, created=created, linked_user_id=linked)
    )


@api.post("/events")
def record_events() -> Response:
    body = _body()
    items = rules.event_items(body)
    user_id = rules.optional_string(body, "user_id") or None
    session_id = rules.optional_string(body, "session_id") or None
    # INFERRED: the overview's general identity rule; the events page does not mention user_token.
    current().identity.check_user(user_id, body.get("user_token"))
    store = current().store
    user = store.touch_user(g.sandbox_org_id, user_id) if user_id else None
    store.record_events(g.sandbox_org_id, items, user=user, session_id=session_id)
    return json_response(200, shapes.events_accepted())


@api.post("/chat")
def chat() -> Response:
    body = _body()
    fields = rules.chat_fields(body)
    current().identity.check_user(body.get("user_id") or None, body.get("user_token"))
    return json_response(200, shapes.chat_reply(
        session_id=fields["session_id"] or str(uuid.uuid4()),
        agent_id=body.get("agent_id") or shapes.agent_id_for(g.sandbox_org_id),
        mode=fields["mode"],
    ))


@api.post("/series")
def series() -> Response:
    body = _body()
    fields = rules.series_fields(body)
    current().identity.check_user(fields["user_id"], body.get("user_token"), exempt_anonymous=False)
    store = current().store
    user = store.find_user(g.sandbox_org_id, fields["user_id"])
    if user is None:
        raise ApiError(404, shapes.error("User not found"))
    automation = store.get_automation(fields["series_id"])
    if automation is None:
        raise ApiError(404, shapes.error("Series not found"))
    if automation["kind"] != "series":
        raise rules.bad_request("The specified automation is not a series")
    if fields["action"] == "remove":
        removed = store.unenroll(g.sandbox_org_id, fields["series_id"], user)
        return json_response(200, shapes.series_removed(removed))
    if automation["status"] != "active":
        raise rules.bad_request("Series must be active to enroll users")
    enrolled, scheduled_for = store.enroll(g.sandbox_org_id, fields["series_id"], user)
    if not enrolled:
        return json_response(200, shapes.series_already_enrolled())
    return json_response(200, shapes.series_enrolled(scheduled_for))


@api.get("/config")
def config() -> Response:
    """Unauthenticated. PROVISIONAL errors: 400 without a UUID ``org_id``, 404 for an unknown org."""
    org_id = request.args.get("org_id", "").strip()
    if not org_id:
        raise rules.bad_request("org_id is required")
    try:
        org_id = str(uuid.UUID(org_id))
    except ValueError:
        raise rules.bad_request("org_id must be a UUID") from None
    org = current().store.get_org(org_id)
    if org is None:
        raise ApiError(404, shapes.error("Organization not found"))
    return json_response(200, shapes.org_config(org))


@api.route("/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def unknown(rest: str) -> Response:
    """JSON (with CORS) for paths and methods Halo does not have, instead of the host's HTML 404."""
    path = rest.strip("/")
    if path in ENDPOINTS:
        return json_response(405, shapes.error(f"Method not allowed; use {ENDPOINTS[path]}"),
                             {"Allow": f"{ENDPOINTS[path]}, OPTIONS"})
    return json_response(404, shapes.error("Not found"))
