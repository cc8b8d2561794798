"""companies/identify: company_id, reserved keys, trait columns, size, user link, timestamps."""

from __future__ import annotations

import re

import pytest

from connector.sandbox.rules import RESERVED_COMPANY_TRAITS
from connector.ticket import json_size

COMPANY_RESERVED = ["id", "external_id", "org_id", "created_at", "updated_at", "health_score", "team_size",
                    "last_contacted_at"]
ISO_MICROS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$")


def identify(sandbox, company_id="c1", **body):
    return sandbox.post("companies/identify", {"company_id": company_id, **body})


def test_the_reserved_list_is_the_documented_one():
    assert sorted(RESERVED_COMPANY_TRAITS) == sorted(COMPANY_RESERVED)


@pytest.mark.parametrize("body", [{}, {"company_id": ""}, {"user_id": "u1"}])
def test_company_id_is_required(sandbox, body):
    response = sandbox.post("companies/identify", body)
    assert response.status_code == 400
    assert "company_id" in response.json["error"]


@pytest.mark.parametrize("key", COMPANY_RESERVED)
def test_each_system_managed_company_trait_is_rejected(sandbox, key):
    response = identify(sandbox, traits={key: 1, "plan": "pro"})
    assert response.status_code == 400
    assert response.json["reserved_keys"] == [key]
    assert "company" in response.json["docs_url"]
    assert sandbox.inspect("companies") == []


def test_company_id_in_traits_is_an_ordinary_custom_field(sandbox):
    # company_id is reserved for users, not for companies.
    assert identify(sandbox, traits={"company_id": "x"}).status_code == 200


def test_documented_example_splits_columns_and_custom_fields(sandbox):
    traits = {"name": "Acme Corp", "plan": "enterprise", "industry": "SaaS", "employee_count": 150,
              "signed_up_at": "2024-08-12T15:32:00Z", "space_id": "space_789"}
    response = identify(sandbox, company_id="company_456", traits=traits,
                        context={"integrations": {"label": "Connected Integrations", "value": ["slack"]}})
    assert response.status_code == 200
    company = response.json["company"]
    assert company["custom_fields"] == {"space_id": "space_789"}
    assert (company["name"], company["plan"], company["employee_count"]) == ("Acme Corp", "enterprise", 150)
    for key in ("signed_up_at", "created_at", "updated_at"):
        assert ISO_MICROS.match(company[key]), key


@pytest.mark.parametrize(("key", "bad"), [("renewal_status", "soon"), ("contract_term", "weekly"),
                                          ("payment_terms", "daily"), ("on_contract", "yes")])
def test_company_trait_values_follow_the_same_rules(sandbox, key, bad):
    assert identify(sandbox, traits={key: bad}).status_code == 400


def test_traits_plus_context_are_limited_to_50000_bytes(sandbox):
    room = 50_000 - json_size({"blob": ""})
    assert identify(sandbox, traits={"blob": "x" * room}).status_code == 200
    response = identify(sandbox, traits={"blob": "x" * room}, context={"c": 1})
    assert response.status_code == 400
    assert "50,000 bytes" in response.json["error"]


def test_traits_are_merged_on_later_calls(sandbox):
    identify(sandbox, traits={"plan": "pro", "space_id": "s1"})
    identify(sandbox, traits={"plan": "enterprise", "region": "eu"})
    [company] = sandbox.inspect("companies")
    assert company["plan"] == "enterprise"
    assert company["custom_fields"] == {"space_id": "s1", "region": "eu"}


def test_user_id_links_the_existing_user_to_the_company(sandbox):
    sandbox.post("users/identify", {"user_id": "u1"})
    response = identify(sandbox, user_id="u1")
    assert response.json["linked_user_id"] == "u1"
    assert sandbox.user("u1")["company_id"] == response.json["company"]["id"]
