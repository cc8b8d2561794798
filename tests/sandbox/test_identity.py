"""Identity verification: 403 without a valid HS256 user_token when it is on, nothing when it is off."""

from __future__ import annotations

import time
import uuid

import pytest

from tests.sandbox.conftest import SECRET, fresh_sandbox, make_sandbox, token, user_token

SERIES = str(uuid.UUID(int=7))

# Each endpoint's request about user "u1"; the token travels in the body as user_token.
USER_SCOPED = {
    "users/identify": {"user_id": "u1"},
    "companies/identify": {"company_id": "c1", "user_id": "u1"},
    "chat": {"message": "hi", "user_id": "u1"},
    "series": {"action": "enroll", "user_id": "u1", "series_id": SERIES},
    "tickets/create": {"user_id": "u1", "subject": "Help"},  # INFERRED from the overview's general rule
    "events": {"user_id": "u1", "events": [{"event_type": "a"}]},  # INFERRED, same rule
}


@pytest.fixture
def verified():
    sandbox = fresh_sandbox(identity_secret=SECRET, identity_verification=True)
    sandbox.client.put(f"/sandbox/control/series/{SERIES}", json={})
    sandbox.post("users/identify", {"user_id": "u1", "user_token": user_token("u1")})
    return sandbox


@pytest.mark.parametrize("path", USER_SCOPED)
def test_a_matching_token_is_accepted(verified, path):
    response = verified.post(path, {**USER_SCOPED[path], "user_token": user_token("u1")})
    assert response.status_code == 200, response.json


@pytest.mark.parametrize(
    ("case", "value"),
    [
        ("missing", None),
        ("other user", user_token("u2")),
        ("expired", user_token("u1", exp=int(time.time()) - 5)),
        ("wrong secret", token({"user_id": "u1"}, "ha_secret_" + "w" * 40)),
        ("no user claim", token({"email": "u1@example.com"})),
        ("user_id claim wins over sub", token({"user_id": "u2", "sub": "u1"})),
        ("other algorithm", "eyJhbGciOiJub25lIn0.eyJ1c2VyX2lkIjoidTEifQ."),
        ("not a string", 12345),
    ],
)
@pytest.mark.parametrize("path", USER_SCOPED)
def test_a_missing_or_invalid_token_is_forbidden(verified, path, case, value):
    body = dict(USER_SCOPED[path])
    if value is not None:
        body["user_token"] = value
    before = {what: len(verified.inspect(what)) for what in ("tickets", "events", "companies")}
    response = verified.post(path, body)
    assert response.status_code == 403, case
    assert "error" in response.json
    assert {what: len(verified.inspect(what)) for what in before} == before


@pytest.mark.parametrize("path", ["users/identify", "chat", "tickets/create"])
def test_sub_is_accepted_as_a_fallback_claim(verified, path):
    body = {**USER_SCOPED[path], "user_token": token({"sub": "u1", "exp": int(time.time()) + 60})}
    assert verified.post(path, body).status_code == 200


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("chat", {"message": "hi"}),
        ("chat", {"message": "hi", "user_id": "anonymous"}),
        ("tickets/create", {"email": "a@example.com", "subject": "Help"}),
        ("tickets/create", {"user_id": "anonymous", "subject": "Help"}),
        ("companies/identify", {"company_id": "c1"}),
        ("events", {"events": [{"event_type": "a"}]}),
    ],
)
def test_anonymous_or_absent_user_ids_need_no_token(verified, path, body):
    assert verified.post(path, body).status_code == 200


@pytest.mark.parametrize("path", ["users/identify", "series"])
def test_endpoints_that_always_name_a_user_do_not_exempt_anonymous(verified, path):
    body = {**USER_SCOPED[path], "user_id": "anonymous"}
    assert verified.post(path, body).status_code == 403


@pytest.mark.parametrize("path", USER_SCOPED)
def test_with_verification_off_no_token_is_needed(sandbox, path):
    sandbox.client.put(f"/sandbox/control/series/{SERIES}", json={})
    sandbox.post("users/identify", {"user_id": "u1"})
    assert sandbox.post(path, USER_SCOPED[path]).status_code == 200


def test_turning_verification_on_without_a_secret_is_a_configuration_error():
    from connector.errors import ConfigError

    with pytest.raises(ConfigError, match="SANDBOX_IDENTITY_SECRET"):
        make_sandbox(identity_verification=True)
