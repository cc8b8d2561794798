"""Turn a sender's :class:`Submission` into a ``TicketRequest``, the same way for every sender.

Subject: the route's template, else what the sender asked for, else the sender's default.
Message: the route's template (or the sender's body text), then every answered, shown field as a
``Label: value`` line in form order, then the sender's links. Metadata: every answered field
keyed by label (or key, per route) with its typed value, plus the sender's ids and URLs under the
sender's name. Halo's limits are applied by ``TicketRequest.halo_payload()``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from connector.sources import templates
from connector.sources.base import Field, Submission, text_of
from connector.sources.customers import resolve_customer
from connector.sources.fields import field_line, humanize, is_empty
from connector.sources.lookup import Lookup
from connector.sources.routes import RESERVED_TRAITS, Options, Route
from connector.ticket import (
    COMPANY_TRAITS_MAX_BYTES,
    PROVENANCE_KEY,
    USER_TRAITS_MAX_BYTES,
    Company,
    TicketRequest,
    fit_metadata,
    single_line,
)

if TYPE_CHECKING:
    from connector.sources.base import Source

MAX_METADATA_KEY_CHARS = 200
#: Fields kept as metadata keys; more are counted, not listed (the message still lists them).
#: Also keeps ``fit_metadata`` fast: its last resort drops keys one by one.
MAX_METADATA_FIELDS = 250
MORE_FIELDS_KEY = "_more_fields"
#: Provenance key holding why the customer is unknown (the needs-attention reason).
ATTENTION_KEY = "attention"
_PRIORITY_WORDS = frozenset({"priority", "high", "urgent", "critical", "highest", "true", "yes", "1"})


def build_ticket(source: Source, route: Route, options: Options, submission: Submission, *,
                 event_id: str, event_type: str, form_id: str | None) -> TicketRequest:
    title = options.form_title or submission.title
    variables: dict[str, Any] = {
        **submission.variables,
        "sender": source.label,
        "route": route.name,
        "event_type": event_type,
        "form_id": form_id or "",
        "form_title": title,
        "title": submission.variables.get("title", title),
    }
    lookup = Lookup(submission, variables)
    customer = resolve_customer(submission, options, lookup, source.name)
    variables.update(email=customer.email or "", name=customer.name or "")
    customer.traits = _traits(options, submission, lookup)

    requested = submission.requested
    subject = ""
    if options.subject:
        subject = single_line(templates.render(options.subject, lookup.find))
    if not subject and requested.subject:
        subject = single_line(requested.subject)
    if not subject:
        subject = single_line(templates.render(submission.default_subject, lookup.find_variable))

    provenance: dict[str, Any] = {"route": route.name, "event_type": event_type[:100]}
    if form_id:
        provenance["form_id"] = form_id[:100]
    if not customer.identified:
        provenance[ATTENTION_KEY] = submission.identity_hint or (
            f"No customer email or user id in this {source.label} event; map one in the routes file "
            '(email = "<field>") or set fallback_email.'
        )
    return TicketRequest(
        subject=subject or f"New {source.label} event",
        customer=customer,
        message=_message(options, submission, lookup),
        metadata=_metadata(source.name, options, submission),
        source=options.source or text_of(requested.source) or source.name,
        priority=options.priority or _priority(requested.priority),
        ai_enabled=options.ai_enabled if options.ai_enabled is not None else _flag(requested.ai_enabled),
        company=_company(options, submission, lookup),
        origin=source.name,
        event_id=event_id,
        provenance=provenance,
    )


def _message(options: Options, submission: Submission, lookup: Lookup) -> str | None:
    blocks: list[str] = []
    if options.message:
        blocks.append(templates.render(options.message, lookup.find).strip())
    elif submission.requested.message:
        blocks.append(str(submission.requested.message).strip())
    elif submission.body:
        blocks.append(submission.body.strip())
    if options.include_fields:
        lines = [field_line(item) for item in submission.fields if item.shown and not is_empty(item.value)]
        blocks.append("\n".join(lines))
    if submission.links:
        blocks.append("\n".join(f"{humanize(name)}: {url}" for name, url in submission.links.items() if url))
    text = "\n\n".join(b for b in blocks if b)
    return text or None


def _metadata(sender: str, options: Options, submission: Submission) -> dict[str, Any]:
    metadata: dict[str, Any] = {}
    reserved = {PROVENANCE_KEY, sender, MORE_FIELDS_KEY}
    left_out = 0
    for item in submission.fields:
        if is_empty(item.value):
            continue
        if len(metadata) >= MAX_METADATA_FIELDS:
            left_out += 1
            continue
        key = _unique(_metadata_key(item, options), item.key, metadata, reserved)
        metadata[key] = item.value
    if left_out:
        metadata[MORE_FIELDS_KEY] = left_out
    ids = {k: v for k, v in submission.ids.items() if not is_empty(v)}
    ids.update({k: v for k, v in submission.links.items() if v})
    if ids:
        metadata[sender] = ids
    return metadata


def _unique(key: str, field_key: str, taken: dict[str, Any], reserved: set[str]) -> str:
    """Two questions with the same label both stay: the second is keyed "Label (key)", then numbered."""
    if key not in taken and key not in reserved:
        return key
    room = MAX_METADATA_KEY_CHARS - 8
    candidate = f"{key} ({field_key})"
    if len(candidate) > room:
        candidate = candidate[:room]
    number = 2
    unique = candidate
    while unique in taken or unique in reserved:
        unique = f"{candidate} {number}"
        number += 1
    return unique


def _metadata_key(item: Field, options: Options) -> str:
    key = item.key if options.metadata_keys == "key" else (item.label or item.key)
    key = " ".join(str(key).split()) or item.key or "field"
    return key[:MAX_METADATA_KEY_CHARS]


def _traits(options: Options, submission: Submission, lookup: Lookup) -> dict[str, Any]:
    traits: dict[str, Any] = dict(submission.requested.traits or {})
    for key, template in options.traits.items():
        value = templates.render_value(template, lookup.find) if isinstance(template, str) else template
        if not is_empty(value):
            traits[key] = value
    traits = {k: v for k, v in traits.items() if k not in RESERVED_TRAITS}
    return fit_metadata(traits, USER_TRAITS_MAX_BYTES) if traits else {}


def _company(options: Options, submission: Submission, lookup: Lookup) -> Company | None:
    rule = options.company
    if rule is not None:
        company_id = text_of(templates.render(rule.id, lookup.find))
        if company_id:
            name = text_of(templates.render(rule.name, lookup.find)) if rule.name else None
            traits = {}
            for key, template in rule.traits.items():
                value = templates.render_value(template, lookup.find) if isinstance(template, str) else template
                if not is_empty(value):
                    traits[key] = value
            return Company(company_id[:255], name, fit_metadata(traits, COMPANY_TRAITS_MAX_BYTES) if traits else {})
    requested = submission.requested.company
    if isinstance(requested, dict):
        company_id = text_of(requested.get("id") or requested.get("company_id"))
        if company_id:
            traits = requested.get("traits") if isinstance(requested.get("traits"), dict) else {}
            return Company(company_id[:255], text_of(requested.get("name")),
                           fit_metadata(dict(traits), COMPANY_TRAITS_MAX_BYTES) if traits else {})
    return None


def _priority(value: Any) -> str | None:
    text = text_of(value)
    if text is None:
        return None
    return "priority" if text.lower() in _PRIORITY_WORDS else "normal"


def _flag(value: Any) -> bool | None:
    if isinstance(value, bool) or value is None:
        return value
    text = (text_of(value) or "").lower()
    if text in ("true", "yes", "1", "on"):
        return True
    if text in ("false", "no", "0", "off"):
        return False
    return None
