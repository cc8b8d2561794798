"""Make's HTTP "Make a request" module, read with the key/value contract.

Raw JSON, form-urlencoded or multipart bodies; the suggested contract is ``email``, ``name``,
``subject``, ``description``, ``priority``, ``custom_fields{}`` (see ``contract.py``). No
signature: the path secret, an ``X-Webhook-Token``/``Authorization: Bearer`` header (Make's
API-key connection) or Basic Auth.
"""

from __future__ import annotations

from typing import Any

from connector.sources.base import Delivery, Source, Submission
from connector.sources.contract import contract_event_id, read_contract, split_objects
from connector.sources.routes import Options
from connector.sources.signatures import SharedSecret


def read(payload: dict[str, Any], delivery: Delivery, options: Options) -> Submission:
    return read_contract(payload, label="Make", labels=options.labels)


make = Source(
    name="make",
    label="Make",
    auth=(SharedSecret(),),
    parse=lambda delivery: delivery.body,
    split=lambda payload, delivery: split_objects(payload, "Make"),
    read=read,
    event_id=lambda p, d: contract_event_id(p),
    event_id_rule="external_id (or event_id, idempotency_key) mapped in the scenario; else a hash of "
                  "the raw body (+ #index in an array)",
)
