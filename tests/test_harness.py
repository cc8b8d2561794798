"""The harness itself: readable diffs, malformed fixtures, --update, record, JUnit XML, --against."""

from __future__ import annotations

import copy
import json
import xml.etree.ElementTree as ET

import pytest

from connector.harness import FIXTURES_DIR, FixtureError, load_cases
from connector.harness.against import replay_against
from connector.harness.fixtures import load_case
from connector.harness.inbound import HARNESS_API_KEY, build, harness_env
from connector.harness.offline import OfflineRunner
from connector.harness.record import record
from connector.harness.report import junit_xml, summary
from connector.services import services
from tests.conftest import base_env
from tests.live_connector import live_connector

HAPPY = FIXTURES_DIR / "zapier" / "create_ticket" / "happy_path.json"


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory):
    with OfflineRunner(workdir=tmp_path_factory.mktemp("harness")) as replaying:
        yield replaying


def altered(case, change):
    changed = copy.deepcopy(case)
    change(changed)
    return changed


def test_a_different_halo_call_fails_with_a_readable_diff(runner):
    case = altered(load_case(HAPPY), lambda c: c.halo["calls"][0]["json"].update(subject="Other"))
    result = runner.run(case)
    assert not result.passed
    assert result.problems == ['Halo call #1 POST tickets/create body .subject: expected "Other", '
                               'got "Bug: SEO settings missing"']


def test_a_missing_and_an_unexpected_halo_call_are_named(runner):
    extra = {"method": "POST", "path": "users/identify", "json": {"user_id": "u"}}
    missing = runner.run(altered(load_case(HAPPY), lambda c: c.halo["calls"].append(extra)))
    assert missing.problems == ['missing Halo call #2: POST users/identify {"user_id": "u"}']
    unexpected = runner.run(altered(load_case(HAPPY), lambda c: c.halo["calls"].clear()))
    assert len(unexpected.problems) == 1
    assert unexpected.problems[0].startswith("unexpected Halo call #1: POST tickets/create {")


def test_a_wrong_answer_and_wildcard_mismatch_are_reported(runner):
    def change(case):
        case.expect["status"] = 200
        case.expect["json"]["id"] = "<any:str>"
        case.expect["json"]["priority"] = "priority"

    result = runner.run(altered(load_case(HAPPY), change))
    assert "answer status: expected 200, got 201" in result.problems
    assert any(p.startswith("answer body .id: expected <any:str>, got ") for p in result.problems)
    assert 'answer body .priority: expected "priority", got "normal"' in result.problems


def test_declared_replies_that_go_unused_fail_as_missing_calls(runner):
    case = load_case(FIXTURES_DIR / "zapier" / "create_ticket" / "halo_ticket_id_variant.json")
    assert runner.run(case).passed
    broken = altered(case, lambda c: c.halo["replies"].__setitem__(0, {**c.halo["replies"][0],
                                                                       "path": "tickets/new"}))
    result = runner.run(broken)
    assert not result.passed and "answer status: expected 201, got 503" in result.problems


@pytest.mark.parametrize("document, field, expected", [
    ({"channel": "zapier"}, "description", "Missing data"),
    ({"channel": "fax"}, "channel", "Must be one of"),
    ({"halo": {"calls": "none"}}, "halo.calls", "Not a valid list"),
    ({"expect": {"status": 1000}}, "expect.status", "greater than or equal to 100"),
    ({"request": {"operation": "create_ticket", "bundle": {"inputs": {}}}}, "request.bundle",
     "only authData, inputData and meta"),
    ({"request": {"operation": "make_coffee", "bundle": {}}}, "request.operation", "expected one of"),
    ({"surprise": 1}, "surprise", "Unknown field"),
    ({"expect": {"status": 201, "json": {"id": "<any:integer>"}}}, "expect.json.id",
     "unknown wildcard <any:integer>; expected one of <any>, <any:int>"),
    ({"channel": "email", "request": {"eml": "missing.eml"}}, "request.eml",
     "expected a file missing.eml beside the fixture"),
])
def test_a_malformed_fixture_names_the_file_the_field_and_what_is_expected(tmp_path, document, field,
                                                                          expected):
    good = json.loads(HAPPY.read_text())
    if "description" not in document and document.get("channel") == "zapier":
        del good["description"]
    good.update(document)
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(good))
    with pytest.raises(FixtureError) as raised:
        load_case(path)
    assert str(path) in raised.value.message
    assert f"{field}: " in raised.value.message and expected in raised.value.message


def test_a_fixture_that_is_not_json_is_named_without_a_traceback(tmp_path, make_app):
    path = tmp_path / "bad.json"
    path.write_text("{not json")
    app = make_app(base_env(tmp_path))
    result = app.test_cli_runner().invoke(args=["harness", "replay", str(path)])
    assert result.exit_code == 1
    assert f"{path}: file: expected JSON" in result.output
    assert "Traceback" not in result.output


def test_update_rewrites_expectations_and_keeps_wildcards(tmp_path, make_app):
    path = tmp_path / "case.json"
    document = json.loads(HAPPY.read_text())
    document["halo"]["calls"] = []
    document["expect"] = {"status": 500, "json": {"id": "<any:int>"}}
    path.write_text(json.dumps(document))
    app = make_app(base_env(tmp_path))
    cli = app.test_cli_runner()
    assert cli.invoke(args=["harness", "replay", str(path)]).exit_code == 1
    updated = cli.invoke(args=["harness", "replay", "--update", str(path)])
    assert updated.exit_code == 0 and "updated 1 fixture(s)" in updated.output
    rewritten = json.loads(path.read_text())
    assert rewritten["expect"]["status"] == 201
    assert rewritten["expect"]["json"]["id"] == "<any:int>"
    assert rewritten["expect"]["json"]["created_at"] == "<any:datetime>"
    assert [c["path"] for c in rewritten["halo"]["calls"]] == ["tickets/create"]
    assert rewritten["request"] == document["request"]
    passed = cli.invoke(args=["harness", "replay", str(path)])
    assert passed.exit_code == 0, passed.output


def test_the_summary_and_junit_xml_report_every_case(runner, tmp_path, make_app):
    cases = load_cases([FIXTURES_DIR / "zapier" / "identify_user"])
    cases.append(altered(cases[0], lambda c: c.expect.update(status=299)))
    results = [runner.run(case) for case in cases]
    root = ET.fromstring(junit_xml(results, 1.5))
    assert root.tag == "testsuite" and root.get("tests") == str(len(cases))
    assert root.get("failures") == "1"
    [failure] = root.iter("failure")
    assert "answer status: expected 299" in failure.text
    table = summary(results, 1.5)
    assert f"total         {len(cases) - 1}       1        0" in table
    # and from the command line
    junit = tmp_path / "junit.xml"
    app = make_app(base_env(tmp_path))
    done = app.test_cli_runner().invoke(args=["harness", "replay", "--junit", str(junit),
                                              str(FIXTURES_DIR / "zapier" / "identify_user")])
    assert done.exit_code == 0, done.output
    assert ET.parse(junit).getroot().get("failures") == "0"


PERSONAL = {"email": "maria.lopez@realmail.test", "name": "Maria Lopez", "phone": "+34 612 345 678",
            "api_token": "tok_live_abcdef123456"}


def test_record_turns_a_received_webhook_into_a_scrubbed_passing_fixture(tmp_path, make_app):
    app = make_app(base_env(tmp_path, **harness_env()))
    body = {"email": PERSONAL["email"], "name": PERSONAL["name"], "subject": "Call me",
            "message": f"My number is {PERSONAL['phone']}, from 203.0.113.9",
            "api_token": PERSONAL["api_token"], "external_id": "row-9"}
    case = altered(load_case(FIXTURES_DIR / "webhook" / "zapier" / "happy_path.json"),
                   lambda c: c.request.update(json=body, sign="header"))
    outgoing = build(case, case.request, "webhook", base_url="http://localhost", api_key=HARNESS_API_KEY)
    response = app.test_client().post(outgoing.path, data=outgoing.body, headers=outgoing.headers)
    assert response.status_code == 202
    [submission_id] = response.get_json()["submissions"]
    with app.app_context():
        path = record(services().store, submission_id, name="lead", folder=tmp_path / "recorded")
    text = path.read_text()
    for secret in (*PERSONAL.values(), "203.0.113.9", "harness-test-secret"):
        assert secret not in text
    recorded = load_case(path, tmp_path)
    assert recorded.request["json"]["email"] == "person1@example.com"
    assert recorded.request["json"]["api_token"] == "[redacted]"
    assert "x-webhook-token" not in recorded.request["headers"]
    assert [c["path"] for c in recorded.halo["calls"]] == ["tickets/create"]
    with OfflineRunner() as replaying:
        assert replaying.run(recorded).passed


def test_record_scrubs_a_raw_email(tmp_path, make_app):
    app = make_app(base_env(tmp_path, **harness_env()))
    raw = (f"From: {PERSONAL['name']} <{PERSONAL['email']}>\r\nTo: help@example.com\r\n"
           f"Subject: Refund\r\nMessage-ID: <r1@realmail.test>\r\n"
           f"Received: from mail.realmail.test (203.0.113.9)\r\n\r\n"
           f"Please refund me. Call {PERSONAL['phone']}.\r\n").encode()
    response = app.test_client().post("/inbound/email", data=raw, headers={
        "Content-Type": "message/rfc822", "Authorization": f"Bearer {HARNESS_API_KEY}"})
    assert response.status_code == 202, response.get_json()
    with app.app_context():
        path = record(services().store, response.get_json()["submission"], folder=tmp_path / "rec")
    eml = path.with_suffix(".eml").read_bytes().decode()
    assert PERSONAL["email"] not in eml and PERSONAL["phone"] not in eml and "203.0.113.9" not in eml
    assert "person1@example.com" in eml
    assert load_case(path, tmp_path).expect["status"] == 202


def test_record_refuses_what_is_not_a_webhook_or_email(tmp_path, make_app):
    app = make_app(base_env(tmp_path))
    cli = app.test_cli_runner()
    assert "No submission 99" in cli.invoke(args=["harness", "record", "99"]).output


AGAINST = ["zapier/create_ticket/happy_path", "zapier/find_ticket/by_email", "zapier/create_ticket/halo_503",
           "zapier/identify_user/with_company", "webhook/typeform/happy_path", "email/reply_to",
           "zapier/create_ticket/halo_ticket_id_variant"]


@pytest.mark.slow
def test_against_a_live_connector_with_its_sandbox(tmp_path):
    cases = [load_case(FIXTURES_DIR / f"{name}.json") for name in AGAINST]
    with live_connector(base_env(tmp_path, **harness_env()), start_worker=True) as live:
        url = live.url
        results = {r.case.name: r for r in replay_against(url, cases)}
        assert results["zapier/create_ticket/halo_ticket_id_variant"].skipped
        assert results["zapier/find_ticket/by_email"].skipped  # lists the connector's records
        for name in AGAINST[:-1]:
            if name == "zapier/find_ticket/by_email":
                continue
            assert results[name].passed, (name, results[name].problems)
        # a wrong expectation about what Halo received is caught against the live sandbox too
        wrong = altered(cases[0], lambda c: c.halo["calls"][0]["json"].update(source="other"))
        [failed] = replay_against(url, [wrong])
        missing = altered(cases[0], lambda c: c.halo["calls"].append(c.halo["calls"][0]))
        [twice] = replay_against(url, [missing])
    assert failed.problems == ['Halo ticket #1 .source: expected "other", got "bug_report"']
    assert twice.problems == ["Halo received no ticket #2 ('Bug: SEO settings missing')"]


def test_the_cli_prints_the_settings_against_needs(tmp_path, make_app):
    app = make_app(base_env(tmp_path))
    output = app.test_cli_runner().invoke(args=["harness", "env"]).output
    assert f"CONNECTOR_API_KEYS={HARNESS_API_KEY}" in output and "TYPEFORM_SECRET=" in output


@pytest.mark.slow
def test_against_a_connector_without_a_sandbox_checks_answers_only(tmp_path):
    """A connector on a real Halo key has no /sandbox: answers are compared, faults skipped."""
    from connector.harness.against import AgainstRunner

    cases = [load_case(FIXTURES_DIR / f"{name}.json") for name in
             ("zapier/auth_test/bad_key", "zapier/create_ticket/missing_customer",
              "zapier/create_ticket/halo_503")]
    with live_connector(base_env(tmp_path, **harness_env()), start_worker=True) as live:
        url = live.url
        runner = AgainstRunner(url)
        runner._sandbox_available = False  # as a connector talking to a real Halo answers
        results = [runner.run(case) for case in cases]
    assert [r.passed for r in results[:2]] == [True, True]
    assert results[2].skipped and "faults" in results[2].skipped


def test_zapier_curlies_render_as_zapier_platform_core_renders_them():
    from connector.harness.zapier import RenderError, bundle_bank, render, render_bundle

    bank = bundle_bank({"inputData": {"n": 5, "flag": False, "tags": ["a", "b"], "meta": {"k": "v"},
                                      "none": None}})
    template = {"whole": "{{bundle.inputData.tags}}", "obj": "{{bundle.inputData.meta}}",
                "key": "{{bundle.inputData.meta.k}}", "n": "{{bundle.inputData.n}}",
                "text": "n={{bundle.inputData.n}} {{bundle.inputData.flag}}",
                "unmapped": "{{bundle.inputData.missing}}", "null": "{{bundle.inputData.none}}",
                "mixed": "x-{{bundle.inputData.missing}}-y"}
    assert render(template, bank) == {"whole": ["a", "b"], "obj": {"k": "v"}, "key": "v", "n": 5,
                                      "text": "n=5 false", "unmapped": "", "null": "", "mixed": "x--y"}
    with pytest.raises(RenderError, match="Variable `bundle.inputData.tags` is an array"):
        render("tags: {{bundle.inputData.tags}}", bank)
    request = render_bundle("find_ticket", {"authData": {"base_url": "https://c.example.com",
                                                         "api_key": "k"},
                                            "inputData": {"email": "a@example.com"}})
    assert request.method == "GET" and request.path == "/v1/searches/find_ticket"
    assert ("email", "a@example.com") in request.query and ("external_id", "") in request.query
    assert request.headers["Authorization"] == "Bearer k" and request.json is None
