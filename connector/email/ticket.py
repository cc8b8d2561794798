"""An email and its resolved customer as the TicketRequest every channel produces.

The ticket carries the customer's own words: for a forward, the original's body (the agent's
note is kept in metadata, not mixed in); quoted reply history is trimmed. The subject loses its
``Fwd:``/``WG:``/``Re:`` prefixes and its ``[tags]`` (kept as ``metadata["tags"]``). Form
notifications' ``Label: value`` lines become metadata fields, flat, as the webhook sources do.
Everything about the email itself (ids, addresses, notifier, which rule found the customer and
why) sits under ``metadata["email"]``. An email without a customer still becomes a request,
with an unidentified customer and ``metadata["needs_attention"]`` giving the reason.
"""

from __future__ import annotations

from typing import Any

from connector.email.fields import extract_fields, fields_dict
from connector.email.forwards import ForwardedEmail
from connector.email.message import ParsedEmail
from connector.email.quotes import trim_quoted_history
from connector.email.resolve import Resolution
from connector.email.subjects import split_subject
from connector.ticket import PROVENANCE_KEY, Customer, TicketRequest

ORIGIN = "email"
#: Metadata keys the email channel owns; a form field with the same label gets a suffix.
RESERVED_KEYS = frozenset({PROVENANCE_KEY, "email", "tags", "attachments", "needs_attention"})
MAX_FIELD_KEY_CHARS = 100


def email_to_ticket(parsed: ParsedEmail, resolution: Resolution, *,
                    recipient: str | None = None) -> TicketRequest:
    """The ticket request for ``parsed``, whose customer is ``resolution``."""
    recipient = recipient or parsed.recipient
    source_text, source_subject, forwarded = _customer_message(parsed, resolution)
    outer = split_subject(parsed.subject)
    inner = split_subject(source_subject)
    tags = list(dict.fromkeys(outer.tags + inner.tags))
    subject = outer.text or inner.text or outer.original or "(no subject)"

    metadata: dict[str, Any] = {}
    if resolution.sender_kind == "notification":
        for label, value in fields_dict(extract_fields(source_text)).items():
            metadata[_field_key(label, metadata)] = value
    if tags:
        metadata["tags"] = tags
    attachments = _attachments(parsed, resolution)
    if attachments:
        metadata["attachments"] = attachments
    metadata["email"] = _email_metadata(parsed, resolution, recipient, forwarded, outer.prefixes)
    if not resolution.identified:
        metadata["needs_attention"] = resolution.reason

    provenance: dict[str, Any] = {"channel": "email"}
    for key, value in (("message_id", parsed.message_id), ("recipient", recipient),
                       ("notifier", resolution.notifier),
                       ("unresolved_reason", None if resolution.identified else resolution.reason)):
        if value:
            provenance[key] = value

    return TicketRequest(
        subject=subject,
        customer=Customer(
            email=resolution.email,
            name=resolution.name,
            resolved_by=f"email:{resolution.resolved_by}" if resolution.resolved_by else None,
        ),
        message=trim_quoted_history(source_text) or None,
        metadata=metadata,
        source=ORIGIN,
        origin=ORIGIN,
        event_id=event_id(parsed),
        provenance=provenance,
    )


def event_id(parsed: ParsedEmail) -> str:
    """The email's Message-ID, or a digest of its bytes when it has none."""
    if parsed.message_id:
        return parsed.message_id
    return f"sha256:{parsed.sha256}" if parsed.sha256 else "sha256:unknown"


def _customer_message(parsed: ParsedEmail,
                      resolution: Resolution) -> tuple[str, str, ForwardedEmail | None]:
    """(text, subject, forward) of the message the customer wrote."""
    if resolution.resolved_by == "rfc822_attachment" and resolution.attached and resolution.inner:
        return _customer_message(resolution.attached, resolution.inner)
    forwarded = resolution.forwarded or (resolution.forward_found if not resolution.identified
                                         else None)
    if forwarded is not None:
        return forwarded.body, forwarded.subject or parsed.subject, forwarded
    return parsed.text, parsed.subject, None


def _field_key(label: str, taken: dict[str, Any]) -> str:
    key = " ".join(label.split())[:MAX_FIELD_KEY_CHARS] or "field"
    base = key if key not in RESERVED_KEYS else f"{key} (field)"
    key, counter = base, 2
    while key in taken or key in RESERVED_KEYS:
        key = f"{base} {counter}"
        counter += 1
    return key


def _attachments(parsed: ParsedEmail, resolution: Resolution) -> list[dict[str, Any]]:
    listed = [attachment.to_dict() for attachment in parsed.attachments]
    if resolution.attached is not None:
        listed += [dict(attachment.to_dict(), attached_to="forwarded message")
                   for attachment in resolution.attached.attachments]
    return listed[:100]


def _email_metadata(parsed: ParsedEmail, resolution: Resolution, recipient: str | None,
                    forwarded: ForwardedEmail | None, prefixes: tuple[str, ...]) -> dict[str, Any]:
    info: dict[str, Any] = {
        "message_id": parsed.message_id,
        "in_reply_to": parsed.in_reply_to,
        "references": parsed.references or None,
        "date": parsed.date_iso or parsed.date,
        "from": str(parsed.from_mailbox) if parsed.from_mailbox else None,
        "to": [str(m) for m in parsed.to][:20] or None,
        "cc": [str(m) for m in parsed.cc][:20] or None,
        "recipient": recipient,
        "subject": parsed.subject or None,
        "subject_prefixes": list(prefixes) or None,
        "resolved_by": resolution.resolved_by,
        "resolution_reason": resolution.reason,
        "sender_kind": resolution.sender_kind,
        "notifier": resolution.notifier,
        "notifier_tool": resolution.notifier_tool,
        "auto_submitted": parsed.header("auto-submitted"),
        "body_from_html": parsed.body_from_html or None,
    }
    if forwarded is not None:
        info["forwarded"] = forwarded.summary()
    outermost = resolution.forward_found
    note = outermost.note if outermost is not None and forwarded is not None else None
    if resolution.resolved_by == "rfc822_attachment":
        note = trim_quoted_history(parsed.text) or None
    if note:
        info["forwarder_note"] = note
    return {key: value for key, value in info.items() if value is not None}
