"""Driving the generated apps from pytest: Zapier's own runtime (zapier-platform-core under Node)
calling a live connector (tests/live_connector.py)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from connector.config import PROJECT_ROOT
from tests.conftest import API_KEY
from tests.live_connector import LiveConnector

NODE_DIR = PROJECT_ROOT / "tests" / "zapier"
NODE_MODULES = NODE_DIR / "node_modules"
RUNNER = NODE_DIR / "run_app.js"


def require_node() -> str:
    """Node and Zapier's packages, or a failure saying how to get them (never a skip)."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed: the Zapier app is proven under Zapier's own Node runtime")
    if not (NODE_MODULES / "zapier-platform-core").is_dir():
        pytest.fail("tests/zapier/node_modules is missing: run `make tests/zapier/node_modules/.installed` "
                    "(`make test` does it)")
    return node


def run_zapier(app_dir: Path, calls: list[dict[str, Any]]) -> dict[str, Any]:
    """Validate the app at ``app_dir`` and run ``calls`` through zapier-platform-core."""
    node = require_node()
    env = {**os.environ, "NODE_PATH": str(NODE_MODULES)}
    completed = subprocess.run([node, str(RUNNER)], input=json.dumps({"app": str(app_dir), "calls": calls}),
                               capture_output=True, text=True, env=env, timeout=120)
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


def bundle(live: LiveConnector, input_data: dict[str, Any] | None = None, *,
           api_key: str = API_KEY, **extra: Any) -> dict[str, Any]:
    """A bundle as Zapier builds it for a connected account."""
    return {"authData": {"base_url": live.url, "api_key": api_key},
            "inputData": input_data or {}, "meta": {"limit": 100, "page": 0}, **extra}


def call(method: str, bundle_: dict[str, Any]) -> dict[str, Any]:
    return {"method": method, "bundle": bundle_}


def ok(outcome: dict[str, Any]) -> Any:
    assert outcome["ok"], outcome["error"]
    return outcome["results"]
