"""Identity verification: the HS256 ``user_token`` checks Halo answers with 403.

Per-user tokens (reference §1.4) must carry a ``user_id`` claim (``sub`` as a fallback) equal to
the request's ``user_id``; they are checked only when verification is on. The org-scoped token of
``users/update`` is checked always: ``scope == "users.update"`` and an ``exp`` that is unexpired
and at most one hour ahead. Without an identity secret that endpoint refuses everything, as Halo
does for a workspace that never generated one.
"""

from __future__ import annotations

import threading
import time
import warnings
from typing import Any

import jwt

from connector.sandbox import shapes
from connector.sandbox.rules import ApiError

ANONYMOUS_USER_ID = "anonymous"
USERS_UPDATE_SCOPE = "users.update"
ORG_TOKEN_MAX_LIFETIME_SECONDS = 3600

# PyJWT warns about short HMAC keys; a warning filter is process-global state, so it is changed
# under a lock (``catch_warnings`` is not thread-safe) rather than left to whoever runs us.
_decode_lock = threading.Lock()


def forbidden(message: str) -> ApiError:
    """PROVISIONAL body; the 403 status is documented."""
    return ApiError(403, shapes.error(message))


class IdentityVerifier:
    """Checks ``user_token`` values against the configured identity secret."""

    def __init__(self, secret: str | None, enabled: bool) -> None:
        self.secret = secret
        self.enabled = enabled

    def check_user(self, user_id: str | None, token: Any, *, exempt_anonymous: bool = True) -> None:
        """Raise 403 unless ``token`` proves ``user_id`` (when verification is on).

        An absent ``user_id`` is never checked; ``"anonymous"`` is exempt where the docs say so.
        """
        if not self.enabled or not user_id:
            return
        if exempt_anonymous and user_id == ANONYMOUS_USER_ID:
            return
        if token in (None, ""):
            raise forbidden("user_token is required when identity verification is enabled")
        claims = self._decode(token, require=[])
        claimed = claims["user_id"] if "user_id" in claims else claims.get("sub")
        if claimed is None or str(claimed) != user_id:
            raise forbidden("user_token does not match user_id")

    def check_org_update(self, token: Any) -> None:
        """Raise 403 unless ``token`` is a valid ``users.update`` org token (always enforced)."""
        if not self.secret:
            raise forbidden("users/update needs an org-scoped user_token, and no identity secret is configured")
        if token in (None, ""):
            raise forbidden('users/update requires an org-scoped user_token (scope "users.update")')
        claims = self._decode(token, require=["exp"])
        if claims.get("scope") != USERS_UPDATE_SCOPE:
            raise forbidden('user_token scope must be "users.update"')
        if not isinstance(claims["exp"], (int, float)) or claims["exp"] > time.time() + ORG_TOKEN_MAX_LIFETIME_SECONDS:
            raise forbidden("user_token exp must be at most 1 hour in the future")

    def _decode(self, token: Any, *, require: list[str]) -> dict[str, Any]:
        if not isinstance(token, str):
            raise forbidden("user_token must be a string")
        if not self.secret:
            raise forbidden("user_token cannot be verified: no identity secret is configured")
        try:
            with _decode_lock, warnings.catch_warnings():
                warnings.simplefilter("ignore", jwt.InsecureKeyLengthWarning)
                return jwt.decode(token, self.secret, algorithms=["HS256"], options={"require": require})
        except jwt.ExpiredSignatureError:
            raise forbidden("user_token has expired") from None
        except jwt.MissingRequiredClaimError as exc:
            raise forbidden(f"user_token is missing the {exc.claim} claim") from None
        except jwt.InvalidTokenError:
            raise forbidden("user_token is invalid") from None
