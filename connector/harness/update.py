"""``--update``: rewrite a fixture's expectations from what a replay observed (after review).

Only ``halo.calls`` and ``expect`` change; the request, the Halo replies and the description are
kept as written, and wildcards already declared stay where they still match.
"""

from __future__ import annotations

import json
from typing import Any

from connector.harness.matching import generalize
from connector.harness.outcome import Result


def updated_document(result: Result) -> dict[str, Any]:
    assert result.observed is not None
    document = json.loads(json.dumps(result.case.document))
    observed = result.observed
    halo = document.setdefault("halo", {})
    old_calls = halo.get("calls") or []
    halo["calls"] = [
        {"method": call["method"], "path": call["path"],
         "json": generalize(call["json"], old_calls[i].get("json") if i < len(old_calls) else None)}
        for i, call in enumerate(observed.calls)]
    expect = document.setdefault("expect", {})
    expect["status"] = observed.status
    expect["json"] = generalize(observed.json, expect.get("json"))
    if observed.submissions is not None:
        expect["submissions"] = generalize(observed.submissions, expect.get("submissions"))
    return document


def write_update(result: Result) -> bool:
    """Rewrite the fixture file; True when its content changed."""
    if result.observed is None:
        return False
    path = result.case.path
    text = json.dumps(updated_document(result), indent=2, ensure_ascii=False) + "\n"
    if path.read_text(encoding="utf-8") == text:
        return False
    path.write_text(text, encoding="utf-8")
    return True
