"""Reading request bodies the way no-code platforms send them.

JSON or form-encoded (Zapier and Make both do either), no ``Accept`` header needed, a clear 400
that says what could not be parsed, a 415 that lists what is accepted, and limits on nesting and
list sizes so a hostile body cannot make parsing expensive.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Request

from connector.errors import BadRequest, UnsupportedMediaType

JSON_TYPES = ("application/json",)
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
ACCEPTED = ", ".join(JSON_TYPES + FORM_TYPES)
MAX_DEPTH = 32
MAX_ITEMS = 10_000


def media_type(request: Request) -> str:
    return (request.mimetype or "").lower()


def is_json_type(mimetype: str) -> bool:
    return mimetype in JSON_TYPES or mimetype.endswith("+json")


def parse_json(raw: bytes) -> Any:
    """Parse JSON bytes, answering 400 with the parser's own words on failure."""
    try:
        value = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise BadRequest(f"Body is not UTF-8: {exc.reason} at byte {exc.start}.") from None
    except json.JSONDecodeError as exc:
        raise BadRequest(f"Body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}.") from None
    except RecursionError:
        raise BadRequest(f"Body is nested deeper than {MAX_DEPTH} levels.") from None
    check_shape(value)
    return value


def check_shape(value: Any, depth: int = 0) -> None:
    """Refuse absurd nesting or list sizes early (before schemas walk them)."""
    if depth > MAX_DEPTH:
        raise BadRequest(f"Body is nested deeper than {MAX_DEPTH} levels.")
    if isinstance(value, dict):
        if len(value) > MAX_ITEMS:
            raise BadRequest(f"An object in the body has more than {MAX_ITEMS} keys.")
        for item in value.values():
            check_shape(item, depth + 1)
    elif isinstance(value, list):
        if len(value) > MAX_ITEMS:
            raise BadRequest(f"A list in the body has more than {MAX_ITEMS} items.")
        for item in value:
            check_shape(item, depth + 1)


def read_fields(request: Request) -> dict[str, Any]:
    """The body as a dict: a JSON object, or form fields (repeated keys become lists)."""
    raw = request.get_data(cache=True)
    mimetype = media_type(request)
    if not raw.strip() and not request.form:
        return {}
    if is_json_type(mimetype) or (not mimetype and raw.lstrip()[:1] in (b"{", b"[")):
        value = parse_json(raw)
        if not isinstance(value, dict):
            raise BadRequest("Body must be a JSON object.")
        return value
    if mimetype in FORM_TYPES:
        fields: dict[str, Any] = {}
        for key in request.form:
            values = request.form.getlist(key)
            fields[key] = values[0] if len(values) == 1 else values
        check_shape(fields)
        return fields
    raise UnsupportedMediaType(f"Unsupported content type {mimetype or '(none)'}; send one of: {ACCEPTED}.",
                               details={"accepted": list(JSON_TYPES + FORM_TYPES)})
