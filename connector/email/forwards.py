"""Forwarded messages inside a body: Gmail, Outlook, Apple Mail, Thunderbird, Yahoo and others.

A forward is a *marker* followed by the original's header block (``From:``, ``Date:``,
``Subject:`` ... in the client's language) and its body. Markers come in two strengths:

- **separators that say "forward"** (``---------- Forwarded message ---------``,
  ``Begin forwarded message:``, ``-------- Weitergeleitete Nachricht --------``, Yahoo's
  one-line block) are forwards wherever they appear;
- **layouts shared with replies** (Outlook's ``____`` line, ``-----Original Message-----``, a
  bare ``From:/Sent:`` block, ``On <date>, <name> wrote:``) are forwards only when the subject
  carries a forward prefix (``FW:``, ``WG:``, ``TR:`` ...), or when one of our agents sent it
  under a subject that is not a reply. Without a subject, an underscore or "Original Message"
  separator followed by a header block still counts.

So ordinary replies with quoted history are never taken for forwards. The first marker wins;
the original's own body is searched again for nested forwards (:attr:`ForwardedEmail.nested`).
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field

from connector.email.addresses import (
    ADDRESS_RE,
    Mailbox,
    clean_name,
    normalize_address,
    parse_mailbox_list,
    strip_mailto,
)
from connector.email.labels import (
    ON_BEHALF_RE,
    WROTE_LEAD_WORDS,
    YAHOO_COLONLESS_LABELS,
    fold,
    has_forward_stem,
    has_wrote_verb,
    label_field,
    labels_pattern,
)
from connector.email.subjects import Subject, clean_subject, split_subject

#: Nested forwards are followed this deep.
MAX_NESTING = 12


@dataclass
class ForwardedEmail:
    """The original message found in a forwarding email's body."""

    from_mailbox: Mailbox | None
    to: list[Mailbox] = field(default_factory=list)
    cc: list[Mailbox] = field(default_factory=list)
    reply_to: list[Mailbox] = field(default_factory=list)
    subject: str | None = None
    date: str | None = None
    #: The original's body: header block removed, quote markers and indentation undone.
    body: str = ""
    #: What the forwarder wrote above the forward (None when nothing).
    note: str | None = None
    #: Which layout matched: separator, quoted_separator, yahoo, underscore, original_message,
    #: header_block or wrote_line.
    layout: str = "separator"
    #: A forward found inside this original's body.
    nested: ForwardedEmail | None = None

    @property
    def chain(self) -> list[ForwardedEmail]:
        """This original, then each nested one, outermost first."""
        chain: list[ForwardedEmail] = []
        node: ForwardedEmail | None = self
        while node is not None:
            chain.append(node)
            node = node.nested
        return chain

    def summary(self) -> dict[str, object]:
        return {
            "layout": self.layout,
            "from": str(self.from_mailbox) if self.from_mailbox else None,
            "subject": self.subject,
            "date": self.date,
        }


def parse_forward(body: str | None, subject: str | None = None, *,
                  sender_is_ours: bool = False) -> ForwardedEmail | None:
    """The forwarded original in ``body`` (the forwarding email's text), or None.

    ``subject`` is the forwarding email's subject; None means unknown. ``sender_is_ours`` (an
    agent sent it) lets shared layouts count under a subject the agent rewrote, as long as the
    subject does not say it is a reply.
    """
    if not body:
        return None
    return _parse(_Text.of(body), subject, depth=0, sender_is_ours=sender_is_ours)


# --- lines -----------------------------------------------------------------------------------

#: Longer lines are content, never a separator or header line (keeps hostile input linear).
MAX_MARKER_CHARS = 2000

_QUOTE_RE = re.compile(r"^[ \t]*((?:>[ \t]?)+)")
_HEADER_LINE_RE = re.compile(
    r"^\*{0,2}(?P<label>[^\W\d_][^:：\n*]{0,40}?)\*{0,2}[ \t\xa0]*[:：]\*{0,2}[ \t\xa0]*(?P<value>.*)$"
)


def _normalize(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\ufeff", "")


def _split_quote(line: str) -> tuple[int, str]:
    match = _QUOTE_RE.match(line)
    if not match:
        return 0, line
    return match.group(1).count(">"), line[match.end():]


@dataclass
class _Text:
    """A body split once into lines, each with its ``>`` quote depth and its unquoted content."""

    lines: list[str]
    depths: list[int]
    #: Unquoted and stripped.
    contents: list[str]

    @classmethod
    def of(cls, text: str) -> _Text:
        lines = _normalize(text).split("\n")
        depths, contents = [], []
        for line in lines:
            depth, content = _split_quote(line) if len(line) <= MAX_MARKER_CHARS else (0, line)
            depths.append(depth)
            contents.append(content.strip())
        return cls(lines, depths, contents)

    def __len__(self) -> int:
        return len(self.lines)


def _header_line(content: str) -> tuple[str, str] | None:
    if len(content) > MAX_MARKER_CHARS:
        return None
    match = _HEADER_LINE_RE.match(content.replace("\xa0", " "))
    if not match:
        return None
    name = label_field(match.group("label"))
    if name is None:
        return None
    return name, match.group("value").strip()


def _is_address_list(text: str) -> bool:
    pieces = [piece for piece in re.split(r"[,;]", text) if piece.strip()]
    return bool(pieces) and all(ADDRESS_RE.search(piece) for piece in pieces)


# --- header blocks ---------------------------------------------------------------------------


@dataclass
class _Block:
    fields: dict[str, str]
    end: int
    quote_depth: int


def _read_block(text: _Text, start: int, *, skip_blank: bool, from_first: bool,
                min_fields: int = 2) -> _Block | None:
    index = start
    if skip_blank:
        skipped = 0
        while index < len(text) and skipped < 3 and not text.contents[index]:
            index += 1
            skipped += 1
    fields: dict[str, str] = {}
    depth: int | None = None
    last: str | None = None
    while index < len(text):
        content = text.contents[index]
        hit = _header_line(content)
        if hit:
            name, value = hit
            if not fields and from_first and name != "from":
                return None
            if name in fields:
                break
            fields[name] = value
            last = name
            if depth is None:
                depth = text.depths[index]
            index += 1
            continue
        if last in ("to", "cc") and content and _is_address_list(content):
            fields[last] += " " + content
            index += 1
            continue
        break
    if not fields.get("from") or len(fields) < min_fields:
        return None
    return _Block(fields, index, depth or 0)


# --- markers ---------------------------------------------------------------------------------


@dataclass
class _Found:
    """A marker that matched at a line, before deciding whether it counts as a forward."""

    layout: str
    strong: bool
    start: int
    #: The first line of the original's body.
    body_start: int
    fields: dict[str, str]
    quote_depth: int = 0
    dedent: bool = False
    mailbox: Mailbox | None = None


_DASHED_RE = re.compile(r"^-{2,}[ \t]*(?P<title>\S.*?)[ \t]*-{2,}$")
_YAHOO_RE = re.compile(
    r"^-{2,}[ \t]*(?P<title>[^-\n]*?[^\s-])[ \t]*-{2,}[ \t]+(?P<rest>\S.*)$")
_PHRASE_RE = re.compile(r"^(?P<title>[^\n:：]{3,80}?)[ \t]*[:：]$")
_UNDERSCORE_RE = re.compile(r"^_{20,}$")
_LETTER_RE = re.compile(r"[^\W\d_]")


def _dashed(text: _Text, index: int) -> _Found | None:
    match = _DASHED_RE.match(text.contents[index])
    if not match or not _LETTER_RE.search(match.group("title")):
        return None
    block = _read_block(text, index + 1, skip_blank=True, from_first=False)
    if block is None:
        return None
    strong = has_forward_stem(match.group("title"))
    quoted = text.depths[index] > 0
    layout = ("quoted_separator" if quoted else "separator") if strong else "original_message"
    return _Found(layout, strong, index, block.end, block.fields, block.quote_depth)


def _phrase(text: _Text, index: int) -> _Found | None:
    match = _PHRASE_RE.match(text.contents[index])
    if not match or not has_forward_stem(match.group("title")):
        return None
    if _header_line(text.contents[index]):
        return None
    block = _read_block(text, index + 1, skip_blank=True, from_first=False)
    if block is None:
        return None
    quoted = text.depths[index] > 0 or block.quote_depth > 0
    return _Found("quoted_separator" if quoted else "separator", True, index, block.end,
                  block.fields, block.quote_depth)


def _underscore(text: _Text, index: int) -> _Found | None:
    if not _UNDERSCORE_RE.match(text.contents[index]):
        return None
    block = _read_block(text, index + 1, skip_blank=True, from_first=False)
    if block is None:
        return None
    return _Found("underscore", False, index, block.end, block.fields, block.quote_depth)


def _header_block(text: _Text, index: int) -> _Found | None:
    block = _read_block(text, index, skip_blank=False, from_first=True, min_fields=3)
    if block is None or not ({"date", "subject"} & block.fields.keys()):
        return None
    return _Found("header_block", False, index, block.end, block.fields, block.quote_depth)


_YAHOO_LABEL_RE = re.compile(rf"(?:{labels_pattern()})[ \t\xa0]*[:：]", re.IGNORECASE)
_YAHOO_COLONLESS_RE = {
    name: re.compile(rf"(?<=[>A-Z0-9])(?:{'|'.join(map(re.escape, labels))})[ \t\xa0]+")
    for name, labels in YAHOO_COLONLESS_LABELS.items()
}


def _yahoo(text: _Text, index: int) -> _Found | None:
    """Yahoo prints the whole header block on the separator line, without line breaks."""
    if text.depths[index]:
        return None
    match = _YAHOO_RE.match(text.contents[index])
    if not match:
        return None
    rest = strip_mailto(match.group("rest"))
    labels = list(_YAHOO_LABEL_RE.finditer(rest))
    if not labels or labels[0].start() != 0:
        return None
    parts: list[tuple[str, str]] = []
    seen: set[str] = set()
    for position, label in enumerate(labels):
        name = label_field(label.group().rstrip(":： \t\xa0"))
        if name is None:
            continue
        if name == "subject":
            parts.append((name, rest[label.end():]))
            seen.add(name)
            break
        end = labels[position + 1].start() if position + 1 < len(labels) else len(rest)
        if name not in seen:
            parts.append((name, rest[label.end():end]))
            seen.add(name)
    for name, pattern in _YAHOO_COLONLESS_RE.items():
        if name in seen:
            continue
        for position, (other, value) in enumerate(parts):
            found = pattern.search(value)
            if found:
                parts[position] = (other, value[: found.start()])
                parts.insert(position + 1, (name, value[found.end():]))
                seen.add(name)
                break
    fields = {name: value.strip() for name, value in parts}
    if not parts or parts[0][0] != "from" or not fields.get("from"):
        return None
    strong = has_forward_stem(match.group("title"))
    return _Found("yahoo", strong, index, index + 1, fields)


_DATE_RE = re.compile(
    r"\d{1,4}[/.\-]\d{1,2}[/.\-]\d{2,4}(?:,?[ \t]*(?:at[ \t]+)?\d{1,2}[:.]\d{2}(?:[:.]\d{2})?)?")
_QUOTED_NAME_RE = re.compile(r"[\"“„«'‘]\s*([^\"“”„«»<>]+?)\s*[\"”“»'’]\s*[<(]*\s*$")
MAX_WROTE_CHARS = 300


def _wrote_line(text: _Text, index: int) -> _Found | None:
    """``On 28/10/2021 12:46, "John Doe" <john.doe@acme.com> wrote:`` and its translations."""
    line = text.contents[index]
    consumed = 1
    if not line.endswith((":", "：")) and index + 1 < len(text):
        following = text.contents[index + 1]
        if following.endswith((":", "：")) and len(following) <= 40:
            line = f"{line} {following}"
            consumed = 2
    if not line.endswith((":", "：")) or len(line) > MAX_WROTE_CHARS or "@" not in line:
        return None
    address = ADDRESS_RE.search(line)
    if not address or not has_wrote_verb(line):
        return None
    before = re.sub(r"[\s<(]+$", "", line[: address.start()])
    quoted = _QUOTED_NAME_RE.search(line[: address.start()])
    name = clean_name(quoted.group(1)) if quoted else _name_before_address(before)
    date = _DATE_RE.search(line)
    mailbox = Mailbox(normalize_address(address.group()), clean_name(name, address.group()))
    fields = {"date": date.group() if date else before}
    return _Found("wrote_line", False, index, index + consumed, fields, text.depths[index],
                  dedent=True, mailbox=mailbox)


def _name_before_address(before: str) -> str | None:
    """The name in "... 12:46 heeft John Doe" / "..., John Doe" / "John Doe" (no quotes)."""
    tail = before.rsplit(",", 1)[-1]
    words = tail.split()
    last_digit = max((i for i, word in enumerate(words) if any(c.isdigit() for c in word)), default=-1)
    words = words[last_digit + 1:]
    while words and fold(words[0]) in WROTE_LEAD_WORDS:
        words = words[1:]
    return " ".join(words) or None


Detector = Callable[[_Text, int], "_Found | None"]

#: Tried in this order at every line; the first marker (by line) that counts wins.
_DETECTORS: tuple[Detector, ...] = (
    _dashed, _yahoo, _phrase, _underscore, _wrote_line, _header_block,
)


def _counts(found: _Found, subject: str | None, parts: Subject, depth: int,
            sender_is_ours: bool) -> bool:
    if found.strong:
        return True
    if depth > 0:  # inside a forwarded original, shared layouts are nested forwards too
        return found.layout != "wrote_line"
    if subject is None:
        return found.layout in ("underscore", "original_message")
    return parts.forward or (sender_is_ours and not parts.reply)


def _parse(text: _Text, subject: str | None, depth: int, *,
           sender_is_ours: bool = False) -> ForwardedEmail | None:
    parts = split_subject(subject)
    for index, content in enumerate(text.contents):
        if not content or len(content) > MAX_MARKER_CHARS:
            continue
        for detect in _DETECTORS:
            found = detect(text, index)
            if found is not None and _counts(found, subject, parts, depth, sender_is_ours):
                return _build(found, text, subject, depth)
    return None


def _build(found: _Found, text: _Text, subject: str | None, depth: int) -> ForwardedEmail:
    fields = found.fields
    mailbox = found.mailbox
    if mailbox is None and fields.get("from"):
        from_text = ON_BEHALF_RE.sub("", strip_mailto(fields["from"]).strip())
        mailboxes = parse_mailbox_list(from_text)
        mailbox = mailboxes[0] if mailboxes else None
    body_lines = text.lines[found.body_start:]
    body = _body(body_lines, found.quote_depth, dedent=found.dedent)
    note = "\n".join(text.lines[: found.start]).strip() or None
    original_subject = fields.get("subject") or None
    if original_subject is None and subject and depth == 0:
        original_subject = clean_subject(subject) or None
    forwarded = ForwardedEmail(
        from_mailbox=mailbox,
        to=parse_mailbox_list(fields.get("to")),
        cc=parse_mailbox_list(fields.get("cc")),
        reply_to=parse_mailbox_list(fields.get("reply_to")),
        subject=original_subject,
        date=(fields.get("date") or "").strip() or None,
        body=body,
        note=note,
        layout=found.layout,
    )
    if depth < MAX_NESTING and body:
        forwarded.nested = _parse(_Text.of(body), None, depth + 1)
    return forwarded


def _body(lines: list[str], quote_depth: int, *, dedent: bool) -> str:
    nonblank = [line for line in lines if line.strip()]
    if quote_depth == 0 and nonblank:
        quoted = sum(1 for line in nonblank if _QUOTE_RE.match(line))
        if quoted * 2 > len(nonblank):
            quote_depth = 1
    if quote_depth:
        strip = re.compile(rf"^[ \t]*(?:>[ \t]?){{1,{quote_depth}}}")
        lines = [strip.sub("", line, count=1) for line in lines]
    joined = "\n".join(line.rstrip() for line in lines)
    if dedent:
        joined = textwrap.dedent(joined)
    return joined.strip()


# --- quoted reply history ----------------------------------------------------------------------

#: Layouts that start quoted history when they are not a forward.
_HISTORY_DETECTORS: tuple[Detector, ...] = (_dashed, _underscore, _wrote_line, _header_block)


def history_start(lines: list[str]) -> int | None:
    """The line where quoted reply history starts (a reply header, not a forward separator)."""
    text = _Text.of("\n".join(lines))
    index = 0
    while index < len(text):
        if text.contents[index] and len(text.contents[index]) <= MAX_MARKER_CHARS:
            for detect in _HISTORY_DETECTORS:
                found = detect(text, index)
                if found is None:
                    continue
                if not found.strong:
                    return index
                index = found.body_start - 1  # skip a forward's own header block
                break
        index += 1
    return None
