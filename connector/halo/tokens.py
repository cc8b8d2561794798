"""Identity-verification JWTs for Halo (HS256, signed with the ``ha_secret_…`` identity secret).

Halo checks a per-user ``user_token`` on user-scoped calls when identity verification is on, and
always requires an org-scoped token (``scope: users.update``, expiring within the hour) on
``users/update``. Tokens are short-lived: they are minted per call, never stored.
"""

from __future__ import annotations

import time
from typing import Any

import jwt

#: Per-user tokens live this long; long enough for retries, short enough to be useless if leaked.
USER_TOKEN_TTL = 300
#: Halo refuses users/update tokens that expire more than an hour ahead.
ORG_TOKEN_TTL = 300
ORG_TOKEN_MAX_TTL = 3600


def user_token(secret: str, user_id: str, *, ttl: int = USER_TOKEN_TTL, now: float | None = None,
               claims: dict[str, Any] | None = None) -> str:
    """A token proving the connector vouches for ``user_id``."""
    issued = int(now if now is not None else time.time())
    payload = {**(claims or {}), "user_id": user_id, "iat": issued, "exp": issued + ttl}
    return jwt.encode(payload, secret, algorithm="HS256")


def org_update_token(secret: str, *, ttl: int = ORG_TOKEN_TTL, now: float | None = None) -> str:
    """The org-scoped token ``users/update`` requires."""
    if not 0 < ttl <= ORG_TOKEN_MAX_TTL:
        raise ValueError("users/update tokens must expire within one hour")
    issued = int(now if now is not None else time.time())
    return jwt.encode({"scope": "users.update", "iat": issued, "exp": issued + ttl}, secret,
                      algorithm="HS256")
