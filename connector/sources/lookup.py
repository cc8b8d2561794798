"""Resolve a route's field reference: a field's key/ref/id or label, a variable, or a payload path."""

from __future__ import annotations

from typing import Any

from connector.lazy import lazy_property
from connector.sources.base import Field, Submission
from connector.sources.fields import is_empty, normalize


class Lookup:
    """References in the documented order: exact key (or alias), then key or label ignoring case
    and punctuation, then the submission's variables, then a dotted path into the payload
    (``data.event.user.email``, list indexes as numbers)."""

    def __init__(self, submission: Submission, variables: dict[str, Any]) -> None:
        self.submission = submission
        self.variables = variables

    @lazy_property
    def _exact(self) -> dict[str, Field]:
        index: dict[str, Field] = {}
        for item in self.submission.fields:
            index.setdefault(item.key, item)
            for alias in item.aliases:
                index.setdefault(alias, item)
        return index

    @lazy_property
    def _loose(self) -> dict[str, Field]:
        index: dict[str, Field] = {}
        for item in self.submission.fields:
            for name in (item.key, *item.aliases):
                index.setdefault(normalize(name), item)
        for item in self.submission.fields:
            index.setdefault(normalize(item.label), item)
        return index

    def field(self, ref: str) -> Field | None:
        return self._exact.get(ref) or self._loose.get(normalize(ref))

    def find(self, ref: str) -> tuple[Any, str] | None:
        item = self.field(ref)
        if item is not None and not is_empty(item.value):
            return item.value, item.kind
        for name in (ref, normalize(ref)):
            value = self.variables.get(name)
            if not is_empty(value):
                return value, "text"
        if "." in ref:
            value = path_value(self.submission.payload, ref)
            if not is_empty(value):
                return value, "text"
        return None

    def find_variable(self, ref: str) -> tuple[Any, str] | None:
        value = self.variables.get(ref)
        return None if is_empty(value) else (value, "text")


def path_value(data: Any, path: str) -> Any:
    for step in path.split("."):
        if isinstance(data, dict):
            data = data.get(step)
        elif isinstance(data, list) and step.lstrip("-").isdigit() and -len(data) <= int(step) < len(data):
            data = data[int(step)]
        else:
            return None
    return data
