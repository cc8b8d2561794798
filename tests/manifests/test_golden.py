"""The generated artifacts, compared with reviewed copies under tests/manifests/golden/.

A change to an operation (a label, a field, a sample) changes what Zapier and Make users see, so
it should show up in review as a diff of these files. After reviewing such a change, refresh the
copies with:

    UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/manifests/test_golden.py

and commit them with the change. Generation is deterministic (sorted keys, no timestamps), which
the second test checks.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from connector.manifests.files import dump_json, write_tree
from connector.manifests.make import make_files
from connector.manifests.openapi import openapi_document
from connector.manifests.zapier import zapier_files

GOLDEN = Path(__file__).parent / "golden"
GENERATED = {
    "zapier": zapier_files,
    "make": make_files,
    "openapi": lambda: {"openapi.json": dump_json(openapi_document())},
}


def on_disk(folder: Path) -> dict[str, str]:
    return {path.relative_to(folder).as_posix(): path.read_text(encoding="utf-8")
            for path in sorted(folder.rglob("*")) if path.is_file()}


@pytest.mark.parametrize("target", sorted(GENERATED))
def test_generated_output_matches_the_reviewed_golden_copy(target):
    fresh = GENERATED[target]()
    folder = GOLDEN / target
    if os.environ.get("UPDATE_GOLDEN"):
        shutil.rmtree(folder, ignore_errors=True)
        write_tree(folder, fresh)
    golden = on_disk(folder)
    assert sorted(golden) == sorted(fresh), "files added or removed: see the module docstring"
    changed = [path for path in fresh if fresh[path] != golden[path]]
    assert not changed, f"{changed} changed: review, then refresh (see the module docstring)"


def test_generation_is_deterministic():
    for generate in GENERATED.values():
        assert generate() == generate()
