"""Writing generated artifacts so that two runs give byte-identical files (golden copies, diffs).

JSON is written with sorted keys, two-space indents, real UTF-8 and a final newline; nothing
generated carries a timestamp.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def dump_json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_tree(outdir: Path, files: Mapping[str, str]) -> list[Path]:
    """Write ``{relative path: text}`` under ``outdir``; the paths written, in order."""
    written = []
    for relative, text in sorted(files.items()):
        path = outdir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
