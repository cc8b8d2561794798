"""Shared helpers for the webhook-source tests: corpora by path, samples, signing, Halo limits."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from connector.config import Settings, corpora_dir, load_settings
from connector.sources import Processed, interpret, load_routes, process
from connector.sources.routes import Routes
from connector.ticket import (
    MESSAGE_MAX_CHARS,
    METADATA_MAX_BYTES,
    PRIORITIES,
    SOURCE_MAX_CHARS,
    SUBJECT_MAX_CHARS,
    TicketRequest,
    json_size,
)

SAMPLES = Path(__file__).parent / "samples"
DEFAULT_ROUTES = load_routes(None)
#: A long shared secret for senders that put it in the path (16+ characters are required).
PATH_SECRET = "path-secret-0123456789abcdef"
JSON = {"Content-Type": "application/json"}


def corpus(name: str) -> bytes:
    return (corpora_dir() / "webhooks" / name).read_bytes()


def vectors() -> dict[str, Any]:
    return json.loads(corpus("signature_test_vectors.json"))


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def settings(**secrets: str) -> Settings:
    return load_settings(secrets)


def hmac_hex(secret: str, body: bytes, digest: str = "sha256") -> str:
    return hmac.new(secret.encode(), body, digest).hexdigest()


def hmac_b64(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def read(route: str, raw: bytes, headers: Mapping[str, str] | None = None, routes: Routes | None = None) -> Processed:
    """Read a delivery without authentication (the replay path)."""
    return interpret(route, headers=dict(headers or JSON), raw=raw, routes=routes or DEFAULT_ROUTES)


def deliver(route: str, raw: bytes, headers: Mapping[str, str] | None = None, *, env: Mapping[str, str],
            path_secret: str | None = None, now: float = 1_715_682_600.0, routes: Routes | None = None,
            url: str = "", method: str = "POST", build_tickets: bool = True) -> Processed:
    return process(route, headers=dict(headers or JSON), raw=raw, path_secret=path_secret,
                   settings=load_settings(dict(env)), routes=routes or DEFAULT_ROUTES, now=now,
                   url=url, method=method, build_tickets=build_tickets)


def only_ticket(processed: Processed) -> TicketRequest:
    assert processed.status == "accepted", processed.reason
    assert len(processed.accepted) == 1
    return processed.accepted[0].ticket_request


def assert_within_halo_limits(ticket: TicketRequest) -> dict[str, Any]:
    """The tickets/create body respects every documented limit and names the customer."""
    body = ticket.halo_payload()
    assert body.get("email") or body.get("user_id")
    assert isinstance(body["subject"], str) and 0 < len(body["subject"]) <= SUBJECT_MAX_CHARS
    assert "\n" not in body["subject"]
    assert len(body.get("message") or "") <= MESSAGE_MAX_CHARS
    assert json_size(body["metadata"]) <= METADATA_MAX_BYTES
    assert 0 < len(body["source"]) <= SOURCE_MAX_CHARS
    assert body.get("priority", "normal") in PRIORITIES
    json.dumps(body, allow_nan=False)
    return body
