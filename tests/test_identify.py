"""Identify User and Identify Company over HTTP, with Halo stubbed by `responses`."""

from __future__ import annotations

import json

from tests.conftest import HALO, auth


def sent(halo, index: int = -1) -> dict:
    return json.loads(halo.calls[index].request.body)


def test_identify_user_sends_named_and_custom_traits_and_answers_one_object(client, halo):
    halo.post(f"{HALO}/users/identify", json={"user": {
        "id": "eu_9", "created_at": "2026-04-11T12:25:19.492417+00:00"}})
    response = client.post("/v1/actions/identify_user", headers=auth(), json={
        "user_id": "user_123", "email": "jane@example.com", "name": "Jane Doe", "plan": "pro",
        "role": "admin", "signed_up_at": "2024-08-12T15:32:00Z", "traits": {"mrr": 49},
        "traits__seats": "5"})
    assert response.status_code == 200, response.get_json()
    assert sent(halo) == {"user_id": "user_123", "traits": {
        "mrr": 49, "seats": "5", "email": "jane@example.com", "name": "Jane Doe", "plan": "pro",
        "role": "admin", "signed_up_at": "2024-08-12T15:32:00Z"}}
    body = response.get_json()
    assert body["user_id"] == "user_123" and body["email"] == "jane@example.com"
    assert body["traits"]["plan"] == "pro"
    assert body["halo_user_id"] == "eu_9" and body["created_at"] == "2026-04-11T12:25:19Z"
    assert body["updated_at"] is None and body["identified_at"].endswith("Z")


def test_identify_user_as_form_fields_with_line_item_traits_and_a_company_link(client, halo):
    halo.post(f"{HALO}/users/identify", json={})
    halo.post(f"{HALO}/companies/identify", json={})
    response = client.post("/v1/actions/identify_user", headers={"X-API-Key": auth()["Authorization"][7:]},
                           data={"user_id": "u1", "email": "", "traits[0][key]": "tier",
                                 "traits[0][value]": "gold", "company_id": "c1",
                                 "company_name": "Acme"})
    assert response.status_code == 200, response.get_json()
    assert sent(halo, 0) == {"user_id": "u1", "traits": {"tier": "gold"}}
    assert sent(halo, 1) == {"company_id": "c1", "user_id": "u1", "traits": {"name": "Acme"}}
    assert response.get_json()["company_id"] == "c1" and response.get_json()["email"] is None


def test_identify_user_refuses_reserved_traits_before_calling_halo(client):
    response = client.post("/v1/actions/identify_user", headers=auth(), json={
        "user_id": "u1", "traits": {"created_at": "2024-01-01", "last_seen": "x", "ok": 1}})
    assert response.status_code == 422
    body = response.get_json()
    assert "traits" in body["errors"]
    assert "created_at" in body["message"] and "last_seen" in body["message"]


def test_identify_user_needs_a_user_id_and_a_valid_date(client):
    response = client.post("/v1/actions/identify_user", headers=auth(), json={
        "user_id": "", "signed_up_at": "last tuesday"})
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"user_id", "signed_up_at"}


def test_identify_user_traits_over_halos_size_limit_are_422(client):
    response = client.post("/v1/actions/identify_user", headers=auth(), json={
        "user_id": "u1", "traits": {"notes": "x" * 21_000}})
    assert response.status_code == 422 and "20,000" in response.get_json()["message"]


def test_identify_company_links_the_user_and_sends_typed_traits(client, halo):
    halo.post(f"{HALO}/companies/identify", json={"company": {"id": 7, "updated_at": "2026-04-11T12:25:19+00:00"}})
    response = client.post("/v1/actions/identify_company", headers=auth(), data={
        "company_id": "company_456", "name": "Acme Corp", "employee_count": "150",
        "industry": "SaaS", "user_id": "user_123", "traits__space_id": "space_789"})
    assert response.status_code == 200, response.get_json()
    assert sent(halo) == {"company_id": "company_456", "user_id": "user_123", "traits": {
        "space_id": "space_789", "name": "Acme Corp", "industry": "SaaS", "employee_count": 150}}
    body = response.get_json()
    assert body["halo_company_id"] == "7" and body["updated_at"] == "2026-04-11T12:25:19Z"
    assert body["name"] == "Acme Corp" and body["user_id"] == "user_123"


def test_identify_company_refuses_halo_managed_keys(client):
    response = client.post("/v1/actions/identify_company", headers=auth(), json={
        "company_id": "c", "traits": {"health_score": 3}, "employee_count": "many"})
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"employee_count", "traits"}


def test_halo_rate_limit_and_outage_reach_the_caller_with_real_status_codes(client, halo):
    halo.post(f"{HALO}/users/identify", status=429, headers={"Retry-After": "12"})
    halo.post(f"{HALO}/companies/identify", status=503)
    limited = client.post("/v1/actions/identify_user", headers=auth(), json={"user_id": "u"})
    down = client.post("/v1/actions/identify_company", headers=auth(), json={"company_id": "c"})
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "12"
    assert down.status_code == 503 and down.get_json()["code"] == "halo_unavailable"


def test_halo_reserved_key_rejection_is_422_with_halos_words(client, halo):
    halo.post(f"{HALO}/users/identify", status=400, json={
        "error": "Reserved trait keys", "reserved_keys": ["org_id"]})
    response = client.post("/v1/actions/identify_user", headers=auth(), json={"user_id": "u"})
    assert response.status_code == 422
    assert response.get_json()["reserved_keys"] == ["org_id"]


def test_answers_carry_exactly_the_declared_output_fields(client, halo):
    from actions import ACTIONS_BY_KEY

    halo.post(f"{HALO}/users/identify", json={})
    halo.post(f"{HALO}/companies/identify", json={})
    user = client.post("/v1/actions/identify_user", headers=auth(), json={"user_id": "u"}).get_json()
    company = client.post("/v1/actions/identify_company", headers=auth(), json={"company_id": "c"}).get_json()
    assert set(user) == {f.key for f in ACTIONS_BY_KEY["identify_user"].output_fields}
    assert set(company) == {f.key for f in ACTIONS_BY_KEY["identify_company"].output_fields}
