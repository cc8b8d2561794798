"""Operation samples taken from replayed fixtures, so Zapier/Make samples are real answers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from connector.harness.fixtures import FIXTURES_DIR, load_case

#: Where each operation's happy-path case lives: ``fixtures/zapier/<operation>/happy_path.json``.
HAPPY_PATH = "happy_path.json"


def happy_path_file(operation_key: str) -> Path:
    return FIXTURES_DIR / "zapier" / operation_key / HAPPY_PATH


def happy_path_sample(operation_key: str) -> dict[str, Any]:
    """One result of ``operation_key`` as its happy-path fixture expects it (for arrays, the
    first item). Wildcards (ids, times) stay as written in the fixture."""
    case = load_case(happy_path_file(operation_key))
    answer = case.expect.get("json")
    if isinstance(answer, list):
        answer = answer[0] if answer else None
    if not isinstance(answer, dict):
        raise ValueError(f"{case.path}: expect.json must be an object or a non-empty array to "
                         "serve as the operation's sample")
    return answer
