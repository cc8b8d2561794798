"""The OpenAPI document: valid OpenAPI 3.1 (openapi-spec-validator, which checks against the
official 3.1 schema), complete (every route the app serves), and true (samples and live answers
match the documented schemas)."""

from __future__ import annotations

import copy
import re

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from actions import ACTIONS, SEARCHES
from connector.manifests.openapi import openapi_document
from tests.conftest import auth
from tests.helpers import create_tickets, record, stub_halo_tickets
from triggers import TRIGGERS

DOCUMENT = openapi_document()


def response_schema(path: str, method: str, status: int) -> dict:
    answer = DOCUMENT["paths"][path][method]["responses"][str(status)]
    if "$ref" in answer:
        answer = DOCUMENT["components"]["responses"][answer["$ref"].rsplit("/", 1)[1]]
    return {**answer["content"]["application/json"]["schema"],
            "components": DOCUMENT["components"]}


def check(instance: object, schema: dict) -> None:
    errors = [f"{list(e.absolute_path)}: {e.message}"
              for e in Draft202012Validator(schema).iter_errors(instance)]
    assert errors == []


def test_the_document_is_valid_openapi_3_1():
    assert DOCUMENT["openapi"] == "3.1.0"
    validate(DOCUMENT)
    broken = copy.deepcopy(DOCUMENT)
    del broken["paths"]["/v1/me"]["get"]["responses"]
    broken["components"]["schemas"]["Error"]["type"] = "mapping"
    with pytest.raises(OpenAPIValidationError):
        validate(broken)


def test_every_route_the_app_serves_is_documented(app):
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.rule.startswith("/sandbox"):
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            served.add((path, method.lower()))
    documented = set()
    for path, item in DOCUMENT["paths"].items():
        generic = re.sub(r"^/v1/(actions|searches|triggers)/[a-z_]+$", r"/v1/\1/{key}", path)
        documented |= {(generic, method) for method in item}
    assert served == documented
    operations = {path.rsplit("/", 1)[1] for path in DOCUMENT["paths"]
                  if path.startswith(("/v1/actions/", "/v1/searches/", "/v1/triggers/"))}
    assert operations == {op.key for op in (*ACTIONS, *SEARCHES, *TRIGGERS)}


@pytest.mark.parametrize("operation", [*ACTIONS, *SEARCHES, *TRIGGERS], ids=lambda op: op.key)
def test_every_sample_matches_its_documented_output(operation):
    kind = {"action": "actions", "search": "searches", "trigger": "triggers"}[operation.kind]
    path = f"/v1/{kind}/{operation.key}"
    method = "post" if kind == "actions" else "get"
    schema = response_schema(path, method, operation.status)
    check(dict(operation.sample) if kind == "actions" else [dict(operation.sample)], schema)


def test_live_answers_match_the_document(client, svc, halo):
    stub_halo_tickets(halo)
    created = create_tickets(client, 1)[0]
    check(created, response_schema("/v1/actions/create_ticket", "post", 201))
    record(svc, email=None)
    for trigger in TRIGGERS:
        items = client.get(f"/v1/triggers/{trigger.key}", headers=auth()).get_json()
        assert items
        check(items, response_schema(f"/v1/triggers/{trigger.key}", "get", 200))
    found = client.get("/v1/searches/find_ticket", query_string={"ticket_id": created["id"]},
                       headers=auth()).get_json()
    check(found, response_schema("/v1/searches/find_ticket", "get", 200))
    check(client.get("/v1/me", headers=auth()).get_json(), response_schema("/v1/me", "get", 200))
    invalid = client.post("/v1/actions/create_ticket", headers=auth(), json={"subject": ""})
    assert invalid.status_code == 422
    check(invalid.get_json(), response_schema("/v1/actions/create_ticket", "post", 422))
    unsupported = client.post("/v1/actions/create_ticket", headers=auth(), data=b"x",
                              content_type="text/plain")
    assert unsupported.status_code == 415
    check(unsupported.get_json(), response_schema("/v1/actions/create_ticket", "post", 415))
