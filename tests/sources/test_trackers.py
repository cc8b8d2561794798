"""GitHub, Sentry, Linear, Jira, Intercom and HubSpot: events, pings, ids and the real customer."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import tomllib
from urllib.parse import quote

import pytest

from connector.errors import BadRequest, Unauthorized
from connector.sources import SOURCES
from connector.sources.routes import parse_routes

from .conftest import JSON, PATH_SECRET, assert_within_halo_limits, corpus, deliver, hmac_hex, only_ticket, read, sample, vectors


def routes(text: str):
    return parse_routes(tomllib.loads(text), SOURCES)


def gh(event: str, delivery: str = "72d3162e-cc78-11e3-81ab-4c9367dc0958") -> dict[str, str]:
    return {**JSON, "X-GitHub-Event": event, "X-GitHub-Delivery": delivery}


# --- GitHub -----------------------------------------------------------------------------------


def test_github_issue_opened_with_the_computed_signature():
    vector = vectors()["computed"]["github_issue_opened"]
    processed = deliver("github", corpus("github_issue_opened.json"),
                        {**gh("issues"), vector["header"]: vector["expected"]}, env={"GITHUB_SECRET": vector["secret"]})
    item = processed.accepted[0]
    ticket = item.ticket_request
    assert item.event_id == "72d3162e-cc78-11e3-81ab-4c9367dc0958" and item.event_type == "issues.opened"
    assert ticket.subject == "Codertocat/Hello-World#1: Spelling error in the README file"
    assert ticket.message.startswith("It looks like you accidently spelled 'commit' with two 't's.")
    assert "Labels: bug" in ticket.message
    assert ticket.customer.user_id == "github:21031067" and ticket.customer.name == "Codertocat"
    assert ticket.customer.resolved_by == "sender:user:account_id"
    assert ticket.metadata["github"]["issue"] == "https://github.com/Codertocat/Hello-World/issues/1"
    assert_within_halo_limits(ticket)


def test_github_login_map_gives_the_real_email_and_fallback_beats_the_account_id():
    mapped = routes('[routes.github]\nlogins = { Codertocat = "codertocat@example.com" }\n')
    ticket = only_ticket(read("github", corpus("github_issue_opened.json"), gh("issues"), routes=mapped))
    assert ticket.customer.email == "codertocat@example.com"
    assert ticket.customer.resolved_by == "route:logins:Codertocat"
    fallback = routes('[routes.github]\nfallback_email = "triage@example.com"\n')
    ticket = only_ticket(read("github", corpus("github_issue_opened.json"), gh("issues"), routes=fallback))
    assert ticket.customer.email == "triage@example.com" and ticket.customer.user_id is None


def test_github_issue_with_a_null_body():
    ticket = only_ticket(read("github", corpus("github_issue_opened_empty_body.json"), gh("issues")))
    assert ticket.message.startswith("(no description)")


def test_github_issue_comment():
    ticket = only_ticket(read("github", corpus("github_issue_comment_created.json"), gh("issue_comment")))
    assert ticket.subject == "Comment on Codertocat/Hello-World#1: Spelling error in the README file"
    assert ticket.message.startswith("You are totally right! I'll get this fixed right away.")
    assert ticket.metadata["github"]["comment"].endswith("#issuecomment-492700400")


def test_github_ping_is_ignored_even_when_signed():
    raw = corpus("github_ping.json")
    headers = {**gh("ping"), "X-Hub-Signature-256": "sha256=" + hmac_hex("gh-secret", raw)}
    processed = deliver("github", raw, headers, env={"GITHUB_SECRET": "gh-secret"})
    assert processed.status == "ignored" and "ping" in processed.reason


def test_github_unhandled_actions_are_ignored_unless_the_route_lists_them():
    data = json.loads(corpus("github_issue_opened.json"))
    data["action"] = "labeled"
    raw = json.dumps(data).encode()
    assert "issues.labeled is not handled" in read("github", raw, gh("issues")).reason
    wider = routes('[routes.github]\nevents = ["issues.opened", "issues.labeled"]\n')
    assert read("github", raw, gh("issues"), routes=wider).status == "accepted"


def test_github_form_encoded_payload_is_signed_over_the_whole_form_body():
    payload = corpus("github_issue_opened.json").decode()
    raw = ("payload=" + quote(payload, safe="")).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded", "X-GitHub-Event": "issues",
               "X-GitHub-Delivery": "d-form", "X-Hub-Signature-256": "sha256=" + hmac_hex("gh-secret", raw)}
    ticket = only_ticket(deliver("github", raw, headers, env={"GITHUB_SECRET": "gh-secret"}))
    assert ticket.subject.startswith("Codertocat/Hello-World#1")


def test_github_form_body_without_payload_is_400():
    with pytest.raises(BadRequest, match="no payload field"):
        read("github", b"foo=bar", {"Content-Type": "application/x-www-form-urlencoded", "X-GitHub-Event": "issues"})


def test_github_subject_template_and_per_repository_override():
    custom = routes('[routes.github]\nsubject = "[{repo}] {title}"\n'
                    '[routes.github.forms."Codertocat/Hello-World"]\nsource = "bug_report"\npriority = "priority"\n')
    ticket = only_ticket(read("github", corpus("github_issue_opened.json"), gh("issues"), routes=custom))
    assert ticket.subject == "[Codertocat/Hello-World] Spelling error in the README file"
    assert ticket.source == "bug_report" and ticket.priority == "priority"


# --- Sentry -----------------------------------------------------------------------------------

SENTRY = {**JSON, "Sentry-Hook-Resource": "event_alert", "Request-ID": "f6c1e2b3-0000-4000-8000-000000000001",
          "Sentry-Hook-Timestamp": "1566248777"}


def test_sentry_issue_alert_with_the_computed_signature():
    vector = vectors()["computed"]["sentry"]
    processed = deliver("sentry", corpus("sentry_issue_alert.json"), {**SENTRY, vector["header"]: vector["expected"]},
                        env={"SENTRY_SECRET": vector["secret"]})
    item = processed.accepted[0]
    ticket = item.ticket_request
    assert item.event_id == "f6c1e2b3-0000-4000-8000-000000000001" and item.event_type == "event_alert.triggered"
    assert ticket.subject == "Sentry: ReferenceError: heck is not defined"
    assert ticket.message.startswith("ReferenceError: heck is not defined\n  at ? (<anonymous>:3)")
    assert "Severity: error" in ticket.message and "URL: https://null.jsbin.com/runner" in ticket.message
    assert ticket.metadata["Tags"]["browser"] == "Chrome 75.0.3770"
    assert ticket.metadata["sentry"]["event"].endswith("/events/e4874d664c3540c1a32eab185f12c5ab/")
    assert not ticket.customer.identified
    assert "Sentry.setUser" in item.attention


def test_sentry_user_email_and_own_user_id():
    data = json.loads(corpus("sentry_issue_alert.json"))
    data["data"]["event"]["user"] = {"id": "user-8812", "email": "maria.garcia@example.org", "username": "maria"}
    ticket = only_ticket(read("sentry", json.dumps(data).encode(), SENTRY))
    assert ticket.customer.email == "maria.garcia@example.org" and ticket.customer.name == "maria"
    assert ticket.customer.user_id == "user-8812"
    assert ticket.customer.resolved_by == "sender:event.user, sender:event.user:user_id"
    data["data"]["event"]["user"] = {"id": "user-8812"}
    ticket = only_ticket(read("sentry", json.dumps(data).encode(), SENTRY))
    assert ticket.customer.user_id == "user-8812"  # the app's own user id, unprefixed
    assert ticket.customer.resolved_by == "sender:event.user:user_id"


def test_sentry_fallback_email_for_anonymous_events():
    custom = routes('[routes.sentry]\nfallback_email = "oncall@example.com"\n')
    ticket = only_ticket(read("sentry", corpus("sentry_issue_alert.json"), SENTRY, routes=custom))
    assert ticket.customer.email == "oncall@example.com"


def test_sentry_event_id_falls_back_to_the_event_id_and_installation_is_ignored():
    headers = {**JSON, "Sentry-Hook-Resource": "event_alert"}
    assert read("sentry", corpus("sentry_issue_alert.json"), headers).accepted[0].event_id == \
        "e4874d664c3540c1a32eab185f12c5ab"
    install = json.dumps({"action": "created", "installation": {"uuid": "x"}}).encode()
    assert read("sentry", install, {**JSON, "Sentry-Hook-Resource": "installation"}).status == "ignored"
    metric = json.dumps({"action": "critical", "data": {}}).encode()
    assert "metric_alert.critical is not handled" in read("sentry", metric, {**JSON, "Sentry-Hook-Resource": "metric_alert"}).reason


def test_sentry_legacy_plugin_uses_the_path_secret():
    legacy = json.dumps({"id": "1117540176", "project": "front-end", "project_name": "Front End", "culprit": "app.js",
                         "message": "ReferenceError: heck is not defined", "url": "https://sentry.example.com/issues/1/",
                         "level": "error", "triggering_rules": ["Every event"],
                         "event": {"event_id": "abc", "title": "ReferenceError: heck is not defined",
                                   "user": {"email": "maria.garcia@example.org"}}}).encode()
    processed = deliver("sentry", legacy, JSON, env={"SENTRY_SECRET": PATH_SECRET}, path_secret=PATH_SECRET)
    ticket = only_ticket(processed)
    assert processed.accepted[0].event_type == "legacy.alert"
    assert ticket.customer.email == "maria.garcia@example.org"
    assert ticket.metadata["sentry"]["issue"] == "https://sentry.example.com/issues/1/"


# --- Linear -----------------------------------------------------------------------------------


def test_linear_issue_with_the_computed_signature_inside_the_window():
    vector = vectors()["computed"]["linear"]
    headers = {**JSON, "Linear-Event": "Issue", "Linear-Delivery": "0b6e6f4a-0000-4000-8000-00000000aaaa",
               vector["header"]: vector["expected"]}
    processed = deliver("linear", corpus("linear_issue.json"), headers, env={"LINEAR_SECRET": vector["secret"]},
                        now=1681207816.078 + 5)
    item = processed.accepted[0]
    ticket = item.ticket_request
    assert item.event_id == "0b6e6f4a-0000-4000-8000-00000000aaaa" and item.form_id == "WEB"
    assert ticket.subject == "WEB-44: This is regarding the outage that we faced during 11/12/22 from 2000 to 2200."
    assert "Priority: Urgent" in ticket.message and "Labels: Improvement, Feature, Bug, Custom Label" in ticket.message
    assert ticket.customer.user_id == "linear:674c90c8-35ea-454d-8ca4-5548258fd795"


def test_linear_stale_delivery_is_refused():
    vector = vectors()["computed"]["linear"]
    with pytest.raises(Unauthorized, match="60 s"):
        deliver("linear", corpus("linear_issue.json"), {**JSON, vector["header"]: vector["expected"]},
                env={"LINEAR_SECRET": vector["secret"]}, now=1681207816.078 + 120)


def test_linear_comment_and_the_login_map():
    custom = routes('[routes.linear]\nlogins = { "674c90c8-35ea-454d-8ca4-5548258fd795" = "satyam@example.com" }\n')
    ticket = only_ticket(read("linear", corpus("linear_comment.json"), {**JSON, "Linear-Event": "Comment"}, routes=custom))
    assert ticket.subject == "Comment on WEB-46: Thorough Impact Analysis and Cost Realization"
    assert ticket.customer.email == "satyam@example.com" and ticket.customer.name == "Satyam Bansal"
    assert ticket.event_id.startswith("Comment.create:c7cafc52-994d-4984-a217-bff9f9aa9473:")


def test_linear_actor_email_when_present_and_updates_ignored():
    data = json.loads(corpus("linear_issue.json"))
    data["actor"] = {"id": "u1", "type": "user", "name": "Maria Garcia", "email": "maria.garcia@example.org"}
    ticket = only_ticket(read("linear", json.dumps(data).encode()))
    assert ticket.customer.email == "maria.garcia@example.org" and ticket.customer.resolved_by == "sender:actor"
    data["action"] = "update"
    assert "Issue.update is not handled" in read("linear", json.dumps(data).encode()).reason


# --- Jira -------------------------------------------------------------------------------------


def test_jira_issue_created_with_the_computed_signature():
    vector = vectors()["computed"]["jira"]
    headers = {**JSON, vector["header"]: vector["expected"], "X-Atlassian-Webhook-Identifier": "jira-delivery-1"}
    processed = deliver("jira", corpus("jira_issue_created.json"), headers, env={"JIRA_SECRET": vector["secret"]})
    item = processed.accepted[0]
    ticket = item.ticket_request
    assert item.event_id == "jira-delivery-1" and item.form_id == "BUG"
    assert ticket.subject == "BUG-15: New bug with hook"
    assert ticket.message.startswith("Fix me please")
    assert "Severity: Major" in ticket.message and "Type: Bug" in ticket.message
    assert ticket.customer.email == "othello@zulip.com" and ticket.customer.name == "Leo Franchi"
    assert ticket.metadata["jira"]["issue"] == "http://lfranchi.com:8080/browse/BUG-15"


def test_jira_cloud_update_with_adf_description_and_account_id_login_map():
    custom = routes('[routes.jira]\nlogins = { "5b10a2844c20165700ede21g" = "maria.garcia@example.org" }\n')
    ticket = only_ticket(read("jira", sample("jira_issue_updated_cloud.json"), routes=custom))
    assert ticket.subject == "SUP-7 updated: Desktop app logs users out"
    assert ticket.message.startswith("Users are logged out every few minutes.\nSeen on 4.2")
    assert "Changes: status: Open → In Progress" in ticket.message
    assert "Environment: macOS 14, app 4.2" in ticket.message
    assert ticket.customer.email == "maria.garcia@example.org" and ticket.customer.name == "Maria Garcia"
    assert ticket.metadata["jira"]["issue"] == "https://example.atlassian.net/browse/SUP-7"
    unmapped = only_ticket(read("jira", sample("jira_issue_updated_cloud.json")))
    assert unmapped.customer.user_id == "jira:5b10a2844c20165700ede21g"


def test_jira_unsigned_automation_call_uses_the_shared_secret():
    processed = deliver("jira", corpus("jira_issue_created.json"), {**JSON, "X-Webhook-Token": PATH_SECRET},
                        env={"JIRA_SECRET": PATH_SECRET})
    assert processed.status == "accepted"


# --- Intercom ---------------------------------------------------------------------------------


def test_intercom_lead_without_email_uses_the_intercom_id_as_last_resort():
    raw = corpus("intercom_conversation_user_created.json")
    signature = "sha1=" + hmac.new(b"intercom-secret", raw, hashlib.sha1).hexdigest()
    processed = deliver("intercom", raw, {**JSON, "X-Hub-Signature": signature}, env={"INTERCOM_SECRET": "intercom-secret"})
    item = processed.accepted[0]
    ticket = item.ticket_request
    assert item.event_id == "notif_3ac27816-d27c-45fd-a65a-bbaf021cf780"
    assert ticket.subject == "New Intercom conversation from Rose Poodle from St. John's"
    assert ticket.message.startswith("Hello everyone!")
    assert ticket.customer.user_id == "intercom:5c9553cb27e377f24eed49f7"
    assert ticket.customer.resolved_by == "sender:user:account_id"
    assert ticket.metadata["intercom"]["conversation"].endswith("/conversations/21321941764")


def test_intercom_signed_up_user_gives_email_and_own_user_id():
    data = json.loads(corpus("intercom_conversation_user_created.json"))
    data["data"]["item"]["user"].update(type="user", email="maria.garcia@example.org", user_id="app-user-7")
    ticket = only_ticket(read("intercom", json.dumps(data).encode()))
    assert ticket.customer.email == "maria.garcia@example.org"
    data["data"]["item"]["user"]["email"] = ""
    ticket = only_ticket(read("intercom", json.dumps(data).encode()))
    assert ticket.customer.user_id == "app-user-7"


def test_intercom_ping_and_other_topics_are_ignored():
    assert read("intercom", b'{"type":"notification_event","topic":"ping","id":"notif_1"}').reason == "Intercom ping."
    assert "contact.created is not handled" in read("intercom", b'{"topic":"contact.created","data":{}}').reason


# --- HubSpot ----------------------------------------------------------------------------------

HUB_URL = "https://connector.example.com/hooks/hubspot"


def test_hubspot_app_webhook_batch_is_one_item_per_event():
    raw = sample("hubspot_contact.json")
    stamp = "1715682600000"
    signature = base64.b64encode(hmac.new(b"client-secret", b"POST" + HUB_URL.encode() + raw + stamp.encode(),
                                          hashlib.sha256).digest()).decode()
    headers = {**JSON, "X-HubSpot-Signature-v3": signature, "X-HubSpot-Request-Timestamp": stamp}
    processed = deliver("hubspot", raw, headers, env={"HUBSPOT_SECRET": "client-secret"}, url=HUB_URL,
                        now=1_715_682_600)
    assert [type(i).__name__ for i in processed.items] == ["Ignored", "Accepted", "Accepted"]
    assert "contact.propertyChange is not handled" in processed.items[0].reason
    anonymous, known = processed.accepted
    assert anonymous.event_id == "22:3816279480:1462216307945"
    assert not anonymous.ticket_request.customer.identified
    assert "objectId 1246978" in anonymous.attention
    assert known.ticket_request.customer.email == "maria.garcia@example.org"
    assert known.ticket_request.subject == "HubSpot contact.creation: object 1246979"


def test_hubspot_workflow_webhook_with_legacy_properties():
    ticket = only_ticket(read("hubspot", sample("hubspot_workflow.json")))
    assert ticket.customer.email == "maria.garcia@example.org"
    assert ticket.customer.name == "Maria Garcia"
    assert ticket.subject == "HubSpot workflow webhook: Maria Garcia"
    assert "Message: Since the 4.2 update" in ticket.message
    assert "Hs object id" not in ticket.message and ticket.metadata["Hs object id"] == "1246979"
    assert ticket.metadata["hubspot"]["contact"] == "https://app.hubspot.com/contacts/33/contact/1246979"


def test_hubspot_unsigned_workflow_uses_the_path_secret():
    processed = deliver("hubspot", sample("hubspot_workflow.json"), JSON, env={"HUBSPOT_SECRET": PATH_SECRET},
                        path_secret=PATH_SECRET)
    assert processed.status == "accepted"


def test_hubspot_body_that_is_neither_array_nor_object_is_400():
    with pytest.raises(BadRequest, match="array of event objects"):
        read("hubspot", b'"hello"')
