"""series: the documented errors verbatim with their statuses, enroll / already enrolled / remove."""

from __future__ import annotations

import re
import uuid

import pytest

SERIES = str(uuid.UUID(int=1))


@pytest.fixture
def seeded(sandbox):
    sandbox.client.put(f"/sandbox/control/series/{SERIES}", json={"kind": "series", "status": "active"})
    sandbox.post("users/identify", {"user_id": "u1"})
    return sandbox


def series(sandbox, **body):
    return sandbox.post("series", body)


@pytest.mark.parametrize("missing", ["action", "user_id", "series_id"])
def test_all_three_fields_are_required(seeded, missing):
    body = {"action": "enroll", "user_id": "u1", "series_id": SERIES}
    del body[missing]
    response = series(seeded, **body)
    assert response.status_code == 400
    assert response.json == {"error": "action, user_id, and series_id are required"}


def test_action_must_be_enroll_or_remove(seeded):
    response = series(seeded, action="pause", user_id="u1", series_id=SERIES)
    assert response.status_code == 400
    assert response.json == {"error": 'action must be "enroll" or "remove"'}


def test_unknown_user_is_404(seeded):
    response = series(seeded, action="enroll", user_id="ghost", series_id=SERIES)
    assert response.status_code == 404
    assert response.json == {"error": "User not found"}


def test_unknown_series_is_404(seeded):
    response = series(seeded, action="enroll", user_id="u1", series_id=str(uuid.UUID(int=2)))
    assert response.status_code == 404
    assert response.json == {"error": "Series not found"}


def test_an_automation_that_is_not_a_series_is_400(seeded):
    other = str(uuid.UUID(int=3))
    seeded.client.put(f"/sandbox/control/series/{other}", json={"kind": "automation"})
    response = series(seeded, action="enroll", user_id="u1", series_id=other)
    assert response.status_code == 400
    assert response.json == {"error": "The specified automation is not a series"}


def test_an_inactive_series_cannot_enroll(seeded):
    seeded.client.put(f"/sandbox/control/series/{SERIES}", json={"status": "paused"})
    response = series(seeded, action="enroll", user_id="u1", series_id=SERIES)
    assert response.status_code == 400
    assert response.json == {"error": "Series must be active to enroll users"}


def test_enroll_then_enroll_again_then_remove(seeded):
    first = series(seeded, action="enroll", user_id="u1", series_id=SERIES)
    assert first.status_code == 200
    assert first.json["success"] is True and first.json["enrolled"] is True
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", first.json["scheduled_for"])
    second = series(seeded, action="enroll", user_id="u1", series_id=SERIES)
    assert second.json == {"success": True, "already_enrolled": True,
                           "message": "User is already enrolled in this series"}
    removed = series(seeded, action="remove", user_id="u1", series_id=SERIES)
    assert removed.status_code == 200 and removed.json["success"] is True
    assert series(seeded, action="enroll", user_id="u1", series_id=SERIES).json.get("enrolled") is True
