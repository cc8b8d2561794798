"""GitHub: ``issues`` and ``issue_comment`` webhooks, signed with ``X-Hub-Signature-256``.

JSON or form-encoded (``payload=<json>``) bodies. Out of the box ``issues.opened`` and
``issue_comment.created`` make tickets; ``ping`` is answered and ignored. GitHub never sends an
email for a user, only a login: map logins to emails in the route (``[routes.x.logins]``), else
the customer is the GitHub account as ``user_id = "github:<id>"`` (or the route's
``fallback_email`` when set).
"""

from __future__ import annotations

from typing import Any

from connector.errors import BadRequest
from connector.sources.base import Candidate, Delivery, Field, Source, Submission, dig, text_of
from connector.sources import bodies
from connector.sources.bodies import FORM_TYPE
from connector.sources.routes import Options
from connector.sources.signatures import HmacSignature


def parse(delivery: Delivery) -> dict[str, Any]:
    payload = delivery.body
    if delivery.mime == FORM_TYPE:
        if not isinstance(payload, dict) or not isinstance(payload.get("payload"), str):
            raise BadRequest("GitHub form body has no payload field.")
        payload = bodies.parse_json(payload["payload"], "GitHub payload field")
    if not isinstance(payload, dict):
        raise BadRequest("GitHub body must be a JSON object.")
    return payload


def event_name(payload: dict[str, Any], delivery: Delivery) -> str:
    name = delivery.header("x-github-event")
    if not name:
        name = "ping" if "zen" in payload else "issue_comment" if "comment" in payload else \
            "issues" if "issue" in payload else "unknown"
    return name


def event_type(payload: dict[str, Any], delivery: Delivery) -> str:
    name = event_name(payload, delivery)
    action = text_of(payload.get("action"))
    return f"{name}.{action}" if action else name


def _user(user: Any, rule: str) -> Candidate | None:
    if not isinstance(user, dict) or not text_of(user.get("login")):
        return None
    login = str(user["login"])
    return Candidate(rule, email=text_of(user.get("email")), name=text_of(user.get("name")) or login,
                     account_id=text_of(user.get("id")), logins=(login,))


def read(payload: dict[str, Any], delivery: Delivery, options: Options) -> Submission:
    issue = payload.get("issue") if isinstance(payload.get("issue"), dict) else {}
    comment = payload.get("comment") if isinstance(payload.get("comment"), dict) else None
    repo = text_of(dig(payload, "repository", "full_name")) or "GitHub"
    number = text_of(issue.get("number")) or ""
    title = text_of(issue.get("title")) or event_name(payload, delivery)
    author = comment.get("user") if comment else issue.get("user")
    labels = [str(label.get("name")) for label in issue.get("labels") or [] if isinstance(label, dict) and label.get("name")]
    assignees = [str(a.get("login")) for a in issue.get("assignees") or [] if isinstance(a, dict) and a.get("login")]
    fields = [
        Field("repository", "Repository", repo),
        Field("issue", "Issue", f"#{number}" if number else None),
        Field("state", "State", text_of(issue.get("state"))),
        Field("labels", "Labels", labels, "choices"),
        Field("assignees", "Assignees", assignees, "choices"),
        Field("milestone", "Milestone", text_of(dig(issue, "milestone", "title"))),
        Field("author", "Opened by" if not comment else "Comment by", text_of(dig(author, "login"))),
    ]
    body = text_of((comment or issue).get("body"))
    candidates = [c for c in (_user(author, "sender:user"), _user(payload.get("sender"), "sender:sender")) if c]
    links = {"issue": text_of(issue.get("html_url")) or ""}
    if comment:
        links["comment"] = text_of(comment.get("html_url")) or ""
    return Submission(
        title=title,
        default_subject=("Comment on {repo}#{number}: {title}" if comment else "{repo}#{number}: {title}")
        if number else "GitHub {event}: {repo}",
        fields=fields,
        body=body or "(no description)",
        candidates=candidates,
        ids={"issue_id": issue.get("id"), "comment_id": comment.get("id") if comment else None,
             "delivery": delivery.header("x-github-delivery"), "repository_id": dig(payload, "repository", "id")},
        links=links,
        variables={"repo": repo, "number": number, "title": title, "event": event_name(payload, delivery)},
        identity_hint="GitHub sends only the author's login; map it under logins in the routes file.",
        payload=payload,
    )


github = Source(
    name="github",
    label="GitHub",
    auth=(HmacSignature("X-Hub-Signature-256", "GitHub", prefix="sha256="),
          HmacSignature("X-Hub-Signature", "GitHub", digest="sha1", prefix="sha1=")),
    parse=parse,
    read=read,
    event_id=lambda p, d: d.header("x-github-delivery"),
    event_id_rule="X-GitHub-Delivery header (kept on redelivery)",
    event_type=event_type,
    handles=frozenset({"issues.opened", "issue_comment.created"}),
    ping=lambda p, d: "GitHub ping (the webhook is set up)." if event_name(p, d) == "ping" else None,
    form_id=lambda p, d: text_of(dig(p, "repository", "full_name")),
)
