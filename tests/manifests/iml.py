"""Just enough of Make's IML to replay a generated module's request: ``{{a.b}}`` lookups.

A whole-value expression keeps the looked-up value's type (a mapped array stays an array), as Make
does; an expression inside a longer string is substituted as text. A value that is not there
(an unmapped optional parameter) drops its key, as Make leaves unset parameters out. Anything
else (functions such as ``ifempty``) is refused, so a generated file using IML this replay cannot
evaluate fails loudly instead of being half-rendered.
"""

from __future__ import annotations

import json
import re
from typing import Any

_WHOLE = re.compile(r"^\{\{([A-Za-z_][\w.]*)\}\}$")
_PART = re.compile(r"\{\{([^}]*)\}\}")
_PATH = re.compile(r"^[A-Za-z_][\w.]*$")


class Missing:
    """An expression naming nothing: its key is left out."""


MISSING = Missing()


def lookup(path: str, scope: dict[str, Any]) -> Any:
    value: Any = scope
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return MISSING
        value = value[part]
    return value


def render(template: Any, scope: dict[str, Any]) -> Any:
    if isinstance(template, dict):
        rendered = {key: render(value, scope) for key, value in template.items()}
        return {key: value for key, value in rendered.items() if value is not MISSING}
    if isinstance(template, list):
        return [value for value in (render(v, scope) for v in template) if value is not MISSING]
    if not isinstance(template, str):
        return template
    whole = _WHOLE.match(template)
    if whole:
        return lookup(whole.group(1), scope)

    def part(match: re.Match[str]) -> str:
        expression = match.group(1).strip()
        if not _PATH.match(expression):
            raise ValueError(f"IML this replay does not evaluate: {{{{{expression}}}}}")
        value = lookup(expression, scope)
        if value is MISSING or value is None:
            return ""
        return value if isinstance(value, str) else json.dumps(value)

    return _PART.sub(part, template)
