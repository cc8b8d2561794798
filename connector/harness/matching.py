"""Comparing what happened with what a fixture expects: exact JSON, with declared wildcards.

Wildcards are whole string values: ``"<any>"`` (anything, even null), ``"<any:int>"``,
``"<any:number>"``, ``"<any:str>"``, ``"<any:bool>"``, ``"<any:datetime>"`` (ISO 8601 with a
zone), ``"<any:email>"``, ``"<any:object>"``, ``"<any:list>"``. Everything else must be equal.
Differences come back as short lines naming the JSON path, so a failed case reads like a diff.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

_DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)$")


def _is_datetime(value: Any) -> bool:
    if not isinstance(value, str) or not _DATETIME.match(value):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


WILDCARDS: dict[str, Callable[[Any], bool]] = {
    "<any>": lambda value: True,
    "<any:int>": lambda value: isinstance(value, int) and not isinstance(value, bool),
    "<any:number>": lambda value: isinstance(value, (int, float)) and not isinstance(value, bool),
    "<any:str>": lambda value: isinstance(value, str),
    "<any:bool>": lambda value: isinstance(value, bool),
    "<any:datetime>": _is_datetime,
    "<any:email>": lambda value: isinstance(value, str) and "@" in value,
    "<any:object>": lambda value: isinstance(value, dict),
    "<any:list>": lambda value: isinstance(value, list),
}


def show(value: Any, limit: int = 120) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def differences(expected: Any, actual: Any, path: str = "$") -> list[str]:
    """Human-readable differences between ``expected`` (may hold wildcards) and ``actual``."""
    if isinstance(expected, str) and expected in WILDCARDS:
        if WILDCARDS[expected](actual):
            return []
        return [f"{path}: expected {expected}, got {show(actual)}"]
    if isinstance(expected, dict) and isinstance(actual, dict):
        found: list[str] = []
        for key, value in expected.items():
            if key not in actual:
                found.append(f"{path}.{key}: missing (expected {show(value)})")
            else:
                found += differences(value, actual[key], f"{path}.{key}")
        for key in actual:
            if key not in expected:
                found.append(f"{path}.{key}: unexpected {show(actual[key])}")
        return found
    if isinstance(expected, list) and isinstance(actual, list):
        found = []
        for index, (want, got) in enumerate(zip(expected, actual)):
            found += differences(want, got, f"{path}[{index}]")
        if len(expected) > len(actual):
            found += [f"{path}[{i}]: missing (expected {show(expected[i])})"
                      for i in range(len(actual), len(expected))]
        elif len(actual) > len(expected):
            found += [f"{path}[{i}]: unexpected {show(actual[i])}"
                      for i in range(len(expected), len(actual))]
        return found
    if type(expected) is not type(actual) and not (
            isinstance(expected, (int, float)) and isinstance(actual, (int, float))
            and not isinstance(expected, bool) and not isinstance(actual, bool)):
        return [f"{path}: expected {show(expected)}, got {show(actual)}"]
    return [] if expected == actual else [f"{path}: expected {show(expected)}, got {show(actual)}"]


def call_label(call: dict[str, Any]) -> str:
    return f"{call.get('method', 'POST')} {call['path']}"


def call_differences(expected: list[dict[str, Any]], actual: list[dict[str, Any]]) -> list[str]:
    """Halo calls in order: a missing, unexpected or different call each give readable lines."""
    found: list[str] = []
    for index in range(max(len(expected), len(actual))):
        want = expected[index] if index < len(expected) else None
        got = actual[index] if index < len(actual) else None
        if got is None:
            found.append(f"missing Halo call #{index + 1}: {call_label(want)} {show(want.get('json'))}")  # type: ignore[union-attr]
        elif want is None:
            found.append(f"unexpected Halo call #{index + 1}: {call_label(got)} {show(got.get('json'))}")
        elif call_label(want) != call_label(got):
            found.append(f"Halo call #{index + 1}: expected {call_label(want)}, got {call_label(got)} "
                         f"{show(got.get('json'))}")
        else:
            found += [f"Halo call #{index + 1} {call_label(got)} body {line[1:]}"
                      for line in differences(want.get("json"), got.get("json"))]
    return found


#: Keys whose integer values are the connector's own record ids (they differ between databases).
ID_KEYS = frozenset({"id", "submission_id", "submission", "submissions", "ticket_id"})
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def generalize(value: Any, like: Any = None, key: str | None = None) -> Any:
    """A value as ``--update`` writes it: keeps the wildcards the old expectation declared at the
    same place; new record ids, UUIDs (sandbox ids) and times become wildcards; the rest is kept."""
    if isinstance(like, str) and like in WILDCARDS and WILDCARDS[like](value):
        return like
    if isinstance(value, dict):
        old = like if isinstance(like, dict) else {}
        return {k: generalize(item, old.get(k), k) for k, item in value.items()}
    if isinstance(value, list):
        old_list = like if isinstance(like, list) else []
        return [generalize(item, old_list[i] if i < len(old_list) else None, key)
                for i, item in enumerate(value)]
    if like is not None:
        return value
    if key in ID_KEYS and isinstance(value, int) and not isinstance(value, bool):
        return "<any:int>"
    if isinstance(value, str) and _UUID.match(value):
        return "<any:str>"
    if _is_datetime(value):
        return "<any:datetime>"
    return value
