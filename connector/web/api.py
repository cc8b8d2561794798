"""The Zapier/Make HTTP surface: ``/v1/actions``, ``/v1/searches``, ``/v1/triggers``, ``/v1/me``.

One generic view per kind does the same steps for every operation: authenticate the key to a
tenant, read the body or query, validate it with the operation's schema (422 naming each field),
run ``perform``, answer in the shape the platforms expect (an object for actions, a bare array
for searches and triggers).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from urllib.parse import urlsplit

from flask import Blueprint, Response, jsonify, request
from marshmallow import Schema, ValidationError

from actions import ACTIONS_BY_KEY, SEARCHES_BY_KEY
from connector import __version__
from connector.delivery import record_submission
from connector.errors import BadRequest, InvalidInput, NotFound
from connector.operations import Action, Context, Operation
from connector.store import Status
from connector.services import services
from connector.web.auth import authenticate
from connector.web.bodies import read_fields
from triggers import TRIGGERS_BY_KEY

bp = Blueprint("api", __name__, url_prefix="/v1")

CLIENT_HEADER = "X-Halo-Connector-Client"


def detect_client() -> str:
    """zapier, make or api: from our generated apps' header, else the User-Agent."""
    declared = request.headers.get(CLIENT_HEADER, "").strip().lower()
    if declared in ("zapier", "make"):
        return declared
    agent = request.headers.get("User-Agent", "").lower()
    if agent.startswith("zapier"):
        return "zapier"
    if "make" in agent or "integromat" in agent:
        return "make"
    return "api"


def context() -> Context:
    svc = services()
    tenant = authenticate(request, svc.settings)
    return Context(tenant=tenant, client=detect_client(), services=svc,
                   raw_body=request.get_data(cache=True), content_type=request.content_type)


def load_input(operation: Operation, data: Any) -> dict[str, Any]:
    try:
        return schema_for(operation.input_schema).load(data)
    except ValidationError as error:
        raise InvalidInput.from_fields(error.messages) from None


@cache
def schema_for(schema_class: type[Schema]) -> Schema:
    """One instance per schema: building a marshmallow schema copies every field, and a loaded
    schema keeps no state between ``load`` calls."""
    return schema_class()


def _find(registry: dict[str, Operation], key: str, kind: str) -> Operation:
    operation = registry.get(key)
    if operation is None:
        raise NotFound(f"Unknown {kind} '{key}'. Available: {', '.join(sorted(registry)) or 'none'}.")
    return operation


@bp.post("/actions/<key>")
def run_action(key: str) -> tuple[Response, int]:
    ctx = context()
    operation = _find(ACTIONS_BY_KEY, key, "action")
    try:
        data = load_input(operation, read_fields(request))
    except (BadRequest, InvalidInput) as error:
        if isinstance(operation, Action) and operation.keeps_rejected_input:
            keep_rejected(ctx, operation, error)
        raise
    result = operation.perform(ctx, data)
    return jsonify(result), operation.status


def keep_rejected(ctx: Context, operation: Operation, error: BadRequest | InvalidInput) -> None:
    """Store what the caller sent, as ``rejected`` with the reason, so it can be inspected and
    the failed_delivery trigger can tell someone (the caller still gets the 4xx)."""
    record_submission(ctx.services.store, tenant=ctx.tenant, channel=ctx.client,
                      source=operation.key, raw_body=ctx.raw_body, headers={},
                      content_type=ctx.content_type, ticket_request=None,
                      problem=error.message, status=Status.REJECTED)


@bp.get("/searches/<key>")
def run_search(key: str) -> Response:
    ctx = context()
    operation = _find(SEARCHES_BY_KEY, key, "search")
    return jsonify(operation.perform(ctx, load_input(operation, request.args.to_dict())))


@bp.get("/triggers/<key>")
def run_trigger(key: str) -> Response:
    ctx = context()
    operation = _find(TRIGGERS_BY_KEY, key, "trigger")
    return jsonify(operation.perform(ctx, load_input(operation, request.args.to_dict())))


@bp.get("/me")
def me() -> Response:
    """Tests the key (Zapier's auth test, Make's connection check) and labels the connection."""
    ctx = context()
    settings = ctx.settings
    halo_host = urlsplit(settings.halo_api_url).netloc
    target = "Halo sandbox" if settings.uses_sandbox else "Halo"
    return jsonify({
        "tenant": ctx.tenant,
        "label": f"{ctx.tenant} @ {target} ({halo_host})",
        "halo": "sandbox" if settings.uses_sandbox else "live",
        "halo_api_host": halo_host,
        "client": ctx.client,
        "connector_version": __version__,
        "api_version": "v1",
    })
