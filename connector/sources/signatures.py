"""How senders prove a request is theirs: HMAC headers, Standard Webhooks, HubSpot, shared secrets.

Every check runs over the raw request bytes exactly as received, compares in constant time
(``hmac.compare_digest`` on bytes), and raises ``Unauthorized`` with a message that names what
is wrong but never echoes a secret or the signature received.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import unquote

from connector.errors import ServiceUnavailable, Unauthorized
from connector.sources.base import Delivery

#: Shared secrets travel in URLs and headers like passwords; short ones are guessable.
MIN_SHARED_SECRET_CHARS = 16


class SenderNotConfigured(ServiceUnavailable):
    """The sender's secret is missing or unusable: an operator must set a variable.

    503 rather than 404/410, because senders disable a hook on those, and 503 makes Typeform,
    HubSpot and Standard Webhooks senders keep retrying until the variable is set.
    """

    code = "sender_not_configured"
    default_message = "This webhook sender is not configured on the connector."


@dataclass(frozen=True)
class Secrets:
    """The configured secret(s) of a route, and the variable they come from (for messages)."""

    variable: str
    values: tuple[str, ...]

    def __iter__(self) -> Iterator[str]:
        return iter(self.values)


def same(a: str | bytes, b: str | bytes) -> bool:
    """Constant-time equality for text or bytes (``compare_digest`` refuses non-ASCII text)."""
    a = a.encode() if isinstance(a, str) else a
    b = b.encode() if isinstance(b, str) else b
    return hmac.compare_digest(a, b)


def _encode(digest: bytes, encoding: str) -> str:
    return digest.hex() if encoding == "hex" else base64.b64encode(digest).decode()


def compact_json(raw: bytes) -> bytes | None:
    """The body as ``JSON.stringify`` would write it, for senders that sign a re-serialisation."""
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True)
class BodyTimestamp:
    """A signed millisecond timestamp inside the JSON body (Linear's ``webhookTimestamp``)."""

    key: str
    window_seconds: float

    def check(self, delivery: Delivery, now: float, label: str) -> None:
        try:
            data = json.loads(delivery.raw)
        except (ValueError, RecursionError):
            raise Unauthorized(f"{label} body is not JSON, so its {self.key} cannot be checked.") from None
        stamp = data.get(self.key) if isinstance(data, dict) else None
        if isinstance(stamp, bool) or not isinstance(stamp, (int, float)):
            raise Unauthorized(f"{label} body has no numeric {self.key}; the request cannot be trusted.")
        if abs(now - stamp / 1000) > self.window_seconds:
            raise Unauthorized(
                f"{label} {self.key} is more than {self.window_seconds:g} s from now "
                "(a replayed request, or check the server clock)."
            )


@dataclass(frozen=True)
class HmacSignature:
    """``<header>: <prefix><hex|base64 HMAC(secret, raw body)>`` (Typeform, GitHub, Linear, …)."""

    header: str
    label: str
    digest: str = "sha256"
    encoding: str = "hex"
    prefix: str = ""
    #: Tally signs ``JSON.stringify(body)``: also accept the compact re-serialisation.
    also_compact_json: bool = False
    timestamp: BodyTimestamp | None = None

    @property
    def describe(self) -> str:
        return f"the {self.header} header"

    def applies(self, delivery: Delivery) -> bool:
        return delivery.header(self.header) is not None

    def verify(self, delivery: Delivery, secrets: Secrets, now: float) -> None:
        presented = (delivery.header(self.header) or "").strip()
        if self.prefix:
            if not presented.lower().startswith(self.prefix.lower()):
                raise Unauthorized(f"Malformed {self.header} header: it must start with {self.prefix}")
            presented = presented[len(self.prefix):]
        if self.encoding == "hex":
            presented = presented.lower()
        if not presented:
            raise Unauthorized(f"Malformed {self.header} header: no signature after the prefix.")
        if not self._matches(delivery.raw, presented, secrets) and not (
            self.also_compact_json and self._matches_compact(delivery.raw, presented, secrets)
        ):
            raise Unauthorized(f"{self.header} does not match the body.")
        if self.timestamp:
            self.timestamp.check(delivery, now, self.label)

    def _matches(self, body: bytes, presented: str, secrets: Secrets) -> bool:
        matched = False
        for secret in secrets:
            expected = _encode(hmac.new(secret.encode(), body, self.digest).digest(), self.encoding)
            matched |= same(expected, presented)
        return matched

    def _matches_compact(self, raw: bytes, presented: str, secrets: Secrets) -> bool:
        compact = compact_json(raw)
        return compact is not None and compact != raw and self._matches(compact, presented, secrets)


def standard_webhooks_key(secret: str, variable: str) -> bytes:
    """The HMAC key of a ``whsec_…`` secret: the base64-decoded part after the prefix."""
    encoded = secret.strip()
    if encoded.startswith("whsec_"):
        encoded = encoded[len("whsec_"):]
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if not key:
        raise SenderNotConfigured(f"{variable} must be the sender's whsec_… signing secret (base64 after whsec_).")
    return key


@dataclass(frozen=True)
class StandardWebhooksSignature:
    """Standard Webhooks (and Svix): ``v1,<base64 HMAC(key, id.timestamp.body)>`` list, ±5 min."""

    tolerance_seconds: int = 300
    prefixes: tuple[str, ...] = ("webhook-", "svix-")
    describe: str = "webhook-id, webhook-timestamp and webhook-signature headers"

    def _prefix(self, delivery: Delivery) -> str | None:
        for prefix in self.prefixes:
            if any(delivery.header(prefix + n) is not None for n in ("id", "timestamp", "signature")):
                return prefix
        return None

    def applies(self, delivery: Delivery) -> bool:
        return self._prefix(delivery) is not None

    def verify(self, delivery: Delivery, secrets: Secrets, now: float) -> None:
        prefix = self._prefix(delivery) or self.prefixes[0]
        values = {n: delivery.header(prefix + n) for n in ("id", "timestamp", "signature")}
        for name, value in values.items():
            if not value:
                raise Unauthorized(f"Missing {prefix}{name} header.")
        msg_id, stamp, signatures = values["id"] or "", values["timestamp"] or "", values["signature"] or ""
        if "." in msg_id:
            raise Unauthorized(f"Malformed {prefix}id header: it must not contain '.'.")
        if not stamp.isdigit():
            raise Unauthorized(f"Malformed {prefix}timestamp header: expected whole seconds.")
        if abs(now - int(stamp)) > self.tolerance_seconds:
            raise Unauthorized(
                f"{prefix}timestamp is more than {self.tolerance_seconds // 60} minutes from now "
                "(a replayed request, or check the server clock)."
            )
        presented = [
            value for version, _, value in (entry.partition(",") for entry in signatures.split())
            if version == "v1" and value
        ]
        if not presented:
            raise Unauthorized(f"Malformed {prefix}signature header: no v1 signature.")
        signed = f"{msg_id}.{stamp}.".encode() + delivery.raw
        matched = False
        for secret in secrets:
            expected = base64.b64encode(
                hmac.new(standard_webhooks_key(secret, secrets.variable), signed, hashlib.sha256).digest()
            ).decode()
            for value in presented:
                matched |= same(expected, value)
        if not matched:
            raise Unauthorized(f"No {prefix}signature entry matches the body.")


#: Characters HubSpot decodes in the request URI before signing (developers.hubspot.com).
_HUBSPOT_DECODED = ("%3A", "%2F", "%3F", "%40", "%21", "%24", "%27", "%28", "%29", "%2A", "%2C", "%3B")


def hubspot_uri(url: str) -> str:
    for escaped in _HUBSPOT_DECODED:
        url = url.replace(escaped, unquote(escaped)).replace(escaped.lower(), unquote(escaped))
    return url


@dataclass(frozen=True)
class HubSpotSignature:
    """HubSpot v3 (method+URI+body+timestamp, base64, 5 min), with v1/v2 (plain SHA-256) too."""

    tolerance_seconds: int = 300
    describe: str = "the X-HubSpot-Signature-v3 (or X-HubSpot-Signature) header"

    def applies(self, delivery: Delivery) -> bool:
        return bool(delivery.header("x-hubspot-signature-v3") or delivery.header("x-hubspot-signature"))

    def verify(self, delivery: Delivery, secrets: Secrets, now: float) -> None:
        if not delivery.called_url:
            raise RuntimeError("HubSpot signatures need the public request URL (pass url=).")
        method, uri = delivery.method.upper(), hubspot_uri(delivery.called_url)
        v3 = delivery.header("x-hubspot-signature-v3")
        if v3:
            stamp = (delivery.header("x-hubspot-request-timestamp") or "").strip()
            if not stamp.isdigit():
                raise Unauthorized("Missing or malformed X-HubSpot-Request-Timestamp header.")
            if abs(now - int(stamp) / 1000) > self.tolerance_seconds:
                raise Unauthorized("X-HubSpot-Request-Timestamp is more than 5 minutes from now.")
            message = f"{method}{uri}".encode() + delivery.raw + stamp.encode()
            candidates = [
                base64.b64encode(hmac.new(s.encode(), message, hashlib.sha256).digest()).decode()
                for s in secrets
            ]
            presented, header = v3.strip(), "X-HubSpot-Signature-v3"
        else:
            version = (delivery.header("x-hubspot-signature-version") or "v1").strip().lower()
            if version == "v1":
                candidates = [hashlib.sha256(s.encode() + delivery.raw).hexdigest() for s in secrets]
            elif version == "v2":
                candidates = [
                    hashlib.sha256(f"{s}{method}{uri}".encode() + delivery.raw).hexdigest() for s in secrets
                ]
            else:
                raise Unauthorized("Unknown X-HubSpot-Signature-Version (expected v1 or v2).")
            presented, header = (delivery.header("x-hubspot-signature") or "").strip().lower(), "X-HubSpot-Signature"
        matched = False
        for candidate in candidates:
            matched |= same(candidate, presented)
        if not matched:
            raise Unauthorized(f"{header} does not match the request.")


@dataclass(frozen=True)
class SharedSecret:
    """For senders that cannot sign: the secret in the path, a token header, Bearer or Basic auth."""

    headers: tuple[str, ...] = ("x-webhook-token", "x-webhook-secret", "x-connector-secret")
    describe: str = "the secret in the URL (/hooks/<name>/<secret>) or an X-Webhook-Token header"

    def presented(self, delivery: Delivery) -> list[str]:
        values = [delivery.path_secret] if delivery.path_secret else []
        values += [v.strip() for h in self.headers if (v := delivery.header(h))]
        authorization = (delivery.header("authorization") or "").strip()
        scheme, _, credentials = authorization.partition(" ")
        if scheme.lower() == "bearer" and credentials.strip():
            values.append(credentials.strip())
        elif scheme.lower() == "basic" and credentials.strip():
            try:
                user, _, password = base64.b64decode(credentials.strip()).decode().partition(":")
            except (binascii.Error, ValueError):
                user = password = ""
            if password or user:
                values.append(password or user)
        return [v for v in values if v]

    def applies(self, delivery: Delivery) -> bool:
        return bool(self.presented(delivery))

    def verify(self, delivery: Delivery, secrets: Secrets, now: float) -> None:
        usable = [s for s in secrets if len(s) >= MIN_SHARED_SECRET_CHARS]
        if not usable:
            raise SenderNotConfigured(
                f"{secrets.variable} must be at least {MIN_SHARED_SECRET_CHARS} characters long "
                "(it is a password in the URL)."
            )
        matched = False
        for value in self.presented(delivery):
            for secret in usable:
                matched |= same(value, secret)
        if not matched:
            raise Unauthorized("The secret in the URL or header does not match.")
