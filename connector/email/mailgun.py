"""A Mailgun inbound route POST as the same ParsedEmail a raw email gives.

Routes whose URL ends in ``mime`` post the raw message in ``body-mime``: that is parsed as is.
Otherwise Mailgun posts parsed fields; the headers (``Reply-To`` included, which has no field
of its own) are in the ``message-headers`` JSON, the text in ``body-plain``/``body-html``, and
attachments as files. Those are put back together as one message so every rule works the same.
``sender`` is the envelope bounce address and is never used. Verifying the route's signature
(HMAC of timestamp + token) is the web layer's job.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from email import message_from_bytes, policy

from connector.email.message import Attachment, ParsedEmail, parse_email, read_message
from connector.errors import BadRequest

#: Headers that describe the original MIME structure, not the text Mailgun hands over.
_STRUCTURE_HEADERS = frozenset({"content-type", "content-transfer-encoding", "mime-version",
                                "content-disposition", "content-length"})
_FLATTENED_HEADERS = ("From", "Reply-To", "Sender", "To", "Cc", "Subject", "Date", "Message-Id",
                      "In-Reply-To", "References", "X-Original-From", "X-Original-Sender",
                      "Auto-Submitted", "Precedence")

_HEADER_NAME_RE = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$")

#: (filename, content type, content) of one uploaded ``attachment-N`` file.
File = tuple[str | None, str, bytes]


def parse_mailgun(fields: Mapping[str, str], files: Iterable[File] = ()) -> ParsedEmail:
    """Parse a Mailgun route POST (form fields and uploaded files); BadRequest like parse_email."""
    if fields.get("body-mime"):
        return parse_email(fields["body-mime"].encode("utf-8", errors="surrogateescape"))
    headers = _headers(fields)
    if not any(name.lower() == "from" for name, _ in headers):
        raise BadRequest("The Mailgun post has no From (no 'from' field or message-headers).")
    plain, html = fields.get("body-plain") or "", fields.get("body-html") or ""
    subtype, body = ("plain", plain) if plain.strip() or not html.strip() else ("html", html)
    lines = [f"{name}: {_one_line(value)}" for name, value in headers]
    lines += [f"Content-Type: text/{subtype}; charset=utf-8", "Content-Transfer-Encoding: 8bit"]
    raw = ("\r\n".join(lines) + "\r\n\r\n" + body).encode("utf-8", errors="replace")
    parsed = parse_email(raw)
    parsed.sha256 = hashlib.sha256(
        json.dumps(dict(fields), sort_keys=True, default=str).encode("utf-8", errors="replace")
    ).hexdigest()
    for filename, content_type, content in files:
        parsed.attachments.append(Attachment(filename, content_type, len(content)))
        is_message = content_type == "message/rfc822" or (filename or "").lower().endswith(".eml")
        if is_message:
            try:
                inner = message_from_bytes(content, policy=policy.default)
            except Exception:
                continue
            if inner.get_all("from"):
                parsed.attached_messages.append(read_message(inner, depth=1))
    return parsed


def _headers(fields: Mapping[str, str]) -> list[tuple[str, str]]:
    headers: list[tuple[str, str]] = []
    if fields.get("recipient"):
        headers.append(("Delivered-To", fields["recipient"]))
    try:
        listed = json.loads(fields.get("message-headers") or "[]")
    except ValueError:
        listed = []
    for pair in listed if isinstance(listed, list) else []:
        if (isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)
                and _HEADER_NAME_RE.match(pair[0]) and pair[0].lower() not in _STRUCTURE_HEADERS):
            headers.append((pair[0], pair[1]))
    if len(headers) <= 1:  # no usable message-headers: the flattened fields are the headers
        for name in _FLATTENED_HEADERS:
            value = fields.get(name) or fields.get(name.lower())
            if value:
                headers.append((name, value))
    return headers


def _one_line(value: str) -> str:
    return " ".join(str(value).split())
