"""Connector API keys: who is calling, and which tenant's records they may see."""

from __future__ import annotations

import hmac

from flask import Request

from connector.config import Settings
from connector.errors import Unauthorized


def presented_key(request: Request) -> str | None:
    """The key from ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    key = request.headers.get("X-API-Key", "").strip()
    return key or None


def tenant_for(key: str | None, settings: Settings) -> str:
    """The tenant a key belongs to. Every configured key is compared, in constant time."""
    if not key:
        raise Unauthorized("Missing API key: send Authorization: Bearer <key> or X-API-Key.")
    found: str | None = None
    presented = key.encode()
    for candidate, tenant in settings.api_keys.items():
        if hmac.compare_digest(presented, candidate.encode()):
            found = tenant
    if found is None:
        raise Unauthorized("Invalid API key.")
    return found


def authenticate(request: Request, settings: Settings) -> str:
    return tenant_for(presented_key(request), settings)
