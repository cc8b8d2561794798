"""HubSpot: workflow "Send a webhook" actions and app (CRM) webhooks.

- A **workflow webhook** posts one enrolled record: properties in the legacy shape
  (``properties.email.value``) or flat keys the admin chose. It carries the contact's email.
- **App webhooks** post a JSON array of up to 100 events (``subscriptionType``, ``objectId``,
  ``eventId``, ``occurredAt`` …); each is its own event here. They carry no email (only a
  ``propertyChange`` on ``email`` does), so most arrive with an unidentified customer and a
  needs-attention reason: the contact must be looked up (``GET /crm/v3/objects/contacts/{id}``).

Signed requests are checked with v3 (method + URI + body + timestamp, 5 minutes) or v1/v2;
workflow webhooks that are not signed can use the path secret or an ``X-Webhook-Token`` header.
"""

from __future__ import annotations

from typing import Any

from connector.errors import BadRequest
from connector.sources.base import Candidate, Delivery, Field, Source, Submission, text_of
from connector.sources.contract import contract_event_id, read_contract
from connector.sources.fields import humanize, is_empty
from connector.sources.routes import Options
from connector.sources.signatures import HubSpotSignature, SharedSecret

APP_EVENTS = frozenset({"contact.creation", "ticket.creation", "conversation.creation", "conversation.newMessage"})
WORKFLOW = "workflow"
EVENT_FIELDS = ("subscriptionType", "objectId", "objectTypeId", "propertyName", "propertyValue",
                "changeSource", "occurredAt", "attemptNumber", "portalId", "appId", "messageId", "messageType")


def parse(delivery: Delivery) -> Any:
    payload = delivery.json
    if isinstance(payload, list):
        if not payload or not all(isinstance(e, dict) for e in payload):
            raise BadRequest("HubSpot body must be an array of event objects, or one record object.")
        return payload
    if not isinstance(payload, dict):
        raise BadRequest("HubSpot body must be an array of event objects, or one record object.")
    return payload


def split(payload: Any, delivery: Delivery) -> list[Any]:
    return payload if isinstance(payload, list) else [payload]


def is_app_event(item: dict[str, Any]) -> bool:
    return "subscriptionType" in item and "objectId" in item


def event_type(item: dict[str, Any], delivery: Delivery) -> str:
    return (text_of(item.get("subscriptionType")) or WORKFLOW) if is_app_event(item) else WORKFLOW


def event_id(item: dict[str, Any], delivery: Delivery) -> str | None:
    if is_app_event(item):
        if item.get("eventId") is None:
            return None
        # eventId alone is "not guaranteed unique" (HubSpot docs): pair it with occurredAt.
        return ":".join(str(item.get(k, "")) for k in ("subscriptionId", "eventId", "occurredAt"))
    return contract_event_id(item)


def _properties(item: dict[str, Any]) -> dict[str, Any] | None:
    properties = item.get("properties")
    if not isinstance(properties, dict):
        return None
    return {k: (v.get("value") if isinstance(v, dict) and "value" in v else v) for k, v in properties.items()}


def read(item: dict[str, Any], delivery: Delivery, options: Options) -> Submission:
    if is_app_event(item):
        return _read_app_event(item, options)
    properties = _properties(item)
    if properties is None:
        return read_contract(item, label="HubSpot", labels=options.labels, default_subject="HubSpot workflow webhook")
    fields = [
        Field(key, options.labels.get(key) or humanize(key), value,
              shown=not key.startswith("hs_") and key not in ("lastmodifieddate", "createdate"))
        for key, value in properties.items() if not is_empty(value)
    ]
    portal = text_of(item.get("portal-id")) or text_of(item.get("portalId"))
    record = text_of(item.get("vid")) or text_of(item.get("canonical-vid")) or text_of(item.get("objectId"))
    first, last = text_of(properties.get("firstname")), text_of(properties.get("lastname"))
    who = " ".join(p for p in (first, last) if p) or text_of(properties.get("email")) or record or "contact"
    return Submission(
        title=who,
        default_subject="HubSpot workflow webhook: {contact}",
        fields=fields,
        ids={"portal_id": portal, "object_id": record},
        links={"contact": f"https://app.hubspot.com/contacts/{portal}/contact/{record}" if portal and record else ""},
        variables={"contact": who},
        payload=item,
    )


def _read_app_event(item: dict[str, Any], options: Options) -> Submission:
    fields = [Field(key, options.labels.get(key) or humanize(key), item[key],
                    shown=key in ("subscriptionType", "objectId", "propertyName", "propertyValue", "changeSource"))
              for key in EVENT_FIELDS if not is_empty(item.get(key))]
    candidates = []
    if item.get("propertyName") == "email" and text_of(item.get("propertyValue")):
        candidates.append(Candidate("sender:propertyValue", email=text_of(item.get("propertyValue"))))
    subscription = text_of(item.get("subscriptionType")) or "event"
    return Submission(
        title=subscription,
        default_subject="HubSpot {subscription_type}: object {object_id}",
        fields=fields,
        candidates=candidates,
        ids={"portal_id": item.get("portalId"), "object_id": item.get("objectId"),
             "event_id": item.get("eventId"), "subscription_id": item.get("subscriptionId")},
        variables={"subscription_type": subscription, "object_id": text_of(item.get("objectId")) or ""},
        identity_hint=(f"HubSpot {subscription} events carry only objectId {item.get('objectId')}, not an "
                       "email; look the contact up in HubSpot, or use a workflow webhook that sends it."),
        payload=item,
    )


hubspot = Source(
    name="hubspot",
    label="HubSpot",
    auth=(HubSpotSignature(), SharedSecret()),
    parse=parse,
    split=split,
    read=read,
    event_id=event_id,
    event_id_rule="app events: subscriptionId:eventId:occurredAt (eventId alone is not unique); "
                  "workflow webhooks: external_id, else a hash of the raw body",
    event_type=event_type,
    handles=APP_EVENTS | {WORKFLOW},
    form_id=lambda item, d: text_of(item.get("portalId")) or text_of(item.get("portal-id")),
)
