"""Trimming quoted reply history, so a ticket's message is what the customer wrote this time."""

from __future__ import annotations

import re

from connector.email.forwards import history_start
from connector.email.labels import has_wrote_verb

_QUOTED_RE = re.compile(r"^[ \t]*>")


def trim_quoted_history(text: str) -> str:
    """``text`` up to its quoted history: a reply header block or a trailing ``>``-quoted run.

    Text that is nothing but quotes is kept whole rather than emptied.
    """
    if not text:
        return ""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").replace("\ufeff", "").split("\n")
    cuts = [cut for cut in (history_start(lines), _trailing_quote_start(lines)) if cut is not None]
    if not cuts:
        return text.strip()
    trimmed = "\n".join(lines[: min(cuts)]).strip()
    return trimmed or text.strip()


def _trailing_quote_start(lines: list[str]) -> int | None:
    index = len(lines)
    start: int | None = None
    while index > 0:
        line = lines[index - 1]
        if _QUOTED_RE.match(line):
            start = index - 1
        elif line.strip():
            break
        index -= 1
    if start is None:
        return None
    before = start - 1
    while before >= 0 and not lines[before].strip():
        before -= 1
    if before >= 0:
        header = lines[before].strip()
        if header.endswith((":", "：")) and has_wrote_verb(header):
            return before
        if before >= 1 and header.endswith((":", "：")) and len(header) <= 40 and \
                has_wrote_verb(lines[before - 1] + " " + header):
            return before - 1
    return start
