"""The Zapier CLI app (``flask manifest zapier OUTDIR``), generated from the operation declarations.

The definition is JSON and uses shorthand requests from ``zapier_requests`` everywhere Zapier
allows one; the only code is the REST-hook ``perform`` (Zapier requires a function there), given
as a source string. ``index.js`` adds the app version and the core version, as Zapier's example
apps do, so the folder is a complete app for ``zapier-platform push``.
"""

from __future__ import annotations

from typing import Any

from actions import ACTIONS, SEARCHES
from connector import __version__
from connector.harness.samples import sample_for
from connector.manifests.fields import InputField, group_label, groups, input_fields
from connector.manifests.files import dump_json
from connector.manifests.zapier_requests import (
    AUTH_FIELDS,
    me_request,
    request_for,
    request_template,
    subscribe_request,
    unsubscribe_request,
)
from connector.operations import Operation, OutputField, Trigger
from triggers import TRIGGERS

#: The zapier-platform-core the app is written for (tests/zapier/package.json pins the same).
ZAPIER_CORE_VERSION = "19.1.0"
#: Suffix of the REST-hook twin of each polling trigger.
INSTANT_SUFFIX = "_instant"
#: Zapier's default hook ``perform``: the delivered item, as a one-item array.
HOOK_PERFORM = {"source": "return [bundle.cleanedRequest];", "args": ["z", "bundle"]}

#: Neutral scalar types Zapier names the same way (objects and lists are ``dict``/``list`` flags).
_SCALARS = ("string", "integer", "number", "boolean", "datetime")


def _scalar(kind: str) -> str:
    if kind not in _SCALARS:
        raise ValueError(f"no Zapier field type for {kind!r}")
    return kind


def auth_fields(base_url: str | None) -> list[dict[str, Any]]:
    url_key, key_key = AUTH_FIELDS
    url_field: dict[str, Any] = {
        "key": url_key, "label": "Connector URL", "type": "string", "required": True,
        "helpText": "The address your Halo Connector is reachable at (its `PUBLIC_URL`), "
                    "e.g. `https://connector.example.com`.",
        "placeholder": "https://connector.example.com",
    }
    if base_url:
        url_field["default"] = base_url
    return [url_field, {
        "key": key_key, "label": "Connector API Key", "type": "password", "required": True,
        "helpText": "One of the keys in the connector's `CONNECTOR_API_KEYS` setting (not your "
                    "Halo widget key); see the connector's README, section Configuration.",
    }]


def input_field(field: InputField) -> dict[str, Any]:
    out: dict[str, Any] = {"key": field.key, "label": field.label, "required": field.required}
    if field.is_dict:
        out["dict"] = True
    elif field.is_list:
        out.update(list=True, type="string")
    else:
        out["type"] = "text" if field.multiline else _scalar(field.type)
    if field.help:
        out["helpText"] = field.help
    if field.placeholder:
        out["placeholder"] = field.placeholder
    if field.choices:
        out["choices"] = dict(field.choices)
    if field.default is not None:
        out["default"] = field.default
    if field.group:
        out["group"] = field.group
    return out


def output_field(field: OutputField) -> dict[str, Any]:
    out: dict[str, Any] = {"key": field.key, "label": field.label}
    if field.type == "object":
        out["dict"] = True
    elif field.type == "array":
        out["list"] = True
    else:
        out["type"] = _scalar(field.type)
    return out


def display(operation: Operation, *, label: str | None = None,
            description: str | None = None) -> dict[str, Any]:
    out = {"label": label or operation.label, "description": description or operation.description}
    if operation.help:
        out["directions"] = operation.help
    return out


def fields_part(operation: Operation) -> dict[str, Any]:
    """inputFields (+ their groups), outputFields and the static sample of an operation."""
    fields = input_fields(operation)
    part: dict[str, Any] = {
        "outputFields": [output_field(f) for f in operation.output_fields],
        "sample": sample_for(operation),
    }
    if fields:
        part["inputFields"] = [input_field(f) for f in fields]
    names = groups(fields)
    if names:
        part["inputFieldGroups"] = [{"key": name, "label": group_label(name)} for name in names]
    return part


def entry(operation: Operation, key: str, operation_part: dict[str, Any],
          **display_args: str) -> dict[str, Any]:
    return {"key": key, "noun": operation.noun, "display": display(operation, **display_args),
            "operation": operation_part}


def instant_description(trigger: Trigger) -> str:
    return trigger.description.rstrip(".") + " (instant, by REST hook)."


def triggers_part() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for trigger in TRIGGERS:
        out[trigger.key] = entry(trigger, trigger.key, {
            "type": "polling", "perform": request_for(trigger), **fields_part(trigger)})
        if not trigger.instant:
            continue
        key = trigger.key + INSTANT_SUFFIX
        out[key] = entry(trigger, key, {
            "type": "hook",
            "perform": dict(HOOK_PERFORM),
            "performList": request_for(trigger),
            "performSubscribe": subscribe_request(trigger.key),
            "performUnsubscribe": unsubscribe_request(),
            **fields_part(trigger),
        }, label=f"{trigger.label} (Instant)", description=instant_description(trigger))
    return out


def search_or_creates_part() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for search in SEARCHES:
        pairing = search.search_or_create
        if pairing is None:
            continue
        out[search.key] = {"key": search.key, "search": search.key, "create": pairing.create,
                           "display": {"label": pairing.label, "description": pairing.description}}
    return out


def zapier_definition(base_url: str | None = None) -> dict[str, Any]:
    """The whole app definition (what ``index.js`` exports, less the two versions it adds)."""
    return {
        "version": __version__,
        "platformVersion": ZAPIER_CORE_VERSION,
        "authentication": {
            "type": "custom",
            "fields": auth_fields(base_url),
            "test": me_request(),
            # /v1/me answers e.g. "default @ Halo (api.haloagents.ai)": tenant and Halo target.
            "connectionLabel": "{{label}}",
        },
        "requestTemplate": request_template(),
        "triggers": triggers_part(),
        "searches": {op.key: entry(op, op.key, {"perform": request_for(op), **fields_part(op)})
                     for op in SEARCHES},
        "creates": {op.key: entry(op, op.key, {"perform": request_for(op), **fields_part(op)})
                    for op in ACTIONS},
        "searchOrCreates": search_or_creates_part(),
    }


INDEX_JS = """\
// Generated by `flask --app app manifest zapier`; edit the connector's operations, not this file.
const definition = require('./definition.json');

module.exports = {
  ...definition,
  version: require('./package.json').version,
  platformVersion: require('zapier-platform-core').version,
};
"""

README = """\
# Halo Connector: Zapier app

Generated by `flask --app app manifest zapier OUTDIR` from the connector's operations: do not
edit by hand, regenerate instead.

1. `npm install` (installs zapier-platform-core {core}).
2. `npx zapier-platform login`, then `npx zapier-platform register "Halo Connector"` once.
3. `npx zapier-platform push` (it validates the app first).

When connecting, enter the connector's public address and one of its `CONNECTOR_API_KEYS`.
The connection is tested with `GET /v1/me`, which also names the connection.
"""


def package_json() -> dict[str, Any]:
    return {
        "name": "halo-connector-zapier",
        "version": __version__,
        "description": "Zapier app for the Halo Connector (generated).",
        "main": "index.js",
        "private": True,
        "engines": {"node": ">=18"},
        "dependencies": {"zapier-platform-core": ZAPIER_CORE_VERSION},
    }


def zapier_files(base_url: str | None = None) -> dict[str, str]:
    """``{relative path: text}`` of the Zapier CLI app folder."""
    return {
        "package.json": dump_json(package_json()),
        "index.js": INDEX_JS,
        "definition.json": dump_json(zapier_definition(base_url)),
        "README.md": README.format(core=ZAPIER_CORE_VERSION),
    }
