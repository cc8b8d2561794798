"""What a field means and how it reads: email and name recognition, display text, metadata values."""

from __future__ import annotations

import html
import json
import re
from email.utils import parseaddr
from functools import lru_cache
from typing import Any

from connector.sources.base import Field

_EMAIL = re.compile(r"^[^\s@<>()\[\],;:\"\\]+@[^\s@<>()\[\],;:\"\\.]+(\.[^\s@<>()\[\],;:\"\\.]+)+$")
_NORMALIZE = re.compile(r"[^0-9a-z]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")

#: Field keys or labels (normalized) that carry the customer's email.
EMAIL_KEYS = frozenset({
    "email", "e_mail", "email_address", "emailaddress", "e_mail_address", "your_email",
    "your_email_address", "customer_email", "user_email", "contact_email", "requester_email",
    "reporter_email", "submitter_email", "from_email", "sender_email", "reply_to", "replyto",
    "mail", "customer_email_address", "work_email", "business_email",
})
FULL_NAME_KEYS = frozenset({
    "name", "full_name", "fullname", "your_name", "your_full_name", "customer_name",
    "contact_name", "requester_name", "submitter_name", "what_is_your_name", "whats_your_name",
    "what_s_your_name", "what_is_your_full_name", "name_and_surname",
})
_FIRST = re.compile(r"(^|_)(first|given|fore)_?name($|_)|^fname$")
_LAST = re.compile(r"(^|_)(last|family|sur)_?name($|_)|^lname$|^surname$")
#: Parts of a composite name field (JotForm, Gravity Forms), in reading order.
NAME_PARTS = ("prefix", "first", "middle", "last", "suffix")


@lru_cache(maxsize=8192)
def normalize(text: str) -> str:
    """``"Customer E-mail"`` → ``"customer_e_mail"``; ``"customer.email"`` → ``"customer_email"``."""
    return _NORMALIZE.sub("_", text.lower()).strip("_")


def humanize(key: str) -> str:
    """``"studentsName"`` / ``"customer__email"`` → ``"Students name"`` / ``"Customer email"``."""
    words = _CAMEL.sub(" ", key).replace("__", " ").replace("_", " ").replace(".", " ").replace("-", " ")
    words = " ".join(words.split())
    return (words[:1].upper() + words[1:].lower()) if words else key


def as_email(value: Any) -> tuple[str, str | None] | None:
    """``(address, display name)`` when ``value`` is one email address (``Name <a@b>`` too)."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text or len(text) > 320 or "@" not in text:
        return None
    name = None
    if "<" in text:
        name, text = parseaddr(text)
        name = name.strip() or None
    text = text.strip().strip(".").removeprefix("mailto:")
    if len(text) > 254 or not _EMAIL.match(text):
        return None
    return text, name


@lru_cache(maxsize=8192)
def name_role(text: str) -> str | None:
    """``"full"``, ``"first"`` or ``"last"`` when a key or label names a person's name part."""
    key = normalize(text)
    if not key or len(key) > 60:
        return None
    if key in FULL_NAME_KEYS or key.endswith("_full_name") or key.startswith("full_name"):
        return "full"
    if _FIRST.search(key):
        return "first"
    if _LAST.search(key):
        return "last"
    return None


def format_number(value: int | float) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def is_empty(value: Any) -> bool:
    """None, blank text, or containers holding only empty values (0 and False are answers)."""
    if value is None:
        return True
    kind = type(value)
    if kind is str:
        return not value.strip()
    if kind is dict:
        return all(is_empty(v) for v in value.values())
    if kind is list:
        return all(is_empty(v) for v in value)
    return False


def display(value: Any, kind: str = "text", depth: int = 0) -> str:
    """A value as one readable string for the ticket message."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, (int, float)):
        return format_number(value)
    if isinstance(value, str):
        return value
    if depth > 6:
        return json.dumps(value, ensure_ascii=False, default=str)[:1000]
    if isinstance(value, list):
        return ", ".join(s for s in (display(v, kind, depth + 1) for v in value) if s)
    if isinstance(value, dict):
        if kind == "name":
            return " ".join(display(value[p]) for p in NAME_PARTS if not is_empty(value.get(p))) or \
                _pairs(value, depth)
        if kind == "file" or ("url" in value and ("name" in value or "filename" in value)):
            name = value.get("name") or value.get("filename")
            url = value.get("url")
            return f"{name} ({url})" if name and url else str(url or name or "")
        if kind == "payment":
            return _payment(value)
        if kind == "address":
            return ", ".join(display(v, depth=depth + 1) for v in value.values() if not is_empty(v))
        if kind == "matrix":
            return "; ".join(f"{row}: {display(cols, depth=depth + 1)}" for row, cols in value.items())
        return _pairs(value, depth)
    return str(value)


def _pairs(value: dict[str, Any], depth: int) -> str:
    return "; ".join(
        f"{humanize(str(k))}: {display(v, depth=depth + 1)}" for k, v in value.items() if not is_empty(v)
    )


def _payment(value: dict[str, Any]) -> str:
    amount = value.get("amount") or value.get("price")
    parts = [str(amount) + (f" {value['currency']}" if value.get("currency") else "")] if amount else []
    if value.get("name"):
        parts.append(f"paid by {value['name']}")
    if value.get("last4"):
        parts.append(f"card ending {value['last4']}")
    if "success" in value:
        parts.append("succeeded" if value["success"] else "failed")
    return ", ".join(parts) or _pairs(value, 0)


def field_line(item: Field) -> str:
    text = display(item.value, item.kind)
    label = item.label.rstrip().rstrip(":")
    if "\n" in text:
        return f"{label}:\n{text}"
    return f"{label}: {text}"


_TAG = re.compile(r"<[^>]+>")
_BREAK = re.compile(r"<\s*(br|/p|/div|/li|/h\d)\s*/?\s*>", re.IGNORECASE)


def html_to_text(value: str | None) -> str:
    """Chat and conversation bodies arrive as HTML; the ticket wants plain text."""
    if not value:
        return ""
    text = _BREAK.sub("\n", value)
    text = html.unescape(_TAG.sub("", text))
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return "\n".join(line for line in lines if line).strip()


def adf_to_text(node: Any, depth: int = 0) -> str:
    """Jira's Atlassian Document Format (nested ``content``/``text`` nodes) as plain text."""
    if isinstance(node, str):
        return node
    if not isinstance(node, dict) or depth > 40:
        return ""
    if node.get("type") == "text":
        return str(node.get("text") or "")
    if node.get("type") == "hardBreak":
        return "\n"
    inner = "".join(adf_to_text(child, depth + 1) for child in node.get("content") or [])
    if node.get("type") in ("paragraph", "heading", "listItem", "codeBlock", "blockquote"):
        return inner + "\n"
    return inner
