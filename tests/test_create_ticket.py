"""The Create Ticket action over HTTP, with Halo stubbed by `responses`."""

from __future__ import annotations

import json

from sqlalchemy import select

from connector.store import Status, Submission
from tests.conftest import HALO, OTHER_TENANT_KEY, auth

URL = "/v1/actions/create_ticket"


def halo_body(halo, index: int = -1) -> dict:
    return json.loads(halo.calls[index].request.body)


def test_json_body_creates_the_ticket_from_the_real_customer(client, halo):
    halo.post(f"{HALO}/tickets/create", json={"ticket": {"id": "t_1"}}, status=201)
    response = client.post(URL, headers={**auth(), "User-Agent": "Zapier"}, json={
        "email": "pat@example.com", "name": "Pat Doe", "subject": "Printer on fire",
        "message": "Flames everywhere.", "metadata": {"severity": "major"}, "source": "contact_form",
        "priority": "priority", "ai_enabled": True})
    assert response.status_code == 201
    ticket = response.get_json()
    assert ticket["halo_ticket_id"] == "t_1" and isinstance(ticket["id"], int)
    assert ticket["customer_email"] == "pat@example.com" and ticket["origin"] == "zapier"
    assert ticket["created_at"].endswith("Z")
    assert ticket["metadata"] == {"severity": "major"}
    sent = halo_body(halo)
    assert sent == {
        "email": "pat@example.com", "name": "Pat Doe", "subject": "Printer on fire",
        "message": "Flames everywhere.",
        "metadata": {"severity": "major", "connector": {
            "origin": "zapier", "resolved_by": "mapped_field", "submission_id": ticket["submission_id"]}},
        "source": "contact_form", "priority": "priority", "ai_enabled": True,
    }


def test_form_encoded_body_with_unmapped_fields_and_flattened_metadata(client, halo):
    halo.post(f"{HALO}/tickets/create", json={"id": "t_2"})
    response = client.post(URL, headers=auth(), data={
        "email": "pat@example.com", "subject": "Hi", "message": "", "user_id": "", "priority": "",
        "metadata__plan": "pro", "metadata__seats": "12", "metadata__empty": ""})
    assert response.status_code == 201, response.get_json()
    sent = halo_body(halo)
    assert "message" not in sent and "user_id" not in sent and "priority" not in sent
    assert {k: v for k, v in sent["metadata"].items() if k != "connector"} == {"plan": "pro", "seats": "12"}
    assert sent["source"] == "api"


def test_metadata_as_line_items_and_bracket_form_fields(client, halo):
    halo.post(f"{HALO}/tickets/create", json={"id": "a"})
    halo.post(f"{HALO}/tickets/create", json={"id": "b"})
    client.post(URL, headers=auth(), json={"email": "pat@example.com", "subject": "Hi", "metadata": [
        {"key": "plan", "value": "pro"}, {"key": "region", "value": "EU"}]})
    client.post(URL, headers=auth(), data={"email": "pat@example.com", "subject": "Hi",
                                           "metadata[0][key]": "plan", "metadata[0][value]": "pro",
                                           "metadata[browser]": "Firefox"})
    first, second = (halo_body(halo, i)["metadata"] for i in (0, 1))
    assert first["plan"] == "pro" and first["region"] == "EU"
    assert second["plan"] == "pro" and second["browser"] == "Firefox"


def test_traits_and_company_are_identified_before_the_ticket(client, halo):
    halo.post(f"{HALO}/users/identify", json={})
    halo.post(f"{HALO}/companies/identify", json={})
    halo.post(f"{HALO}/tickets/create", json={"id": "t"})
    response = client.post(URL, headers=auth(), json={
        "user_id": "user_123", "email": "pat@example.com", "subject": "Hi", "plan": "pro",
        "role": "admin", "traits__seats": 5, "company_id": "company_456", "company_name": "Acme",
        "company_traits": {"industry": "SaaS"}})
    assert response.status_code == 201
    identify, company, ticket = (halo_body(halo, i) for i in range(3))
    assert identify["user_id"] == "user_123"
    assert identify["traits"] == {"seats": 5, "plan": "pro", "role": "admin", "email": "pat@example.com"}
    assert company == {"company_id": "company_456", "user_id": "user_123",
                       "traits": {"industry": "SaaS", "name": "Acme"}}
    assert ticket["user_id"] == "user_123"


def test_missing_customer_is_422_naming_both_fields(client):
    response = client.post(URL, headers=auth(), json={"subject": "Hi", "email": ""})
    assert response.status_code == 422
    body = response.get_json()
    assert set(body["errors"]) == {"email", "user_id"}
    assert "email" in body["message"]


def test_field_errors_name_each_field(client):
    response = client.post(URL, headers=auth(), json={
        "email": "not-an-email", "priority": "urgent", "colour": "red", "plan": "pro"})
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert {"email", "priority", "colour", "subject"} <= set(errors)
    assert len(response.get_json()["message"]) <= 250


def test_traits_without_a_user_id_are_refused(client):
    response = client.post(URL, headers=auth(), json={"email": "pat@example.com", "subject": "x",
                                                      "plan": "pro"})
    assert response.status_code == 422 and "user_id" in response.get_json()["errors"]


def test_the_same_external_id_never_opens_a_second_ticket(client, halo):
    halo.post(f"{HALO}/tickets/create", json={"id": "t_once"})
    body = {"email": "pat@example.com", "subject": "Hi", "external_id": "row-7"}
    first = client.post(URL, headers=auth(), json=body)
    second = client.post(URL, headers=auth(), json=body)
    assert first.get_json() == second.get_json()
    assert len(halo.calls) == 1


def test_halo_rate_limit_reaches_the_caller_as_429_with_retry_after_and_a_replay_succeeds(client, halo, svc):
    halo.post(f"{HALO}/tickets/create", status=429, headers={"Retry-After": "17"})
    body = {"email": "pat@example.com", "subject": "Hi", "external_id": "resp-1"}
    response = client.post(URL, headers=auth(), json=body)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "17"
    assert response.get_json()["code"] == "halo_rate_limited"
    with svc.store.session() as session:
        assert session.execute(select(Submission.status)).scalar_one() == Status.FAILED
    halo.post(f"{HALO}/tickets/create", json={"id": "t"})
    assert client.post(URL, headers=auth(), json=body).status_code == 201


def test_halo_outage_is_503_and_halo_validation_is_422_with_its_message(client, halo):
    halo.post(f"{HALO}/tickets/create", status=502)
    halo.post(f"{HALO}/tickets/create", status=400, json={"error": "subject is required"})
    outage = client.post(URL, headers=auth(), json={"email": "pat@example.com", "subject": "a"})
    rejected = client.post(URL, headers=auth(), json={"email": "pat@example.com", "subject": "b"})
    assert outage.status_code == 503 and outage.get_json()["code"] == "halo_unavailable"
    assert rejected.status_code == 422 and "subject is required" in rejected.get_json()["message"]


def test_records_belong_to_the_tenant_of_the_key(client, halo, svc):
    halo.post(f"{HALO}/tickets/create", json={"id": "t"})
    client.post(URL, headers=auth(OTHER_TENANT_KEY), json={"email": "pat@example.com", "subject": "Hi"})
    with svc.store.session() as session:
        assert session.execute(select(Submission.tenant)).scalar_one() == "other"


def test_halo_managed_trait_keys_are_refused_before_any_call(client):
    response = client.post(URL, headers=auth(), json={
        "user_id": "u1", "subject": "x", "traits": {"last_seen": "now"}, "company_id": "c",
        "company_traits": {"health_score": 9}})
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"traits", "company_traits"}
