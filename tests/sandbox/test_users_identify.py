"""users/identify: user_id, reserved keys, trait columns and values, merging, last_seen, size."""

from __future__ import annotations

import time

import pytest

from connector.sandbox.rules import RESERVED_USER_TRAITS
from connector.ticket import json_size

USER_RESERVED = ["id", "external_id", "org_id", "company_id", "created_at", "updated_at",
                 "first_seen", "last_seen", "last_contacted_at"]


def identify(sandbox, user_id="u1", **body):
    return sandbox.post("users/identify", {"user_id": user_id, **body})


def test_the_reserved_list_is_the_documented_one():
    assert sorted(RESERVED_USER_TRAITS) == sorted(USER_RESERVED)


@pytest.mark.parametrize("body", [{}, {"user_id": ""}, {"traits": {"name": "X"}}])
def test_user_id_is_required(sandbox, body):
    response = sandbox.post("users/identify", body)
    assert response.status_code == 400
    assert "user_id" in response.json["error"]


@pytest.mark.parametrize("key", USER_RESERVED)
def test_each_system_managed_trait_key_is_rejected(sandbox, key):
    response = identify(sandbox, traits={key: "x", "plan": "pro"})
    assert response.status_code == 400
    assert response.json["reserved_keys"] == [key]
    assert response.json["docs_url"].startswith("https://docs.haloagents.ai/")
    assert response.json["error"]
    assert sandbox.inspect("users") == []


def test_one_answer_names_every_offending_key(sandbox):
    response = identify(sandbox, traits={"id": 1, "plan": "pro", "created_at": "x", "last_seen": "y"})
    assert response.status_code == 400
    assert set(response.json) == {"error", "reserved_keys", "docs_url"}
    assert sorted(response.json["reserved_keys"]) == ["created_at", "id", "last_seen"]


def test_reserved_names_outside_traits_are_not_checked(sandbox):
    assert identify(sandbox, context={"id": {"label": "x", "value": 1}}).status_code == 200


def test_recognised_traits_go_to_columns_and_the_rest_to_custom_fields(sandbox):
    traits = {
        "name": "Jane", "email": "jane@example.com", "signed_up_at": "2024-08-12T15:32:00Z",
        "renewal_date": "2026-01-01", "renewal_status": "at_risk", "contract_term": "annual",
        "payment_terms": "monthly", "on_contract": True, "mrr": 99, "arr": 1188,
        "plan": "pro", "role": "admin",
    }
    assert identify(sandbox, traits=traits).status_code == 200
    user = sandbox.user("u1")
    assert user["custom_fields"] == {"plan": "pro", "role": "admin"}
    assert (user["name"], user["email"], user["mrr"], user["on_contract"]) == ("Jane", "jane@example.com", 99, True)
    assert user["signed_up_at"] == "2024-08-12T15:32:00.000000+00:00"
    assert user["renewal_status"] == "at_risk"


@pytest.mark.parametrize(
    ("key", "allowed"),
    [
        ("renewal_status", ["up_for_renewal", "in_progress", "likely_to_renew", "expansion_opportunity",
                            "set_to_cancel", "set_to_cancel_trial", "at_risk", "renewed", "lost"]),
        ("contract_term", ["monthly", "quarterly", "annual", "bi_annual"]),
        ("payment_terms", ["monthly", "quarterly", "annual", "bi_annual"]),
    ],
)
def test_enumerated_traits_accept_only_documented_values(sandbox, key, allowed):
    for value in allowed:
        assert identify(sandbox, traits={key: value}).status_code == 200, value
    for value in ["yearly", "AT_RISK", "", 3]:
        response = identify(sandbox, traits={key: value})
        assert response.status_code == 400, value
        assert key in response.json["error"]


@pytest.mark.parametrize("value", ["true", 1, "yes"])
def test_on_contract_must_be_a_boolean(sandbox, value):
    assert identify(sandbox, traits={"on_contract": value}).status_code == 400


@pytest.mark.parametrize("key", ["signed_up_at", "renewal_date"])
def test_date_traits_must_be_iso_8601(sandbox, key):
    assert identify(sandbox, traits={key: "2026-03-01T10:00:00+02:00"}).status_code == 200
    for bad in ["next tuesday", "03/01/2026", 20260301]:
        assert identify(sandbox, traits={key: bad}).status_code == 400, bad


@pytest.mark.parametrize("field", ["traits", "context"])
def test_traits_and_context_must_be_objects(sandbox, field):
    assert identify(sandbox, **{field: ["a"]}).status_code == 400


def test_traits_and_context_are_merged_and_new_values_overwrite(sandbox):
    identify(sandbox, traits={"plan": "free", "role": "admin", "name": "Jane"},
             context={"a": {"label": "A", "value": 1}})
    identify(sandbox, traits={"plan": "pro"}, context={"b": {"label": "B", "value": 2}})
    user = sandbox.user("u1")
    assert user["custom_fields"] == {"plan": "pro", "role": "admin"}
    assert user["name"] == "Jane"
    assert set(user["context"]) == {"a", "b"}


def test_every_identify_bumps_last_seen_and_keeps_first_seen(sandbox):
    identify(sandbox)
    first = sandbox.user("u1")
    time.sleep(0.002)
    identify(sandbox)
    second = sandbox.user("u1")
    assert second["last_seen"] > first["last_seen"]
    assert second["first_seen"] == first["first_seen"]


def test_traits_plus_context_are_limited_to_20000_bytes(sandbox):
    context = {"c": {"label": "x", "value": "y"}}
    room = 20_000 - json_size(context) - json_size({"blob": ""})
    assert identify(sandbox, traits={"blob": "é" * (room // 2)}, context=context).status_code == 200
    response = identify(sandbox, traits={"blob": "é" * (room // 2) + "xx"}, context=context)
    assert response.status_code == 400
    assert "20,000 bytes" in response.json["error"]


def test_session_id_relinks_earlier_anonymous_events(sandbox):
    sandbox.post("events", {"session_id": "s-1", "events": [{"event_type": "page_view"}]})
    identify(sandbox, session_id="s-1")
    [event] = sandbox.inspect("events")
    assert event["user_id"] == "u1"


def test_the_answer_carries_the_user_record(sandbox):
    body = identify(sandbox, traits={"plan": "pro"}).json
    assert body["success"] is True
    assert body["user"]["external_id"] == "u1"
