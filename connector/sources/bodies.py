"""Decode webhook bodies (JSON, form-encoded, multipart) into plain Python values, or say why not."""

from __future__ import annotations

import json
from email import policy
from email.parser import BytesParser
from typing import Any
from urllib.parse import parse_qsl

from connector.errors import BadRequest

#: More form fields than any real form has; a guard against hash-flooding bodies.
MAX_FORM_FIELDS = 2_000
#: Deeper JSON is refused: no sender nests this far, and everything after parsing stays shallow.
MAX_JSON_DEPTH = 32

JSON_TYPES = ("application/json", "text/json")
FORM_TYPE = "application/x-www-form-urlencoded"
MULTIPART_TYPE = "multipart/form-data"


def media_type(content_type: str | None) -> tuple[str, dict[str, str]]:
    """``"multipart/form-data; boundary=x"`` → ``("multipart/form-data", {"boundary": "x"})``."""
    if not content_type:
        return "", {}
    mime, *params = content_type.split(";")
    parsed: dict[str, str] = {}
    for param in params:
        name, sep, value = param.partition("=")
        if sep:
            parsed[name.strip().lower()] = value.strip().strip('"')
    return mime.strip().lower(), parsed


def is_json_type(mime: str) -> bool:
    return mime in JSON_TYPES or mime.endswith("+json")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_json(raw: bytes | str, what: str = "JSON") -> Any:
    """Strict JSON (no NaN/Infinity, which Halo could not store), at most MAX_JSON_DEPTH deep."""
    if not raw.strip():
        raise BadRequest(f"The body is empty; expected {what}.")
    try:
        value = json.loads(raw, parse_constant=_reject_constant)
    except RecursionError:
        raise BadRequest(f"Malformed {what}: nested too deeply.") from None
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise BadRequest(f"Malformed {what}: {exc}.") from None
    # Each container opens with a bracket, so a body with few brackets needs no walk.
    brackets = raw.count(b"{") + raw.count(b"[") if isinstance(raw, bytes) else raw.count("{") + raw.count("[")
    if brackets > MAX_JSON_DEPTH and json_depth_exceeds(value, MAX_JSON_DEPTH):
        raise BadRequest(f"Malformed {what}: nested deeper than {MAX_JSON_DEPTH} levels.")
    return value


def json_depth_exceeds(value: Any, limit: int) -> bool:
    """True when containers nest deeper than ``limit``; level by level, so any depth is safe."""
    level = [value] if type(value) in (dict, list) else []
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            return True
        deeper = []
        for node in level:
            for child in node.values() if type(node) is dict else node:
                if type(child) in (dict, list):
                    deeper.append(child)
        level = deeper
    return False


def parse_form(raw: bytes, charset: str = "utf-8") -> dict[str, Any]:
    """Form-encoded fields in order; a repeated key (or ``key[]``) becomes a list."""
    try:
        text = raw.decode(charset or "utf-8")
    except (UnicodeDecodeError, LookupError):
        text = raw.decode("utf-8", errors="replace")
    try:
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    except ValueError as exc:
        raise BadRequest(f"Malformed form body: {exc}.") from None
    return collect_pairs(pairs)


def collect_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for key, value in pairs:
        listed = key.endswith("[]")
        if listed:
            key = key[:-2]
        if key in fields:
            current = fields[key]
            fields[key] = (current if isinstance(current, list) else [current]) + [value]
        else:
            fields[key] = [value] if listed else value
    return fields


def parse_multipart(raw: bytes, content_type: str) -> dict[str, Any]:
    """``multipart/form-data`` text parts by name; file parts become ``{filename, content_type, size}``."""
    _, params = media_type(content_type)
    if not params.get("boundary"):
        raise BadRequest("Malformed multipart body: the Content-Type has no boundary.")
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1", "replace")
    message = BytesParser(policy=policy.HTTP).parsebytes(head + raw)
    if not message.is_multipart() or any(
        type(d).__name__ == "StartBoundaryNotFoundDefect" for d in message.defects
    ):
        raise BadRequest("Malformed multipart body: no part matches the boundary.")
    pairs: list[tuple[str, Any]] = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        payload = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename:
            pairs.append((str(name), uploaded_file(filename, part.get_content_type(), len(payload))))
            continue
        charset = part.get_content_charset() or "utf-8"
        try:
            pairs.append((str(name), payload.decode(charset)))
        except (UnicodeDecodeError, LookupError):
            pairs.append((str(name), payload.decode("utf-8", errors="replace")))
    if len(pairs) > MAX_FORM_FIELDS:
        raise BadRequest(f"Malformed multipart body: more than {MAX_FORM_FIELDS} parts.")
    return collect_pairs(pairs)


FILE_KEYS = frozenset({"filename", "content_type", "size"})


def uploaded_file(filename: str, content_type: str, size: int) -> dict[str, Any]:
    """What is kept of a multipart file part: its name, type and size (never its bytes)."""
    return {"filename": filename, "content_type": content_type, "size": size}


def is_uploaded_file(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == FILE_KEYS


def parse_any(raw: bytes, content_type: str | None) -> Any:
    """Decode by Content-Type; without one, JSON when the body looks like JSON, else a form."""
    mime, params = media_type(content_type)
    if not raw.strip():
        raise BadRequest("The body is empty.")
    if is_json_type(mime):
        return parse_json(raw)
    if mime == FORM_TYPE:
        return parse_form(raw, params.get("charset", "utf-8"))
    if mime == MULTIPART_TYPE:
        return parse_multipart(raw, content_type or "")
    stripped = raw.lstrip()
    if stripped[:1] in (b"{", b"["):
        return parse_json(raw)
    if mime in ("", "text/plain", "application/octet-stream") and b"=" in raw:
        return parse_form(raw)
    raise BadRequest(f"Cannot read a body of type {mime or 'unknown'}; send JSON or a form.")


def unflatten(fields: dict[str, Any], separator: str = "__") -> dict[str, Any]:
    """Zapier's ``customer__email`` keys as nested objects, so both of its encodings read the same.

    A key whose path is blocked by a plain value already there stays flat under its full name.
    """
    if not any(separator in key for key in fields):
        return fields
    nested: dict[str, Any] = {}
    for key, value in fields.items():
        parts = key.split(separator)
        node: dict[str, Any] | None = nested
        if len(parts) > 1 and all(parts):
            for part in parts[:-1]:
                child = node.setdefault(part, {})
                if not isinstance(child, dict):
                    node = None
                    break
                node = child
            if node is not None and parts[-1] not in node:
                node[parts[-1]] = value
                continue
        if key not in nested:
            nested[key] = value
    return nested
