"""users/update: the org-scoped token (always), batch size, update_only, first/last_seen untouched."""

from __future__ import annotations

import time

import pytest

from tests.sandbox.conftest import SECRET, fresh_sandbox, org_token, token, user_token


@pytest.fixture
def sandbox():
    return fresh_sandbox(identity_secret=SECRET)


def update(sandbox, users, **body):
    body.setdefault("user_token", org_token())
    return sandbox.post("users/update", {"users": users, **body})


def test_a_valid_org_token_updates_users(sandbox):
    response = update(sandbox, [{"user_id": "u1", "traits": {"role": "admin"}}])
    assert response.status_code == 200
    assert response.json["created"] == 1
    assert sandbox.user("u1")["custom_fields"] == {"role": "admin"}


@pytest.mark.parametrize(
    ("case", "make_token"),
    [
        ("missing", lambda: None),
        ("wrong scope", lambda: org_token(scope="users.identify")),
        ("no scope", lambda: org_token(scope=None)),
        ("no exp", lambda: org_token(exp=None)),
        ("expired", lambda: org_token(exp=int(time.time()) - 10)),
        ("more than one hour ahead", lambda: org_token(exp=int(time.time()) + 3600 + 120)),
        ("wrong secret", lambda: token({"scope": "users.update", "exp": int(time.time()) + 60}, "ha_secret_" + "w" * 40)),
        ("a per-user token", lambda: user_token("u1")),
        ("not a jwt", lambda: "hello"),
    ],
)
def test_anything_but_a_valid_org_token_is_forbidden(sandbox, case, make_token):
    # Tokens are made when the test runs: made at collection, "one hour ahead" stops being more
    # than an hour ahead in a suite that runs longer than two minutes.
    user_token_value = make_token()
    body = {"users": [{"user_id": "u1"}]}
    if user_token_value is not None:
        body["user_token"] = user_token_value
    response = sandbox.post("users/update", body)
    assert response.status_code == 403, case
    assert sandbox.inspect("users") == []


def test_an_org_token_expiring_in_just_under_an_hour_is_accepted(sandbox):
    assert update(sandbox, [{"user_id": "u1"}], user_token=org_token(exp=int(time.time()) + 3590)).status_code == 200


def test_it_is_forbidden_even_with_verification_off_when_no_secret_is_configured():
    sandbox = fresh_sandbox()
    assert update(sandbox, [{"user_id": "u1"}]).status_code == 403


def test_it_needs_the_token_even_when_identity_verification_is_off(sandbox):
    assert sandbox.post("users/update", {"users": [{"user_id": "u1"}]}).status_code == 403


def test_at_most_1000_users_per_call(sandbox):
    assert update(sandbox, [{"user_id": f"u{i}"} for i in range(1000)]).status_code == 200
    response = update(sandbox, [{"user_id": f"v{i}"} for i in range(1001)])
    assert response.status_code == 400
    assert "1000" in response.json["error"]
    assert not any(u["external_id"].startswith("v") for u in sandbox.inspect("users", limit=2000))


def test_update_only_skips_unknown_users_and_counts_them(sandbox):
    update(sandbox, [{"user_id": "known"}])
    response = update(sandbox, [{"user_id": "known", "traits": {"plan": "pro"}}, {"user_id": "ghost"}],
                      update_only=True)
    assert response.json["skipped"] == 1
    assert response.json["updated"] == 1
    assert [u["external_id"] for u in sandbox.inspect("users")] == ["known"]


def test_update_only_must_be_a_boolean(sandbox):
    assert update(sandbox, [{"user_id": "u1"}], update_only="yes").status_code == 400


def test_update_never_touches_last_seen_or_first_seen_of_existing_users(sandbox):
    sandbox.post("users/identify", {"user_id": "u1"})
    before = sandbox.user("u1")
    time.sleep(0.002)
    update(sandbox, [{"user_id": "u1", "traits": {"plan": "pro"}}])
    after = sandbox.user("u1")
    assert (after["last_seen"], after["first_seen"]) == (before["last_seen"], before["first_seen"])
    assert after["custom_fields"] == {"plan": "pro"}
    assert after["updated_at"] > before["updated_at"]


def test_users_created_by_update_were_never_seen(sandbox):
    update(sandbox, [{"user_id": "u1", "traits": {"signed_up_at": "2020-01-01T00:00:00Z"}}])
    user = sandbox.user("u1")
    assert user["last_seen"] is None and user["first_seen"] is None
    assert user["signed_up_at"] == "2020-01-01T00:00:00.000000+00:00"


def test_every_user_needs_a_user_id(sandbox):
    response = update(sandbox, [{"user_id": "u1"}, {"traits": {"plan": "pro"}}])
    assert response.status_code == 400
    assert "users[1].user_id" in response.json["error"]


def test_reserved_trait_keys_are_rejected_across_the_batch(sandbox):
    response = update(sandbox, [{"user_id": "u1", "traits": {"id": 1}}, {"user_id": "u2", "traits": {"last_seen": 2}}])
    assert response.status_code == 400
    assert sorted(response.json["reserved_keys"]) == ["id", "last_seen"]


def test_trait_value_rules_apply(sandbox):
    assert update(sandbox, [{"user_id": "u1", "traits": {"renewal_status": "maybe"}}]).status_code == 400


def test_a_single_top_level_user_is_accepted(sandbox):
    response = sandbox.post("users/update", {"user_id": "solo", "traits": {"plan": "pro"}, "user_token": org_token()})
    assert response.status_code == 200
    assert sandbox.user("solo")["custom_fields"] == {"plan": "pro"}
