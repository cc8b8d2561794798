"""Driving the generated apps from pytest: a live connector on a real socket, and Zapier's own
runtime (zapier-platform-core under Node) calling it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from werkzeug.serving import make_server

from connector.config import PROJECT_ROOT
from connector.services import EXTENSION_KEY, Services
from tests.conftest import API_KEY

NODE_DIR = PROJECT_ROOT / "tests" / "zapier"
NODE_MODULES = NODE_DIR / "node_modules"
RUNNER = NODE_DIR / "run_app.js"


@dataclass
class LiveConnector:
    """The connector served on 127.0.0.1, its own sandbox standing in for Halo."""

    url: str
    app: Flask

    @property
    def services(self) -> Services:
        return self.app.extensions[EXTENSION_KEY]

    def sandbox(self, what: str) -> list[dict[str, Any]]:
        """What the Halo sandbox received (``tickets``, ``users``, ``companies``), newest first."""
        response = requests.get(f"{self.url}/sandbox/inspect/{what}", timeout=10)
        response.raise_for_status()
        return response.json()

    def halo_faults(self, spec: str) -> None:
        """Make the sandbox (Halo) misbehave, e.g. ``429:1:retry_after=7:path=tickets/create``."""
        response = requests.put(f"{self.url}/sandbox/control/faults", json={"spec": spec}, timeout=10)
        response.raise_for_status()


def serve(make_app: Any, env: dict[str, str]) -> tuple[LiveConnector, Any]:
    """Start the connector on a free port; Halo is its own /sandbox on that same port."""
    holder: dict[str, Flask] = {}
    server = make_server("127.0.0.1", 0, lambda environ, start: holder["app"](environ, start),
                         threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    holder["app"] = make_app({**env, "HALO_API_URL": f"{url}/sandbox/api/sdk",
                              "SANDBOX_ENABLED": "true", "HOOKS_ALLOW_PRIVATE_TARGETS": "true"})
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        thread.join(5)

    return LiveConnector(url=url, app=holder["app"]), stop


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
