"""Tally: ``FORM_RESPONSE`` webhooks signed with ``Tally-Signature: <base64 HMAC>`` (or a secret header)."""

from __future__ import annotations

from typing import Any

from connector.errors import BadRequest
from connector.sources.base import Candidate, Delivery, Field, Source, Submission, dig, json_object, text_of
from connector.sources.routes import Options
from connector.sources.signatures import HmacSignature, SharedSecret

KINDS = {
    "INPUT_TEXT": "text", "TEXTAREA": "text", "INPUT_EMAIL": "email", "INPUT_PHONE_NUMBER": "phone",
    "INPUT_LINK": "url", "INPUT_DATE": "date", "INPUT_TIME": "time", "INPUT_NUMBER": "number",
    "RATING": "number", "LINEAR_SCALE": "number", "MULTIPLE_CHOICE": "choice", "DROPDOWN": "choice",
    "CHECKBOXES": "choices", "MULTI_SELECT": "choices", "RANKING": "choices", "FILE_UPLOAD": "file",
    "SIGNATURE": "file", "PAYMENT": "payment", "HIDDEN_FIELDS": "hidden", "CALCULATED_FIELDS": "calculated",
    "MATRIX": "matrix",
}
#: Single-answer questions whose value still arrives as a one-element list of option ids.
SINGLE_CHOICE = frozenset({"MULTIPLE_CHOICE", "DROPDOWN"})


def parse(delivery: Delivery) -> dict[str, Any]:
    payload = json_object(delivery)
    if not isinstance(payload.get("data"), dict) or not isinstance(payload["data"].get("fields"), list):
        raise BadRequest("Tally body has no data.fields list.")
    return payload


def _options(field: dict[str, Any], key: str = "options") -> dict[str, str]:
    return {str(o.get("id")): str(o.get("text")) for o in field.get(key) or []
            if isinstance(o, dict) and o.get("id") is not None and o.get("text") is not None}


def field_value(field: dict[str, Any]) -> Any:
    """The typed value: option ids mapped to their text, matrices as {row: [columns]}."""
    kind, value = field.get("type"), field.get("value")
    if kind == "MATRIX" and isinstance(value, dict):
        rows, columns = _options(field, "rows"), _options(field, "columns")
        return {rows.get(str(r), str(r)): [columns.get(str(c), str(c)) for c in (cols or [])]
                for r, cols in value.items() if isinstance(cols, list)}
    options = _options(field)
    if options and isinstance(value, list):
        texts = [options.get(str(v), str(v)) for v in value if not isinstance(v, (dict, list))]
        return texts[0] if kind in SINGLE_CHOICE and len(texts) == 1 else texts
    if options and isinstance(value, str) and value in options:
        return options[value]
    return value


def _is_option_flag(field: dict[str, Any], parents: set[str]) -> bool:
    """CHECKBOXES also send one boolean per option (``<key>_<option id>``): duplicates, skipped."""
    key = str(field.get("key") or "")
    return isinstance(field.get("value"), bool) and any(key.startswith(p + "_") for p in parents)


def read(payload: dict[str, Any], delivery: Delivery, options: Options) -> Submission:
    data = payload["data"]
    raw_fields = [f for f in data["fields"] if isinstance(f, dict)]
    parents = {str(f.get("key")) for f in raw_fields
               if f.get("type") == "CHECKBOXES" and isinstance(f.get("value"), list)}
    fields: list[Field] = []
    payment: dict[str, Any] = {}
    for raw in raw_fields:
        if raw.get("value") is None or _is_option_flag(raw, parents):
            continue
        key = str(raw.get("key") or "field")
        label = options.labels.get(key) or text_of(raw.get("label")) or key
        kind = KINDS.get(str(raw.get("type")), "text")
        value = field_value(raw)
        if kind == "payment":
            payment[key.rsplit("_", 1)[-1]] = value
        fields.append(Field(key, label, value, kind, shown=kind not in ("hidden", "calculated")))

    candidates = []
    if text_of(payment.get("email")) or text_of(payment.get("name")):
        candidates.append(Candidate("sender:payment", email=text_of(payment.get("email")),
                                    name=text_of(payment.get("name"))))
    form_name = text_of(data.get("formName")) or text_of(data.get("formId")) or "Tally form"
    form = text_of(data.get("formId"))
    return Submission(
        title=form_name,
        default_subject="New Tally response: {form_title}",
        fields=fields,
        candidates=candidates,
        ids={"form_id": form, "response_id": text_of(data.get("responseId")),
             "submission_id": text_of(data.get("submissionId")),
             "respondent_id": text_of(data.get("respondentId")), "created_at": data.get("createdAt")},
        links={"submissions": f"https://tally.so/forms/{form}/submissions" if form else ""},
        variables={"response_id": text_of(data.get("responseId")) or ""},
        payload=payload,
    )


tally = Source(
    name="tally",
    label="Tally",
    auth=(HmacSignature("Tally-Signature", "Tally", encoding="base64", also_compact_json=True), SharedSecret()),
    parse=parse,
    read=read,
    event_id=lambda p, d: text_of(p.get("eventId")) or text_of(dig(p, "data", "responseId")),
    event_id_rule="eventId; else data.responseId",
    event_type=lambda p, d: text_of(p.get("eventType")) or "FORM_RESPONSE",
    handles=frozenset({"FORM_RESPONSE"}),
    form_id=lambda p, d: text_of(dig(p, "data", "formId")),
)
