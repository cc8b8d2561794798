"""The documented customer precedence, rule by rule, with resolved_by naming the winner."""

from __future__ import annotations

import json

import pytest

from connector.sources.base import Candidate, Field, Submission
from connector.sources.customers import resolve_customer
from connector.sources.lookup import Lookup
from connector.sources.routes import Options


def resolve(fields, options=Options(), candidates=(), sender="test"):
    submission = Submission(title="t", default_subject="s", fields=list(fields), candidates=list(candidates),
                            payload={"deep": {"person": {"mail": "path@example.com"}}})
    return resolve_customer(submission, options, Lookup(submission, {}), sender)


TYPED = Field("q1", "Your email", "typed@example.com", "email")
HIDDEN = Field("hidden:email", "email", "hidden@example.com", "hidden", shown=False)
KNOWN = Field("customer_email", "Customer email", "known@example.com")
LOOSE = Field("q9", "Where can we reach you?", "loose@example.com")


def test_route_email_beats_every_other_rule():
    customer = resolve([TYPED, HIDDEN, KNOWN], Options(email="Customer email"))
    assert (customer.email, customer.resolved_by) == ("known@example.com", "route:email")


def test_route_reference_can_be_a_dotted_payload_path():
    customer = resolve([TYPED], Options(email="deep.person.mail"))
    assert customer.email == "path@example.com"


def test_a_route_reference_that_resolves_to_nothing_falls_through():
    customer = resolve([TYPED], Options(email="no such field"))
    assert customer.resolved_by == "field:q1"


@pytest.mark.parametrize("fields, email, rule", [
    ([KNOWN, HIDDEN, TYPED], "typed@example.com", "field:q1"),
    ([KNOWN, HIDDEN], "hidden@example.com", "hidden:email"),
    ([LOOSE, KNOWN], "known@example.com", "key:customer_email"),
    ([LOOSE, Field("n", "Name", "Maria")], "loose@example.com", "only_email:q9"),
])
def test_precedence_typed_then_hidden_then_known_keys_then_the_only_address(fields, email, rule):
    customer = resolve(fields)
    assert (customer.email, customer.resolved_by) == (email, rule)


def test_sender_hint_comes_after_typed_fields_and_before_hidden_ones():
    hint = Candidate("sender:reporter", email="reporter@example.com")
    assert resolve([HIDDEN], candidates=[hint]).resolved_by == "sender:reporter"
    assert resolve([TYPED], candidates=[hint]).resolved_by == "field:q1"


def test_two_different_loose_addresses_identify_nobody():
    customer = resolve([LOOSE, Field("q10", "Colleague", "other@example.com")])
    assert not customer.identified and customer.resolved_by is None


def test_the_same_address_twice_is_still_one_address():
    customer = resolve([LOOSE, Field("q10", "Again", "LOOSE@example.com")])
    assert customer.email == "loose@example.com"


def test_variables_and_calculated_values_never_identify_anyone():
    customer = resolve([Field("var:x", "x", "var@example.com", "variable", shown=False)])
    assert not customer.identified


def test_name_from_first_and_last_name_fields_or_the_display_name():
    fields = [Field("a", "First name", "Maria"), Field("b", "Last name", "Garcia"), TYPED]
    assert resolve(fields).name == "Maria Garcia"
    assert resolve([Field("e", "Email", "Maria Garcia <maria.garcia@example.org>")]).name == "Maria Garcia"
    assert resolve([Field("c", "Company name", "Example Corp"), TYPED]).name is None


def test_route_user_id_joins_the_email_found_by_the_fields():
    customer = resolve([TYPED, Field("hidden:uid", "uid", "u-1", "hidden")], Options(user_id="uid"))
    assert (customer.user_id, customer.email) == ("u-1", "typed@example.com")
    assert customer.resolved_by == "route:user_id, field:q1"


def test_own_user_id_then_fallback_email_then_the_tool_account_id():
    own = Candidate("sender:user", user_id="app-7", account_id="tool-1")
    tool = Candidate("sender:user", account_id="tool-1")
    assert resolve([], candidates=[own]).user_id == "app-7"
    assert resolve([], Options(fallback_email="team@example.com"), [tool]).email == "team@example.com"
    assert resolve([], candidates=[tool], sender="github").user_id == "github:tool-1"


def test_login_map_comes_from_the_route():
    candidate = Candidate("sender:user", name="octocat", account_id="1", logins=("octocat",))
    customer = resolve([], Options(logins={"octocat": "octocat@example.com"}), [candidate])
    assert customer.email == "octocat@example.com" and customer.name == "octocat"


@pytest.mark.parametrize("value", ["not an email", "a@b", "two@example.com three@example.com", "@example.com",
                                   "x" * 400 + "@example.com", 42, ["a@example.com"]])
def test_values_that_are_not_one_address_are_not_taken(value):
    assert resolve([Field("e", "Email", value, "email")]).email is None


def test_unidentified_submissions_are_kept_with_the_needs_attention_reason():
    from .conftest import read

    body = json.dumps({"message": "no contact details at all"}).encode()
    item = read("make", body).accepted[0]
    assert not item.ticket_request.customer.identified
    assert item.attention.startswith("No customer email or user id in this Make event")
    assert item.ticket_request.provenance["attention"] == item.attention
