"""The connector's one error hierarchy.

Every failure a caller can see is a :class:`ConnectorError`. Each class carries the HTTP status it
maps to, a stable ``code`` and a short human message; the web layer turns any of them into the same
JSON body in one place (``connector.web.errors``). Messages stay under Zapier's 250-character limit.
"""

from __future__ import annotations

import math
from typing import Any

#: Zapier shows at most this many characters of an error message.
MAX_MESSAGE_CHARS = 250


class ConnectorError(Exception):
    """Base class: an internal failure unless a subclass says otherwise."""

    status: int = 500
    code: str = "internal_error"
    default_message: str = "The connector failed unexpectedly."
    #: True when trying the same thing again later can succeed.
    retriable: bool = False

    def __init__(
        self,
        message: str | None = None,
        *,
        fields: dict[str, list[str]] | None = None,
        retry_after: float | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        self.message = _shorten(message or self.default_message)
        self.fields = fields or {}
        self.retry_after = retry_after
        self.details = details or {}
        super().__init__(self.message)

    @property
    def retry_after_seconds(self) -> int | None:
        """``Retry-After`` as Zapier parses it: a whole number of seconds, at least 1."""
        if self.retry_after is None:
            return None
        return max(1, math.ceil(self.retry_after))

    def to_dict(self) -> dict[str, Any]:
        """The JSON error body every entry point answers with."""
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.fields:
            body["errors"] = self.fields
        if self.retry_after_seconds is not None:
            body["retry_after"] = self.retry_after_seconds
        body.update(self.details)
        return body

    def headers(self) -> dict[str, str]:
        seconds = self.retry_after_seconds
        return {"Retry-After": str(seconds)} if seconds is not None else {}


def _shorten(message: str) -> str:
    message = " ".join(message.split())
    if len(message) <= MAX_MESSAGE_CHARS:
        return message
    return message[: MAX_MESSAGE_CHARS - 1].rstrip() + "…"


class ConfigError(ConnectorError):
    """A setting is missing or malformed; raised at start-up, never served."""

    code = "config_error"
    default_message = "The connector is not configured correctly."


# --- what the caller sent -------------------------------------------------------------------


class BadRequest(ConnectorError):
    """The body could not be read at all (malformed JSON, not an email, ...)."""

    status = 400
    code = "bad_request"
    default_message = "The request body could not be read."


class InvalidInput(ConnectorError):
    """The body was read but fields are wrong; ``fields`` names each one."""

    status = 422
    code = "invalid_input"
    default_message = "Some fields are invalid."

    @classmethod
    def from_fields(cls, fields: dict[str, Any]) -> InvalidInput:
        """Build from marshmallow-style messages, naming the fields in the message itself."""
        flat = flatten_field_errors(fields)
        summary = "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in flat.items())
        return cls(summary or None, fields=flat)


def flatten_field_errors(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turn marshmallow's nested ``{field: [msg]}`` / ``{field: {sub: [msg]}}`` into dotted keys."""
    if isinstance(messages, (list, tuple)):
        if all(isinstance(m, str) for m in messages):
            return {prefix or "_body": [str(m) for m in messages]}
        out: dict[str, list[str]] = {}
        for item in messages:
            out.update(flatten_field_errors(item, prefix))
        return out
    if isinstance(messages, dict):
        out = {}
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if key == "_schema":
                name = prefix or "_body"
            out.update(flatten_field_errors(value, name))
        return out
    return {prefix or "_body": [str(messages)]}


class Unauthorized(ConnectorError):
    """Missing or wrong connector API key, or a webhook signature that does not verify."""

    status = 401
    code = "unauthorized"
    default_message = "Missing or invalid API key."


class NotFound(ConnectorError):
    status = 404
    code = "not_found"
    default_message = "Not found."


class PayloadTooLarge(ConnectorError):
    status = 413
    code = "payload_too_large"
    default_message = "The request body is larger than the connector accepts."


class UnsupportedMediaType(ConnectorError):
    status = 415
    code = "unsupported_media_type"
    default_message = "Unsupported content type."


class ServiceUnavailable(ConnectorError):
    """The connector itself cannot accept work right now (its database is unreachable)."""

    status = 503
    code = "unavailable"
    default_message = "The connector is temporarily unavailable; try again shortly."
    retriable = True


# --- what Halo answered ---------------------------------------------------------------------


class HaloError(ConnectorError):
    """Halo answered with something the connector cannot use.

    ``halo_status`` is Halo's own status code (``None`` when no answer arrived) and the message
    carries Halo's own error text when it gave one.
    """

    status = 502
    code = "halo_error"
    default_message = "Halo returned an unexpected answer."

    def __init__(
        self, message: str | None = None, *, halo_status: int | None = None, **kwargs: Any
    ) -> None:
        super().__init__(message, **kwargs)
        self.halo_status = halo_status


class HaloCredentialsError(HaloError):
    """Halo refused the connector's own API key: an operator must fix ``HALO_API_KEY``."""

    code = "halo_credentials"
    default_message = "Halo rejected the connector's API key (HALO_API_KEY)."


class HaloForbidden(HaloError):
    """Halo refused the identity token (identity verification, ``users/update`` scope)."""

    code = "halo_forbidden"
    default_message = "Halo refused the identity token; check HALO_IDENTITY_SECRET."


class HaloValidationError(HaloError):
    """Halo rejected the data itself; the caller can fix the named field and try again."""

    status = 422
    code = "halo_rejected"
    default_message = "Halo rejected the request."


class HaloRateLimited(HaloError):
    """Halo asked us to slow down; ``retry_after`` says for how long."""

    status = 429
    code = "halo_rate_limited"
    default_message = "Halo is rate limiting requests; try again later."
    retriable = True


class HaloUnavailable(HaloError):
    """Halo could not be reached or answered 5xx; the request was not accepted."""

    status = 503
    code = "halo_unavailable"
    default_message = "Halo is unavailable; try again later."
    retriable = True


class HaloOutcomeUnknown(HaloUnavailable):
    """The request reached Halo but no answer came back (read timeout, dropped connection).

    For a non-idempotent call such as ``tickets/create`` Halo may or may not have acted on it,
    and Halo offers no idempotency key or read API to find out. Callers decide what to do.
    """

    code = "halo_outcome_unknown"
    default_message = "Halo did not answer in time; the ticket may or may not have been created."
    retriable = False
