"""The generated Zapier app, validated by zapier-platform-schema and run by zapier-platform-core
(19.1.0, under Node) against a live connector whose Halo is the sandbox.

Every call goes through core's handler with NODE_ENV=test, so Zapier's own result checks
(``triggerIsArray``, ``triggerHasId``, ``triggerHasUniquePrimary``, ``searchIsArrayOrEnvelope``,
``createIsObject``) throw on a wrong shape instead of only logging.
"""

from __future__ import annotations

import json
import shutil

import pytest
import requests
from sqlalchemy import select

from connector.manifests.zapier import ZAPIER_CORE_VERSION
from connector.store import HookDelivery, Submission
from tests.conftest import API_KEY, auth
from tests.manifests.runtime import NODE_DIR, bundle, call, ok, run_zapier
from tests.test_hooks import Receiver
from triggers import TRIGGERS

pytestmark = pytest.mark.node

CREATE = "creates.create_ticket.operation.perform"
FIND = "searches.find_ticket.operation.perform"


def poll(key: str) -> str:
    return f"triggers.{key}.operation.perform"


def test_the_app_validates_and_pins_the_core_the_tests_run(zapier_app, tmp_path):
    outcome = run_zapier(zapier_app, [])
    assert outcome["validation"] == []
    assert outcome["coreVersion"] == ZAPIER_CORE_VERSION
    pinned = json.loads((NODE_DIR / "package.json").read_text())["dependencies"]
    app_package = json.loads((zapier_app / "package.json").read_text())
    assert pinned["zapier-platform-core"] == app_package["dependencies"]["zapier-platform-core"]
    # The validator is really consulted: a definition Zapier refuses is reported.
    broken = tmp_path / "broken"
    shutil.copytree(zapier_app, broken)
    definition = json.loads((broken / "definition.json").read_text())
    definition["creates"]["create_ticket"]["operation"]["inputFields"][0]["type"] = "select"
    definition["triggers"]["new_ticket_instant"]["operation"]["perform"] = {"url": "https://x"}
    (broken / "definition.json").write_text(json.dumps(definition))
    assert len(run_zapier(broken, [])["validation"]) >= 2


def test_zapiers_result_checks_are_on_a_trigger_answering_an_object_fails(zapier_app, live, tmp_path):
    variant = tmp_path / "object-trigger"
    shutil.copytree(zapier_app, variant)
    definition = json.loads((variant / "definition.json").read_text())
    definition["triggers"]["new_ticket"]["operation"]["perform"]["url"] = \
        "{{bundle.authData.base_url}}/v1/me"
    (variant / "definition.json").write_text(json.dumps(definition))
    (outcome,) = run_zapier(variant, [call(poll("new_ticket"), bundle(live))])["results"]
    assert not outcome["ok"] and outcome["error"]["name"] == "CheckError"
    assert "Results must be an array" in outcome["error"]["message"]


def test_auth_test_answers_the_connection_label_and_a_bad_key_fails(zapier_app, live):
    good, bad = run_zapier(zapier_app, [
        call("authentication.test", bundle(live)),
        call("authentication.test", bundle(live, api_key="wrong-key-000000")),
    ])["results"]
    me = ok(good)
    assert me["label"] == f"default @ Halo ({live.url.removeprefix('http://')})"
    assert me["client"] == "zapier"
    assert not bad["ok"] and "401" in bad["error"]["message"]
    assert "Invalid API key" in bad["error"]["message"]


def test_every_operation_runs_under_zapiers_checks_against_a_live_connector(zapier_app, live):
    mapped = {  # as a Zap sends them: unmapped fields are simply absent (core renders them "")
        "email": "jane@example.com", "name": "Jane Doe", "subject": "Printer on fire",
        "message": "It is\nreally on fire.", "metadata": {"severity": "major", "area": "Office"},
        "priority": "priority", "ai_enabled": "false", "external_id": "row-1",
        "user_id": "user_1", "plan": "pro", "traits": {"seats": "12"},
        "company_id": "company_1", "company_name": "Acme",
    }
    results = run_zapier(zapier_app, [
        call(CREATE, bundle(live, mapped)),
        call(CREATE, bundle(live, {"email": "pat@example.com", "subject": "Minimal"})),
        call(CREATE, bundle(live, {"subject": "Nobody to answer"})),  # 422, kept as a failure
        call("creates.identify_user.operation.perform", bundle(live, {
            "user_id": "user_2", "email": "sam@example.com", "plan": "team",
            "signed_up_at": "2024-05-01T10:00:00Z", "traits": {"mrr": "49"}})),
        call("creates.identify_company.operation.perform", bundle(live, {
            "company_id": "company_2", "name": "Globex", "employee_count": "40",
            "traits": {"region": "EU"}, "user_id": "user_2"})),
        call(FIND, bundle(live, {"external_id": "row-1"})),
        call(FIND, bundle(live, {"email": "nobody@example.com"})),
        *[call(poll(trigger.key), bundle(live)) for trigger in TRIGGERS],
        *[call(f"triggers.{trigger.key}_instant.operation.performList", bundle(live))
          for trigger in TRIGGERS],
    ])["results"]
    full, minimal, rejected, user, company, hit, miss, *polled = results
    ticket = ok(full)
    assert ticket["subject"] == "Printer on fire" and ticket["metadata"] == {
        "severity": "major", "area": "Office"}
    assert ticket["priority"] == "priority" and ticket["ai_enabled"] is False
    assert ticket["origin"] == "zapier" and ticket["external_id"] == "row-1"
    assert ok(minimal)["customer_email"] == "pat@example.com"
    with live.services.store.session() as session:  # what core really sent for unmapped fields
        raw = session.get(Submission, ok(minimal)["submission_id"]).raw_body
    sent = json.loads(raw)
    assert sent["name"] == "" and sent["metadata"] == "" and sent["traits"] == ""
    assert not rejected["ok"] and "422" in rejected["error"]["message"]
    assert "email" in rejected["error"]["message"] and "user_id" in rejected["error"]["message"]
    assert ok(user)["traits"] == {"email": "sam@example.com", "plan": "team", "mrr": "49",
                                  "signed_up_at": "2024-05-01T10:00:00Z"}
    assert ok(company)["traits"]["employee_count"] == 40
    assert [found["id"] for found in ok(hit)] == [ticket["id"]]
    assert ok(miss) == []
    new_ticket, new_submission, failed_delivery, *listed = [ok(outcome) for outcome in polled]
    assert [item["id"] for item in new_ticket] == [ok(minimal)["id"], ticket["id"]]
    assert len(new_submission) == 3 and new_submission[0]["status"] == "rejected"
    assert [item["status"] for item in failed_delivery] == ["rejected"]
    assert listed == [new_ticket, new_submission, failed_delivery]

    in_halo = {t["subject"]: t for t in live.sandbox("tickets")}
    assert set(in_halo) == {"Printer on fire", "Minimal"}
    assert in_halo["Printer on fire"]["metadata"]["severity"] == "major"
    users = {u["external_id"]: u for u in live.sandbox("users") if u.get("external_id")}
    assert users["user_1"]["custom_fields"] == {"seats": "12", "plan": "pro"}
    assert users["user_2"]["mrr"] == "49" and users["user_2"]["custom_fields"] == {"plan": "team"}
    assert {c["external_id"] for c in live.sandbox("companies")} == {"company_1", "company_2"}


def test_find_or_create_finds_what_its_create_made(zapier_app, live):
    """Zapier runs a search-or-create as the search, then (on a miss) the create with the same
    inputs; core cannot run the pairing locally, so this runs its two steps in that order."""
    from actions import SEARCHES_BY_KEY

    pairing = SEARCHES_BY_KEY["find_ticket"].search_or_create
    search_input = {"external_id": "row-77", "email": "new@example.com"}
    create_input = {pairing.inputs[key]: value for key, value in search_input.items()}
    miss, created, again, hit = run_zapier(zapier_app, [
        call(FIND, bundle(live, search_input)),
        call(f"creates.{pairing.create}.operation.perform",
             bundle(live, {**create_input, "subject": "Made on a miss"})),
        call(f"creates.{pairing.create}.operation.perform",
             bundle(live, {**create_input, "subject": "Made on a miss"})),
        call(FIND, bundle(live, search_input)),
    ])["results"]
    assert ok(miss) == [] and ok(again) == ok(created)  # a replayed step makes no second ticket
    assert [item["id"] for item in ok(hit)] == [ok(created)["id"]]
    assert len(live.sandbox("tickets")) == 1


def test_a_form_encoded_variant_and_line_items_reach_halo_as_objects(zapier_app, live, tmp_path):
    variant = tmp_path / "form-app"
    shutil.copytree(zapier_app, variant)
    definition = json.loads((variant / "definition.json").read_text())
    create = definition["creates"]["create_ticket"]["operation"]
    create["perform"] = {**create["perform"], "headers": {
        "Content-Type": "application/x-www-form-urlencoded"}, "body": {
        "email": "{{bundle.inputData.email}}", "subject": "{{bundle.inputData.subject}}",
        "name": "{{bundle.inputData.name}}", "metadata__plan": "{{bundle.inputData.plan}}"}}
    (variant / "definition.json").write_text(json.dumps(definition))
    form, items = run_zapier(variant, [
        call(CREATE, bundle(live, {"email": "form@example.com", "subject": "By form",
                                   "plan": "pro"})),
    ])["results"] + run_zapier(zapier_app, [
        call(CREATE, bundle(live, {"email": "items@example.com", "subject": "Line items",
                                   "metadata": [{"key": "severity", "value": "minor"},
                                                {"key": "area", "value": "Billing"}]})),
    ])["results"]
    assert ok(form)["metadata"] == {"plan": "pro"} and ok(form)["customer_name"] is None
    assert ok(items)["metadata"] == {"severity": "minor", "area": "Billing"}
    in_halo = {t["subject"]: t for t in live.sandbox("tickets")}
    assert in_halo["By form"]["metadata"]["plan"] == "pro"
    assert in_halo["Line items"]["metadata"]["area"] == "Billing"


def test_halo_rate_limit_is_a_zapier_throttle_and_the_replay_creates_one_ticket(zapier_app, live):
    live.halo_faults("429:1:retry_after=7:path=tickets/create")
    data = {"email": "jane@example.com", "subject": "Busy Halo", "external_id": "resp-9"}
    throttled, replayed = run_zapier(zapier_app, [call(CREATE, bundle(live, data)),
                                                  call(CREATE, bundle(live, data))])["results"]
    assert not throttled["ok"] and throttled["error"]["name"] == "ThrottledError"
    assert json.loads(throttled["error"]["message"])["delay"] == 7
    assert ok(replayed)["external_id"] == "resp-9"
    assert [t["subject"] for t in live.sandbox("tickets")] == ["Busy Halo"]


@pytest.mark.parametrize(("halo_fault", "status", "code"), [
    ("503", 503, "halo_unavailable"),  # Halo down: retry later
    ("401", 502, "halo_credentials"),  # the connector's own Halo key refused: an operator's fix
])
def test_halo_trouble_is_an_error_zapier_shows_with_the_status(zapier_app, live, halo_fault,
                                                                status, code):
    live.halo_faults(f"{halo_fault}:1:path=tickets/create")
    (outcome,) = run_zapier(zapier_app, [
        call(CREATE, bundle(live, {"email": "jane@example.com", "subject": "Down"}))])["results"]
    assert not outcome["ok"] and outcome["error"]["name"] == "ResponseError"
    error = json.loads(outcome["error"]["message"])
    assert error["status"] == status and json.loads(error["content"])["code"] == code


def test_rest_hook_subscribe_deliver_perform_and_unsubscribe(zapier_app, live):
    receiver = Receiver()
    try:
        hook = "triggers.new_ticket_instant.operation"
        (subscribed,) = run_zapier(zapier_app, [call(f"{hook}.performSubscribe", bundle(
            live, targetUrl=receiver.url))])["results"]
        subscription = ok(subscribed)
        assert subscription["event"] == "new_ticket" and subscription["target_url"] == receiver.url
        created = requests.post(f"{live.url}/v1/actions/create_ticket", headers=auth(API_KEY),
                                json={"email": "hook@example.com", "subject": "Hooked"}, timeout=10)
        assert created.status_code == 201
        with live.services.store.session() as session:
            (row_id,) = session.execute(select(HookDelivery.id)).scalars().all()
        live.services.hooks.deliver(row_id)
        ((_headers, body),) = receiver.received
        performed, listed, unsubscribed = run_zapier(zapier_app, [
            call(f"{hook}.perform", bundle(live, cleanedRequest=json.loads(body))),
            call(f"{hook}.performList", bundle(live)),
            call(f"{hook}.performUnsubscribe", bundle(live, subscribeData=subscription)),
        ])["results"]
        (item,) = ok(performed)
        assert item == ok(listed)[0] and item["subject"] == "Hooked"
        ok(unsubscribed)
        remaining = requests.get(f"{live.url}/v1/hooks", headers=auth(API_KEY), timeout=10).json()
        assert remaining == []
    finally:
        receiver.close()
