"""tickets/create: required fields, limits, types, defaults, customer resolution, response shapes."""

from __future__ import annotations

import re

import pytest

from connector.ticket import json_size

ISO_MICROS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$")


def test_a_valid_ticket_is_stored_with_everything_sent(sandbox):
    response = sandbox.ticket(
        email="jane@example.com", name="Jane Doe", subject="Bug: SEO settings missing",
        message="They were on the Share page.", metadata={"severity": "major"}, source="bug_report",
        priority="priority", ai_enabled=True,
    )
    assert response.status_code == 200
    [stored] = sandbox.inspect("tickets")
    assert stored["id"] == response.json["id"]
    assert (stored["subject"], stored["message"], stored["source"]) == (
        "Bug: SEO settings missing", "They were on the Share page.", "bug_report")
    assert stored["metadata"] == {"severity": "major"}
    assert stored["priority"] == "priority" and stored["ai_enabled"] is True
    assert (stored["customer_email"], stored["customer_name"]) == ("jane@example.com", "Jane Doe")


def test_subject_is_required(sandbox):
    response = sandbox.post("tickets/create", {"email": "jane@example.com"})
    assert response.status_code == 400
    assert "subject" in response.json["error"]
    assert sandbox.inspect("tickets") == []


@pytest.mark.parametrize("subject", ["", None])
def test_an_empty_subject_counts_as_missing(sandbox, subject):
    assert sandbox.post("tickets/create", {"email": "a@example.com", "subject": subject}).status_code == 400


@pytest.mark.parametrize("who", [{}, {"user_id": ""}, {"email": ""}, {"name": "Only A Name"}])
def test_one_of_user_id_or_email_is_required(sandbox, who):
    response = sandbox.post("tickets/create", {"subject": "Hi", **who})
    assert response.status_code == 400
    assert "user_id or email" in response.json["error"]


@pytest.mark.parametrize("who", [{"user_id": "u1"}, {"email": "a@example.com"}])
def test_either_user_id_or_email_alone_is_enough(sandbox, who):
    assert sandbox.post("tickets/create", {"subject": "Hi", **who}).status_code == 200


@pytest.mark.parametrize(
    ("field", "limit"), [("subject", 1_000), ("message", 50_000), ("source", 50)]
)
def test_text_fields_are_limited_in_characters(sandbox, field, limit):
    # Multi-byte characters: the limit counts characters, not bytes.
    assert sandbox.ticket(**{field: "é" * limit}).status_code == 200
    response = sandbox.ticket(**{field: "é" * (limit + 1)})
    assert response.status_code == 400
    assert field in response.json["error"]
    assert len(sandbox.inspect("tickets")) == 1


def _metadata_of_size(size: int, char: str) -> dict:
    """Metadata whose compact UTF-8 JSON is exactly ``size`` bytes, mostly made of ``char``."""
    room = size - json_size({"k": ""})
    count = room // len(char.encode())
    metadata = {"k": char * count + "x" * (room - count * len(char.encode()))}
    assert json_size(metadata) == size
    return metadata


@pytest.mark.parametrize("char", ["x", "€"])
def test_metadata_is_limited_to_50000_bytes_of_compact_utf8_json(sandbox, char):
    assert sandbox.ticket(metadata=_metadata_of_size(50_000, char)).status_code == 200
    response = sandbox.ticket(metadata=_metadata_of_size(50_001, char))
    assert response.status_code == 400
    assert "metadata" in response.json["error"]
    assert len(sandbox.inspect("tickets")) == 1


@pytest.mark.parametrize("metadata", [["a"], "text", 3, True])
def test_metadata_must_be_an_object(sandbox, metadata):
    response = sandbox.ticket(metadata=metadata)
    assert response.status_code == 400
    assert "metadata must be an object" in response.json["error"]


@pytest.mark.parametrize("value", ["true", 1, "yes"])
def test_ai_enabled_must_be_a_boolean(sandbox, value):
    response = sandbox.ticket(ai_enabled=value)
    assert response.status_code == 400
    assert "ai_enabled" in response.json["error"]


@pytest.mark.parametrize("value", ["high", "urgent", "Priority", 1])
def test_priority_accepts_only_priority_or_normal(sandbox, value):
    assert sandbox.ticket(priority=value).status_code == 400


@pytest.mark.parametrize(("value", "status"), [("priority", "priority"), ("normal", "open")])
def test_priority_values_set_the_inbox_status(sandbox, value, status):
    response = sandbox.ticket(priority=value)
    assert response.status_code == 200
    assert response.json["status"] == status
    assert sandbox.inspect("tickets")[0]["priority"] == value


@pytest.mark.parametrize("field", ["subject", "message", "source", "user_id", "email", "name"])
def test_text_fields_must_be_strings(sandbox, field):
    body = {"subject": "Hi", "email": "a@example.com", field: 123}
    response = sandbox.post("tickets/create", body)
    assert response.status_code == 400
    assert field in response.json["error"]


def test_defaults_are_source_api_priority_normal_ai_off_and_message_equal_to_subject(sandbox):
    assert sandbox.ticket(subject="Only a subject").status_code == 200
    [stored] = sandbox.inspect("tickets")
    assert stored["source"] == "api"
    assert stored["priority"] == "normal"
    assert stored["ai_enabled"] is False
    assert stored["message"] == "Only a subject"
    assert stored["metadata"] == {}


@pytest.mark.parametrize("body", [[], "text", None, 5])
def test_a_body_that_is_not_a_json_object_is_rejected(sandbox, body):
    response = sandbox.client.post(
        "/sandbox/api/sdk/tickets/create", data="[]" if body == [] else str(body),
        headers={"Authorization": "Bearer ab_live_testkey123", "Content-Type": "application/json"},
    )
    assert response.status_code == 400


# --- customer resolution -------------------------------------------------------------------


def test_user_id_is_matched_against_external_id_first(sandbox):
    sandbox.post("users/identify", {"user_id": "u1", "traits": {"email": "one@example.com"}})
    sandbox.post("users/identify", {"user_id": "u2", "traits": {"email": "two@example.com"}})
    response = sandbox.ticket(user_id="u1", email="two@example.com")
    assert response.json["user_created"] is False
    assert sandbox.inspect("tickets")[0]["user"]["external_id"] == "u1"


def test_email_is_the_fallback_when_user_id_does_not_match(sandbox):
    sandbox.post("users/identify", {"user_id": "u2", "traits": {"email": "two@example.com"}})
    response = sandbox.ticket(user_id="unknown", email="two@example.com")
    assert response.json["user_created"] is False
    assert sandbox.inspect("tickets")[0]["user"]["external_id"] == "u2"
    assert len(sandbox.inspect("users")) == 1


def test_email_alone_finds_an_existing_user(sandbox):
    first = sandbox.ticket(email="jane@example.com")
    second = sandbox.ticket(email="jane@example.com")
    assert first.json["user_created"] is True and second.json["user_created"] is False
    assert first.json["end_user_id"] == second.json["end_user_id"]


def test_an_unknown_customer_is_created_with_id_email_and_name(sandbox):
    response = sandbox.ticket(user_id="new-1", email="new@example.com", name="New Person")
    assert response.json["user_created"] is True
    user = sandbox.user("new-1")
    assert (user["email"], user["name"]) == ("new@example.com", "New Person")


def test_an_existing_users_name_is_not_overwritten_by_a_ticket(sandbox):
    sandbox.post("users/identify", {"user_id": "u1", "traits": {"name": "Real Name"}})
    sandbox.ticket(user_id="u1", name="Form Name", email="u1@example.com")
    user = sandbox.user("u1")
    assert user["name"] == "Real Name"
    assert user["email"] == "u1@example.com"  # filled in because it was missing


def test_customers_are_separate_per_org(sandbox):
    sandbox.post("tickets/create", {"email": "jane@example.com", "subject": "A"}, key="ab_live_orgone")
    response = sandbox.post("tickets/create", {"email": "jane@example.com", "subject": "B"}, key="ab_live_orgtwo")
    assert response.json["user_created"] is True
    assert len({t["org_id"] for t in sandbox.inspect("tickets")}) == 2


# --- response -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "find_id"),
    [("id", lambda b: b["id"]), ("ticket_id", lambda b: b["ticket_id"]), ("nested", lambda b: b["ticket"]["id"])],
)
def test_the_ticket_id_shape_is_switchable_per_request(sandbox, shape, find_id):
    response = sandbox.post(
        "tickets/create", {"email": "a@example.com", "subject": "Hi"}, headers={"X-Sandbox-Ticket-Shape": shape}
    )
    assert response.status_code == 200
    assert find_id(response.json) == sandbox.inspect("tickets")[0]["id"]


def test_the_ticket_id_shape_can_be_configured():
    from tests.sandbox.conftest import make_sandbox

    sandbox = make_sandbox(ticket_shape="ticket_id")
    body = sandbox.ticket().json
    assert "ticket_id" in body and "id" not in body


def test_an_unknown_ticket_shape_is_refused(sandbox):
    response = sandbox.post(
        "tickets/create", {"email": "a@example.com", "subject": "Hi"}, headers={"X-Sandbox-Ticket-Shape": "flat"}
    )
    assert response.status_code == 400
    assert sandbox.inspect("tickets") == []


def test_timestamps_are_iso_8601_with_microseconds_and_utc_offset(sandbox):
    response = sandbox.ticket()
    assert ISO_MICROS.match(response.json["created_at"])
    user = sandbox.inspect("users")[0]
    for key in ("created_at", "updated_at", "first_seen"):
        assert ISO_MICROS.match(user[key]), key
