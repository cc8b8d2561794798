"""HTML mail bodies as readable plain text, with the stdlib parser.

Notification tools (JotForm, HubSpot) often send HTML only, with the submission in a table of
label/value rows. Two-cell rows become ``Label: value`` lines so the same field extraction
works for HTML and plain text; ``<blockquote>`` becomes ``>``-quoted lines so quoted history
can be trimmed the same way too.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_BLOCK_TAGS = frozenset({
    "p", "div", "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody",
    "tfoot", "section", "article", "header", "footer", "pre", "hr", "dl", "dt", "dd", "form",
    "fieldset", "address", "center", "main", "nav", "aside", "figure", "caption",
})
_SKIP_TAGS = frozenset({"script", "style", "head", "title", "template", "noscript", "xml"})
_QUOTE_OPEN, _QUOTE_CLOSE = "\x00q+\x00", "\x00q-\x00"


class _Extractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip_depth = 0
        self.pre_depth = 0
        self.rows: list[list[str]] = []
        self.cells: list[list[str]] = []

    # where text goes: the open table cell, else the document
    def _sink(self) -> list[str]:
        return self.cells[-1] if self.cells else self.out

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self.skip_depth += 1
        elif tag == "br":
            self._sink().append("\n")
        elif tag == "blockquote":
            self._sink().append(f"\n{_QUOTE_OPEN}\n")
        elif tag == "tr":
            self._close_row()
            self.rows.append([])
        elif tag in ("td", "th"):
            self._close_cell()
            if not self.rows:
                self.rows.append([])
            self.cells.append([])
        elif tag in _BLOCK_TAGS:
            if tag == "pre":
                self.pre_depth += 1
            self._sink().append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self._sink().append("\n")
        elif tag == "hr":
            self._sink().append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self.skip_depth = max(0, self.skip_depth - 1)
        elif tag == "blockquote":
            self._sink().append(f"\n{_QUOTE_CLOSE}\n")
        elif tag in ("td", "th"):
            self._close_cell()
        elif tag == "tr":
            self._close_row()
        elif tag == "table":
            self._close_row()
            self._sink().append("\n")
        elif tag in _BLOCK_TAGS:
            if tag == "pre":
                self.pre_depth = max(0, self.pre_depth - 1)
            self._sink().append("\n")

    def handle_data(self, data: str) -> None:
        if self.skip_depth:
            return
        if not self.pre_depth:
            data = re.sub(r"[ \t\r\n\f]+", " ", data)
        self._sink().append(data)

    def _close_cell(self) -> None:
        if self.cells and self.rows:
            text = " ".join("".join(self.cells.pop()).split())
            self.rows[-1].append(text)
        elif self.cells:
            self.cells.pop()

    def _close_row(self) -> None:
        self._close_cell()
        if not self.rows:
            return
        cells = [cell for cell in self.rows.pop() if cell]
        if not cells:
            return
        if len(cells) == 2:
            label, value = cells
            line = f"{label} {value}" if label.endswith((":", "：")) else f"{label}: {value}"
        else:
            line = " | ".join(cells)
        sink = self._sink()
        if sink and not "".join(sink[-2:]).endswith("\n"):
            sink.append("\n")
        sink.append(f"{line}\n")

    def text(self) -> str:
        while self.rows or self.cells:
            self._close_row() if self.rows else self.cells.pop()
        return "".join(self.out)


def html_to_text(html: str) -> str:
    """Readable text of an HTML body; never raises."""
    extractor = _Extractor()
    try:
        extractor.feed(html)
        extractor.close()
    except Exception:  # html.parser is forgiving, but a hostile body must not fail a ticket
        pass
    raw = extractor.text()
    lines: list[str] = []
    depth = 0
    for line in raw.split("\n"):
        stripped = line.strip()
        if stripped == _QUOTE_OPEN:
            depth += 1
            continue
        if stripped == _QUOTE_CLOSE:
            depth = max(0, depth - 1)
            continue
        stripped = stripped.replace("\x00", "")
        lines.append(("> " * depth + stripped).rstrip() if stripped or depth else "")
    text = "\n".join(lines)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip("\n")
