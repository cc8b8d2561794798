"""Linear: Issue and Comment webhooks, ``Linear-Signature`` hex HMAC plus a 60 s ``webhookTimestamp``.

``Issue.create`` and ``Comment.create`` make tickets out of the box. The reporter's email is only
in ``actor.email`` (newer payloads); otherwise map Linear user ids (or names) to emails under the
route's ``logins``, else the customer is ``linear:<user id>``.
"""

from __future__ import annotations

import re
from typing import Any

from connector.sources.base import Candidate, Delivery, Field, Source, Submission, dig, json_object, text_of
from connector.sources.routes import Options
from connector.sources.signatures import BodyTimestamp, HmacSignature

_IDENTIFIER = re.compile(r"/issue/([A-Z][A-Z0-9]*-\d+)")


def event_type(payload: dict[str, Any], delivery: Delivery) -> str:
    kind = text_of(payload.get("type")) or delivery.header("linear-event") or "unknown"
    action = text_of(payload.get("action"))
    return f"{kind}.{action}" if action else kind


def event_id(payload: dict[str, Any], delivery: Delivery) -> str | None:
    delivered = delivery.header("linear-delivery")
    if delivered:
        return delivered
    data = payload.get("data") if isinstance(payload.get("data"), dict) else {}
    if not text_of(data.get("id")):
        return None
    # webhookId names the webhook, not the delivery: use the entity and its version instead.
    return f"{event_type(payload, delivery)}:{data['id']}:{data.get('updatedAt') or data.get('createdAt') or ''}"


def _identifier(data: dict[str, Any], url: str | None) -> str | None:
    if text_of(data.get("identifier")):
        return str(data["identifier"])
    if text_of(dig(data, "team", "key")) and text_of(data.get("number")):
        return f"{data['team']['key']}-{data['number']}"
    match = _IDENTIFIER.search(url or "")
    return match.group(1) if match else None


def read(payload: dict[str, Any], delivery: Delivery, options: Options) -> Submission:
    data = payload.get("data") if isinstance(payload.get("data"), dict) else {}
    url = text_of(payload.get("url")) or text_of(data.get("url"))
    actor = payload.get("actor") if isinstance(payload.get("actor"), dict) else {}
    is_comment = payload.get("type") == "Comment"
    if is_comment:
        issue = data.get("issue") if isinstance(data.get("issue"), dict) else {}
        title = text_of(issue.get("title")) or "Linear issue"
        identifier = _identifier(issue, url)
        person = data.get("user") if isinstance(data.get("user"), dict) else {}
        person_id = text_of(data.get("userId")) or text_of(person.get("id"))
        body = text_of(data.get("body"))
        fields = [Field("issue", "Issue", identifier or title), Field("author", "Comment by", text_of(person.get("name")))]
        subject = "Comment on {identifier}: {title}" if identifier else "Comment on {title}"
    else:
        title = text_of(data.get("title")) or "Linear issue"
        identifier = _identifier(data, url)
        person = {}
        person_id = text_of(data.get("creatorId"))
        body = text_of(data.get("description"))
        labels = [str(lab.get("name")) for lab in data.get("labels") or [] if isinstance(lab, dict) and lab.get("name")]
        fields = [
            Field("identifier", "Issue", identifier),
            Field("team", "Team", text_of(dig(data, "team", "name"))),
            Field("state", "State", text_of(dig(data, "state", "name"))),
            Field("priority", "Priority", text_of(data.get("priorityLabel"))),
            Field("labels", "Labels", labels, "choices"),
            Field("assignee", "Assignee", text_of(dig(data, "assignee", "name"))),
            Field("project", "Project", text_of(dig(data, "project", "name"))),
        ]
        subject = "{identifier}: {title}" if identifier else "Linear: {title}"
    actor_is_person = actor and actor.get("type") in (None, "user")
    candidates = []
    if actor_is_person and (text_of(actor.get("email")) or text_of(actor.get("id"))):
        candidates.append(Candidate("sender:actor", email=text_of(actor.get("email")), name=text_of(actor.get("name")),
                                    account_id=text_of(actor.get("id")),
                                    logins=tuple(v for v in (text_of(actor.get("id")), text_of(actor.get("name"))) if v)))
    if person_id or person:
        candidates.append(Candidate("sender:creator", name=text_of(person.get("name")), account_id=person_id,
                                    logins=tuple(v for v in (person_id, text_of(person.get("name"))) if v)))
    return Submission(
        title=title,
        default_subject=subject,
        fields=fields,
        body=body or "(no description)",
        candidates=candidates,
        ids={"id": text_of(data.get("id")), "organization_id": text_of(payload.get("organizationId")),
             "webhook_id": text_of(payload.get("webhookId")), "delivery": delivery.header("linear-delivery")},
        links={"comment" if is_comment else "issue": url or ""},
        variables={"title": title, "identifier": identifier or ""},
        payload=payload,
    )


linear = Source(
    name="linear",
    label="Linear",
    auth=(HmacSignature("Linear-Signature", "Linear", timestamp=BodyTimestamp("webhookTimestamp", 60)),),
    parse=json_object,
    read=read,
    event_id=event_id,
    event_id_rule="Linear-Delivery header; else <type>.<action>:<data.id>:<data.updatedAt> "
                  "(webhookId names the webhook, not the delivery)",
    event_type=event_type,
    handles=frozenset({"Issue.create", "Comment.create"}),
    form_id=lambda p, d: text_of(dig(p, "data", "team", "key")) or text_of(dig(p, "data", "teamId")),
)
