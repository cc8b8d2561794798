"""A raw RFC 822 email as the facts the resolver and the ticket need.

The stdlib parser (``policy.default``) reads the structure; header values are taken raw and
decoded here, and bodies are decoded with the declared charset falling back with replacement
characters, so a broken charset or a malformed header never fails an email. What cannot be an
email at all (empty, no headers, no usable From) is a :class:`~connector.errors.BadRequest`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import Message
from email.utils import parsedate_to_datetime
from typing import Any

from connector.email.addresses import Mailbox, parse_address_header
from connector.email.charsets import decode_bytes, decode_header_value, unescape_raw
from connector.email.html_text import html_to_text
from connector.errors import BadRequest

#: How deep attached messages (forward as attachment of a forward as attachment ...) are read.
MAX_ATTACHED_DEPTH = 3
_HEADER_LINE_RE = re.compile(rb"^[A-Za-z0-9][A-Za-z0-9!#$%&'*+.^_`|~-]*[ \t]*:")


@dataclass(frozen=True)
class Attachment:
    filename: str | None
    content_type: str
    size: int

    def to_dict(self) -> dict[str, Any]:
        return {"filename": self.filename, "content_type": self.content_type, "size": self.size}


@dataclass
class ParsedEmail:
    """What an email says about itself: addresses, ids, text body, attachments."""

    subject: str = ""
    from_mailbox: Mailbox | None = None
    reply_to: list[Mailbox] = field(default_factory=list)
    sender: Mailbox | None = None
    to: list[Mailbox] = field(default_factory=list)
    cc: list[Mailbox] = field(default_factory=list)
    #: Where the receiving MTA delivered it (Delivered-To, X-Original-To, Envelope-To): our mailbox.
    delivered_to: list[str] = field(default_factory=list)
    x_original_from: list[Mailbox] = field(default_factory=list)
    x_original_sender: list[Mailbox] = field(default_factory=list)
    message_id: str | None = None
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    date: str | None = None
    date_iso: str | None = None
    #: The text body: text/plain when there is one, else the HTML part as readable text.
    text: str = ""
    html: str | None = None
    body_from_html: bool = False
    attachments: list[Attachment] = field(default_factory=list)
    #: Messages attached as message/rfc822 (or .eml files), parsed the same way.
    attached_messages: list[ParsedEmail] = field(default_factory=list)
    #: Every header, lower-cased name -> decoded values, for the rules that look at one.
    headers: dict[str, list[str]] = field(default_factory=dict, repr=False)
    sha256: str = ""

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return values[0] if values else None

    @property
    def recipient(self) -> str | None:
        """Our own mailbox: where the email was delivered, else its first To address."""
        if self.delivered_to:
            return self.delivered_to[0]
        return self.to[0].address if self.to else None


def parse_email(raw: bytes | str) -> ParsedEmail:
    """Parse a raw email; raises BadRequest when it is empty, not an email, or has no usable From."""
    if isinstance(raw, str):
        raw = raw.encode("utf-8", errors="surrogateescape")
    if not raw or not raw.strip():
        raise BadRequest("The email is empty.")
    if not _starts_with_headers(raw):
        raise BadRequest("This is not an email: it does not start with mail headers (Name: value).")
    try:
        message = message_from_bytes(raw, policy=policy.default)
    except Exception:
        raise BadRequest("This is not an email: the MIME structure could not be read.") from None
    parsed = read_message(message, depth=0)
    parsed.sha256 = hashlib.sha256(raw).hexdigest()
    if not parsed.headers.get("from"):
        raise BadRequest("The email has no From header.")
    if parsed.from_mailbox is None:
        shown = parsed.header("from") or ""
        raise BadRequest(f"The email's From header has no usable address ({shown[:80]!r}).")
    return parsed


def _starts_with_headers(raw: bytes) -> bool:
    lines = raw.lstrip(b"\r\n\t ").split(b"\n", 2)
    first = lines[0]
    if first.startswith(b"From ") and len(lines) > 1:  # mbox "From " separator line
        first = lines[1]
    return bool(_HEADER_LINE_RE.match(first))


def _raw_headers(message: Message) -> dict[str, list[str]]:
    headers: dict[str, list[str]] = {}
    try:
        items = list(message.raw_items())
    except Exception:
        items = []
    for name, value in items:
        headers.setdefault(str(name).strip().lower(), []).append(unescape_raw(str(value)))
    return headers


def read_message(message: Message, depth: int = 0) -> ParsedEmail:
    """A message the stdlib parser already read (an attached one, say), without validation."""
    raw = _raw_headers(message)

    def first(name: str) -> str | None:
        values = raw.get(name)
        return values[0] if values else None

    def mailboxes(*names: str) -> list[Mailbox]:
        found: list[Mailbox] = []
        for name in names:
            for value in raw.get(name, []):
                found += parse_address_header(value)
        return found

    from_list = mailboxes("from")
    sender_list = mailboxes("sender")
    parsed = ParsedEmail(
        subject=decode_header_value(first("subject")),
        from_mailbox=from_list[0] if from_list else None,
        reply_to=mailboxes("reply-to"),
        sender=sender_list[0] if sender_list else None,
        to=mailboxes("to"),
        cc=mailboxes("cc"),
        delivered_to=[m.address for m in mailboxes("delivered-to", "x-original-to", "envelope-to")
                      if m.address],
        x_original_from=mailboxes("x-original-from"),
        x_original_sender=mailboxes("x-original-sender"),
        message_id=_message_id(first("message-id")),
        in_reply_to=_message_id(first("in-reply-to")),
        references=_message_ids(first("references")),
        date=decode_header_value(first("date")) or None,
        headers={name: [decode_header_value(v) for v in values] for name, values in raw.items()},
    )
    parsed.date_iso = _iso_date(parsed.date)

    collected = _Collected()
    try:
        _collect(message, collected, depth)
    except Exception:  # a malformed MIME tree keeps whatever was read so far
        pass
    plain = "\n".join(collected.plain).strip("\r\n")
    html = "\n".join(collected.html)
    parsed.html = html or None
    if plain.strip():
        parsed.text = _normalize_newlines(plain)
    elif html.strip():
        parsed.text = html_to_text(html)
        parsed.body_from_html = True
    parsed.attachments = collected.attachments
    parsed.attached_messages = collected.messages
    return parsed


@dataclass
class _Collected:
    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    messages: list[ParsedEmail] = field(default_factory=list)


def _collect(part: Message, into: _Collected, depth: int) -> None:
    content_type = _safe(part.get_content_type, "text/plain")
    if part.is_multipart() and content_type != "message/rfc822":
        children = part.get_payload() if isinstance(part.get_payload(), list) else []
        if content_type == "multipart/alternative":
            _collect_alternative(children, into, depth)
        else:
            for child in children:
                if isinstance(child, Message):
                    _collect(child, into, depth)
        return
    filename = _filename(part)
    disposition = _safe(part.get_content_disposition, None)
    if content_type == "message/rfc822":
        inner = part.get_payload()
        inner = inner[0] if isinstance(inner, list) and inner else inner
        if isinstance(inner, Message):
            into.attachments.append(Attachment(filename or "message.eml", content_type,
                                               _message_size(inner)))
            if depth < MAX_ATTACHED_DEPTH:
                into.messages.append(read_message(inner, depth + 1))
        return
    payload = _payload(part)
    is_text = content_type in ("text/plain", "text/html")
    if disposition == "attachment" or not is_text:
        if filename or disposition == "attachment":
            into.attachments.append(Attachment(filename, content_type, len(payload)))
            if (filename or "").lower().endswith(".eml") and depth < MAX_ATTACHED_DEPTH:
                inner_message = _safe(lambda: message_from_bytes(payload, policy=policy.default), None)
                if inner_message is not None and _raw_headers(inner_message).get("from"):
                    into.messages.append(read_message(inner_message, depth + 1))
        return
    text = decode_bytes(payload, _safe(part.get_content_charset, None))
    (into.plain if content_type == "text/plain" else into.html).append(text)


def _collect_alternative(children: list[Any], into: _Collected, depth: int) -> None:
    """Pick the plain-text version when one has text, else the HTML one."""
    versions: list[_Collected] = []
    for child in children:
        if isinstance(child, Message):
            version = _Collected()
            _collect(child, version, depth)
            versions.append(version)
    plain = next((v for v in versions if "".join(v.plain).strip()), None)
    html = next((v for v in reversed(versions) if "".join(v.html).strip()), None)
    if plain is not None:
        into.plain += plain.plain
    if html is not None:
        into.html += html.html
    for version in versions:
        into.attachments += version.attachments
        into.messages += version.messages


def _payload(part: Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if isinstance(data, bytes):
        return data
    raw = part.get_payload()
    if isinstance(raw, str):
        return raw.encode("utf-8", errors="surrogateescape")
    return b""


def _filename(part: Message) -> str | None:
    name = _safe(part.get_filename, None)
    if not name:
        return None
    return decode_header_value(str(name)) or None


def _message_size(message: Message) -> int:
    try:
        return len(message.as_bytes(policy=policy.default.clone(max_line_length=0)))
    except Exception:
        try:
            return len(str(message).encode("utf-8", errors="replace"))
        except Exception:
            return 0


def _safe(function: Any, default: Any) -> Any:
    try:
        return function()
    except Exception:
        return default


_MESSAGE_ID_RE = re.compile(r"<[^<>\s]+>")


def _message_id(value: str | None) -> str | None:
    if not value:
        return None
    value = " ".join(unescape_raw(value).split())
    found = _MESSAGE_ID_RE.search(value)
    if found:
        return found.group()
    return value.split()[0][:500] if value.split() else None


def _message_ids(value: str | None) -> list[str]:
    if not value:
        return []
    return _MESSAGE_ID_RE.findall(unescape_raw(value))[:100]


def _iso_date(value: str | None) -> str | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except Exception:
        return None
    return parsed.isoformat() if parsed is not None else None


def _normalize_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")
