"""Jira (Cloud and Server): issue created/updated webhooks.

Admin-registered webhooks with a secret send ``X-Hub-Signature: sha256=<hex>``; Connect/OAuth
webhooks and Automation "Send web request" calls are unsigned and use the path secret or an
``X-Webhook-Token`` header. ``emailAddress`` is often hidden on Cloud: map account ids (or Server
user names) to emails under ``logins``, else the customer is ``jira:<accountId>``.
"""

from __future__ import annotations

from typing import Any

from connector.sources.base import Candidate, Delivery, Field, Source, Submission, dig, json_object, text_of
from connector.sources.fields import adf_to_text, display
from connector.sources.routes import Options
from connector.sources.signatures import HmacSignature, SharedSecret

UPDATED = "jira:issue_updated"


def _person(user: Any, rule: str) -> Candidate | None:
    if not isinstance(user, dict):
        return None
    account = text_of(user.get("accountId")) or text_of(user.get("name")) or text_of(user.get("key"))
    if not account and not text_of(user.get("emailAddress")):
        return None
    logins = tuple(dict.fromkeys(v for v in (text_of(user.get("accountId")), text_of(user.get("name"))) if v))
    return Candidate(rule, email=text_of(user.get("emailAddress")), name=text_of(user.get("displayName")),
                     account_id=account, logins=logins)


def _changes(payload: dict[str, Any]) -> list[str]:
    lines = []
    for item in dig(payload, "changelog", "items") or []:
        if isinstance(item, dict):
            before = item.get("fromString") or item.get("from") or "∅"
            after = item.get("toString") or item.get("to") or "∅"
            lines.append(f"{item.get('field')}: {before} → {after}")
    return lines


def read(payload: dict[str, Any], delivery: Delivery, options: Options) -> Submission:
    issue = payload.get("issue") if isinstance(payload.get("issue"), dict) else {}
    fields_ = issue.get("fields") if isinstance(issue.get("fields"), dict) else {}
    key = text_of(issue.get("key")) or text_of(issue.get("id")) or "Jira issue"
    summary = text_of(fields_.get("summary")) or key
    description = fields_.get("description")
    body = adf_to_text(description).strip() if isinstance(description, dict) else text_of(description)
    environment = fields_.get("environment")
    base = (text_of(issue.get("self")) or "").split("/rest/api/")[0]
    labels = [str(v) for v in fields_.get("labels") or [] if text_of(v)]
    components = [str(c.get("name")) for c in fields_.get("components") or [] if isinstance(c, dict) and c.get("name")]
    fields = [
        Field("project", "Project", text_of(dig(fields_, "project", "name")) or text_of(dig(fields_, "project", "key"))),
        Field("issuetype", "Type", text_of(dig(fields_, "issuetype", "name"))),
        Field("priority", "Severity", text_of(dig(fields_, "priority", "name"))),
        Field("status", "Status", text_of(dig(fields_, "status", "name"))),
        Field("environment", "Environment",
              adf_to_text(environment).strip() if isinstance(environment, dict) else text_of(environment)),
        Field("labels", "Labels", labels, "choices"),
        Field("components", "Components", components, "choices"),
        Field("reporter", "Reporter", text_of(dig(fields_, "reporter", "displayName"))),
    ]
    updated = payload.get("webhookEvent") == UPDATED
    changes = _changes(payload) if updated else []
    if changes:
        fields.append(Field("changes", "Changes", "\n".join(changes)))
        fields.append(Field("updated_by", "Updated by", text_of(dig(payload, "user", "displayName"))))
    candidates = [c for c in (_person(fields_.get("reporter"), "sender:reporter"),
                              _person(fields_.get("creator"), "sender:creator"),
                              _person(payload.get("user"), "sender:user")) if c]
    return Submission(
        title=summary,
        default_subject="{key} updated: {title}" if updated else "{key}: {title}",
        fields=fields,
        body=body or "(no description)",
        candidates=candidates,
        ids={"issue_id": text_of(issue.get("id")), "key": key, "timestamp": payload.get("timestamp"),
             "webhook_identifier": delivery.header("x-atlassian-webhook-identifier")},
        links={"issue": f"{base}/browse/{key}" if base and issue.get("key") else ""},
        variables={"key": key, "title": summary, "changes": display(changes)},
        identity_hint="The Jira payload has no reporter email (hidden on Cloud); map the account id "
                      "under logins in the routes file.",
        payload=payload,
    )


def event_id(payload: dict[str, Any], delivery: Delivery) -> str | None:
    identifier = delivery.header("x-atlassian-webhook-identifier")
    if identifier:
        return identifier
    issue_id = text_of(dig(payload, "issue", "id"))
    if not issue_id:
        return None
    return f"{payload.get('webhookEvent')}:{issue_id}:{payload.get('timestamp') or ''}"


jira = Source(
    name="jira",
    label="Jira",
    auth=(HmacSignature("X-Hub-Signature", "Jira", prefix="sha256="), SharedSecret()),
    parse=json_object,
    read=read,
    event_id=event_id,
    event_id_rule="X-Atlassian-Webhook-Identifier header (stable across retries); "
                  "else <webhookEvent>:<issue.id>:<timestamp>",
    event_type=lambda p, d: text_of(p.get("webhookEvent")) or "unknown",
    handles=frozenset({"jira:issue_created", UPDATED}),
    form_id=lambda p, d: text_of(dig(p, "issue", "fields", "project", "key")),
)
