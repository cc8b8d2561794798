"""Rendering a Zap bundle into the HTTP request Zapier sends, exactly as zapier-platform-core
renders a shorthand request (``tools/cleaner.js``, reference/platforms.md A8):

* a curly that is the whole value keeps its type (lists and dict fields stay JSON);
* an array or object inside a longer string throws;
* a curly with no value (unmapped, or null) becomes ``""``;
* the body is JSON; query parameters keep empty values (``?email=``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import urlencode, urlsplit

from connector.errors import ConnectorError
from connector.manifests.zapier_requests import me_request, request_for, request_template
from connector.operations import Operation

#: The operation key of Zapier's authentication test (``GET /v1/me``).
AUTH_TEST = "auth_test"


class RenderError(ConnectorError):
    """Zapier would refuse to build this request (an object or array inside a longer string)."""

    status = 400
    code = "render_error"


@cache
def operations() -> dict[str, Operation | None]:
    from actions import ACTIONS_BY_KEY, SEARCHES_BY_KEY
    from triggers import TRIGGERS_BY_KEY

    return {**ACTIONS_BY_KEY, **SEARCHES_BY_KEY, **TRIGGERS_BY_KEY, AUTH_TEST: None}


def shorthand(operation_key: str) -> dict[str, Any]:
    """The shorthand request of an operation, with the app's ``requestTemplate`` headers merged."""
    operation = operations()[operation_key]
    request = dict(me_request() if operation is None else request_for(operation))
    request["headers"] = {**request_template()["headers"], **request.get("headers", {})}
    return request


def bundle_bank(bundle: dict[str, Any]) -> dict[str, Any]:
    """``{{bundle.x.y}}`` -> value, for every path (objects are reachable whole and by key)."""
    full = {"authData": {}, "inputData": {}, "meta": {}, "subscribeData": {}, "targetUrl": "",
            **bundle}
    bank: dict[str, Any] = {}

    def walk(prefix: str, value: Any) -> None:
        bank[prefix] = value
        if isinstance(value, dict):
            for key, item in value.items():
                walk(f"{prefix}.{key}", item)

    walk("bundle", full)
    return bank


def _replace(template: str, bank: dict[str, Any]) -> Any:
    pieces: list[Any] = []
    rest = template
    while True:
        start = rest.find("{{")
        end = rest.find("}}", start + 2) if start >= 0 else -1
        if start < 0 or end < 0:
            if rest:
                pieces.append(rest)
            break
        head, key, rest = rest[:start], rest[start + 2:end], rest[end + 2:]
        if head:
            pieces.append(head)
        value = bank.get(key)
        if value is None:
            pieces.append("")  # core leaves the curly, then blanks it (normalizeEmpty…Fields)
            continue
        if (head or rest) and isinstance(value, (dict, list)):
            raise RenderError(f"Cannot reliably interpolate objects or arrays into a string. "
                              f"Variable `{key}` is an {'array' if isinstance(value, list) else 'object'}")
        pieces.append(value)
    if len(pieces) == 1 and not isinstance(pieces[0], str):
        return pieces[0]
    return "".join(_text(piece) for piece in pieces)


def _text(value: Any) -> str:
    """How JavaScript joins a value into a string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def render(template: Any, bank: dict[str, Any]) -> Any:
    if isinstance(template, str):
        return _replace(template, bank)
    if isinstance(template, dict):
        return {key: render(value, bank) for key, value in template.items()}
    if isinstance(template, list):
        return [render(value, bank) for value in template]
    return template


@dataclass
class RenderedRequest:
    """A request as it reaches the connector: method, path, query pairs, headers, JSON body."""

    method: str
    path: str
    query: list[tuple[str, str]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    json: Any = None

    def comparable(self) -> dict[str, Any]:
        """What the Node cross-check compares: method, path, query and JSON body."""
        return {"method": self.method, "path": self.path, "query": sorted(self.query),
                "json": self.json}

    @property
    def body(self) -> bytes | None:
        if self.json is None:
            return None
        return json.dumps(self.json, separators=(",", ":"), ensure_ascii=False).encode()

    @property
    def url_path(self) -> str:
        return self.path + ("?" + urlencode(self.query) if self.query else "")


def _query_value(value: Any) -> list[str]:
    """``querystring.stringify``: arrays repeat the key, objects and null become empty."""
    if isinstance(value, list):
        return [_text(item) for item in value]
    if value is None or isinstance(value, dict):
        return [""]
    return [_text(value)]


def render_bundle(operation_key: str, bundle: dict[str, Any]) -> RenderedRequest:
    """The request Zapier sends for ``operation_key`` with ``bundle``."""
    request = render(shorthand(operation_key), bundle_bank(bundle))
    url = urlsplit(request["url"])
    query = [(key, item) for key, value in (request.get("params") or {}).items()
             for item in _query_value(value)]
    headers = {name: _text(value) for name, value in request["headers"].items()}
    headers.update({"User-Agent": "Zapier", "Accept": "*/*"})
    body = request.get("body")
    if body is not None:
        headers["Content-Type"] = "application/json; charset=utf-8"
    return RenderedRequest(method=request["method"], path=url.path or "/", query=query,
                           headers=headers, json=body)
