"""Webhook intake: ``POST /hooks/<route>`` and ``POST /hooks/<route>/<secret>``.

The ack path does only what must happen before answering: verify the sender over the raw bytes,
decode the body (400 with the parse error), name each event, drop pings and unhandled events,
and store the raw delivery once per event. Reading the fields and finding the customer happens
in the worker (``connector.normalizers``), so the answer comes in milliseconds and never waits
for Halo. A duplicate (sender retry, concurrent copy) is answered 2xx and stored once.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from flask import Blueprint, Response, jsonify, request

from connector.config import DEFAULT_TENANT
from connector.delivery import record_submission
from connector.errors import BadRequest, Unauthorized
from connector.services import services
from connector.sources import headers_for_storage, process
from connector.store import Status

log = logging.getLogger("connector.webhooks")

bp = Blueprint("webhooks", __name__)
CHANNEL = "webhook"


def public_url() -> str:
    """The URL the sender called: PUBLIC_URL + path when set (behind a proxy), else what we saw."""
    base = services().settings.public_url
    if not base:
        return request.url
    query = request.query_string.decode("latin-1")
    return f"{base}{request.path}" + (f"?{query}" if query else "")


@bp.post("/hooks/<route>")
@bp.post("/hooks/<route>/<secret>")
def receive(route: str, secret: str | None = None) -> tuple[Response, int]:
    svc = services()
    raw = request.get_data(cache=True)
    headers = dict(request.headers)
    try:
        processed = process(route, headers=headers, raw=raw, path_secret=secret, settings=svc.settings,
                            routes=svc.routes, now=time.time(), method=request.method,
                            url=public_url, build_tickets=False)
    except Unauthorized as error:
        log.warning("webhook /hooks/%s refused from %s: %s", route, request.remote_addr, error.message)
        raise
    except BadRequest as error:
        # The sender proved who it is, so what it sent is kept for a person to look at.
        _keep_rejected(route, raw, headers, error)
        raise

    tenant = processed.tenant or DEFAULT_TENANT
    stored = headers_for_storage(headers)
    ids: list[int] = []
    duplicates = 0
    for item in processed.accepted:
        recorded = record_submission(
            svc.store, tenant=tenant, channel=CHANNEL, source=processed.route,
            dedupe_source=processed.sender, raw_body=raw, headers=stored,
            content_type=request.content_type, ticket_request=None, event_id=item.event_id,
            status=Status.PENDING, wake=svc.deliveries.wake)
        ids.append(recorded.submission_id)
        if recorded.duplicate:
            duplicates += 1
        if recorded.wake_due:
            svc.deliveries.enqueue(recorded.submission_id)
    body: dict[str, Any]
    if ids:
        body = {"status": "accepted", "submissions": ids, "duplicates": duplicates}
        ignored = [item.reason for item in processed.ignored]
        if ignored:
            body["ignored"] = ignored
        status = 202
    else:
        body = {"status": "ignored", "reason": processed.reason}
        status = 200
    response = jsonify(body)
    response.headers.update(dict(processed.response_headers))
    return response, status


def _keep_rejected(route: str, raw: bytes, headers: dict[str, str], error: BadRequest) -> None:
    svc = services()
    try:
        sender = svc.routes.get(route) if svc.routes is not None else None
    except Exception:
        sender = None
    tenant = getattr(sender, "tenant", None) or DEFAULT_TENANT
    record_submission(svc.store, tenant=tenant, channel=CHANNEL, source=route, raw_body=raw,
                      headers=headers_for_storage(headers), content_type=request.content_type,
                      ticket_request=None, status=Status.REJECTED, problem=error.message)
