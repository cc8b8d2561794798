"""Intercom: ``conversation.user.created`` notifications, ``X-Hub-Signature: sha1=<hex>``.

The customer is the conversation's user (``data.item.user``, or ``source.author`` in API v2+).
Leads often have no email; a signed-up user's ``user_id`` is the customer's own id and is used
as Halo's ``user_id``, a lead's Intercom id only as ``intercom:<id>`` when nothing else is known.
"""

from __future__ import annotations

from typing import Any

from connector.sources.base import Candidate, Delivery, Field, Source, Submission, dig, json_object, text_of
from connector.sources.fields import html_to_text
from connector.sources.routes import Options
from connector.sources.signatures import HmacSignature


def _person(item: dict[str, Any]) -> dict[str, Any]:
    for path in (("user",), ("source", "author"), ("contacts", "contacts", 0)):
        person = dig(item, *path)
        if isinstance(person, dict):
            return person
    return {}


def read(payload: dict[str, Any], delivery: Delivery, options: Options) -> Submission:
    item = dig(payload, "data", "item") if isinstance(dig(payload, "data", "item"), dict) else {}
    message = item.get("conversation_message") if isinstance(item.get("conversation_message"), dict) \
        else item.get("source") if isinstance(item.get("source"), dict) else {}
    person = _person(item)
    name = text_of(person.get("name"))
    own_id = text_of(person.get("user_id") or person.get("external_id")) if person.get("type") in ("user", "contact") \
        and person.get("role") != "lead" else None
    candidates = [Candidate("sender:user", email=text_of(person.get("email")), name=name, user_id=own_id,
                            account_id=text_of(person.get("id")))] if person else []
    subject = html_to_text(text_of(message.get("subject")))
    tags = [str(t.get("name")) for t in dig(item, "tags", "tags") or [] if isinstance(t, dict) and t.get("name")]
    attachments = [a.get("url") for a in message.get("attachments") or [] if isinstance(a, dict) and a.get("url")]
    return Submission(
        title=subject or f"conversation from {name or 'a visitor'}",
        default_subject="Intercom: {title}" if subject else "New Intercom conversation from {who}",
        fields=[Field("user_type", "Contact type", text_of(person.get("type"))),
                Field("tags", "Tags", tags, "choices"),
                Field("attachments", "Attachments", attachments, "file")],
        body=html_to_text(text_of(message.get("body"))) or "(no message)",
        candidates=candidates,
        ids={"conversation_id": text_of(item.get("id")), "notification_id": text_of(payload.get("id")),
             "app_id": text_of(payload.get("app_id"))},
        links={"conversation": text_of(dig(item, "links", "conversation_web")) or ""},
        variables={"title": subject, "who": name or "a visitor"},
        identity_hint="The Intercom contact has no email (a lead); map a field or set fallback_email.",
        payload=payload,
    )


intercom = Source(
    name="intercom",
    label="Intercom",
    auth=(HmacSignature("X-Hub-Signature", "Intercom", digest="sha1", prefix="sha1="),),
    parse=json_object,
    read=read,
    event_id=lambda p, d: text_of(p.get("id")),
    event_id_rule="the notification id (notif_…, body id)",
    event_type=lambda p, d: text_of(p.get("topic")) or "unknown",
    handles=frozenset({"conversation.user.created"}),
    ping=lambda p, d: "Intercom ping." if p.get("topic") == "ping" else None,
    form_id=lambda p, d: text_of(p.get("app_id")),
)
