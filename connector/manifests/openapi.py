"""The OpenAPI 3.1 document of the connector's HTTP surface (``flask manifest openapi``).

Operation inputs and outputs come from the same declarations as the Zapier and Make apps; the
other routes (REST hooks, webhooks, inbound email, health) are described here. A test checks
that every route the app serves is documented, so a new route cannot be forgotten.
"""

from __future__ import annotations

from typing import Any

from actions import ACTIONS, SEARCHES
from connector import __version__
from connector.errors import MAX_MESSAGE_CHARS
from connector.manifests.fields import InputField, schema_fields
from connector.operations import Operation, OutputField
from connector.web.bodies import FORM_TYPES, JSON_TYPES
from connector.web.hooks import SubscribeInput
from triggers import TRIGGERS

_JSON_TYPES = {"string": "string", "integer": "integer", "number": "number",
               "boolean": "boolean", "datetime": "string", "object": "object", "array": "array"}
_FORMATS = {"email": "email", "url": "uri"}
#: Errors any authenticated operation can answer, and why.
_OPERATION_ERRORS = {
    "400": "The body could not be read (malformed JSON, …).",
    "401": "Missing or invalid connector API key.",
    "413": "The body is larger than MAX_BODY_BYTES.",
    "415": "Unsupported content type; the error lists the accepted ones.",
    "422": "Invalid fields; `errors` names each one.",
    "429": "Halo is rate limiting: retry after `Retry-After` seconds (an integer).",
    "502": "Halo answered with something unusable.",
    "503": "Halo (or the connector's database) is unavailable; retry later.",
}


def ref(name: str, kind: str = "schemas") -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


def camel(key: str) -> str:
    return "".join(part.title() for part in key.split("_"))


def field_schema(field: InputField) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": _JSON_TYPES[field.type], "title": field.label}
    if field.type == "datetime":
        schema["format"] = "date-time"
    if field.format:
        schema["format"] = _FORMATS[field.format]
    if field.is_dict:
        schema["additionalProperties"] = True
    if field.is_list:
        schema["items"] = {"type": "string"}
    if field.choices:
        schema["enum"] = list(field.choices)
    if field.maximum_length is not None:
        schema["maxLength"] = field.maximum_length
    if field.minimum is not None:
        schema["minimum"] = field.minimum
    if field.maximum is not None:
        schema["maximum"] = field.maximum
    if field.default is not None:
        schema["default"] = int(field.default) if field.type == "integer" else field.default
    if field.help:
        schema["description"] = field.help
    return schema


def input_schema(fields: list[InputField], description: str) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object", "description": description,
        "properties": {f.key: field_schema(f) for f in fields}}
    required = [f.key for f in fields if f.required]
    if required:
        schema["required"] = required
    return schema


def output_schema(fields: tuple[OutputField, ...]) -> dict[str, Any]:
    properties = {}
    for field in fields:
        kind = _JSON_TYPES[field.type]
        prop: dict[str, Any] = {"type": kind if field.key == "id" else [kind, "null"],
                                "title": field.label}
        if field.type == "datetime":
            prop["format"] = "date-time"
        if field.help:
            prop["description"] = field.help
        properties[field.key] = prop
    return {"type": "object", "properties": properties, "required": [f.key for f in fields]}


def errors(*statuses: str) -> dict[str, Any]:
    return {status: ref(f"Error{status}", "responses") for status in statuses}


def error_responses() -> dict[str, Any]:
    out = {}
    for status, description in {**_OPERATION_ERRORS, "404": "Not found."}.items():
        response: dict[str, Any] = {"description": description,
                                    "content": {"application/json": {"schema": ref("Error")}}}
        if status in ("429", "503"):
            response["headers"] = {"Retry-After": {
                "description": "Whole seconds to wait.", "schema": {"type": "integer"}}}
        out[f"Error{status}"] = response
    return out


def _operation_doc(operation: Operation) -> dict[str, Any]:
    description = operation.description + (f"\n\n{operation.help}" if operation.help else "")
    return {"operationId": operation.key, "summary": operation.label, "description": description,
            "tags": [operation.kind.title() + ("es" if operation.kind == "search" else "s")]}


def _query_parameters(fields: list[InputField]) -> list[dict[str, Any]]:
    return [{"name": f.key, "in": "query", "required": f.required, "schema": field_schema(f),
             **({"description": f.help} if f.help else {})} for f in fields]


def operation_paths(schemas: dict[str, Any]) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    body_types = JSON_TYPES + FORM_TYPES
    for action in ACTIONS:
        name = camel(action.key)
        schemas[f"{name}Input"] = input_schema(
            schema_fields(action.input_schema),
            "JSON or form fields; `\"\"` and `null` mean not given. Object fields also accept "
            "`field__key`, `field[key]`, line items `[{key, value}]` and JSON strings.")
        schemas[f"{name}Output"] = output_schema(action.output_fields)
        paths[f"/v1/actions/{action.key}"] = {"post": {
            **_operation_doc(action),
            "requestBody": {"required": True, "content": {
                media: {"schema": ref(f"{name}Input")} for media in body_types}},
            "responses": {str(action.status): {"description": "The result.", "content": {
                "application/json": {"schema": ref(f"{name}Output")}}},
                **errors("400", "401", "413", "415", "422", "429", "502", "503")},
        }}
    for operation in (*SEARCHES, *TRIGGERS):
        name = camel(operation.key)
        schemas[f"{name}Item"] = output_schema(operation.output_fields)
        kind = "searches" if operation in SEARCHES else "triggers"
        order = "best match first; empty means not found" if kind == "searches" else (
            "newest first; each `id` is stable and unique")
        paths[f"/v1/{kind}/{operation.key}"] = {"get": {
            **_operation_doc(operation),
            "parameters": _query_parameters(schema_fields(operation.input_schema)),
            "responses": {"200": {"description": f"A bare array, {order}.", "content": {
                "application/json": {"schema": {"type": "array", "items": ref(f"{name}Item")}}}},
                **errors("401", "422", "503")},
        }}
    return paths


def hook_paths(schemas: dict[str, Any]) -> dict[str, Any]:
    schemas["SubscribeInput"] = input_schema(schema_fields(SubscribeInput), "A REST-hook subscription.")
    subscription = {"type": "object", "required": ["id", "event", "target_url", "created_at"],
                    "properties": {"id": {"type": "integer"}, "event": {"type": "string"},
                                   "target_url": {"type": "string"},
                                   "created_at": {"type": "string", "format": "date-time"}}}
    schemas["Subscription"] = subscription
    tags = ["REST hooks"]
    return {
        "/v1/hooks": {
            "post": {"operationId": "subscribe", "summary": "Subscribe a target URL", "tags": tags,
                     "description": "Zapier's performSubscribe / Make's attach. Each item of the "
                                    "event's trigger is POSTed to the target, signed the Standard "
                                    "Webhooks way with the `secret` shown only here. A delivery "
                                    "answered 410 removes the subscription.",
                     "requestBody": {"required": True, "content": {
                         media: {"schema": ref("SubscribeInput")} for media in JSON_TYPES + FORM_TYPES}},
                     "responses": {"201": {"description": "Subscribed.", "content": {
                         "application/json": {"schema": {"allOf": [ref("Subscription"), {
                             "type": "object", "required": ["secret"],
                             "properties": {"secret": {"type": "string"}}}]}}}},
                         **errors("400", "401", "415", "422")}},
            "get": {"operationId": "list_subscriptions", "summary": "List subscriptions",
                    "tags": tags, "responses": {"200": {"description": "Newest first.", "content": {
                        "application/json": {"schema": {"type": "array",
                                                        "items": ref("Subscription")}}}},
                        **errors("401")}},
        },
        "/v1/hooks/{hook_id}": {"delete": {
            "operationId": "unsubscribe", "summary": "Unsubscribe", "tags": tags,
            "description": "Zapier's performUnsubscribe / Make's detach.",
            "parameters": [{"name": "hook_id", "in": "path", "required": True,
                            "schema": {"type": "string"}}],
            "responses": {"200": {"description": "Removed; the subscription as it was.", "content": {
                "application/json": {"schema": {"allOf": [ref("Subscription"), {
                    "type": "object", "properties": {"deleted": {"const": True}}}]}}}},
                **errors("401", "404")}}},
    }


def intake_paths() -> dict[str, Any]:
    from connector.sources import SOURCES

    accepted = {"description": "Stored; delivered to Halo in the background.",
                "content": {"application/json": {"schema": {"type": "object"}}}}
    sender = {"name": "route", "in": "path", "required": True, "schema": {"type": "string"},
              "description": "A sender (" + ", ".join(SOURCES) + ") or a route from the routes "
                             "file."}
    webhook = {"operationId": "receive_webhook", "summary": "Receive a sender's webhook",
               "tags": ["Webhooks"], "security": [],
               "description": "Verified with the sender's own signature scheme (or the secret path "
                              "token), stored, acknowledged at once, deduplicated on the sender's "
                              "event id.",
               "requestBody": {"required": True, "content": {
                   "application/json": {"schema": {}}, "application/x-www-form-urlencoded": {
                       "schema": {"type": "object"}}}},
               "responses": {"202": accepted, "200": {
                   "description": "Understood but nothing to do (a ping, an unhandled event).",
                   "content": {"application/json": {"schema": {"type": "object"}}}},
                   **errors("400", "401", "413", "415", "503")}}
    secret = {"name": "secret", "in": "path", "required": True, "schema": {"type": "string"},
              "description": "The route's secret token, for senders that cannot sign."}
    email = {"description": "Stored; the customer found (or why not).",
             "content": {"application/json": {"schema": {"type": "object"}}}}
    return {
        "/hooks/{route}": {"post": {**webhook, "parameters": [sender]}},
        "/hooks/{route}/{secret}": {"post": {**webhook, "operationId": "receive_webhook_with_secret",
                                             "parameters": [sender, secret]}},
        "/inbound/email": {"post": {
            "operationId": "inbound_email", "summary": "Receive a raw email", "tags": ["Email"],
            "parameters": [{"name": "recipient", "in": "query", "required": False,
                            "schema": {"type": "string"},
                            "description": "The support address the email was sent to."}],
            "requestBody": {"required": True, "content": {"message/rfc822": {
                "schema": {"type": "string"}}}},
            "responses": {"202": email, **errors("400", "401", "413", "415", "503")}}},
        "/inbound/mailgun": {"post": {
            "operationId": "inbound_mailgun", "summary": "Receive a Mailgun route's forward",
            "tags": ["Email"], "security": [],
            "description": "Verified with Mailgun's signature, timestamp and token.",
            "requestBody": {"required": True, "content": {
                media: {"schema": {"type": "object"}} for media in FORM_TYPES}},
            "responses": {"202": email, **errors("400", "401", "413", "503")}}},
    }


def health_paths() -> dict[str, Any]:
    status = {"application/json": {"schema": {"type": "object", "properties": {
        "status": {"type": "string"}}, "required": ["status"]}}}
    return {
        "/health": {"get": {"operationId": "health", "summary": "Alive", "tags": ["Health"],
                            "security": [], "responses": {"200": {"description": "The process "
                                                                  "answers.", "content": status}}}},
        "/ready": {"get": {"operationId": "ready", "summary": "Ready", "tags": ["Health"],
                           "security": [], "responses": {
                               "200": {"description": "The database answers.", "content": status},
                               "503": {"description": "The database is unreachable.",
                                       "content": status}}}},
    }


def me_path(schemas: dict[str, Any]) -> dict[str, Any]:
    schemas["Me"] = {"type": "object", "required": ["tenant", "label"], "properties": {
        key: {"type": "string"} for key in ("tenant", "label", "halo", "halo_api_host", "client",
                                            "connector_version", "api_version")}}
    return {"/v1/me": {"get": {
        "operationId": "me", "summary": "Test the key", "tags": ["Connection"],
        "description": "Zapier's authentication test and Make's connection check; `label` names "
                       "the connection.",
        "responses": {"200": {"description": "Who the key belongs to.", "content": {
            "application/json": {"schema": ref("Me")}}}, **errors("401")}}}}


def openapi_document(base_url: str | None = None) -> dict[str, Any]:
    schemas: dict[str, Any] = {"Error": {
        "type": "object", "required": ["code", "message"], "properties": {
            "code": {"type": "string"},
            "message": {"type": "string", "maxLength": MAX_MESSAGE_CHARS},
            "errors": {"type": "object", "additionalProperties": {
                "type": "array", "items": {"type": "string"}}},
            "retry_after": {"type": "integer"},
            "accepted": {"type": "array", "items": {"type": "string"}}}}}
    paths = {**me_path(schemas), **operation_paths(schemas), **hook_paths(schemas),
             **intake_paths(), **health_paths()}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Halo Connector", "version": __version__,
                 "description": "Creates Halo tickets from Zapier, Make, webhooks and email, for "
                                "the real customer. Generated from the connector's operations."},
        "servers": [{"url": base_url or "http://127.0.0.1:5000"}],
        "security": [{"bearer": []}, {"apiKey": []}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer",
                           "description": "A key from CONNECTOR_API_KEYS."},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}},
            "schemas": schemas,
            "responses": error_responses(),
        },
    }
