"""The generated Make app: every file validates against Make's own schemas, and the requests its
modules describe (rendered as Make renders them: base URL and headers, JSON body or query string,
no Accept header) do what the modules promise against the connector."""

from __future__ import annotations

import json
from typing import Any

import pytest

from connector.manifests.make import make_files, slug
from tests.conftest import API_KEY, HALO
from tests.helpers import record, stub_halo_tickets
from tests.manifests.iml import render
from tests.manifests.make_schemas import schema_name, validator
from tests.test_hooks import Receiver
from triggers import TRIGGERS

BASE_URL = "http://localhost"


@pytest.fixture(scope="module")
def app_files() -> dict[str, Any]:
    return {path: (json.loads(text) if path.endswith(".json") else text)
            for path, text in make_files().items()}


def code(app_files: dict[str, Any], kind: str, component: str, code_type: str) -> Any:
    manifest = app_files["makecomapp.json"]
    return app_files[manifest["components"][kind][component]["codeFiles"][code_type]]


def send(client, app_files: dict[str, Any], request: dict[str, Any], scope: dict[str, Any]):
    """Send one rendered Make request: base first, then the module's own directives."""
    base = app_files["general/base.iml.json"]
    scope = {"connection": {"base_url": BASE_URL, "api_key": API_KEY}, **scope}
    merged = {**{k: v for k, v in base.items() if k not in ("response", "log", "baseUrl")}, **request}
    merged["headers"] = {**base["headers"], **request.get("headers", {})}
    rendered = render({k: v for k, v in merged.items() if k != "response"}, scope)
    url = render(base["baseUrl"], scope) + rendered["url"]
    assert "Accept" not in rendered["headers"]  # Make's HTTP calls send none
    options: dict[str, Any] = {"method": rendered.get("method", "GET"),
                               "headers": rendered["headers"], "query_string": rendered.get("qs")}
    if "body" in rendered:
        options["json"] = rendered["body"]
    return client.open(url.removeprefix(BASE_URL), **options)


def items_of(response, request: dict[str, Any], scope: dict[str, Any]) -> list[Any]:
    """What Make outputs for a response: iterate over the container, render ``output`` per item."""
    spec = request["response"]
    assert spec["iterate"] == "{{body}}"
    return [render(spec["output"], {**scope, "item": item, "body": response.get_json()})
            for item in response.get_json()]


def test_every_generated_file_validates_against_makes_own_schemas(app_files):
    checked = 0
    for path, content in app_files.items():
        if path == "README.md":
            continue
        schema = schema_name(path)
        assert schema, f"no Make schema applies to {path}"
        errors = [f"{list(e.absolute_path)}: {e.message[:200]}"
                  for e in validator(schema).iter_errors(content)]
        assert errors == [], f"{path} ({schema})"
        checked += 1
    listed = {path for kind in app_files["makecomapp.json"]["components"].values()
              for component in kind.values() for path in component["codeFiles"].values()}
    listed |= set(app_files["makecomapp.json"]["generalCodeFiles"].values()) - {None}
    assert listed == set(app_files) - {"makecomapp.json"}
    assert checked == len(app_files) - 1


def test_make_bounds_the_parameters_where_the_connector_would_refuse_them(client, app_files):
    params = {p["name"]: p for p in code(app_files, "module", "find-ticket", "mappableParams")}
    assert params["limit"]["validate"] == {"min": 1, "max": 100}
    assert params["external_id"]["validate"] == {"max": 255}
    (limit,) = code(app_files, "module", "watch-new-ticket", "staticParams")
    request = code(app_files, "module", "watch-new-ticket", "communication")
    for value, status in ((limit["validate"]["max"], 200), (limit["validate"]["max"] + 1, 422)):
        assert send(client, app_files, request, {"parameters": {"limit": value}, "epoch": {}}
                    ).status_code == status


def test_the_validation_is_real_a_wrong_trigger_is_refused(app_files):
    broken = dict(code(app_files, "module", "watch-new-ticket", "communication"))
    broken["response"] = {**broken["response"], "trigger": {"type": "id"}}
    assert list(validator("api.json").iter_errors(broken))


def test_create_ticket_as_make_sends_it_with_key_value_metadata(client, halo, app_files):
    halo.post(f"{HALO}/users/identify", json={})
    stub_halo_tickets(halo)
    request = code(app_files, "module", "create-ticket", "communication")
    scope = {"parameters": {  # what a Make user fills in; unset parameters are left out
        "email": "jane@example.com", "subject": "From Make", "user_id": "user_9",
        "metadata": [{"key": "severity", "value": "major"}, {"key": "area", "value": "Billing"}],
        "traits": [{"key": "seats", "value": "5"}], "priority": "priority", "ai_enabled": True}}
    response = send(client, app_files, request, scope)
    assert response.status_code == 201, response.get_json()
    ticket = render(request["response"]["output"], {"body": response.get_json()})
    assert ticket["metadata"] == {"severity": "major", "area": "Billing"}
    assert ticket["origin"] == "make" and ticket["priority"] == "priority"
    identified, sent = (json.loads(call.request.body) for call in halo.calls)
    assert identified["user_id"] == "user_9" and identified["traits"]["seats"] == "5"
    assert sent["metadata"]["severity"] == "major" and sent["email"] == "jane@example.com"


def test_make_form_data_without_accept_header_is_read_too(client, halo):
    stub_halo_tickets(halo)
    response = client.post("/v1/actions/create_ticket", headers={
        "Authorization": f"Bearer {API_KEY}", "User-Agent": "Make/production"},
        content_type="multipart/form-data", data={
            "email": "form@example.com", "subject": "Multipart", "metadata[plan]": "pro",
            "name": ""})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["metadata"] == {"plan": "pro"}
    assert response.get_json()["origin"] == "make"


def test_identify_modules_and_the_search_module(client, halo, app_files):
    halo.post(f"{HALO}/users/identify", json={})
    halo.post(f"{HALO}/companies/identify", json={})
    stub_halo_tickets(halo)
    user = send(client, app_files, code(app_files, "module", "identify-user", "communication"), {
        "parameters": {"user_id": "user_1", "signed_up_at": "2024-05-01T10:00:00.000Z",
                       "traits": [{"key": "mrr", "value": "49"}]}})
    assert user.status_code == 200, user.get_json()
    assert user.get_json()["traits"] == {"mrr": "49", "signed_up_at": "2024-05-01T10:00:00Z"}
    company = send(client, app_files, code(app_files, "module", "identify-company", "communication"),
                   {"parameters": {"company_id": "c1", "employee_count": 12}})
    assert company.status_code == 200 and company.get_json()["traits"] == {"employee_count": 12}
    created = send(client, app_files, code(app_files, "module", "create-ticket", "communication"),
                   {"parameters": {"email": "pat@example.com", "subject": "Find me",
                                   "external_id": "row-3"}})
    search = code(app_files, "module", "find-ticket", "communication")
    for parameters, expected in (({"external_id": "row-3", "limit": 10}, [created.get_json()["id"]]),
                                 ({"email": "nobody@example.com", "limit": 10}, [])):
        scope = {"parameters": parameters}
        found = send(client, app_files, search, scope)
        assert found.status_code == 200, found.get_json()
        assert [item["id"] for item in items_of(found, search, scope)] == expected


@pytest.mark.parametrize("trigger", TRIGGERS, ids=lambda t: t.key)
def test_each_watch_module_and_its_epoch_panel_answer_items_make_can_order(client, svc, trigger,
                                                                            app_files):
    record(svc, email=None)  # a submission, and a failure (no customer)
    request = code(app_files, "module", f"watch-{slug(trigger.key)}", "communication")
    scope = {"parameters": {"limit": 100}, "epoch": {}}
    response = send(client, app_files, request, scope)
    assert response.status_code == 200, response.get_json()
    epoch = code(app_files, "module", f"watch-{slug(trigger.key)}", "epoch")
    panel = send(client, app_files, {**request, **epoch}, scope)
    for item in items_of(response, request, scope):
        spec = request["response"]["trigger"]
        assert isinstance(render(spec["id"], {"item": item}), int)
        assert render(spec["date"], {"item": item}).endswith("Z")
    for choice in items_of(panel, {**request, **epoch}, scope):
        assert choice["label"].startswith("#") and choice["date"].endswith("Z")


def test_epoch_polling_through_the_module_never_skips_or_repeats(client, svc, app_files):
    request = code(app_files, "module", "watch-new-submission", "communication")
    before = [record(svc, subject=f"old {n}") for n in range(3)]
    first = send(client, app_files, request, {"parameters": {"limit": 2}, "epoch": {}}).get_json()
    assert [item["id"] for item in first] == [before[2], before[1]]  # a new scenario: newest first
    epoch = max(item["id"] for item in first)
    made: list[int] = []
    seen: list[int] = []
    for round_ in range(6):
        made += [record(svc, subject=f"new {round_}.{n}") for n in range(round_ % 3 + 1)]
        page = send(client, app_files, request,
                    {"parameters": {"limit": 2}, "epoch": {"id": epoch}}).get_json()
        ids = [item["id"] for item in page]
        assert ids == sorted(ids, reverse=True)  # order: desc, as the module declares
        seen += ids
        epoch = max(ids, default=epoch)
    while page:
        page = send(client, app_files, request,
                    {"parameters": {"limit": 2}, "epoch": {"id": epoch}}).get_json()
        seen += [item["id"] for item in page]
        epoch = max([item["id"] for item in page], default=epoch)
    assert sorted(seen) == made and len(seen) == len(set(seen))


@pytest.fixture
def env(tmp_path):
    from tests.conftest import base_env

    return base_env(tmp_path, HOOKS_ALLOW_PRIVATE_TARGETS="true")


def test_instant_trigger_attach_delivers_the_interface_shape_and_detach_removes_it(
        client, svc, halo, app_files):
    stub_halo_tickets(halo)
    receiver = Receiver()
    try:
        attach = code(app_files, "webhook", "new-ticket-hook", "attach")
        attached = send(client, app_files, attach, {"webhook": {"url": receiver.url}})
        assert attached.status_code == 201, attached.get_json()
        data = render(attach["response"]["data"], {"body": attached.get_json()})
        send(client, app_files, code(app_files, "module", "create-ticket", "communication"),
             {"parameters": {"email": "hook@example.com", "subject": "Instant"}})
        from sqlalchemy import select

        from connector.store import HookDelivery

        with svc.store.session() as session:
            (row_id,) = session.execute(select(HookDelivery.id)).scalars().all()
        svc.hooks.deliver(row_id)
        ((_headers, body),) = receiver.received
        delivered = render(code(app_files, "webhook", "new-ticket-hook", "communication")["output"],
                           {"body": json.loads(body)})
        interface = code(app_files, "module", "watch-new-ticket-instant", "interface")
        assert set(delivered) == {field["name"] for field in interface}
        assert delivered["subject"] == "Instant"
        detached = send(client, app_files, code(app_files, "webhook", "new-ticket-hook", "detach"),
                        {"webhook": data})
        assert detached.status_code == 200
        assert client.get("/v1/hooks", headers={"Authorization": f"Bearer {API_KEY}"}).get_json() == []
    finally:
        receiver.close()


def test_the_base_maps_the_connectors_retriable_statuses_to_errors_make_reruns(client, halo, app_files):
    halo.post(f"{HALO}/tickets/create", status=429, headers={"Retry-After": "17"})
    response = send(client, app_files, code(app_files, "module", "create-ticket", "communication"),
                    {"parameters": {"email": "pat@example.com", "subject": "Busy"}})
    assert response.status_code == 429 and response.headers["Retry-After"] == "17"
    errors = app_files["general/base.iml.json"]["response"]["error"]
    assert errors["429"]["type"] == "RateLimitError"
    assert {errors[status]["type"] for status in ("502", "503", "504")} == {"ConnectionError"}
    assert render(errors["429"]["message"].replace("ifempty(body.message, body)", "body.message"),
                  {"statusCode": 429, "body": response.get_json()}).startswith("[429] ")
