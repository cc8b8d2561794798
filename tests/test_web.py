"""The HTTP basics every entry point shares: health, readiness, auth, body reading, error shape."""

from __future__ import annotations

import json

import pytest

from connector.store import Store

from tests.conftest import API_KEY, auth


def test_health_answers_without_touching_anything(client):
    assert client.get("/health").get_json() == {"status": "ok"}


def test_ready_checks_the_database(client, svc):
    assert client.get("/ready").get_json() == {"status": "ready", "database": "ok"}
    # a database nobody listens for: /ready says so with 503 instead of hanging or 500
    svc.store.dispose()
    svc.store = Store("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")
    response = client.get("/ready")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unreachable"


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong-key-1234"},
                                     {"X-API-Key": "nope-nope-nope"}, {"Authorization": "Basic abc"}])
def test_api_without_a_valid_key_is_401_with_a_clear_message(client, headers):
    response = client.post("/v1/actions/create_ticket", json={}, headers=headers)
    assert response.status_code == 401
    body = response.get_json()
    assert body["code"] == "unauthorized" and "API key" in body["message"]


def test_x_api_key_header_is_accepted_too(client):
    response = client.post("/v1/actions/nope", json={}, headers={"X-API-Key": API_KEY})
    assert response.status_code == 404


def test_unknown_operation_is_404_naming_what_exists(client):
    response = client.post("/v1/actions/delete_everything", json={}, headers=auth())
    assert response.status_code == 404
    assert "create_ticket" in response.get_json()["message"]


def test_malformed_json_is_400_with_the_parse_error(client):
    response = client.post("/v1/actions/create_ticket", data=b'{"subject": "x",}',
                           content_type="application/json", headers=auth())
    assert response.status_code == 400
    assert "not valid JSON" in response.get_json()["message"]
    assert "line 1 column" in response.get_json()["message"]


def test_unsupported_content_type_is_415_listing_the_accepted_types(client):
    response = client.post("/v1/actions/create_ticket", data=b"<xml/>", content_type="text/xml",
                           headers=auth())
    assert response.status_code == 415
    body = response.get_json()
    assert "application/json" in body["message"]
    assert body["accepted"] == ["application/json", "application/x-www-form-urlencoded",
                                "multipart/form-data"]


def test_a_body_over_the_cap_is_413(tmp_path, make_app):
    from tests.conftest import base_env

    app = make_app(base_env(tmp_path, MAX_BODY_BYTES="2048"))
    response = app.test_client().post("/v1/actions/create_ticket", data=json.dumps({"x": "y" * 5000}),
                                      content_type="application/json", headers=auth())
    assert response.status_code == 413
    assert "2048" in response.get_json()["message"]


def test_absurdly_nested_json_is_refused_quickly(client):
    body = "[" * 5000 + "]" * 5000
    response = client.post("/v1/actions/create_ticket", data=body, content_type="application/json",
                           headers=auth())
    assert response.status_code == 400


def test_unknown_urls_answer_json_too(client):
    response = client.get("/nope")
    assert response.status_code == 404 and response.get_json()["code"] == "not_found"
