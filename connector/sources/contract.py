"""The key/value contract for bodies the user designs (Zapier, Make, WPForms, Standard Webhooks …).

One published shape, JSON or form-encoded, flat (``customer__email``) or nested (``customer.email``):

- ``subject`` (or ``title``, ``summary``), ``message`` (or ``description``, ``body``, ``text``);
- the customer: ``email``, ``name`` (or ``first_name`` + ``last_name``), ``user_id``, or the same
  inside ``customer`` / ``user`` / ``contact`` (well-known keys, see ``customers.py``);
- ``priority`` (``priority``/``high``/``urgent`` → priority, anything else → normal),
  ``ai_enabled``, ``source``;
- ``external_id`` (or ``event_id``, ``idempotency_key``): the id that deduplicates the event;
  without one the event id is a hash of the raw body (identical bodies count as one event);
- ``traits`` {…} for the user, ``company`` {id, name, traits};
- ``metadata`` / ``custom_fields`` {…} and every other key: fields, kept typed in metadata and
  listed as ``Label: value`` lines under the message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connector.errors import BadRequest
from connector.sources.base import Field, Requested, Submission, bounded_event_id, dig, text_of
from connector.sources.bodies import is_uploaded_file, unflatten
from connector.sources.fields import EMAIL_KEYS, humanize, name_role, normalize

SUBJECT_KEYS = ("subject", "title", "summary")
MESSAGE_KEYS = ("message", "description", "body", "text", "details")
EVENT_ID_KEYS = ("external_id", "event_id", "idempotency_key")
USER_ID_PATHS = (("user_id",), ("customer", "user_id"), ("user", "user_id"), ("contact", "user_id"))
NESTED_FIELDS = ("metadata", "custom_fields", "fields")
CONSUMED = frozenset({*SUBJECT_KEYS, *MESSAGE_KEYS, *EVENT_ID_KEYS, "priority", "ai_enabled", "source",
                      "user_id"})
MAX_DEPTH = 6


def as_object(payload: Any, label: str) -> dict[str, Any]:
    """The body as one object; a one-element array (Zapier's "wrap in array") is unwrapped."""
    if isinstance(payload, list) and len(payload) == 1:
        payload = payload[0]
    if not isinstance(payload, dict):
        raise BadRequest(f"{label} body must be a JSON object or a form.")
    return unflatten(payload)


def split_objects(payload: Any, label: str) -> list[dict[str, Any]]:
    """A body that is an array of objects is several events; an object is one."""
    if isinstance(payload, list):
        if not payload:
            raise BadRequest(f"{label} body is an empty array.")
        if not all(isinstance(item, dict) for item in payload):
            raise BadRequest(f"{label} body must be an object or an array of objects.")
        return [unflatten(item) for item in payload]
    return [as_object(payload, label)]


def contract_event_id(data: Mapping[str, Any]) -> str | None:
    for key in EVENT_ID_KEYS:
        if (value := bounded_event_id(data.get(key))) is not None:
            return value
    return None


def _first_text(data: Mapping[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        if (value := text_of(data.get(key))) is not None:
            return value
    return None


def flatten_fields(data: Mapping[str, Any], labels: Mapping[str, str], prefix: str = "",
                   depth: int = 0, skip: frozenset[str] = frozenset()) -> list[Field]:
    """Every key as a field (nested objects as ``parent.child``), in body order."""
    found: list[Field] = []
    for raw_key, value in data.items():
        key = str(raw_key)
        if not prefix and key in skip:
            continue
        full = f"{prefix}{key}"
        if isinstance(value, dict) and value and depth < MAX_DEPTH and not is_uploaded_file(value):
            inner_prefix = "" if (not prefix and key in NESTED_FIELDS) else f"{full}."
            found += flatten_fields(value, labels, inner_prefix, depth + 1)
            continue
        kind = "text"
        if isinstance(value, bool):
            kind = "boolean"
        elif isinstance(value, (int, float)):
            kind = "number"
        elif isinstance(value, list):
            kind = "choices" if all(not isinstance(v, (dict, list)) for v in value) else "json"
        elif is_uploaded_file(value):
            kind = "file"
        elif isinstance(value, dict):
            kind = "json"
        identity = normalize(full) in EMAIL_KEYS or name_role(full) is not None
        found.append(Field(full, labels.get(full) or labels.get(key) or humanize(full), value, kind,
                           shown=not identity))
    return found


def read_contract(data: Mapping[str, Any], *, label: str, labels: Mapping[str, str],
                  title: str | None = None, default_subject: str | None = None,
                  skip: frozenset[str] = frozenset()) -> Submission:
    message = _first_text(data, MESSAGE_KEYS)
    subject = _first_text(data, SUBJECT_KEYS)
    user_id = next((text_of(v) for path in USER_ID_PATHS if (v := dig(data, *path)) is not None
                    and text_of(v)), None)
    company = data.get("company") if isinstance(data.get("company"), dict) else None
    traits = data.get("traits") if isinstance(data.get("traits"), dict) else {}
    summary = (message or "").strip().splitlines()[0][:80] if message and message.strip() else ""
    return Submission(
        title=title or label,
        default_subject=default_subject or ("{message_summary}" if summary else "New {sender} request"),
        fields=flatten_fields(data, labels, skip=CONSUMED | skip | {
            key for key, value in (("company", company), ("traits", data.get("traits"))) if isinstance(value, dict)
        }),
        requested=Requested(
            subject=subject,
            message=message,
            priority=data.get("priority"),
            ai_enabled=data.get("ai_enabled"),
            source=data.get("source"),
            user_id=user_id,
            traits=dict(traits),
            company=dict(company) if company else None,
        ),
        variables={"message_summary": summary},
        payload=data,
    )
