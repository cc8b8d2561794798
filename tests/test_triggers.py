"""Polling triggers: bare arrays newest first, stable ids, limits, since/after_id, tenants, and
Make's epoch polling with no gaps and no duplicates while records keep arriving."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import HALO, OTHER_TENANT_KEY, auth
from tests.helpers import create_tickets, record, stub_halo_tickets


def poll(client, key: str, api_key: str | None = None, **params) -> list[dict]:
    response = client.get(f"/v1/triggers/{key}", query_string=params,
                          headers=auth(api_key) if api_key else auth())
    assert response.status_code == 200, response.get_json()
    items = response.get_json()
    assert isinstance(items, list)
    return items


def ids(items: list[dict]) -> list[int]:
    return [item["id"] for item in items]


def test_new_ticket_lists_created_tickets_newest_first_in_the_create_shape(client, halo):
    stub_halo_tickets(halo)
    made = create_tickets(client, 3)
    items = poll(client, "new_ticket")
    assert items == list(reversed(made))
    assert all(isinstance(i, int) for i in ids(items)) and len(set(ids(items))) == 3
    assert all(item["created_at"].endswith("Z") for item in items)


def test_default_limit_is_100_and_limit_is_honoured(client, svc):
    for number in range(105):
        record(svc, subject=f"s{number}")
    everything = poll(client, "new_submission", limit=-1)
    assert len(poll(client, "new_submission")) == 100
    assert ids(poll(client, "new_submission", limit=3)) == ids(everything)[:3]
    assert len(everything) == 105 and ids(everything) == sorted(ids(everything), reverse=True)
    assert ids(poll(client, "new_submission", limit=3, page=1)) == ids(everything)[3:6]


def test_blank_parameters_mean_not_given(client, svc):
    record(svc)
    assert len(poll(client, "new_submission", limit="", since="", after_id="")) == 1


def test_bad_polling_parameters_are_422_naming_each(client):
    response = client.get("/v1/triggers/new_ticket", headers=auth(),
                          query_string={"limit": "0", "since": "yesterday", "after_id": "-3"})
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"limit", "since", "after_id"}
    too_many = client.get("/v1/triggers/new_ticket", headers=auth(), query_string={"limit": "5000"})
    assert too_many.status_code == 422 and "limit" in too_many.get_json()["message"]


def test_unknown_trigger_is_404_and_a_bad_key_is_401(client):
    assert client.get("/v1/triggers/new_order", headers=auth()).status_code == 404
    assert client.get("/v1/triggers/new_ticket", headers={"X-API-Key": "nope-nope"}).status_code == 401


def test_since_takes_iso_dates_and_epoch_seconds(client, svc):
    old = record(svc, subject="old")
    time.sleep(1.1)
    cut = datetime.now(timezone.utc)
    new = record(svc, subject="new")
    for since in (cut.isoformat(), cut.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), str(cut.timestamp()),
                  str(int(cut.timestamp() * 1000))):
        assert ids(poll(client, "new_submission", since=since)) == [new], since
    earlier = (cut - timedelta(hours=1)).replace(tzinfo=None).isoformat()  # naive = UTC
    assert ids(poll(client, "new_submission", since=earlier)) == [new, old]


def test_each_tenant_sees_only_its_own_records(client, svc, halo):
    stub_halo_tickets(halo)
    create_tickets(client, 2)
    theirs = create_tickets(client, 1, key=OTHER_TENANT_KEY, prefix="Theirs")
    record(svc, tenant="other", email=None)
    assert ids(poll(client, "new_ticket", OTHER_TENANT_KEY)) == [theirs[0]["id"]]
    assert len(poll(client, "new_ticket")) == 2
    assert len(poll(client, "new_submission", OTHER_TENANT_KEY)) == 2
    assert len(poll(client, "failed_delivery", OTHER_TENANT_KEY)) == 1
    assert poll(client, "failed_delivery") == []


def test_ids_are_stable_from_poll_to_poll(client, svc):
    for _ in range(3):
        record(svc)
    first = poll(client, "new_submission")
    record(svc)
    assert poll(client, "new_submission")[1:] == first


def test_new_submission_shows_the_customer_fields_status_and_ticket(client, svc, halo):
    halo.post(f"{HALO}/tickets/create", json={"id": "t_99"})
    made = create_tickets(client, 1)[0]
    waiting = record(svc, email=None, subject="No one")
    newest, delivered = poll(client, "new_submission")
    assert newest["id"] == waiting and newest["status"] == "needs_attention"
    assert newest["ticket_id"] is None and newest["metadata"] == {"plan": "pro"}
    assert delivered["status"] == "delivered" and delivered["ticket_id"] == made["id"]
    assert delivered["halo_ticket_id"] == "t_99" and delivered["channel"] == "api"
    assert delivered["customer_email"] == "customer0@example.com"
    assert delivered["source"] == "create_ticket" and delivered["external_id"] == "Ticket-0"


def test_rejected_action_input_is_kept_and_reported_as_a_failed_delivery(client):
    response = client.post("/v1/actions/create_ticket", headers=auth(), json={"subject": "x",
                                                                             "colour": "red"})
    assert response.status_code == 422
    submission = poll(client, "new_submission")[0]
    failure = poll(client, "failed_delivery")[0]
    assert submission["status"] == "rejected" and "colour" in submission["status_reason"]
    assert failure["submission_id"] == submission["id"] and failure["status"] == "rejected"


def test_a_submission_failing_again_is_a_new_failed_delivery_item(client, svc, halo):
    halo.post(f"{HALO}/tickets/create", status=400, json={"error": "subject too odd"})
    body = {"email": "pat@example.com", "subject": "Hi", "external_id": "row-1"}
    assert client.post("/v1/actions/create_ticket", headers=auth(), json=body).status_code == 422
    assert client.post("/v1/actions/create_ticket", headers=auth(), json=body).status_code == 422
    second, first = poll(client, "failed_delivery")
    assert second["submission_id"] == first["submission_id"]
    assert second["id"] > first["id"] and second["status"] == "failed"
    assert second["error_code"] == "halo_rejected" and "subject too odd" in second["reason"]
    assert second["attempts"] == 2 and first["attempts"] == 1


def test_replayed_submission_still_without_a_customer_fails_again(client, svc):
    submission_id = record(svc, email=None)
    svc.deliveries.replay(submission_id)
    items = poll(client, "failed_delivery")
    assert [item["submission_id"] for item in items] == [submission_id, submission_id]
    assert items[0]["id"] > items[1]["id"]


def test_epoch_polling_serves_every_record_once_while_records_keep_arriving(client, svc):
    made = [record(svc, subject=f"a{n}") for n in range(5)]
    first = poll(client, "new_submission", after_id=0, limit=2)
    assert ids(first) == [made[1], made[0]]  # the oldest two, newest first
    cursor = max(ids(first))
    made += [record(svc, subject=f"b{n}") for n in range(3)]
    seen = ids(first)
    while True:
        page = poll(client, "new_submission", after_id=cursor, limit=2)
        if not page:
            break
        seen += ids(page)
        cursor = max(ids(page))
        if len(made) < 10:  # one more arrives between every two polls
            made.append(record(svc, subject="late"))
    assert sorted(seen) == sorted(made) and len(seen) == len(set(seen))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.one_of(st.integers(min_value=0, max_value=4).map(lambda n: ("add", n)),
                                st.integers(min_value=1, max_value=4).map(lambda n: ("poll", n))),
                      min_size=1, max_size=12))
def test_epoch_cursor_never_skips_or_repeats_under_any_interleaving(client, svc, steps):
    before = poll(client, "new_submission", limit=1)
    cursor = before[0]["id"] if before else 0
    made: list[int] = []
    seen: list[int] = []
    for action, number in steps + [("drain", 0)]:
        if action == "add":
            made += [record(svc) for _ in range(number)]
            continue
        while True:
            page = poll(client, "new_submission", after_id=cursor, limit=number or 3)
            assert ids(page) == sorted(ids(page), reverse=True)
            seen += ids(page)
            cursor = max(ids(page), default=cursor)
            if action == "poll" or not page:
                break
    assert sorted(seen) == made and len(seen) == len(set(seen))


def test_me_tests_the_key_and_labels_the_connection(client):
    response = client.get("/v1/me", headers={**auth(), "User-Agent": "Zapier"})
    body = response.get_json()
    assert response.status_code == 200 and body["tenant"] == "default"
    assert body["label"] == "default @ Halo (halo.test)" and body["halo"] == "live"
    assert body["client"] == "zapier" and body["connector_version"] and body["api_version"] == "v1"
    assert client.get("/v1/me", headers=auth(OTHER_TENANT_KEY)).get_json()["tenant"] == "other"
    assert client.get("/v1/me").status_code == 401


def test_live_items_carry_exactly_the_declared_output_fields(client, svc, halo):
    from actions import ACTIONS_BY_KEY, SEARCHES_BY_KEY
    from triggers import TRIGGERS_BY_KEY

    stub_halo_tickets(halo)
    created = create_tickets(client, 1)[0]
    record(svc, email=None)
    declared = {key: {field.key for field in op.output_fields}
                for key, op in {**TRIGGERS_BY_KEY, **SEARCHES_BY_KEY, **ACTIONS_BY_KEY}.items()}
    for key in TRIGGERS_BY_KEY:
        items = poll(client, key)
        assert items and all(set(item) == declared[key] for item in items), key
    found = client.get("/v1/searches/find_ticket", query_string={"ticket_id": created["id"]},
                       headers=auth()).get_json()
    assert set(found[0]) == declared["find_ticket"] and set(created) == declared["create_ticket"]


def test_a_worker_dying_mid_create_is_reported_as_a_failed_delivery(client, svc):
    from connector.store import Status, Submission

    submission_id = record(svc)
    with svc.store.session() as session:  # a worker was creating the ticket, then died
        row = session.get(Submission, submission_id)
        row.status, row.phase = Status.DELIVERING, "creating"
        row.lease_until = datetime.now(timezone.utc) - timedelta(minutes=1)
    svc.deliveries.sweep()
    (failure,) = poll(client, "failed_delivery")
    assert failure["submission_id"] == submission_id and failure["status"] == "needs_attention"
    assert "worker stopped" in failure["reason"]
