"""Route templates: ``"{form_title}: {Subject}"`` with field references; ``{{``/``}}`` are braces."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from connector.sources.fields import display

#: Resolves a reference to ``(value, kind)``, or None when nothing matches.
Resolver = Callable[[str], "tuple[Any, str] | None"]


@dataclass(frozen=True)
class Ref:
    name: str


@lru_cache(maxsize=1024)
def parse(template: str) -> tuple[str | Ref, ...]:
    """Split a template into text and references; ValueError names the first problem."""
    parts: list[str | Ref] = []
    text: list[str] = []
    i, n = 0, len(template)
    while i < n:
        char = template[i]
        if template.startswith("{{", i) or template.startswith("}}", i):
            text.append(char)
            i += 2
        elif char == "{":
            end = template.find("}", i + 1)
            inner = template[i + 1:end] if end != -1 else ""
            if end == -1 or "{" in inner:
                raise ValueError(f"unclosed '{{' at position {i + 1} (write {{{{ for a literal brace)")
            name = inner.strip()
            if not name:
                raise ValueError(f"empty reference '{{}}' at position {i + 1}")
            if text:
                parts.append("".join(text))
                text = []
            parts.append(Ref(name))
            i = end + 1
        elif char == "}":
            raise ValueError(f"unmatched '}}' at position {i + 1} (write }}}} for a literal brace)")
        else:
            text.append(char)
            i += 1
    if text:
        parts.append("".join(text))
    return tuple(parts)


def references(template: str) -> list[str]:
    return [p.name for p in parse(template) if isinstance(p, Ref)]


def render(template: str, resolve: Resolver) -> str:
    """The template as text; a reference that resolves to nothing renders empty."""
    out: list[str] = []
    for part in parse(template):
        if isinstance(part, Ref):
            found = resolve(part.name)
            if found is not None:
                out.append(display(found[0], found[1]))
        else:
            out.append(part)
    return "".join(out)


def render_value(template: str, resolve: Resolver) -> Any:
    """Like :func:`render`, but a template that is one reference keeps the value's type."""
    parts = parse(template)
    if len(parts) == 1 and isinstance(parts[0], Ref):
        found = resolve(parts[0].name)
        return None if found is None else found[0]
    return render(template, resolve)
