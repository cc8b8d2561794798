"""Turning a fixture's request into the HTTP request the connector receives, for any channel.

Shared by the offline runner (Flask's test client) and ``--against`` (``requests``), so both send
the same bytes. Webhooks are signed here at replay time with the harness's fixed test secret
(fixtures hold no secret), following the sender's own first scheme; ``<now>`` / ``<now:ms>``
values are filled with the replay clock so signed timestamps stay inside their windows.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from connector.config import sender_secret_variable
from connector.harness.fixtures import Case, FixtureError
from connector.harness.zapier import render_bundle
from connector.hooks.signing import signature
from connector.sources import SOURCES
from connector.sources.signatures import (
    HmacSignature,
    HubSpotSignature,
    SharedSecret,
    StandardWebhooksSignature,
)

#: The fixed, public test secret every sender (and Mailgun) is configured with during a replay.
#: It is not a credential: never use it on a connector that faces the internet.
HARNESS_SECRET = "harness-test-secret-0123456789"
#: Standard Webhooks secrets are ``whsec_`` + base64 of the key.
HARNESS_WHSEC = "whsec_" + base64.b64encode(HARNESS_SECRET.encode()).decode()
#: The connector key the replayed Zapier/Make/API calls present.
HARNESS_API_KEY = "harness-key-0123456789"
API_KEY_PLACEHOLDER = "<api_key>"


def harness_env() -> dict[str, str]:
    """Settings a connector needs to accept replayed traffic: the key and every sender's secret."""
    env = {sender_secret_variable(name): HARNESS_SECRET for name in SOURCES}
    env[sender_secret_variable("standard")] = HARNESS_WHSEC
    env[sender_secret_variable("mailgun")] = HARNESS_SECRET
    env["CONNECTOR_API_KEYS"] = HARNESS_API_KEY
    return env


@dataclass
class Outgoing:
    """One HTTP request to send to the connector."""

    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    query: list[tuple[str, str]] = field(default_factory=list)
    #: Multipart form fields (Mailgun); sent instead of ``body``.
    form: dict[str, str] | None = None

    @property
    def url_path(self) -> str:
        return self.path + ("?" + urlencode(self.query) if self.query else "")


def fill_clock(value: Any, now: float) -> Any:
    """Replace ``"<now>"`` / ``"<now:ms>"`` values with the replay time (epoch s / ms)."""
    if value == "<now>":
        return int(now)
    if value == "<now:ms>":
        return int(now * 1000)
    if isinstance(value, dict):
        return {key: fill_clock(item, now) for key, item in value.items()}
    if isinstance(value, list):
        return [fill_clock(item, now) for item in value]
    return value


def _api_key(given: Any, api_key: str) -> str:
    return api_key if given in (None, API_KEY_PLACEHOLDER) else str(given)


def build(case: Case, request: dict[str, Any], channel: str, *, base_url: str, api_key: str,
          now: float | None = None) -> Outgoing:
    """The request for one fixture step (``request`` is the case's or a ``given`` step's)."""
    now = time.time() if now is None else now
    builder = BUILDERS[channel]
    return builder(case, request, base_url=base_url, api_key=api_key, now=now)


def _zapier(case: Case, request: dict[str, Any], *, base_url: str, api_key: str, now: float) -> Outgoing:
    bundle = {key: dict(value) for key, value in request["bundle"].items()}
    auth = bundle.setdefault("authData", {})
    auth["api_key"] = _api_key(auth.get("api_key"), api_key)
    auth["base_url"] = base_url
    rendered = render_bundle(request["operation"], bundle)
    return Outgoing(rendered.method, rendered.path, rendered.headers, rendered.body, rendered.query)


def _make(case: Case, request: dict[str, Any], *, base_url: str, api_key: str, now: float) -> Outgoing:
    headers = {h["name"]: str(h["value"]).replace(API_KEY_PLACEHOLDER, api_key)
               for h in request["headers"]}
    headers.setdefault("User-Agent", "Make/production")
    query = [(q["name"], str(q["value"])) for q in request["qs"]]
    body: bytes | None = None
    if request["bodyType"] == "raw":
        data = request["data"]
        body = (json.dumps(data) if isinstance(data, (dict, list)) else data).encode()
        headers["Content-Type"] = request["contentType"] or "application/json"
    elif request["bodyType"] == "x_www_form_urlencoded":
        body = urlencode([(f["key"], str(f["value"])) for f in request["formFields"]]).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    return Outgoing(request["method"], _path(request["url"]), headers, body, query)


def _path(url: str) -> str:
    return urlsplit(url).path


def _api(case: Case, request: dict[str, Any], *, base_url: str, api_key: str, now: float) -> Outgoing:
    headers = {name: value.replace(API_KEY_PLACEHOLDER, api_key)
               for name, value in request["headers"].items()}
    body = None
    if request["json"] is not None:
        body = json.dumps(request["json"]).encode()
        headers.setdefault("Content-Type", "application/json")
    elif request["body"] is not None:
        body = request["body"].encode()
    query = [(key, str(value)) for key, value in request["query"].items()]
    return Outgoing(request["method"], request["path"], headers, body, query)


def _webhook(case: Case, request: dict[str, Any], *, base_url: str, api_key: str, now: float) -> Outgoing:
    route = request["route"]
    source = SOURCES.get(route)
    headers = dict(request["headers"])
    if request["json"] is not None:
        raw = json.dumps(fill_clock(request["json"], now), separators=(",", ":"),
                         ensure_ascii=False).encode()
        headers.setdefault("Content-Type", "application/json")
    else:
        raw = request["body"].replace("<now:ms>", str(int(now * 1000))).replace(
            "<now>", str(int(now))).encode()
    path = f"/hooks/{route}"
    if request["sign"] == "none" or source is None:
        return Outgoing("POST", path, headers, raw)
    scheme = source.auth[0]
    if request["sign"] in ("path", "header"):
        scheme = SharedSecret()
    if isinstance(scheme, SharedSecret):
        if request["sign"] == "header":
            headers["X-Webhook-Token"] = HARNESS_SECRET
        else:
            path = f"{path}/{HARNESS_SECRET}"
    elif isinstance(scheme, HmacSignature):
        digest = hmac.new(HARNESS_SECRET.encode(), raw, scheme.digest).digest()
        encoded = digest.hex() if scheme.encoding == "hex" else base64.b64encode(digest).decode()
        headers[scheme.header] = scheme.prefix + encoded
    elif isinstance(scheme, StandardWebhooksSignature):
        message_id = headers.setdefault("webhook-id", f"msg_{uuid.uuid4().hex[:12]}")
        stamp = headers.setdefault("webhook-timestamp", str(int(now)))
        headers["webhook-signature"] = signature(HARNESS_WHSEC, message_id, int(stamp), raw)
    elif isinstance(scheme, HubSpotSignature):
        stamp = str(int(now * 1000))
        message = f"POST{base_url}{path}".encode() + raw + stamp.encode()
        headers["X-HubSpot-Request-Timestamp"] = stamp
        headers["X-HubSpot-Signature-v3"] = base64.b64encode(
            hmac.new(HARNESS_SECRET.encode(), message, hashlib.sha256).digest()).decode()
    else:  # pragma: no cover - a new scheme needs a signer here
        raise FixtureError(case.path, {"request.route": f"cannot sign {type(scheme).__name__}"})
    return Outgoing("POST", path, headers, raw)


def _email(case: Case, request: dict[str, Any], *, base_url: str, api_key: str, now: float) -> Outgoing:
    query = [("recipient", request["recipient"])] if request["recipient"] else []
    return Outgoing("POST", "/inbound/email",
                    {"Content-Type": "message/rfc822", "Authorization": f"Bearer {api_key}"},
                    case.read_sibling(request["eml"]), query)


def _mailgun(case: Case, request: dict[str, Any], *, base_url: str, api_key: str, now: float) -> Outgoing:
    form = dict(request["fields_"])
    if request["eml"]:
        form["body-mime"] = case.read_sibling(request["eml"]).decode("utf-8", errors="surrogateescape")
    token = uuid.uuid4().hex
    stamp = str(int(now))
    form.update(timestamp=stamp, token=token, signature=hmac.new(
        HARNESS_SECRET.encode(), f"{stamp}{token}".encode(), hashlib.sha256).hexdigest())
    return Outgoing("POST", "/inbound/mailgun", {}, None, form=form)


BUILDERS = {"zapier": _zapier, "make": _make, "api": _api, "webhook": _webhook, "email": _email,
            "mailgun": _mailgun}
