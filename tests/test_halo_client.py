"""The Halo client against `responses`: every status, every fault, retries, tokens and batching."""

from __future__ import annotations

import json
import logging
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone

import jwt
import pytest
import requests
import responses
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError

from connector.errors import (
    HaloCredentialsError,
    HaloError,
    HaloForbidden,
    HaloOutcomeUnknown,
    HaloRateLimited,
    HaloUnavailable,
    HaloValidationError,
)
from connector.halo import HaloClient, extract_ticket_id
from connector.halo.retry import Backoff, parse_retry_after

BASE = "https://halo.test/api/sdk"
KEY = "ab_live_secretkey42"
SECRET = "ha_secret_test_identity_0123456789abcdef"
NOW = 1_800_000_000.0
TICKET = {"email": "pat@example.com", "subject": "Printer on fire"}


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def make_client(**options) -> tuple[HaloClient, Sleeps]:
    sleeps = Sleeps()
    defaults = dict(max_retries=2, sleep=sleeps, rng=lambda: 0.5, clock=lambda: NOW,
                    backoff=Backoff(base=1.0, cap=8.0))
    defaults.update(options)
    return HaloClient(BASE, KEY, **defaults), sleeps


def claims_of(token: str) -> dict:
    return jwt.decode(token, SECRET, algorithms=["HS256"],
                      options={"verify_exp": False, "verify_iat": False})


def refused() -> requests.ConnectionError:
    reason = NewConnectionError(None, "Connection refused")  # type: ignore[arg-type]
    return requests.ConnectionError(MaxRetryError(None, BASE, reason))  # type: ignore[arg-type]


def dropped() -> requests.ConnectionError:
    return requests.ConnectionError(ProtocolError("Connection aborted.", ConnectionResetError()))


# --- success and the request itself ---------------------------------------------------------


@pytest.mark.parametrize("answer, expected", [
    ({"id": "t_1"}, "t_1"),
    ({"ticket_id": 42}, "42"),
    ({"ticket": {"id": "t_3", "status": "open"}}, "t_3"),
    ({"data": {"ticket": {"id": "t_4"}}}, "t_4"),
    ({"success": True}, None),
])
def test_create_ticket_accepts_every_reasonable_id_shape(answer, expected):
    client, _ = make_client()
    with responses.RequestsMock() as halo:
        halo.post(f"{BASE}/tickets/create", json=answer, status=201)
        created = client.create_ticket(TICKET)
    assert created.ticket_id == expected
    assert created.body == answer


def test_request_carries_bearer_key_json_body_and_both_timeouts():
    client, _ = make_client(connect_timeout=2.5, read_timeout=9)
    with responses.RequestsMock() as halo:
        halo.post(f"{BASE}/tickets/create", json={"id": "t"})
        client.create_ticket(TICKET)
        call = halo.calls[0]
    assert call.request.headers["Authorization"] == f"Bearer {KEY}"
    assert call.request.headers["Content-Type"] == "application/json"
    assert json.loads(call.request.body) == TICKET
    assert call.request.req_kwargs["timeout"] == (2.5, 9)


def test_extract_ticket_id_ignores_booleans_and_empty_values():
    assert extract_ticket_id({"id": True}) is None
    assert extract_ticket_id({"id": ""}) is None
    assert extract_ticket_id(["t"]) is None


# --- retries ---------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [408, 500, 502, 503, 504])
def test_retriable_statuses_are_retried_with_full_jitter_backoff(status):
    client, sleeps = make_client()
    with responses.RequestsMock() as halo:
        halo.post(f"{BASE}/tickets/create", status=status)
        halo.post(f"{BASE}/tickets/create", status=status)
        halo.post(f"{BASE}/tickets/create", json={"id": "t"})
        assert client.create_ticket(TICKET).ticket_id == "t"
        assert len(halo.calls) == 3
    # rng 0.5 of min(cap, base * 2**attempt): 0.5 * 1, 0.5 * 2
    assert sleeps == [0.5, 1.0]


def test_backoff_is_capped_and_spread_by_the_random_draw():
    backoff = Backoff(base=1.0, cap=8.0)
    assert backoff.delay(10, rng=lambda: 0.999) == pytest.approx(7.992)
    assert backoff.delay(3, rng=lambda: 0.0) == 0.0
    assert Backoff(base=1, cap=8, floor=1).delay(0, rng=lambda: 0.0) == 1


def test_unavailable_after_retries_are_exhausted():
    client, sleeps = make_client(max_retries=1)
    with responses.RequestsMock() as halo:
        halo.post(f"{BASE}/tickets/create", status=503, json={"error": "maintenance"})
        halo.post(f"{BASE}/tickets/create", status=503, json={"error": "maintenance"})
        with pytest.raises(HaloUnavailable) as caught:
            client.create_ticket(TICKET)
    assert caught.value.status == 503
    assert caught.value.halo_status == 503
    assert "maintenance" in caught.value.message
    assert len(sleeps) == 1


def test_429_waits_the_retry_after_seconds_then_succeeds():
    client, sleeps = make_client()
    with responses.RequestsMock() as halo:
        halo.post(f"{BASE}/tickets/create", status=429, headers={"Retry-After": "4"})
        halo.post(f"{BASE}/tickets/create", json={"id": "t"})
        client.create_ticket(TICKET)
    assert sleeps == [pytest.approx(4 * 1.05)]


def test_429_with_an_http_date_retry_after_is_honoured():
    client, sleeps = make_client()
    when = format_datetime(datetime.fromtimestamp(NOW + 7, tz=timezone.utc), usegmt=True)
    with responses.RequestsMock() as halo:
        halo.post(f"{BASE}/tickets/create", status=429, headers={"Retry-After": when})
        halo.post(f"{BASE}/tickets/create", json={"id": "t"})
        client.create_ticket(TICKET)
    assert sleeps == [pytest.approx(7 * 1.05)]


def test_429_longer_than_the_cap_is_handed_back_with_its_delay_not_slept():
    client, sleeps = make_client(retry_after_cap=30)
    with responses.RequestsMock() as halo:
        halo.post(f"{BASE}/tickets/create", status=429, headers={"Retry-After": "120"},
                  json={"error": "Too many requests"})
        with pytest.raises(HaloRateLimited) as caught:
            client.create_ticket(TICKET)
    assert sleeps == []
    error = caught.value
    assert error.status == 429 and error.retry_after == 120
    assert error.headers() == {"Retry-After": "120"}
    assert error.to_dict()["retry_after"] == 120


def test_429_is_never_turned_into_a_generic_failure_when_retries_run_out():
    client, _ = make_client(max_retries=0)
    with responses.RequestsMock() as halo:
        halo.post(f"{BASE}/users/identify", status=429, headers={"Retry-After": "2.5"})
        with pytest.raises(HaloRateLimited) as caught:
            client.identify_user("u1")
    assert caught.value.retry_after_seconds == 3  # integer seconds, rounded up, for Zapier


def test_retry_after_parser_handles_seconds_dates_and_garbage():
    assert parse_retry_after({"Retry-After": "3"}) == 3
    assert parse_retry_after({"Retry-After": "soon"}) is None
    assert parse_retry_after({}) is None
    past = format_datetime(datetime.fromtimestamp(NOW - 60, tz=timezone.utc), usegmt=True)
    assert parse_retry_after({"Retry-After": past}, now=NOW) == 0


# --- statuses that are not retried ------------------------------------------------------------


@pytest.mark.parametrize("status, body, error_class, caller_status", [
    (400, {"error": "subject is required"}, HaloValidationError, 422),
    (422, {"message": "email is invalid"}, HaloValidationError, 422),
    (413, {}, HaloValidationError, 422),
    (401, {"error": "Invalid API key"}, HaloCredentialsError, 502),
    (403, {"error": "Invalid user token"}, HaloForbidden, 502),
    (404, {}, HaloError, 502),
])
def test_client_errors_map_to_the_hierarchy_without_retrying(status, body, error_class, caller_status):
    client, sleeps = make_client()
    with responses.RequestsMock() as halo:
        halo.post(f"{BASE}/tickets/create", status=status, json=body)
        with pytest.raises(error_class) as caught:
            client.create_ticket(TICKET)
        assert len(halo.calls) == 1
    assert type(caught.value) is error_class
    assert caught.value.status == caller_status
    assert caught.value.halo_status == status
    assert sleeps == []
    for text in body.values():
        assert text in caught.value.message  # Halo's own words reach the caller


def test_reserved_keys_are_surfaced_with_halos_message():
    client, _ = make_client()
    answer = {"error": "Reserved trait keys", "reserved_keys": ["id", "created_at"],
              "docs_url": "https://docs.haloagents.ai/api-reference/users"}
    with responses.RequestsMock() as halo:
        halo.post(f"{BASE}/users/identify", status=400, json=answer)
        with pytest.raises(HaloValidationError) as caught:
            client.identify_user("u1", traits={"id": 1, "created_at": "x"})
    assert caught.value.to_dict()["reserved_keys"] == ["id", "created_at"]
    assert "Reserved trait keys" in caught.value.message


# --- transport faults -------------------------------------------------------------------------


def test_connection_refused_is_retried_even_for_tickets_because_nothing_was_sent():
    client, sleeps = make_client()
    with responses.RequestsMock() as halo:
        halo.post(f"{BASE}/tickets/create", body=refused())
        halo.post(f"{BASE}/tickets/create", json={"id": "t"})
        assert client.create_ticket(TICKET).ticket_id == "t"
    assert len(sleeps) == 1


def test_connection_refused_until_retries_run_out_is_unavailable():
    client, _ = make_client(max_retries=1)
    with responses.RequestsMock() as halo:
        halo.post(f"{BASE}/tickets/create", body=refused())
        halo.post(f"{BASE}/tickets/create", body=refused())
        with pytest.raises(HaloUnavailable) as caught:
            client.create_ticket(TICKET)
    assert caught.value.status == 503 and caught.value.retriable


@pytest.mark.parametrize("fault", [requests.ReadTimeout("read timed out"), dropped()])
def test_no_answer_to_tickets_create_is_outcome_unknown_and_never_resent(fault):
    client, sleeps = make_client()
    with responses.RequestsMock() as halo:
        halo.post(f"{BASE}/tickets/create", body=fault)
        with pytest.raises(HaloOutcomeUnknown):
            client.create_ticket(TICKET)
        assert len(halo.calls) == 1
    assert sleeps == []


@pytest.mark.parametrize("fault", [requests.ReadTimeout("read timed out"), dropped()])
def test_no_answer_to_an_idempotent_call_is_retried(fault):
    client, _ = make_client()
    with responses.RequestsMock() as halo:
        halo.post(f"{BASE}/users/identify", body=fault)
        halo.post(f"{BASE}/users/identify", json={"user": {"id": "u"}})
        assert client.identify_user("u1") == {"user": {"id": "u"}}


def test_connect_timeout_counts_as_not_sent():
    client, _ = make_client()
    with responses.RequestsMock() as halo:
        halo.post(f"{BASE}/tickets/create", body=requests.ConnectTimeout("connect timed out"))
        halo.post(f"{BASE}/tickets/create", json={"id": "t"})
        assert client.create_ticket(TICKET).ticket_id == "t"


# --- identity tokens --------------------------------------------------------------------------


def test_identify_user_signs_a_short_lived_user_token_when_a_secret_is_set():
    client, _ = make_client(identity_secret=SECRET)
    with responses.RequestsMock() as halo:
        halo.post(f"{BASE}/users/identify", json={})
        client.identify_user("user_123", traits={"plan": "pro"})
        body = json.loads(halo.calls[0].request.body)
    claims = claims_of(body["user_token"])
    assert claims["user_id"] == "user_123"
    assert 0 < claims["exp"] - NOW <= 300
    assert body["traits"] == {"plan": "pro"}


def test_tickets_with_a_user_id_carry_a_token_and_email_only_tickets_do_not():
    client, _ = make_client(identity_secret=SECRET)
    with responses.RequestsMock() as halo:
        halo.post(f"{BASE}/tickets/create", json={"id": "a"})
        halo.post(f"{BASE}/tickets/create", json={"id": "b"})
        client.create_ticket({**TICKET, "user_id": "u9"})
        client.create_ticket(TICKET)
        with_user, email_only = (json.loads(c.request.body) for c in halo.calls)
    assert claims_of(with_user["user_token"])["user_id"] == "u9"
    assert "user_token" not in email_only


def test_no_token_without_a_secret_or_for_the_anonymous_user():
    client, _ = make_client()
    signed, _ = make_client(identity_secret=SECRET)
    with responses.RequestsMock() as halo:
        halo.post(f"{BASE}/users/identify", json={})
        halo.post(f"{BASE}/companies/identify", json={})
        client.identify_user("u1")
        signed.identify_company("c1", user_id="anonymous")
        bodies = [json.loads(c.request.body) for c in halo.calls]
    assert all("user_token" not in body for body in bodies)


def test_company_identify_links_the_user_with_a_token():
    client, _ = make_client(identity_secret=SECRET)
    with responses.RequestsMock() as halo:
        halo.post(f"{BASE}/companies/identify", json={"company": {"id": "c"}})
        client.identify_company("company_456", user_id="user_123", traits={"name": "Acme"})
        body = json.loads(halo.calls[0].request.body)
    assert body["company_id"] == "company_456" and body["user_id"] == "user_123"
    assert body["traits"] == {"name": "Acme"}
    assert "user_token" in body


# --- batching ---------------------------------------------------------------------------------


def test_users_update_goes_in_batches_of_1000_with_an_org_scoped_token():
    client, _ = make_client(identity_secret=SECRET)
    users = [{"user_id": f"u{i}", "traits": {"role": "admin"}} for i in range(2500)]
    with responses.RequestsMock() as halo:
        for skipped in (1, 2, 3):
            halo.post(f"{BASE}/users/update", json={"updated": 1, "skipped": skipped})
        result = client.update_users(users, update_only=True)
        bodies = [json.loads(c.request.body) for c in halo.calls]
    assert [len(b["users"]) for b in bodies] == [1000, 1000, 500]
    assert result["skipped"] == 6 and result["batches"] == 3
    for body in bodies:
        assert body["update_only"] is True
        claims = claims_of(body["user_token"])
        assert claims["scope"] == "users.update"
        assert 0 < claims["exp"] - NOW <= 3600
        assert "user_id" not in claims


def test_users_update_without_an_identity_secret_refuses_before_calling_halo():
    client, _ = make_client()
    with responses.RequestsMock():
        with pytest.raises(HaloForbidden, match="HALO_IDENTITY_SECRET"):
            client.update_users([{"user_id": "u1"}])


def test_events_go_in_batches_of_100():
    client, _ = make_client()
    events = [{"event_type": "form_submit"} for _ in range(250)]
    with responses.RequestsMock() as halo:
        for _ in range(3):
            halo.post(f"{BASE}/events", json={"success": True})
        result = client.send_events(events, user_id="u1")
        sizes = [len(json.loads(c.request.body)["events"]) for c in halo.calls]
    assert sizes == [100, 100, 50] and result["batches"] == 3


# --- logs ---------------------------------------------------------------------------------


def test_logs_never_contain_the_key_the_secret_or_the_body(caplog):
    client, _ = make_client(identity_secret=SECRET)
    caplog.set_level(logging.DEBUG)
    with responses.RequestsMock() as halo:
        halo.post(f"{BASE}/tickets/create", status=500, json={"error": "boom"})
        halo.post(f"{BASE}/tickets/create", body=refused())
        halo.post(f"{BASE}/tickets/create", json={"id": "t"})
        client.create_ticket({**TICKET, "user_id": "u1", "message": "my card is 4111"})
    text = caplog.text
    assert "tickets/create" in text  # the call is logged...
    for secret in (KEY, SECRET, "4111", "pat@example.com", "Printer on fire"):
        assert secret not in text  # ...but nothing sensitive


def test_from_settings_uses_the_configured_url_key_and_timeouts(tmp_path):
    from connector.config import load_settings

    settings = load_settings({"HALO_API_KEY": "ab_live_k", "CONNECTOR_API_KEYS": "abcdefgh12",
                              "HALO_API_URL": "https://example.com/api/sdk/",
                              "HALO_READ_TIMEOUT": "4", "HALO_CONNECT_TIMEOUT": "1.5",
                              "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})
    client = HaloClient.from_settings(settings)
    assert client.base_url == "https://example.com/api/sdk"
    assert client.timeout == (1.5, 4)
    assert client.session.headers["Authorization"] == "Bearer ab_live_k"
    assert timedelta(seconds=client.retry_after_cap) == timedelta(seconds=30)


def test_proxy_settings_are_read_from_the_environment_once_for_halos_host(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example.com:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    proxied = HaloClient("https://halo.test/api/sdk", "ab_live_x")
    assert proxied.session.proxies.get("https") == "http://proxy.example.com:3128"
    assert proxied.session.trust_env is False
    monkeypatch.setenv("NO_PROXY", "halo.test")
    assert not HaloClient("https://halo.test/api/sdk", "ab_live_x").session.proxies.get("https")
