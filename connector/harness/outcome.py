"""What one replayed case did, compared with what its fixture expects."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from connector.harness.fixtures import Case
from connector.harness.matching import call_differences, differences


@dataclass
class Observed:
    """The connector's answer, the Halo calls that followed, and the submissions left behind."""

    status: int
    json: Any
    headers: dict[str, str]
    calls: list[dict[str, Any]]
    submissions: list[dict[str, Any]] | None = None


@dataclass
class Result:
    case: Case
    problems: list[str] = field(default_factory=list)
    observed: Observed | None = None
    seconds: float = 0.0
    skipped: str | None = None

    @property
    def passed(self) -> bool:
        return not self.problems and self.skipped is None


def compare(case: Case, observed: Observed) -> list[str]:
    """Every difference between the fixture's expectations and what happened, as diff lines."""
    expect = case.expect
    problems: list[str] = []
    if observed.status != expect["status"]:
        problems.append(f"answer status: expected {expect['status']}, got {observed.status}")
    if expect.get("json") is not None:
        problems += [f"answer body {line[1:]}" for line in differences(expect["json"], observed.json)]
    for name, value in expect.get("headers", {}).items():
        got = {k.lower(): v for k, v in observed.headers.items()}.get(name.lower())
        problems += [f"answer header {name}{line[1:]}" for line in differences(value, got)]
    problems += call_differences(case.halo["calls"], observed.calls)
    if expect.get("submissions") is not None and observed.submissions is not None:
        problems += [f"submissions {line[1:]}"
                     for line in differences(expect["submissions"], observed.submissions)]
    return problems
