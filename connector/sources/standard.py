"""Any JSON sender signing with Standard Webhooks (``webhook-id/-timestamp/-signature``, Svix too).

The secret is the sender's ``whsec_…`` key in ``STANDARD_SECRET`` (``_PREVIOUS`` during a
rotation); the sender's own rotation sends several ``v1,`` signatures and any match passes.
Timestamps more than 5 minutes off either way are refused. The body is read with the key/value
contract; the spec's envelope ``{"type", "timestamp", "data": {…}}`` is unwrapped, and ``type``
is the event type.
"""

from __future__ import annotations

from typing import Any

from connector.sources.base import Delivery, Source, Submission, json_object, text_of
from connector.sources.contract import read_contract
from connector.sources.bodies import unflatten
from connector.sources.routes import Options
from connector.sources.signatures import StandardWebhooksSignature


def _data(payload: dict[str, Any]) -> dict[str, Any]:
    if isinstance(payload.get("data"), dict) and text_of(payload.get("type")):
        return unflatten(payload["data"])
    return unflatten(payload)


def read(payload: dict[str, Any], delivery: Delivery, options: Options) -> Submission:
    submission = read_contract(_data(payload), label="Standard Webhooks", labels=options.labels)
    if text_of(payload.get("type")):
        submission.variables["type"] = payload["type"]
    submission.ids = {"webhook_id": delivery.header("webhook-id") or delivery.header("svix-id"),
                      "type": text_of(payload.get("type")), "timestamp": text_of(payload.get("timestamp"))}
    return submission


standard = Source(
    name="standard",
    label="Standard Webhooks",
    auth=(StandardWebhooksSignature(),),
    parse=json_object,
    read=read,
    event_id=lambda p, d: d.header("webhook-id") or d.header("svix-id"),
    event_id_rule="webhook-id header (stable across retries)",
    event_type=lambda p, d: text_of(p.get("type")) or "message",
)
