"""The Make custom app (``flask manifest make OUTDIR``), in the local-development layout that
Make's VS Code extension ("Make Apps Editor") deploys: ``makecomapp.json`` naming every
component and its code files, ``general/base.iml.json``, one connection, one module per
operation, and a dedicated webhook per instant trigger.

Choices that follow Make's own guidance (reference/platforms.md, section B):

* Polling triggers use ``response.trigger`` ``{type: id, order: desc}`` and ask the connector
  only for items after the last one Make processed (``after_id={{epoch.id}}``): the connector
  then answers the oldest ``limit`` items past it (newest first), so none is skipped or repeated
  however many arrive between runs. Without an epoch id (a new scenario) the parameter is empty,
  which the connector reads as "not given": the newest ``limit`` items, which Make's own id
  bookkeeping filters. The epoch ("choose where to start") lists recent items, fixed limit.
* Instant triggers attach a REST hook (``POST /v1/hooks`` with ``{{webhook.url}}``) and keep its
  id as ``externalHookId`` for detach.
* 429 is a ``RateLimitError`` and 502/503/504 a ``ConnectionError``, which Make reruns with
  backoff instead of switching the scenario off; 401 is ``InvalidAccessTokenError``, 422 a
  ``DataError``.
* Free key/value fields (``dict`` in the field metadata) are Make arrays of ``key``/``value``
  items: a Make user can add rows there, which a spec-less collection does not allow, and the
  connector reads line items as an object.
"""

from __future__ import annotations

from typing import Any

from actions import ACTIONS, SEARCHES
from connector.harness.samples import sample_for
from connector.manifests.fields import InputField, input_fields
from connector.manifests.files import dump_json
from connector.manifests.zapier_requests import AUTH_FIELDS, CLIENT_HEADER, KIND_PATHS
from connector.operations import Action, Operation, OutputField, Search, Trigger
from connector.polling import MAX_LIMIT
from triggers import TRIGGERS

CONNECTION = "halo-connector"
#: The epoch ("choose where to start") asks for this many recent items (Make: at most 300).
EPOCH_LIMIT = 100
#: Default of the required "maximum number of results" of trigger and search modules.
DEFAULT_TRIGGER_LIMIT = 100

_PARAM_TYPES = {"string": "text", "integer": "integer", "number": "number", "boolean": "boolean",
                "datetime": "date"}
_INTERFACE_TYPES = {"string": "text", "integer": "number", "number": "number",
                    "boolean": "boolean", "datetime": "date", "object": "collection",
                    "array": "array"}
#: Make error types per connector status (enums.json#/definitions/error-type).
_ERRORS = {"401": "InvalidAccessTokenError", "422": "DataError", "429": "RateLimitError",
           "502": "ConnectionError", "503": "ConnectionError", "504": "ConnectionError"}
_ERROR_MESSAGE = "[{{statusCode}}] {{ifempty(body.message, body)}}"


def slug(key: str) -> str:
    """``create_ticket`` -> ``create-ticket``: Make component ids and folder names."""
    return key.replace("_", "-")


def base() -> dict[str, Any]:
    url_key, key_key = AUTH_FIELDS
    name, value = CLIENT_HEADER
    return {
        "baseUrl": f"{{{{connection.{url_key}}}}}",
        "headers": {"Authorization": f"Bearer {{{{connection.{key_key}}}}}", name: "make"},
        "response": {"error": {"message": _ERROR_MESSAGE,
                               **{status: {"message": _ERROR_MESSAGE, "type": kind}
                                  for status, kind in _ERRORS.items()}}},
        "log": {"sanitize": ["request.headers.authorization"]},
    }


def connection_params(base_url: str | None) -> list[dict[str, Any]]:
    url_key, key_key = AUTH_FIELDS
    url_param: dict[str, Any] = {
        "name": url_key, "label": "Connector URL", "type": "url", "required": True,
        "help": "The address your Halo Connector is reachable at (its `PUBLIC_URL`), e.g. "
                "`https://connector.example.com`, without a trailing slash."}
    if base_url:
        url_param["default"] = base_url
    return [url_param, {
        "name": key_key, "label": "Connector API Key", "type": "password", "required": True,
        "help": "One of the keys in the connector's `CONNECTOR_API_KEYS` setting (not your Halo "
                "widget key)."}]


def connection_communication() -> dict[str, Any]:
    url_key, key_key = AUTH_FIELDS
    name, _value = CLIENT_HEADER
    return {
        "url": f"{{{{parameters.{url_key}}}}}/v1/me",
        "method": "GET",
        "headers": {"Authorization": f"Bearer {{{{parameters.{key_key}}}}}", name: "make"},
        "response": {"metadata": {"type": "text", "value": "{{body.label}}"},
                     "error": {"message": _ERROR_MESSAGE}},
        "log": {"sanitize": ["request.headers.authorization"]},
    }


def parameter(field: InputField) -> dict[str, Any]:
    """A mappable parameter for one input field."""
    out: dict[str, Any] = {"name": field.key, "label": field.label, "required": field.required}
    if field.choices:
        out.update(type="select", options=[{"label": label, "value": value}
                                           for value, label in field.choices.items()])
    elif field.is_dict:
        out.update(type="array", spec=[
            {"name": "key", "label": "Key", "type": "text", "required": True},
            {"name": "value", "label": "Value", "type": "text"}])
    elif field.is_list:
        out.update(type="array", spec={"type": "text", "label": "Value"})
    elif field.format in ("email", "url"):
        out["type"] = field.format
    elif field.type == "integer" and field.minimum is not None and field.minimum >= 0:
        out["type"] = "uinteger"
    else:
        out["type"] = _PARAM_TYPES[field.type]
    if field.multiline:
        out["multiline"] = True
    if field.help:
        out["help"] = field.help
    if field.default is not None:
        out["default"] = int(field.default) if field.type == "integer" else field.default
    bounds = {"min": field.minimum, "max": field.maximum} if out["type"] in (
        "integer", "uinteger", "number") else {"max": field.maximum_length}
    bounds = {key: value for key, value in bounds.items() if value is not None}
    if bounds:
        out["validate"] = bounds  # Make refuses what the connector would answer 422 for
    if field.group and not field.required:
        out["advanced"] = True  # "Show advanced settings": customer and company extras
    return out


def interface(fields: tuple[OutputField, ...]) -> list[dict[str, Any]]:
    out = []
    for field in fields:
        item: dict[str, Any] = {"name": field.key, "label": field.label,
                                "type": _INTERFACE_TYPES[field.type]}
        if field.type == "datetime":
            item["time"] = True
        out.append(item)
    return out


def url_of(operation: Operation) -> str:
    return f"/v1/{KIND_PATHS[operation.kind]}/{operation.key}"


def action_communication(action: Action) -> dict[str, Any]:
    body = {f.key: f"{{{{parameters.{f.key}}}}}" for f in input_fields(action)}
    return {"url": url_of(action), "method": "POST", "type": "json", "body": body,
            "response": {"output": "{{body}}"}}


def search_communication(search: Search) -> dict[str, Any]:
    qs = {f.key: f"{{{{parameters.{f.key}}}}}" for f in input_fields(search)}
    return {"url": url_of(search), "method": "GET", "qs": qs,
            "response": {"iterate": "{{body}}", "output": "{{item}}", "limit": "{{parameters.limit}}"}}


def trigger_communication(trigger: Trigger) -> dict[str, Any]:
    """Epoch polling: only items after the last one Make processed (see the module docstring)."""
    return {
        "url": url_of(trigger), "method": "GET",
        "qs": {"after_id": "{{epoch.id}}", "limit": "{{parameters.limit}}"},
        "response": {
            "iterate": "{{body}}", "output": "{{item}}", "limit": "{{parameters.limit}}",
            "trigger": {"type": "id", "order": "desc", "id": "{{item.id}}",
                        "date": f"{{{{item.{trigger.date_field}}}}}"},
        },
    }


def trigger_epoch(trigger: Trigger) -> dict[str, Any]:
    """"Choose where to start": the most recent items to start after."""
    label = "{{item.subject}}" if any(f.key == "subject" for f in trigger.output_fields) \
        else f"{trigger.noun} {{{{item.id}}}}"
    return {
        "url": url_of(trigger), "method": "GET", "qs": {"limit": EPOCH_LIMIT},
        "response": {"iterate": "{{body}}", "limit": EPOCH_LIMIT, "output": {
            "date": f"{{{{item.{trigger.date_field}}}}}", "label": f"#{{{{item.id}}}} {label}"}},
    }


def limit_param(help_text: str) -> dict[str, Any]:
    return {"name": "limit", "label": "Maximum number of results", "type": "uinteger",
            "required": True, "default": DEFAULT_TRIGGER_LIMIT, "help": help_text,
            "validate": {"min": 1, "max": MAX_LIMIT}}


def webhook_attach(trigger: Trigger) -> dict[str, Any]:
    return {"url": "/v1/hooks", "method": "POST", "type": "json",
            "body": {"event": trigger.key, "target_url": "{{webhook.url}}"},
            "response": {"data": {"externalHookId": "{{body.id}}"}}}


def webhook_detach() -> dict[str, Any]:
    return {"url": "/v1/hooks/{{webhook.externalHookId}}", "method": "DELETE"}


class _Layout:
    """Collects code files and their ``makecomapp.json`` entries, one component at a time."""

    def __init__(self) -> None:
        self.files: dict[str, str] = {}
        self.components: dict[str, dict[str, Any]] = {
            kind: {} for kind in ("connection", "webhook", "module", "rpc", "function", "endpoint")}

    def add(self, kind: str, component_id: str, meta: dict[str, Any],
            code: dict[str, tuple[str, Any]]) -> None:
        folder = {"connection": "connections", "webhook": "webhooks", "module": "modules"}[kind]
        code_files = {}
        for code_type, (suffix, content) in code.items():
            path = f"{folder}/{component_id}/{component_id}.{suffix}.iml.json"
            self.files[path] = dump_json(content)
            code_files[code_type] = path
        self.components[kind][component_id] = {**meta, "codeFiles": code_files}


def module_code(operation: Operation, communication: dict[str, Any],
                static: list[dict[str, Any]], mappable: list[dict[str, Any]]) -> dict[str, tuple[str, Any]]:
    return {
        "communication": ("communication", communication),
        "staticParams": ("static-params", static),
        "mappableParams": ("mappable-params", mappable),
        "interface": ("interface", interface(operation.output_fields)),
        "samples": ("samples", sample_for(operation)),
    }


def module_label(operation: Operation) -> str:
    return f"Watch {operation.noun}s" if isinstance(operation, Trigger) and \
        operation.label == f"New {operation.noun}" else operation.label


def make_files(base_url: str | None = None) -> dict[str, str]:
    """``{relative path: text}`` of the Make app folder."""
    layout = _Layout()
    layout.add("connection", CONNECTION, {"label": "Halo Connector", "connectionType": "basic"}, {
        "communication": ("communication", connection_communication()),
        "params": ("params", connection_params(base_url)),
    })
    groups: dict[str, list[str]] = {"Triggers": [], "Actions": [], "Searches": []}
    for trigger in TRIGGERS:
        watch = f"watch-{slug(trigger.key)}"
        layout.add("module", watch, {
            "label": module_label(trigger), "description": trigger.description,
            "moduleType": "trigger", "connection": CONNECTION,
        }, {**module_code(trigger, trigger_communication(trigger),
                          [limit_param("How many items one run takes at most; the rest wait for "
                                       "the next run.")], []),
            "epoch": ("epoch", trigger_epoch(trigger))})
        groups["Triggers"].append(watch)
        if not trigger.instant:
            continue
        hook = f"{slug(trigger.key)}-hook"
        layout.add("webhook", hook, {"label": trigger.label, "webhookType": "web",
                                     "connection": CONNECTION}, {
            "communication": ("communication", {"output": "{{body}}"}),
            "params": ("params", []),
            "attach": ("attach", webhook_attach(trigger)),
            "detach": ("detach", webhook_detach()),
        })
        instant = f"{watch}-instant"
        layout.add("module", instant, {
            "label": f"{module_label(trigger)} (Instant)",
            "description": trigger.description.rstrip(".") + " (instant).",
            "moduleType": "instant_trigger", "connection": CONNECTION, "webhook": hook,
        }, module_code(trigger, {"output": "{{body}}"}, [], []))
        groups["Triggers"].append(instant)
    for action in ACTIONS:
        layout.add("module", slug(action.key), {
            "label": action.label, "description": action.description, "moduleType": "action",
            "actionCrud": "create" if action.key.startswith("create") else "update",
            "connection": CONNECTION,
        }, module_code(action, action_communication(action), [],
                       [parameter(f) for f in input_fields(action)]))
        groups["Actions"].append(slug(action.key))
    for search in SEARCHES:
        layout.add("module", slug(search.key), {
            "label": search.label, "description": search.description, "moduleType": "search",
            "actionCrud": "read", "connection": CONNECTION,
        }, module_code(search, search_communication(search), [],
                       [parameter(f) for f in input_fields(search)]))
        groups["Searches"].append(slug(search.key))
    layout.files["general/base.iml.json"] = dump_json(base())
    layout.files["modules/groups.json"] = dump_json(
        [{"label": label, "modules": modules} for label, modules in groups.items() if modules])
    layout.files["README.md"] = README
    layout.files["makecomapp.json"] = dump_json({
        "fileVersion": 1,
        "generalCodeFiles": {"base": "general/base.iml.json", "common": None,
                             "groups": "modules/groups.json", "readme": "README.md"},
        "components": layout.components,
        "origins": [{
            "label": "Make (set baseUrl to your zone and appId to your app)",
            "baseUrl": "https://eu1.make.com/api", "appId": "halo-connector", "appVersion": 1,
            "apikeyFile": ".secrets/apikey",
        }],
    })
    return layout.files


README = """\
# Halo Connector: Make custom app

Generated by `flask --app app manifest make OUTDIR` from the connector's operations: do not edit
by hand, regenerate instead.

1. Create a custom app in Make (Custom Apps > Create a new app), then open this folder in VS Code
   with Make's "Make Apps Editor" extension.
2. In `makecomapp.json`, set the origin's `baseUrl` to your Make zone (e.g.
   `https://us1.make.com/api`) and `appId` to your app's id; put a Make API token in
   `.secrets/apikey` (never commit it).
3. Right-click `makecomapp.json` > "Deploy to Make".

Connect with the connector's public address and one of its `CONNECTOR_API_KEYS`; the connection
is checked with `GET /v1/me`, which also names it.
"""
