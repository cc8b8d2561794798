"""events: batch size, event_type required and truncated, metadata size, user upsert."""

from __future__ import annotations

import time

import pytest

from connector.ticket import json_size


def send(sandbox, events, **body):
    return sandbox.post("events", {"events": events, **body})


def test_a_batch_is_stored_and_answered_with_success_true(sandbox):
    response = send(sandbox, [{"event_type": "click", "element_selector": "#buy", "page_url": "https://example.com/",
                               "metadata": {"x": 1}}])
    assert response.status_code == 200
    assert response.json == {"success": True}
    [event] = sandbox.inspect("events")
    assert (event["event_type"], event["element_selector"], event["metadata"]) == ("click", "#buy", {"x": 1})


@pytest.mark.parametrize("body", [{}, {"events": None}, {"events": "click"}, {"events": {"event_type": "x"}}])
def test_events_must_be_an_array(sandbox, body):
    assert sandbox.post("events", body).status_code == 400


def test_at_most_100_events_per_batch(sandbox):
    assert send(sandbox, [{"event_type": "click"}] * 100).status_code == 200
    response = send(sandbox, [{"event_type": "click"}] * 101)
    assert response.status_code == 400
    assert "100" in response.json["error"]
    assert len(sandbox.inspect("events", limit=1000)) == 100


@pytest.mark.parametrize("event", [{}, {"event_type": ""}, {"page_url": "https://example.com"}])
def test_event_type_is_required(sandbox, event):
    response = send(sandbox, [{"event_type": "ok"}, event])
    assert response.status_code == 400
    assert "events[1].event_type" in response.json["error"]
    assert sandbox.inspect("events") == []


def test_event_type_is_truncated_to_100_characters(sandbox):
    assert send(sandbox, [{"event_type": "é" * 150}]).status_code == 200
    assert sandbox.inspect("events")[0]["event_type"] == "é" * 100


def test_event_metadata_is_limited_to_10000_bytes(sandbox):
    room = 10_000 - json_size({"k": ""})
    assert send(sandbox, [{"event_type": "a", "metadata": {"k": "x" * room}}]).status_code == 200
    response = send(sandbox, [{"event_type": "a", "metadata": {"k": "x" * (room + 1)}}])
    assert response.status_code == 400
    assert "10,000 bytes" in response.json["error"]


def test_event_metadata_must_be_an_object(sandbox):
    assert send(sandbox, [{"event_type": "a", "metadata": [1]}]).status_code == 400


def test_user_id_upserts_the_user_and_refreshes_last_seen(sandbox):
    send(sandbox, [{"event_type": "a"}], user_id="u1")
    created = sandbox.user("u1")
    assert created["last_seen"] is not None
    time.sleep(0.002)
    send(sandbox, [{"event_type": "b"}], user_id="u1")
    assert sandbox.user("u1")["last_seen"] > created["last_seen"]
    assert {e["user_id"] for e in sandbox.inspect("events")} == {"u1"}
