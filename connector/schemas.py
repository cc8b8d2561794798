"""Shared marshmallow pieces for operation inputs: how no-code platforms actually send fields.

* ``""`` and ``null`` mean "not given" (Zapier sends ``""`` for every unmapped field).
* An object field such as ``metadata`` may arrive as a JSON object, as flat ``metadata__key`` or
  ``metadata[key]`` fields (form bodies, Zapier ``dict`` fields), as line items
  ``[{"key": ..., "value": ...}]``, or as a JSON string.
* Unknown fields are refused with a 422 naming them, so a typo is never silently dropped.
"""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar

from marshmallow import RAISE, Schema, pre_load

_BRACKET = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\[([^\]]*)\](?:\[([^\]]*)\])?$")


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def items_to_dict(value: Any) -> Any:
    """Line items (``[{key, value}]`` or ``[{"plan": "pro"}]``) or a JSON string, as one dict."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("{"):
            try:
                parsed = json.loads(text)
            except json.JSONDecodeError:
                return value
            return parsed
        return value
    if isinstance(value, list):
        merged: dict[str, Any] = {}
        for item in value:
            if not isinstance(item, dict):
                return value
            if set(item) <= {"key", "value"} and "key" in item:
                if not _blank(item.get("key")):
                    merged[str(item["key"])] = item.get("value")
            else:
                merged.update(item)
        return merged
    return value


class InputSchema(Schema):
    """Base for every operation's input schema."""

    #: Object-valued fields that also accept flattened keys and line items.
    OBJECT_FIELDS: ClassVar[tuple[str, ...]] = ()

    class Meta:
        unknown = RAISE

    @pre_load
    def _platform_conventions(self, data: Any, **_kwargs: Any) -> Any:
        if not isinstance(data, dict):
            return data
        cleaned: dict[str, Any] = {}
        flattened: dict[str, dict[str, Any]] = {}
        items: dict[str, dict[int, dict[str, Any]]] = {}
        for key, value in data.items():
            parent, sep, child = key.partition("__")
            bracket = _BRACKET.match(key)
            if sep and parent in self.OBJECT_FIELDS and child:
                if not _blank(value):
                    flattened.setdefault(parent, {})[child] = value
                continue
            if bracket and bracket.group(1) in self.OBJECT_FIELDS:
                parent, first, second = bracket.groups()
                if second is not None and first.isdigit():
                    items.setdefault(parent, {}).setdefault(int(first), {})[second] = value
                elif not _blank(value):
                    flattened.setdefault(parent, {})[first] = value
                continue
            if _blank(value):
                continue
            cleaned[key] = value
        for parent, rows in items.items():
            as_dict = items_to_dict([rows[i] for i in sorted(rows)])
            if isinstance(as_dict, dict):
                flattened.setdefault(parent, {}).update(as_dict)
        for parent in self.OBJECT_FIELDS:
            if parent in cleaned:
                cleaned[parent] = items_to_dict(cleaned[parent])
            if parent in flattened:
                base = cleaned.get(parent)
                cleaned[parent] = {**(base if isinstance(base, dict) else {}), **flattened[parent]}
            if isinstance(cleaned.get(parent), dict):
                cleaned[parent] = {k: v for k, v in cleaned[parent].items() if not _blank(v)}
                if not cleaned[parent]:
                    del cleaned[parent]
        return cleaned
