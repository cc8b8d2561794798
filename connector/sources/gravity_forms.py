"""Gravity Forms (Webhooks Add-On): the entry object, fields keyed by id, JSON or form-encoded.

"All Fields" sends entry meta (``id``, ``form_id``, ``date_created`` …) and each answer by field
id; composite fields use sub-ids (Name ``1.3`` first / ``1.6`` last, Address ``2.1``–``2.6``,
Checkboxes ``4.1``, ``4.2`` …). The entry carries no labels: name them in the route's ``labels``
map (``"1" = "Name"``), else they read "Field 1". "Select Fields" bodies
(keys the admin typed) are read like any key/value body. No signature: use the path secret or a
custom ``X-Webhook-Token`` header.
"""

from __future__ import annotations

import re
from typing import Any

from connector.sources.base import Delivery, Field, Source, Submission, text_of
from connector.sources.contract import as_object, contract_event_id, flatten_fields
from connector.sources.fields import is_empty
from connector.sources.routes import Options
from connector.sources.signatures import SharedSecret

FIELD_ID = re.compile(r"^(\d+)(?:\.(\d+))?$")
#: Entry meta shown in metadata; ``ip`` and ``user_agent`` are left out on purpose.
META = ("id", "form_id", "date_created", "date_updated", "source_url", "status", "currency",
        "payment_status", "payment_date", "payment_amount", "payment_method", "transaction_id",
        "created_by", "post_id", "is_starred", "is_read", "is_fulfilled", "transaction_type", "source_id")
SKIPPED_META = frozenset({"ip", "user_agent"})
NAME_SUBIDS = {"2": "prefix", "3": "first", "4": "middle", "6": "last", "8": "suffix"}
ADDRESS_SUBIDS = {"1": "street", "2": "line2", "3": "city", "4": "state", "5": "zip", "6": "country"}


def parse(delivery: Delivery) -> dict[str, Any]:
    return as_object(delivery.body, "Gravity Forms")


def _composite(parts: dict[str, Any]) -> tuple[str, Any]:
    """Name, address or checkboxes, told apart by sub-ids: checkboxes always start at .1, and an
    address always sends all six inputs."""
    subids = set(parts)
    ordered = sorted(parts.items(), key=lambda p: int(p[0]))
    if "1" not in subids and subids <= set(NAME_SUBIDS) and subids & {"3", "6"}:
        return "name", {NAME_SUBIDS[s]: v for s, v in ordered}
    if subids == set(ADDRESS_SUBIDS):
        return "address", {ADDRESS_SUBIDS[s]: v for s, v in ordered}
    return "choices", [v for _, v in ordered if not is_empty(v)]


def read(payload: dict[str, Any], delivery: Delivery, options: Options) -> Submission:
    plain: dict[str, Any] = {}
    composite: dict[str, dict[str, Any]] = {}
    rest: dict[str, Any] = {}
    for key, value in payload.items():
        match = FIELD_ID.match(str(key))
        if match and match.group(2):
            composite.setdefault(match.group(1), {})[match.group(2)] = value
        elif match:
            plain[match.group(1)] = value
        elif key not in META and key not in SKIPPED_META:
            rest[key] = value
    fields: list[Field] = []
    for field_id in sorted(set(plain) | set(composite), key=int):
        if field_id in composite:
            kind, value = _composite(composite[field_id])
        else:
            value = plain[field_id]
            kind = "number" if isinstance(value, (int, float)) and not isinstance(value, bool) else "text"
            if isinstance(value, str) and value.startswith(("http://", "https://")) and " " not in value:
                kind = "url"
        if is_empty(value):
            continue
        fields.append(Field(field_id, options.labels.get(field_id) or f"Field {field_id}", value, kind))
    fields += flatten_fields(rest, options.labels)
    for key in META:
        if not is_empty(payload.get(key)) and key not in ("id", "form_id", "source_url"):
            fields.append(Field(key, key, payload[key], "meta", shown=False))
    form = text_of(payload.get("form_id"))
    return Submission(
        title=f"form {form}" if form else "Gravity Forms",
        default_subject="New Gravity Forms entry: {form_title}",
        fields=fields,
        ids={"form_id": form, "entry_id": text_of(payload.get("id"))},
        links={"source_url": text_of(payload.get("source_url")) or ""},
        payload=payload,
    )


gravity_forms = Source(
    name="gravity_forms",
    label="Gravity Forms",
    auth=(SharedSecret(),),
    parse=parse,
    read=read,
    event_id=lambda p, d: (f"entry:{p['id']}" if text_of(p.get("id")) and text_of(p.get("form_id"))
                           else contract_event_id(p)),
    event_id_rule="entry:<entry id> (unique per site); else external_id; else a hash of the raw body",
    form_id=lambda p, d: text_of(p.get("form_id")),
)
