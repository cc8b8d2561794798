"""Email intake: ``POST /inbound/email`` (raw RFC 822) and ``POST /inbound/mailgun`` (a Mailgun route).

Emails are few and their customer is the whole point, so the message is parsed and resolved
before answering: a caller hears at once whether the customer was found (and why not), an email
that is not an email is a 400, and what arrives is stored once per Message-ID and recipient.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
from typing import Any

from flask import Blueprint, Response, jsonify, request

from connector.config import DEFAULT_TENANT, sender_secret_variable
from connector.delivery import record_submission
from connector.delivery.service import unidentified_reason
from connector.email import ParsedEmail, ResolverConfig, email_to_ticket, parse_email, parse_mailgun, resolve
from connector.errors import BadRequest, ServiceUnavailable, Unauthorized, UnsupportedMediaType
from connector.normalizers import RECIPIENT_HEADER
from connector.services import services
from connector.store import Status
from connector.web.auth import authenticate

log = logging.getLogger("connector.email")

bp = Blueprint("inbound_email", __name__)
CHANNEL = "email"
RFC822 = "message/rfc822"
#: How a Mailgun post is kept: its fields (minus the signature) and files, as JSON.
MAILGUN_STORED_TYPE = "application/vnd.halo-connector.mailgun+json"
MAILGUN_WINDOW_SECONDS = 300
_MAILGUN_SIGNING_FIELDS = ("signature", "token", "timestamp")


@bp.post("/inbound/email")
def inbound_email() -> tuple[Response, int]:
    """A raw email, from any inbound provider or script, authenticated with a connector key."""
    svc = services()
    tenant = authenticate(request, svc.settings)
    if (request.mimetype or "").lower() != RFC822:
        raise UnsupportedMediaType(
            f"Send the raw email with Content-Type: {RFC822} (got {request.mimetype or 'none'}).",
            details={"accepted": [RFC822]})
    raw = request.get_data(cache=True)
    parsed = parse_email(raw)
    recipient = request.args.get("recipient") or None
    return _accept(tenant, "email", parsed, raw, RFC822, recipient)


@bp.post("/inbound/mailgun")
def inbound_mailgun() -> tuple[Response, int]:
    """A Mailgun route's ``forward()`` post, verified with Mailgun's signature, timestamp and token."""
    svc = services()
    fields = {key: request.form.get(key, "") for key in request.form}
    _verify_mailgun(fields, svc.settings)
    files = [(f.filename or "", f.mimetype or "application/octet-stream", f.read())
             for f in request.files.values()]
    parsed = parse_mailgun(fields, files)
    stored = _store_mailgun(fields, files)
    recipient = fields.get("recipient") or None
    return _accept(DEFAULT_TENANT, "mailgun", parsed, stored, MAILGUN_STORED_TYPE, recipient)


def _accept(tenant: str, source: str, parsed: ParsedEmail, raw: bytes, content_type: str,
            recipient: str | None) -> tuple[Response, int]:
    svc = services()
    resolution = resolve(parsed, ResolverConfig.from_settings(svc.settings), recipient=recipient)
    ticket = email_to_ticket(parsed, resolution, recipient=recipient)
    problem = None if ticket.customer.identified else unidentified_reason(ticket)
    headers = {RECIPIENT_HEADER: recipient} if recipient else {}
    recorded = record_submission(
        svc.store, tenant=tenant, channel=CHANNEL, source=source, raw_body=raw, headers=headers,
        content_type=content_type, ticket_request=ticket, event_id=ticket.event_id,
        dedupe_source=f"email:{(recipient or '').lower()}", problem=problem)
    if recorded.status == Status.PENDING and not recorded.duplicate:
        svc.deliveries.enqueue(recorded.submission_id)
    body: dict[str, Any] = {
        "status": "needs_attention" if recorded.status == Status.NEEDS_ATTENTION else "accepted",
        "submission": recorded.submission_id,
        "duplicate": recorded.duplicate,
        "customer": {"email": ticket.customer.email, "name": ticket.customer.name},
        "resolved_by": resolution.resolved_by,
    }
    if recorded.reason:
        body["reason"] = recorded.reason
    return jsonify(body), 202


def _verify_mailgun(fields: dict[str, str], settings: Any) -> None:
    variable = sender_secret_variable("mailgun")
    key = settings.get(variable)
    if not key:
        raise ServiceUnavailable(f"Set {variable} (Mailgun's HTTP webhook signing key) to accept "
                                 "Mailgun posts.", details={"variable": variable})
    signature, token, timestamp = (fields.get(name, "") for name in ("signature", "token", "timestamp"))
    if not (signature and token and timestamp):
        raise Unauthorized("Missing Mailgun signature, token or timestamp fields.")
    try:
        age = abs(time.time() - float(timestamp))
    except ValueError:
        raise Unauthorized("Mailgun timestamp is not a number.") from None
    if age > MAILGUN_WINDOW_SECONDS:
        raise Unauthorized("Mailgun timestamp is more than 5 minutes away from now.")
    expected = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature.strip().lower()):
        log.warning("Mailgun post refused from %s: bad signature", request.remote_addr)
        raise Unauthorized(f"Mailgun signature does not match (checked with {variable}).")


def _store_mailgun(fields: dict[str, str], files: list[tuple[str, str, bytes]]) -> bytes:
    kept = {k: v for k, v in fields.items() if k not in _MAILGUN_SIGNING_FIELDS}
    return json.dumps({
        "fields": kept,
        "files": [{"filename": name, "content_type": kind, "content": base64.b64encode(data).decode()}
                  for name, kind, data in files],
    }).encode()


def parse_stored_mailgun(raw: bytes, content_type: str) -> ParsedEmail:
    """Read back a Mailgun post kept by :func:`_store_mailgun` (replay)."""
    if content_type != MAILGUN_STORED_TYPE:
        raise BadRequest("This submission does not hold a Mailgun post.")
    stored = json.loads(raw)
    files = [(f["filename"], f["content_type"], base64.b64decode(f["content"])) for f in stored["files"]]
    return parse_mailgun(stored["fields"], files)
