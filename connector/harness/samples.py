"""Operation samples taken from replayed fixtures, so Zapier/Make samples are real answers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from connector.harness.fixtures import FIXTURES_DIR, load_case
from connector.harness.matching import WILDCARDS
from connector.operations import Operation

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


def sample_for(operation: Operation) -> dict[str, Any]:
    """The Zapier/Make sample of ``operation``: its happy-path fixture's answer, with each
    wildcard (an id or a time the replay cannot fix) filled from the operation's declared
    ``sample``. tests/test_fixture_coverage.py keeps the two in step, so the generated apps show
    what a replayed call really answers."""
    return _fill(happy_path_sample(operation.key), operation.sample, operation.key)


def _fill(answer: Any, declared: Any, where: str) -> Any:
    if isinstance(answer, str) and answer in WILDCARDS:
        if declared is None or not WILDCARDS[answer](declared):
            raise ValueError(f"{where}: the declared sample has no {answer} value to stand in "
                             "for the fixture's wildcard")
        return declared
    if isinstance(answer, dict):
        declared = declared if isinstance(declared, dict) else {}
        return {key: _fill(value, declared.get(key), f"{where}.{key}")
                for key, value in answer.items()}
    if isinstance(answer, list):
        declared = declared if isinstance(declared, list) else []
        return [_fill(value, declared[index] if index < len(declared) else None, f"{where}.{index}")
                for index, value in enumerate(answer)]
    return answer
