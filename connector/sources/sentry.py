"""Sentry: integration-platform issue alerts (``event_alert``) and ``issue.created`` webhooks.

Signed with ``Sentry-Hook-Signature`` (hex HMAC-SHA256 of the body with the integration's client
secret). The ``Sentry-Hook-Timestamp`` header is not signed, so it is not checked. The legacy
per-project WebHooks plugin cannot sign: it posts to ``/hooks/sentry/<secret>``. The customer is
the event's ``user`` (email, or ``user.id`` as the customer's own user id) when the SDK set it.
"""

from __future__ import annotations

from typing import Any

from connector.sources.base import Candidate, Delivery, Field, Source, Submission, dig, json_object, text_of
from connector.sources.routes import Options
from connector.sources.signatures import HmacSignature, SharedSecret

LEGACY = "legacy.alert"
MAX_FRAMES = 5


def event_type(payload: dict[str, Any], delivery: Delivery) -> str:
    resource = delivery.header("sentry-hook-resource")
    if not resource:
        return LEGACY if "project_name" in payload or "triggering_rules" in payload else "unknown"
    action = text_of(payload.get("action"))
    return f"{resource}.{action}" if action else resource


def _event(payload: dict[str, Any]) -> dict[str, Any]:
    event = dig(payload, "data", "event") or payload.get("event")
    return event if isinstance(event, dict) else {}


def _tags(event: dict[str, Any]) -> dict[str, Any]:
    tags = event.get("tags")
    if isinstance(tags, dict):
        return tags
    return {str(t[0]): t[1] for t in tags or [] if isinstance(t, list) and len(t) == 2}


def _exception_text(event: dict[str, Any]) -> str:
    lines: list[str] = []
    for value in (dig(event, "exception", "values") or [])[-3:]:
        if not isinstance(value, dict):
            continue
        lines.append(f"{value.get('type') or 'Error'}: {value.get('value') or ''}".strip())
        frames = [f for f in dig(value, "stacktrace", "frames") or [] if isinstance(f, dict)]
        for frame in frames[-MAX_FRAMES:][::-1]:
            where = frame.get("filename") or frame.get("abs_path") or frame.get("module") or "?"
            lines.append(f"  at {frame.get('function') or '?'} ({where}:{frame.get('lineno') or '?'})")
    return "\n".join(lines)


def read(payload: dict[str, Any], delivery: Delivery, options: Options) -> Submission:
    event = _event(payload)
    issue = dig(payload, "data", "issue") if isinstance(dig(payload, "data", "issue"), dict) else {}
    tags = _tags(event)
    title = (text_of(event.get("title")) or text_of(issue.get("title")) or text_of(payload.get("message"))
             or "Sentry issue")
    level = text_of(event.get("level")) or text_of(issue.get("level")) or text_of(payload.get("level"))
    project = (text_of(dig(issue, "project", "slug")) or text_of(payload.get("project_slug"))
               or text_of(payload.get("project")) or text_of(tags.get("project")))
    fields = [
        Field("level", "Severity", level),
        Field("environment", "Environment", text_of(event.get("environment")) or text_of(tags.get("environment"))),
        Field("release", "Release", text_of(event.get("release")) or text_of(tags.get("release"))),
        Field("platform", "Platform", text_of(event.get("platform")) or text_of(issue.get("platform"))),
        Field("url", "URL", text_of(dig(event, "request", "url")) or text_of(tags.get("url")), "url"),
        Field("culprit", "Culprit", text_of(event.get("culprit")) or text_of(issue.get("culprit"))
              or text_of(payload.get("culprit"))),
        Field("project", "Project", project or text_of(payload.get("project_name"))),
        Field("alert_rule", "Alert rule", text_of(dig(payload, "data", "triggered_rule"))
              or payload.get("triggering_rules")),
        Field("short_id", "Issue", text_of(issue.get("shortId"))),
        Field("tags", "Tags", tags, "json", shown=False),
    ]
    body = "\n\n".join(p for p in (_exception_text(event), text_of(event.get("message"))) if p) or title
    user = event.get("user") if isinstance(event.get("user"), dict) else {}
    candidates = []
    if user:
        candidates.append(Candidate("sender:event.user", email=text_of(user.get("email")),
                                    name=text_of(user.get("name")) or text_of(user.get("username")),
                                    user_id=text_of(user.get("id"))))
    return Submission(
        title=title,
        default_subject="Sentry: {title}",
        fields=fields,
        body=body,
        candidates=candidates,
        ids={"event_id": text_of(event.get("event_id")),
             "issue_id": text_of(event.get("issue_id")) or text_of(issue.get("id")),
             "request_id": delivery.header("request-id"),
             "installation": text_of(dig(payload, "installation", "uuid")),
             "issue_api_url": text_of(event.get("issue_url"))},
        links={"event": text_of(event.get("web_url")) or "",
               "issue": text_of(issue.get("permalink")) or text_of(issue.get("web_url"))
               or text_of(payload.get("url")) or "",
               },
        variables={"title": title, "level": level or "", "project": project or ""},
        identity_hint="The Sentry event has no user email or id (call Sentry.setUser in the app), "
                      "or set fallback_email for this route.",
        payload=payload,
    )


def event_id(payload: dict[str, Any], delivery: Delivery) -> str | None:
    return (delivery.header("request-id") or text_of(_event(payload).get("event_id"))
            or text_of(dig(payload, "data", "issue", "id")) or text_of(payload.get("id")))


sentry = Source(
    name="sentry",
    label="Sentry",
    auth=(HmacSignature("Sentry-Hook-Signature", "Sentry"), SharedSecret()),
    parse=json_object,
    read=read,
    event_id=event_id,
    event_id_rule="Request-ID header; else data.event.event_id (or the issue id)",
    event_type=event_type,
    handles=frozenset({"event_alert.triggered", "issue.created", LEGACY}),
    ping=lambda p, d: "Sentry installation event." if event_type(p, d).startswith("installation") else None,
    form_id=lambda p, d: text_of(dig(p, "data", "issue", "project", "slug")) or text_of(p.get("project")),
)
