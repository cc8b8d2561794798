"""Zapier's "Webhooks by Zapier" POST/PUT/Custom Request actions, read with the key/value contract.

Form or JSON payloads, Unflatten on or off (``customer__email`` and ``{"customer": {"email"}}``
read the same), and "Wrap Request In Array" (each array element is one event). No signature: put
the secret in the path (``/hooks/zapier/<secret>``), a header (``X-Webhook-Token``,
``Authorization: Bearer``) or Basic Auth's password.
"""

from __future__ import annotations

from typing import Any

from connector.sources.base import Delivery, Source, Submission
from connector.sources.contract import contract_event_id, read_contract, split_objects
from connector.sources.routes import Options
from connector.sources.signatures import SharedSecret


def read(payload: dict[str, Any], delivery: Delivery, options: Options) -> Submission:
    return read_contract(payload, label="Zapier", labels=options.labels)


zapier = Source(
    name="zapier",
    label="Zapier",
    auth=(SharedSecret(),),
    parse=lambda delivery: delivery.body,
    split=lambda payload, delivery: split_objects(payload, "Zapier"),
    read=read,
    event_id=lambda p, d: contract_event_id(p),
    event_id_rule="external_id (or event_id, idempotency_key) mapped in the Zap; else a hash of the "
                  "raw body (+ #index in an array)",
)
