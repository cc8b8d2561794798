"""The Zapier shorthand request for each operation: the single place that says how a Zap step
becomes an HTTP call to the connector.

The generated Zapier app uses these requests as its ``perform``s, and the fixtures harness renders
Zap bundles through them, so what the harness replays is what Zapier sends.
"""

from __future__ import annotations

from typing import Any

from marshmallow import fields as ma_fields

from connector.operations import Action, Operation, Search, Trigger

#: ``authData`` fields of the generated app's custom authentication.
AUTH_FIELDS = ("base_url", "api_key")
#: Sent by the generated app so the connector records the caller as Zapier.
CLIENT_HEADER = ("X-Halo-Connector-Client", "zapier")

KIND_PATHS = {Action.kind: "actions", Search.kind: "searches", Trigger.kind: "triggers"}


def base_url() -> str:
    """The connector's address, as the user typed it when connecting (no trailing slash)."""
    return "{{bundle.authData.base_url}}"


def request_template() -> dict[str, Any]:
    """Zapier's ``requestTemplate``: merged into every request the app makes."""
    name, value = CLIENT_HEADER
    return {"headers": {"Authorization": "Bearer {{bundle.authData.api_key}}", name: value}}


def visible_fields(operation: Operation) -> list[tuple[str, ma_fields.Field]]:
    """Input fields a user maps, in declaration order (hidden polling parameters excluded)."""
    declared = operation.input_schema._declared_fields  # noqa: SLF001 - marshmallow's own registry
    return [(name, field) for name, field in declared.items()
            if not (field.metadata or {}).get("hidden")]


def request_for(operation: Operation) -> dict[str, Any]:
    """The shorthand request performing ``operation``.

    Actions POST every mapped field as JSON, each as a whole-value curly so lists and dict
    fields keep their type; unmapped fields arrive as ``""``, which the connector reads as
    "not given". Searches send their fields as query parameters. Polling triggers pass Zapier's
    ``bundle.meta.limit`` and ``page``.
    """
    url = f"{base_url()}/v1/{KIND_PATHS[operation.kind]}/{operation.key}"
    mapped = {name: f"{{{{bundle.inputData.{name}}}}}" for name, _ in visible_fields(operation)}
    if operation.kind == Trigger.kind:
        return {"method": "GET", "url": url, "params": {
            **mapped, "limit": "{{bundle.meta.limit}}", "page": "{{bundle.meta.page}}"}}
    if operation.kind == Search.kind:
        return {"method": "GET", "url": url, "params": mapped}
    return {"method": "POST", "url": url, "body": mapped}


def subscribe_request(event: str) -> dict[str, Any]:
    """REST hook ``performSubscribe``: ``POST /v1/hooks``; Zapier keeps the answer (with its
    ``id``) as ``bundle.subscribeData``."""
    return {"method": "POST", "url": f"{base_url()}/v1/hooks",
            "body": {"event": event, "target_url": "{{bundle.targetUrl}}"}}


def unsubscribe_request() -> dict[str, Any]:
    """REST hook ``performUnsubscribe``: ``DELETE /v1/hooks/<id from subscribing>``."""
    return {"method": "DELETE", "url": f"{base_url()}/v1/hooks/{{{{bundle.subscribeData.id}}}}"}


def me_request() -> dict[str, Any]:
    """The authentication test: ``GET /v1/me``."""
    return {"method": "GET", "url": f"{base_url()}/v1/me"}
