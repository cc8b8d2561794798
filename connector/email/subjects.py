"""Subject prefixes and tags: "Fwd:", "WG:", "Re:", "[Bug] [High]".

Outlook localizes its forward prefix (``WG:`` in German, ``TR:`` in French, ``I:`` in Italian,
``İLT:`` in Turkish ...). For Outlook-style forwards the subject is the only sign that a block
of ``From:``/``Sent:`` lines is a forward and not quoted reply history, so detection and
ticket subjects share this one list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

#: Forward prefixes, from the corpus subjects and the clients' localizations.
FORWARD_PREFIXES: tuple[str, ...] = (
    "Fwd", "Fw", "WG", "TR", "RV", "I", "VS", "VB", "VL", "PD", "ENC", "Redir.", "Videresend",
    "Vidarebefordran", "Vidarebefordra", "Doorst", "Doorgestuurd", "İLT", "ILT", "İlt", "Переслать",
    "Пересл", "Továbbítás", "Továbbított", "PRZEKAŻ", "Przekaż", "Přeposlat", "TRS", "Enc",
    "ΠΡΘ", "转发", "轉寄", "轉發", "転送",
)

#: Reply prefixes; stripped from ticket subjects too, but never a sign of a forward.
REPLY_PREFIXES: tuple[str, ...] = (
    "Re", "Aw", "Antw", "Antwort", "Sv", "R", "RIF", "Odp", "Ynt", "Vá", "RES",
    "Odg", "Отв", "Ответ", "Відп", "ΑΠ", "ΣΧΕΤ", "回复", "答复", "回覆", "Atb", "Ats",
)

#: Single letters are prefixes only in capitals ("I:" Italian forward, "R:" Italian reply).
_CASE_SENSITIVE = frozenset({"I", "R"})


def _alternation(words: tuple[str, ...]) -> str:
    parts = []
    for word in sorted(set(words), key=len, reverse=True):
        escaped = re.escape(word)
        parts.append(f"(?-i:{escaped})" if word in _CASE_SENSITIVE else escaped)
    return "|".join(parts)


_PREFIX_RE = re.compile(
    rf"(?:(?P<fwd>{_alternation(FORWARD_PREFIXES)})|(?P<re>{_alternation(REPLY_PREFIXES)}))"
    r"[ \t]*(?:\[\d+\]|\(\d+\)|\^\d+)?[ \t]*[:：][ \t]*",
    re.IGNORECASE,
)
_LEADING_TAG_RE = re.compile(r"\[([^\[\]\r\n]{1,40})\][ \t]*")
_TRAILING_TAG_RE = re.compile(r"[ \t]*\[([^\[\]\r\n]{1,40})\][ \t]*$")


@dataclass(frozen=True)
class Subject:
    """A subject split into its prefixes, its ``[tags]`` and the text that remains."""

    text: str
    prefixes: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    #: The first prefix is a forward prefix ("Fwd: Re: x" is a forward, "Re: Fwd: x" a reply).
    forward: bool = False
    reply: bool = False
    original: str = field(default="", repr=False)


def split_subject(subject: str | None) -> Subject:
    """Peel prefixes and bracket tags off the start (and tags off the end) of ``subject``."""
    original = " ".join((subject or "").split())
    rest = original
    prefixes: list[str] = []
    tags: list[str] = []
    first_kind: str | None = None
    while rest:
        tag = _LEADING_TAG_RE.match(rest)
        if tag:
            tags.append(tag.group(1).strip())
            rest = rest[tag.end():]
            continue
        prefix = _PREFIX_RE.match(rest)
        if prefix:
            kind = "fwd" if prefix.group("fwd") else "re"
            first_kind = first_kind or kind
            prefixes.append(prefix.group(kind))
            rest = rest[prefix.end():]
            continue
        break
    trailing: list[str] = []
    while True:
        tag = _TRAILING_TAG_RE.search(rest)
        if not tag or tag.start() == 0:
            break
        trailing.insert(0, tag.group(1).strip())
        rest = rest[: tag.start()]
    tags += trailing
    return Subject(
        text=rest.strip(),
        prefixes=tuple(prefixes),
        tags=tuple(t for t in tags if t),
        forward=first_kind == "fwd",
        reply=first_kind == "re",
        original=original,
    )


def is_forward_subject(subject: str | None) -> bool:
    return split_subject(subject).forward


def clean_subject(subject: str | None) -> str:
    """The subject without forward/reply prefixes and tags."""
    return split_subject(subject).text
