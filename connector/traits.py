"""Halo's rules for user and company traits, checked before calling it.

Halo answers 400 when a trait key is one it manages itself (``reserved_keys``), and caps
traits + context per call. Checking here turns both into a 422 that names the field, before any
call is made, and keeps the rules in one place for every action that sends traits.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from connector.records import iso
from connector.ticket import COMPANY_TRAITS_MAX_BYTES, USER_TRAITS_MAX_BYTES, json_size

#: reference/halo-api.md 2.2: keys users/identify rejects inside ``traits``.
USER_RESERVED = frozenset({"id", "external_id", "org_id", "company_id", "created_at", "updated_at",
                           "first_seen", "last_seen", "last_contacted_at"})
#: reference/halo-api.md 2.4: keys companies/identify rejects inside ``traits``.
COMPANY_RESERVED = frozenset({"id", "external_id", "org_id", "created_at", "updated_at",
                              "health_score", "team_size", "last_contacted_at"})


def trait_problems(traits: Mapping[str, Any], *, company: bool = False) -> list[str]:
    """What is wrong with ``traits`` for Halo, as short sentences (empty = fine)."""
    reserved = COMPANY_RESERVED if company else USER_RESERVED
    limit = COMPANY_TRAITS_MAX_BYTES if company else USER_TRAITS_MAX_BYTES
    problems = []
    clashes = sorted(key for key in traits if key in reserved)
    if clashes:
        problems.append(f"Halo manages {', '.join(clashes)} itself; rename or drop "
                        f"{'it' if len(clashes) == 1 else 'them'}.")
    size = json_size(dict(traits))
    if size > limit:
        problems.append(f"Traits are {size:,} bytes; Halo accepts at most {limit:,}.")
    return problems


def plain(value: Any) -> Any:
    """A trait value as JSON: dates as ISO 8601 with a timezone."""
    return iso(value) if isinstance(value, datetime) else value


def answer_fields(answer: Mapping[str, Any], *containers: str) -> dict[str, Any]:
    """Halo's (undocumented) identify answer: its record id and timestamps, wherever they are.

    Looks at the top level and under ``containers`` (e.g. ``user``, ``company``, ``data``).
    """
    candidates: list[Mapping[str, Any]] = [answer]
    for name in (*containers, "data"):
        inner = answer.get(name)
        if isinstance(inner, Mapping):
            candidates.insert(0, inner)
    found: dict[str, Any] = {"halo_id": None, "created_at": None, "updated_at": None}
    for candidate in candidates:
        for key in found:
            source = "id" if key == "halo_id" else key
            value = candidate.get(source)
            if found[key] is None and isinstance(value, (str, int)) and not isinstance(value, bool):
                found[key] = str(value) if key == "halo_id" else _iso_text(value)
    return found


def _iso_text(value: Any) -> Any:
    """Halo's ``2026-04-11T12:25:19.492417+00:00`` as ``2026-04-11T12:25:19Z``; anything else as is."""
    if not isinstance(value, str):
        return value
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    return iso(parsed) if parsed.tzinfo else value
