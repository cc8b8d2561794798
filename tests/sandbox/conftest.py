"""Fixtures for the sandbox tests: an in-memory sandbox, signed tokens and a real-socket server."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import jwt
import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from connector.sandbox import SandboxConfig, create_app

API = "/sandbox/api/sdk"
KEY = "ab_live_testkey123"
AUTH = {"Authorization": f"Bearer {KEY}"}
#: 32+ bytes so PyJWT does not warn about a short HMAC key.
SECRET = "ha_secret_" + "s" * 40


class Sandbox:
    """A test client that speaks to the emulated API with a widget key."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.client: FlaskClient = app.test_client()

    def post(self, path: str, body: Any = None, *, key: str | None = KEY, headers: dict | None = None):
        all_headers = {"Authorization": f"Bearer {key}"} if key else {}
        all_headers.update(headers or {})
        return self.client.post(f"{API}/{path}", json=body, headers=all_headers)

    def ticket(self, **body: Any):
        body.setdefault("subject", "Help")
        if "user_id" not in body and "email" not in body:
            body["email"] = "jane@example.com"
        return self.post("tickets/create", body)

    def inspect(self, what: str, **params: Any) -> list[dict[str, Any]]:
        response = self.client.get(f"/sandbox/inspect/{what}", query_string=params)
        assert response.status_code == 200, response.json
        return response.json

    def user(self, external_id: str) -> dict[str, Any]:
        matches = [u for u in self.inspect("users") if u["external_id"] == external_id]
        assert len(matches) == 1, matches
        return matches[0]


def make_sandbox(**config: Any) -> Sandbox:
    config.setdefault("database_url", "sqlite:///:memory:")
    return Sandbox(create_app(SandboxConfig(**config)))


_shared: dict[tuple, Sandbox] = {}


def fresh_sandbox(**config: Any) -> Sandbox:
    """An emptied sandbox (no data, no runtime faults) for this configuration, shared across tests.

    Building an app per test would dominate the run time, so one app per configuration serves
    the whole run and is reset instead.
    """
    key = tuple(sorted(config.items()))
    if key not in _shared:
        _shared[key] = make_sandbox(**config)
    sandbox = _shared[key]
    sandbox.client.post("/sandbox/control/reset")
    sandbox.client.delete("/sandbox/control/faults")
    return sandbox


@pytest.fixture
def sandbox() -> Sandbox:
    """The default sandbox: any well-formed key, verification off, no faults, no data."""
    return fresh_sandbox()


def token(claims: dict[str, Any], secret: str = SECRET) -> str:
    return jwt.encode(claims, secret, algorithm="HS256")


def user_token(user_id: str, **claims: Any) -> str:
    return token({"user_id": user_id, "exp": int(time.time()) + 600, **claims})


def org_token(**overrides: Any) -> str:
    claims = {"scope": "users.update", "exp": int(time.time()) + 300, **overrides}
    return token({k: v for k, v in claims.items() if v is not None})


@pytest.fixture
def live_server() -> Iterator[Callable[..., str]]:
    """Start sandboxes on real sockets (127.0.0.1, port 0, threaded); yields a starter returning the base URL."""
    servers = []

    def start(**config: Any) -> str:
        config.setdefault("database_url", "sqlite:///:memory:")
        server = make_server("127.0.0.1", 0, create_app(SandboxConfig(**config)), threaded=True)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}/sandbox"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
