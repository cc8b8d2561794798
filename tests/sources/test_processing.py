"""process()/interpret(): route lookup, secrets, parse errors, event ids, ignores, replay, storage."""

from __future__ import annotations

import json
import tomllib

import pytest

from connector.errors import BadRequest, NotFound, Unauthorized
from connector.sources import SOURCES, SenderNotConfigured, headers_for_storage, interpret
from connector.sources.routes import parse_routes

from .conftest import JSON, PATH_SECRET, corpus, deliver, hmac_b64, only_ticket, read, vectors

TYPEFORM_ENV = {"TYPEFORM_SECRET": "typeform-test-secret"}


def typeform_headers(raw: bytes, secret: str = "typeform-test-secret") -> dict[str, str]:
    return {**JSON, "Typeform-Signature": "sha256=" + hmac_b64(secret, raw)}


def routes(text: str):
    return parse_routes(tomllib.loads(text), SOURCES)


def test_the_typeform_corpus_with_its_computed_signature_is_accepted():
    vector = vectors()["computed"]["typeform"]
    processed = deliver("typeform", corpus("typeform_basic.json"), {**JSON, vector["header"]: vector["expected"]},
                        env={"TYPEFORM_SECRET": vector["secret"]})
    assert processed.status == "accepted"
    assert processed.route == "typeform" and processed.sender == "typeform"
    assert processed.accepted[0].event_id == "LtWXD3crgy"
    assert processed.accepted[0].attention is None


def test_unknown_sender_is_404():
    with pytest.raises(NotFound) as info:
        deliver("typefrom", b"{}", JSON, env=TYPEFORM_ENV)
    assert info.value.status == 404
    assert "typefrom" in info.value.message


@pytest.mark.parametrize("route, message", [
    ("typeform", "Set TYPEFORM_SECRET to accept Typeform webhooks."),
    ("google_forms", "Set GOOGLE_FORMS_SECRET to accept Google Forms webhooks."),
])
def test_a_sender_without_its_secret_refuses_with_the_variable_to_set(route, message):
    with pytest.raises(SenderNotConfigured) as info:
        deliver(route, b"{}", JSON, env={})
    assert info.value.message == message
    assert info.value.status == 503
    assert info.value.status not in (404, 410)


def test_a_named_route_uses_its_own_secret_variable():
    custom = routes('[routes.support-form]\nsender = "typeform"\n')
    raw = corpus("typeform_basic.json")
    with pytest.raises(SenderNotConfigured, match="Set SUPPORT_FORM_SECRET to accept webhooks on /hooks/support-form"):
        deliver("support-form", raw, typeform_headers(raw), env=TYPEFORM_ENV, routes=custom)
    processed = deliver("support-form", raw, typeform_headers(raw, "form-secret"),
                        env={"SUPPORT_FORM_SECRET": "form-secret"}, routes=custom)
    assert processed.route == "support-form" and processed.sender == "typeform"
    assert only_ticket(processed).provenance["route"] == "support-form"


def test_secret_env_lets_routes_share_a_variable():
    custom = routes('[routes.support]\nsender = "typeform"\nsecret_env = "TYPEFORM_SECRET"\n')
    raw = corpus("typeform_basic.json")
    assert deliver("support", raw, typeform_headers(raw), env=TYPEFORM_ENV, routes=custom).status == "accepted"


def test_the_previous_secret_is_accepted_during_a_rotation():
    raw = corpus("typeform_basic.json")
    env = {"TYPEFORM_SECRET": "brand-new-secret", "TYPEFORM_SECRET_PREVIOUS": "typeform-test-secret"}
    assert deliver("typeform", raw, typeform_headers(raw), env=env).status == "accepted"


def test_malformed_json_with_a_valid_signature_is_400_with_the_parse_error():
    raw = b'{"event_id": "x", "form_response": '
    with pytest.raises(BadRequest) as info:
        deliver("typeform", raw, typeform_headers(raw), env=TYPEFORM_ENV)
    assert info.value.status == 400
    assert "Malformed JSON: Expecting value: line 1 column 36 (char 35)" in info.value.message


def test_a_bad_signature_is_checked_before_the_body_is_read():
    raw = b"not json at all"
    with pytest.raises(Unauthorized):
        deliver("typeform", raw, typeform_headers(raw, "wrong"), env=TYPEFORM_ENV)


@pytest.mark.parametrize("raw, message", [
    (b'{"event_id": "x"}', "no form_response object"),
    (b"[1, 2]", "Expected a JSON object"),
    (b'{"a": NaN}', "NaN is not valid JSON"),
    (b"[" * 100_000 + b"]" * 100_000, "Malformed JSON"),
])
def test_bodies_that_are_not_a_typeform_response_are_400(raw, message):
    with pytest.raises(BadRequest, match=message):
        deliver("typeform", raw, typeform_headers(raw), env=TYPEFORM_ENV)


def test_interpret_replays_a_stored_delivery_without_any_secret():
    raw = corpus("typeform_basic.json")
    stored_headers = headers_for_storage(typeform_headers(raw))
    first = interpret("typeform", headers=stored_headers, raw=raw, routes=routes(""))
    assert only_ticket(first).customer.email == "laura@example.com"


def test_replay_after_a_mapping_fix_applies_the_new_route():
    raw = corpus("jotform_raw.txt")
    headers = {"Content-Type": "multipart/form-data; boundary=------------------------J1JNT4vbVO4FCC1qLG4HSv"}
    before = read("jotform", raw, headers)
    assert before.accepted[0].attention
    fixed = routes('[routes.jotform]\nfallback_email = "tutoring@example.com"\n')
    after = interpret("jotform", headers=headers, raw=raw, routes=fixed)
    assert after.accepted[0].attention is None
    assert only_ticket(after).customer.email == "tutoring@example.com"
    assert after.accepted[0].event_id == before.accepted[0].event_id


def test_headers_for_storage_drops_credentials_and_signatures_but_keeps_event_names():
    headers = {
        "Content-Type": "application/json", "X-GitHub-Event": "issues", "X-GitHub-Delivery": "d-1",
        "X-Hub-Signature-256": "sha256=abc", "Typeform-Signature": "sha256=abc", "Authorization": "Bearer t",
        "X-Webhook-Token": PATH_SECRET, "webhook-id": "msg_1", "webhook-signature": "v1,abc",
        "webhook-timestamp": "1", "X-HubSpot-Signature-v3": "x", "X-Hook-Secret": "s", "Cookie": "a=b",
        "X-Api-Key": "k", "Linear-Delivery": "l-1", "Sentry-Hook-Resource": "event_alert",
    }
    kept = headers_for_storage(headers)
    assert kept == {
        "content-type": "application/json", "x-github-event": "issues", "x-github-delivery": "d-1",
        "webhook-id": "msg_1", "webhook-timestamp": "1", "linear-delivery": "l-1",
        "sentry-hook-resource": "event_alert",
    }


def test_bodies_without_a_sender_id_get_a_stable_hash_of_the_raw_body():
    raw = corpus("make_http_request.json")
    first, again = read("make", raw), read("make", raw)
    other = read("make", raw.replace(b"Maria", b"Mario"))
    assert first.accepted[0].event_id == again.accepted[0].event_id
    assert first.accepted[0].event_id.startswith("sha256:")
    assert other.accepted[0].event_id != first.accepted[0].event_id


def test_a_mapped_external_id_is_the_event_id_and_long_ids_are_hashed():
    body = json.loads(corpus("make_http_request.json"))
    assert read("make", json.dumps({**body, "external_id": "row-42"}).encode()).accepted[0].event_id == "row-42"
    long_id = read("make", json.dumps({**body, "external_id": "x" * 5000}).encode()).accepted[0].event_id
    assert long_id.startswith("sha256:") and len(long_id) < 60


def test_an_ignored_delivery_says_why_and_keeps_the_event_id():
    processed = read("github", corpus("github_ping.json"), {**JSON, "X-GitHub-Event": "ping", "X-GitHub-Delivery": "p-1"})
    assert processed.status == "ignored"
    assert processed.reason == "GitHub ping (the webhook is set up)."
    assert processed.ignored[0].event_id == "p-1"
    assert processed.accepted == []


def test_route_tenant_is_reported_with_the_outcome():
    custom = routes('[routes.acme-bugs]\nsender = "github"\ntenant = "acme"\n')
    processed = read("acme-bugs", corpus("github_issue_opened.json"), {**JSON, "X-GitHub-Event": "issues"}, routes=custom)
    assert processed.tenant == "acme"


def test_ignore_forms_and_ignore_events_and_events_rules():
    raw = corpus("typeform_basic.json")
    ignored_form = routes('[routes.typeform]\nignore_forms = ["lT4Z3j"]\n')
    assert "form lT4Z3j is ignored" in read("typeform", raw, routes=ignored_form).reason
    partial = raw.replace(b'"event_type": "form_response"', b'"event_type": "form_response_partial"')
    assert "form_response_partial is not handled" in read("typeform", partial).reason
    accept_partial = routes('[routes.typeform]\nevents = ["form_response", "form_response_partial"]\n')
    assert read("typeform", partial, routes=accept_partial).status == "accepted"
    no_full = routes('[routes.typeform]\nignore_events = ["form_response"]\n')
    assert "ignored by the route" in read("typeform", raw, routes=no_full).reason


def test_the_ack_path_can_skip_ticket_building_and_the_worker_builds_the_same_ticket():
    raw = corpus("typeform_basic.json")
    quick = deliver("typeform", raw, typeform_headers(raw), env=TYPEFORM_ENV, build_tickets=False)
    assert quick.status == "accepted" and quick.accepted[0].ticket_request is None
    assert quick.accepted[0].event_id == "LtWXD3crgy"
    later = interpret("typeform", headers=headers_for_storage(typeform_headers(raw)), raw=raw, routes=routes(""))
    assert later.accepted[0].event_id == quick.accepted[0].event_id
    assert only_ticket(later).customer.email == "laura@example.com"
    ignored = deliver("typeform", raw, typeform_headers(raw), env=TYPEFORM_ENV, build_tickets=False,
                      routes=routes('[routes.typeform]\nignore_forms = ["lT4Z3j"]\n'))
    assert ignored.status == "ignored"
