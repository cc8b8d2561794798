"""Fault injection: the spec grammar, configured and runtime faults, per-request header, no data created."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import pytest

from connector.errors import ConfigError
from connector.sandbox.faults import FaultSpecError, parse_json, parse_spec
from tests.sandbox.conftest import make_sandbox

TICKET = {"email": "jane@example.com", "subject": "Help"}


# --- grammar -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("latency=0.2", [{"fault": "latency", "seconds": 0.2, "after": False}]),
        ("503:3", [{"fault": "503", "times": 3}]),
        ("429:2:retry_after=5", [{"fault": "429", "times": 2, "retry_after": "5"}]),
        ("drop:1:path=tickets/create", [{"fault": "drop", "times": 1, "path": "tickets/create"}]),
        ("hang=5:after:path=/tickets/create/", [{"fault": "hang", "seconds": 5.0, "after": True,
                                                 "path": "tickets/create"}]),
        ("hang", [{"fault": "hang", "seconds": 30.0, "after": False}]),
        ("429:retry_date=60; 500:times=1", [{"fault": "429", "retry_date": 60.0}, {"fault": "500", "times": 1}]),
        (" latency = 0.1 , 500 ", [{"fault": "latency", "seconds": 0.1, "after": False}, {"fault": "500"}]),
        ("", []),
        (None, []),
    ],
)
def test_the_spec_grammar(spec, expected):
    assert [f.to_dict() for f in parse_spec(spec)] == expected


@pytest.mark.parametrize(
    "spec",
    ["slow", "latency=abc", "latency=-1", "503=2", "200", "700", "503:0", "503:x", "503:after",
     "drop:after", "429:bogus=1", "latency=99999"],
)
def test_malformed_specs_are_refused_with_a_reason(spec):
    with pytest.raises(FaultSpecError):
        parse_spec(spec)


def test_a_malformed_configured_spec_stops_start_up():
    with pytest.raises(ConfigError, match="SANDBOX_FAULTS"):
        make_sandbox(faults="explode")


def test_the_json_form_takes_objects_with_a_literal_retry_after():
    [fault] = parse_json({"faults": [{"fault": "429", "retry_after": "Wed, 21 Oct 2026 07:28:00 GMT", "times": 1}]})
    assert fault.retry_after_header() == "Wed, 21 Oct 2026 07:28:00 GMT"


# --- behaviour -----------------------------------------------------------------------------


def test_a_configured_status_fault_applies_to_the_next_n_requests_only():
    sandbox = make_sandbox(faults="503:2")
    statuses = [sandbox.post("tickets/create", TICKET).status_code for _ in range(3)]
    assert statuses == [503, 503, 200]
    assert len(sandbox.inspect("tickets")) == 1


def test_a_fault_without_a_count_applies_to_every_request():
    sandbox = make_sandbox(faults="500")
    assert {sandbox.post("chat", {"message": "hi"}).status_code for _ in range(4)} == {500}


def test_a_path_limited_fault_leaves_other_endpoints_alone():
    sandbox = make_sandbox(faults="500:path=tickets/*")
    assert sandbox.post("users/identify", {"user_id": "u1"}).status_code == 200
    assert sandbox.post("tickets/create", TICKET).status_code == 500


def test_429_carries_retry_after_in_seconds():
    sandbox = make_sandbox(faults="429:1:retry_after=7")
    response = sandbox.post("tickets/create", TICKET)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert response.json["error"]


def test_429_defaults_to_a_one_second_retry_after(sandbox):
    response = sandbox.post("tickets/create", TICKET, headers={"X-Sandbox-Fault": "429"})
    assert response.headers["Retry-After"] == "1"


def test_429_can_carry_retry_after_as_an_http_date(sandbox):
    response = sandbox.post("tickets/create", TICKET, headers={"X-Sandbox-Fault": "429:retry_date=120"})
    when = parsedate_to_datetime(response.headers["Retry-After"])
    ahead = (when - datetime.now(timezone.utc)).total_seconds()
    assert 100 < ahead <= 121
    assert response.headers["Retry-After"].endswith("GMT")


@pytest.mark.parametrize("status", [429, 500, 502, 503])
@pytest.mark.parametrize(
    ("path", "body"),
    [("tickets/create", TICKET), ("users/identify", {"user_id": "u1"}), ("events", {"events": [{"event_type": "a"}]}),
     ("companies/identify", {"company_id": "c1"})],
)
def test_status_faults_happen_before_anything_is_stored(sandbox, status, path, body):
    response = sandbox.post(path, body, headers={"X-Sandbox-Fault": str(status)})
    assert response.status_code == status
    for what in ("tickets", "users", "events", "companies"):
        assert sandbox.inspect(what) == []


def test_status_faults_come_before_authentication(sandbox):
    assert sandbox.post("chat", {"message": "hi"}, key=None, headers={"X-Sandbox-Fault": "503"}).status_code == 503


def test_a_drop_without_a_raw_socket_answers_500_and_stores_nothing(sandbox):
    response = sandbox.post("tickets/create", TICKET, headers={"X-Sandbox-Fault": "drop"})
    assert response.status_code == 500
    assert sandbox.inspect("tickets") == []


def test_latency_delays_the_answer_and_then_handles_the_request(sandbox):
    started = time.monotonic()
    response = sandbox.post("tickets/create", TICKET, headers={"X-Sandbox-Fault": "latency=0.25"})
    assert time.monotonic() - started >= 0.25
    assert response.status_code == 200
    assert response.headers["X-Sandbox-Fault-Applied"] == "latency=0.25"
    assert len(sandbox.inspect("tickets")) == 1


def test_latency_after_storing_stores_first_and_answers_late():
    sandbox = make_sandbox(faults="latency=0.2:after:path=tickets/create")
    started = time.monotonic()
    response = sandbox.post("tickets/create", TICKET)
    assert time.monotonic() - started >= 0.2
    assert response.status_code == 200
    assert response.headers["X-Sandbox-Fault-Applied"] == "latency=0.2:after"
    assert len(sandbox.inspect("tickets")) == 1


def test_a_plain_hang_answers_504_after_the_delay_and_stores_nothing(sandbox):
    started = time.monotonic()
    response = sandbox.post("tickets/create", TICKET, headers={"X-Sandbox-Fault": "hang=0.2"})
    assert time.monotonic() - started >= 0.2
    assert response.status_code == 504
    assert sandbox.inspect("tickets") == []


def test_the_header_replaces_configured_faults_for_one_request():
    sandbox = make_sandbox(faults="503:1")
    assert sandbox.post("chat", {"message": "hi"}, headers={"X-Sandbox-Fault": "429"}).status_code == 429
    assert sandbox.post("chat", {"message": "hi"}).status_code == 503  # the configured one was not consumed
    assert sandbox.post("chat", {"message": "hi"}).status_code == 200


def test_a_malformed_fault_header_is_a_400(sandbox):
    response = sandbox.post("tickets/create", TICKET, headers={"X-Sandbox-Fault": "meltdown"})
    assert response.status_code == 400
    assert "X-Sandbox-Fault" in response.json["error"]
    assert sandbox.inspect("tickets") == []


def test_faults_do_not_touch_the_sandbox_own_pages():
    sandbox = make_sandbox(faults="500")
    assert sandbox.client.get("/sandbox/").status_code == 200
    assert sandbox.client.get("/sandbox/inspect/tickets").status_code == 200


def test_faults_can_be_set_listed_and_cleared_at_runtime(sandbox):
    put = sandbox.client.put("/sandbox/control/faults", json={"spec": "503:1:path=chat"})
    assert put.status_code == 200
    assert put.json["faults"] == [{"fault": "503", "times": 1, "path": "chat"}]
    assert sandbox.post("chat", {"message": "hi"}).status_code == 503
    assert sandbox.client.get("/sandbox/control/faults").json == {"faults": []}  # used up

    sandbox.client.put("/sandbox/control/faults", json={"faults": [{"fault": "500"}, "latency=0.01"]})
    assert len(sandbox.client.get("/sandbox/control/faults").json["faults"]) == 2
    assert sandbox.post("chat", {"message": "hi"}).status_code == 500
    assert sandbox.client.delete("/sandbox/control/faults").json == {"faults": []}
    assert sandbox.post("chat", {"message": "hi"}).status_code == 200


@pytest.mark.parametrize("body", [{"spec": "nope"}, {"faults": [{"fault": "700"}]}, {"faults": "503"}, [1], None])
def test_runtime_faults_are_validated(sandbox, body):
    response = sandbox.client.put("/sandbox/control/faults", json=body)
    assert response.status_code == 400
    assert response.json["error"]
