"""``Label: value`` fields in form-notification bodies, and which of them name the customer.

Tools print submissions as ``Email: maria@example.org`` lines, as a label line followed by
the value (Formspree: ``email:`` then the address on the next line), or as an HTML table
(rendered as ``Label: value`` by ``html_text``). Contact Form 7's default template starts with
``From: Name <address>``.
"""

from __future__ import annotations

import re

from connector.email.addresses import ADDRESS_RE, Mailbox, parse_mailbox_list
from connector.email.labels import fold

MAX_FIELDS = 100
MAX_LABEL_WORDS = 8

_INLINE_RE = re.compile(r"^[ \t]*(?P<label>[^\W\d_][^:：\n]{0,79}?)[ \t]*[:：][ \t]+(?P<value>\S.*)$")
_LABEL_ONLY_RE = re.compile(r"^[ \t]*(?P<label>[^\W\d_][^:：\n]{0,79}?)[ \t]*[:：][ \t]*$")
_QUOTED_RE = re.compile(r"^[ \t]*>")

_EMAIL_LABEL_RE = re.compile(
    r"e-?mail|courriel|correo|e-?post|sähköposti|reply-?to|^from$|^von$|^de$|^contact$|^mail$")
_NAME_LABEL_RE = re.compile(
    r"^(?:your |full |contact |customer )?name$|^nombre|^nom$|^naam|^navn|^namn|^nome$|^name \(|"
    r"^imię|^jméno|^nimi$|^vor- und nachname$|^nom complet$")
_FIRST_NAME_RE = re.compile(r"^(?:first[ -]?name|given name|vorname|prénom|nombre)$")
_LAST_NAME_RE = re.compile(r"^(?:last[ -]?name|surname|family name|nachname|nom de famille|apellidos?)$")


def _plausible_label(label: str) -> bool:
    words = label.split()
    return 0 < len(words) <= MAX_LABEL_WORDS and ". " not in label and not label.lower().startswith(
        ("http", "mailto"))


def extract_fields(text: str | None) -> list[tuple[str, str]]:
    """The ``(label, value)`` pairs of a notification body, in order."""
    if not text:
        return []
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    fields: list[tuple[str, str]] = []
    index = 0
    while index < len(lines) and len(fields) < MAX_FIELDS:
        line = lines[index]
        if _QUOTED_RE.match(line):
            index += 1
            continue
        inline = _INLINE_RE.match(line)
        if inline and _plausible_label(inline.group("label")):
            fields.append((inline.group("label").strip(), inline.group("value").strip()))
            index += 1
            continue
        bare = _bare_label_field(lines, index)
        if bare is not None:
            fields.append(bare)
            index += 2
            continue
        alone = _LABEL_ONLY_RE.match(line)
        if alone and _plausible_label(alone.group("label")):
            values: list[str] = []
            following = index + 1
            while following < len(lines) and lines[following].strip():
                if _LABEL_ONLY_RE.match(lines[following]) or _QUOTED_RE.match(lines[following]):
                    break
                values.append(lines[following].strip())
                following += 1
            if values:
                fields.append((alone.group("label").strip(), "\n".join(values)))
                index = following
                continue
        index += 1
    return fields


def _bare_label_field(lines: list[str], index: int) -> tuple[str, str] | None:
    """``Email`` / ``Name`` alone on a line, the value on the next (Tally-style blocks)."""
    label = lines[index].strip()
    if not label or ":" in label or len(label.split()) > 5 or index + 1 >= len(lines):
        return None
    value = lines[index + 1].strip()
    if not value or len(value) > 200:
        return None
    folded = fold(label)
    if _EMAIL_LABEL_RE.search(folded) and ADDRESS_RE.search(value):
        return label, value
    if _NAME_LABEL_RE.search(folded) and "@" not in value and ":" not in value:
        return label, value
    return None


def fields_dict(fields: list[tuple[str, str]]) -> dict[str, str]:
    """Fields as a dict; a repeated label gets `` (2)``, `` (3)`` ... appended."""
    result: dict[str, str] = {}
    for label, value in fields:
        key = label
        counter = 2
        while key in result:
            key = f"{label} ({counter})"
            counter += 1
        result[key] = value
    return result


def email_fields(fields: list[tuple[str, str]]) -> list[tuple[str, Mailbox]]:
    """The fields that hold an email address, with the mailbox they give, in order."""
    found: list[tuple[str, Mailbox]] = []
    for label, value in fields:
        if not _EMAIL_LABEL_RE.search(fold(label)):
            continue
        for mailbox in parse_mailbox_list(value.replace("\n", " ")):
            if mailbox.address:
                found.append((label, mailbox))
    return found


def name_from_fields(fields: list[tuple[str, str]]) -> str | None:
    """The submitter's name: a Name field, or First name + Last name."""
    first = last = None
    for label, value in fields:
        folded = fold(label)
        value = " ".join(value.split())
        if not value or "@" in value:
            continue
        if _NAME_LABEL_RE.search(folded):
            return value[:200]
        if first is None and _FIRST_NAME_RE.search(folded):
            first = value
        elif last is None and _LAST_NAME_RE.search(folded):
            last = value
    joined = " ".join(part for part in (first, last) if part)
    return joined[:200] or None
