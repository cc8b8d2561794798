"""WPForms (Webhooks addon): a body whose keys the admin maps to smart tags, JSON or form-encoded.

The keys are user-defined, so the body is read with the key/value contract (``contract.py``):
map ``email``, ``name``, ``subject`` and ``message`` in the addon and every other key becomes a
field. Add ``form_id``/``entry_id`` (smart tags ``{form_id}``/``{entry_id}``) for per-form
overrides and deduplication. No signature: the path secret or an ``X-Webhook-Token`` header.
"""

from __future__ import annotations

from typing import Any

from connector.sources.base import Delivery, Source, Submission, text_of
from connector.sources.contract import as_object, contract_event_id, read_contract
from connector.sources.routes import Options
from connector.sources.signatures import SharedSecret

FORM_KEYS = ("form_id", "form_name", "form_title", "entry_id")


def read(payload: dict[str, Any], delivery: Delivery, options: Options) -> Submission:
    title = text_of(payload.get("form_name")) or text_of(payload.get("form_title"))
    form = text_of(payload.get("form_id"))
    submission = read_contract(payload, label="WPForms", labels=options.labels,
                               title=title or (f"form {form}" if form else "WPForms form"),
                               default_subject="New WPForms entry: {form_title}", skip=frozenset(FORM_KEYS))
    submission.ids = {"form_id": form, "entry_id": text_of(payload.get("entry_id"))}
    return submission


def event_id(payload: dict[str, Any], delivery: Delivery) -> str | None:
    entry = text_of(payload.get("entry_id"))
    return f"entry:{entry}" if entry else contract_event_id(payload)


wpforms = Source(
    name="wpforms",
    label="WPForms",
    auth=(SharedSecret(),),
    parse=lambda delivery: as_object(delivery.body, "WPForms"),
    read=read,
    event_id=event_id,
    event_id_rule="entry:<entry_id> when mapped; else external_id; else a hash of the raw body",
    form_id=lambda p, d: text_of(p.get("form_id")),
)
