"""Formspree (Professional plans): simple webhooks and REST hooks; no signature is documented.

The body shape is low-confidence (verify with a real delivery): ``{form, submission: {_date,
<fields>…}, keys: [...]}``, fields in ``keys`` order; ``_replyto``/``email`` carry the customer,
``_subject`` the subject. Anything else is read with the key/value contract. A REST-hook
subscription starts with a request carrying ``X-Hook-Secret``, which the response must echo;
a build hook posts an empty body. Both are answered 2xx without a ticket. Authenticate with the
path secret (``/hooks/formspree/<secret>``) or an ``X-Webhook-Token`` header.
"""

from __future__ import annotations

from typing import Any

from connector.sources.base import Delivery, Field, Requested, Source, Submission, dig, text_of
from connector.sources.contract import as_object, contract_event_id, read_contract
from connector.sources.fields import humanize
from connector.sources.routes import Options
from connector.sources.signatures import SharedSecret


def parse(delivery: Delivery) -> dict[str, Any]:
    if not delivery.raw.strip():
        return {}
    return as_object(delivery.body, "Formspree")


def handshake(delivery: Delivery) -> dict[str, str] | None:
    secret = delivery.header("x-hook-secret")
    return {"X-Hook-Secret": secret} if secret else None


def read(payload: dict[str, Any], delivery: Delivery, options: Options) -> Submission:
    submission = payload.get("submission")
    form = text_of(payload.get("form"))
    title = form or "Formspree form"
    if not isinstance(submission, dict):
        return read_contract(payload, label="Formspree", labels=options.labels, title=title,
                             default_subject="New Formspree submission: {form_title}")
    order = [k for k in payload.get("keys") or [] if isinstance(k, str) and k in submission]
    order += [k for k in submission if k not in order]
    fields: list[Field] = []
    for key in order:
        value = submission[key]
        if key == "_replyto":
            fields.append(Field(key, "Reply-to", value, "email"))
        elif not key.startswith("_"):
            fields.append(Field(key, options.labels.get(key) or humanize(key), value))
    return Submission(
        title=title,
        default_subject="New Formspree submission: {form_title}",
        fields=fields,
        requested=Requested(subject=text_of(submission.get("_subject"))),
        ids={"form": form, "submission_id": text_of(submission.get("_id") or submission.get("id")),
             "date": text_of(submission.get("_date"))},
        payload=payload,
    )


def event_id(payload: dict[str, Any], delivery: Delivery) -> str | None:
    submission_id = text_of(dig(payload, "submission", "_id")) or text_of(dig(payload, "submission", "id"))
    return submission_id or contract_event_id(payload)


formspree = Source(
    name="formspree",
    label="Formspree",
    auth=(SharedSecret(),),
    parse=parse,
    read=read,
    event_id=event_id,
    event_id_rule="submission._id when present (undocumented); else external_id; else a hash of the raw body",
    ping=lambda p, d: "Formspree build hook (empty body)." if not p else None,
    form_id=lambda p, d: text_of(p.get("form")),
    handshake=handshake,
)
