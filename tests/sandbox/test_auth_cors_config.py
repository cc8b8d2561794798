"""Widget-key authentication, orgs derived from keys, CORS, and the unauthenticated GET /config."""

from __future__ import annotations

import uuid

import pytest

from connector.sandbox.store import org_id_for_key
from tests.sandbox.conftest import API, KEY, make_sandbox

AUTHENTICATED = ["tickets/create", "users/identify", "users/update", "companies/identify", "events", "chat", "series"]


@pytest.mark.parametrize("path", AUTHENTICATED)
@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer ", "Basic ab_live_abc", "ab_live_abc", "Bearer ha_secret_abc",
     "Bearer pk_live_abc", "Bearer ab_live_", "Bearer ab_live_has space"],
)
def test_a_missing_or_malformed_widget_key_is_401(sandbox, path, authorization):
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = sandbox.client.post(f"{API}/{path}", json={"subject": "x", "email": "a@example.com"}, headers=headers)
    assert response.status_code == 401
    assert response.json["error"]
    assert sandbox.inspect("tickets") == []


@pytest.mark.parametrize("key", ["ab_live_xxxxxxxxxxxxxxxx", "ab_test_abc123", "ab_live_sandbox"])
def test_any_well_formed_key_is_accepted_by_default(sandbox, key):
    assert sandbox.post("tickets/create", {"subject": "x", "email": "a@example.com"}, key=key).status_code == 200


def test_a_configured_key_list_refuses_other_well_formed_keys():
    sandbox = make_sandbox(api_keys=frozenset({"ab_live_only"}))
    assert sandbox.post("chat", {"message": "hi"}, key="ab_live_only").status_code == 200
    assert sandbox.post("chat", {"message": "hi"}, key="ab_live_other").status_code == 401


def test_each_key_maps_to_its_own_deterministic_org(sandbox):
    sandbox.post("tickets/create", {"subject": "x", "email": "a@example.com"}, key="ab_live_one")
    sandbox.post("tickets/create", {"subject": "x", "email": "a@example.com"}, key="ab_live_two")
    orgs = {t["org_id"] for t in sandbox.inspect("tickets")}
    assert orgs == {org_id_for_key("ab_live_one"), org_id_for_key("ab_live_two")}
    assert org_id_for_key("ab_live_one") == org_id_for_key("ab_live_one")
    uuid.UUID(org_id_for_key("ab_live_one"))


def test_every_answer_allows_any_origin(sandbox):
    answers = [
        sandbox.post("tickets/create", {"subject": "x", "email": "a@example.com"}),
        sandbox.post("tickets/create", {}),
        sandbox.post("chat", {"message": "hi"}, key=None),
        sandbox.client.get(f"{API}/config"),
        sandbox.client.get(f"{API}/no-such-endpoint"),
        sandbox.client.get(f"{API}/tickets/create", headers={"Authorization": f"Bearer {KEY}"}),
        sandbox.post("chat", {"message": "hi"}, headers={"X-Sandbox-Fault": "503"}),
        sandbox.client.get("/sandbox/inspect/tickets"),
    ]
    for response in answers:
        assert response.headers["Access-Control-Allow-Origin"] == "*", response.status_code


@pytest.mark.parametrize("path", AUTHENTICATED + ["config"])
def test_preflight_requests_are_answered_without_a_key(sandbox, path):
    response = sandbox.client.options(
        f"{API}/{path}",
        headers={"Origin": "https://example.com", "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "authorization, content-type"},
    )
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "authorization" in response.headers["Access-Control-Allow-Headers"].lower()
    assert "POST" in response.headers["Access-Control-Allow-Methods"]


def test_config_is_unauthenticated_and_answers_for_a_known_org(sandbox):
    sandbox.post("chat", {"message": "hi"})
    response = sandbox.client.get(f"{API}/config", query_string={"org_id": org_id_for_key(KEY)})
    assert response.status_code == 200
    assert set(response.json) == {"agent", "organization"}
    assert {"id", "name", "skills", "status", "flow_config"} <= set(response.json["agent"])


def test_config_knows_configured_keys_before_any_call():
    sandbox = make_sandbox(api_keys=frozenset({"ab_live_configured"}))
    response = sandbox.client.get(f"{API}/config", query_string={"org_id": org_id_for_key("ab_live_configured")})
    assert response.status_code == 200


@pytest.mark.parametrize(("org_id", "status"), [(None, 400), ("not-a-uuid", 400), (str(uuid.UUID(int=5)), 404)])
def test_config_errors(sandbox, org_id, status):
    query = {"org_id": org_id} if org_id else {}
    response = sandbox.client.get(f"{API}/config", query_string=query)
    assert response.status_code == status
    assert response.json["error"]


def test_unknown_paths_and_wrong_methods_answer_json(sandbox):
    assert sandbox.post("tickets/list", {}).status_code == 404
    wrong = sandbox.client.get(f"{API}/tickets/create", headers={"Authorization": f"Bearer {KEY}"})
    assert wrong.status_code == 405
    assert wrong.json["error"]
