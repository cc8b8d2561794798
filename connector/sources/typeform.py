"""Typeform: ``form_response`` webhooks signed with ``Typeform-Signature: sha256=<base64>``."""

from __future__ import annotations

import re
from typing import Any

from connector.errors import BadRequest
from connector.sources.base import Candidate, Delivery, Field, Source, Submission, dig, json_object, text_of
from connector.sources.fields import display
from connector.sources.routes import Options
from connector.sources.signatures import HmacSignature

#: answer.type → field kind; the value sits under the key named by answer.type.
KINDS = {
    "text": "text", "email": "email", "phone_number": "phone", "url": "url", "number": "number",
    "boolean": "boolean", "date": "date", "choice": "choice", "choices": "choices",
    "file_url": "file", "payment": "payment", "multi_format": "json", "signature": "file",
}
_RECALL = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")


def parse(delivery: Delivery) -> dict[str, Any]:
    payload = json_object(delivery)
    if not isinstance(payload.get("form_response"), dict):
        raise BadRequest("Typeform body has no form_response object.")
    return payload


def event_id(payload: dict[str, Any], delivery: Delivery) -> str | None:
    return text_of(payload.get("event_id")) or text_of(dig(payload, "form_response", "token"))


def form_id(payload: dict[str, Any], delivery: Delivery) -> str | None:
    response = payload["form_response"]
    return text_of(response.get("form_id")) or text_of(dig(response, "definition", "id"))


def answer_value(answer: dict[str, Any]) -> Any:
    """The typed value of one answer: choices as a list of labels (plus "other"), never by index."""
    kind = answer.get("type")
    value = answer.get(kind) if isinstance(kind, str) else None
    if kind == "choice" and isinstance(value, dict):
        return text_of(value.get("label")) or text_of(value.get("other"))
    if kind == "choices" and isinstance(value, dict):
        labels = [str(v) for v in value.get("labels") or [] if text_of(v)]
        if text_of(value.get("other")):
            labels.append(str(value["other"]))
        return labels
    return value


def _definition_fields(fields: Any, depth: int = 0) -> list[dict[str, Any]]:
    """Questions in form order, with the questions inside question groups after their group."""
    ordered: list[dict[str, Any]] = []
    for item in fields if isinstance(fields, list) else []:
        if not isinstance(item, dict):
            continue
        ordered.append(item)
        inner = dig(item, "properties", "fields")
        if isinstance(inner, list) and depth < 5:
            ordered += _definition_fields(inner, depth + 1)
    return ordered


def read(payload: dict[str, Any], delivery: Delivery, options: Options) -> Submission:
    response = payload["form_response"]
    definition = response.get("definition") if isinstance(response.get("definition"), dict) else {}
    questions = _definition_fields(definition.get("fields"))
    answers = [a for a in response.get("answers") or [] if isinstance(a, dict)]
    by_id = {str(dig(a, "field", "id")): a for a in answers if dig(a, "field", "id") is not None}
    by_ref = {str(dig(a, "field", "ref")): a for a in answers if dig(a, "field", "ref") is not None}

    fields: list[Field] = []
    used: set[int] = set()
    for question in questions:
        qid, ref = text_of(question.get("id")), text_of(question.get("ref"))
        answer = by_id.get(qid or "") or by_ref.get(ref or "")
        if answer is None or id(answer) in used:
            continue
        used.add(id(answer))
        key = ref or qid or "field"
        label = options.labels.get(key) or (qid and options.labels.get(qid)) or str(question.get("title") or key)
        fields.append(Field(key, label, answer_value(answer),
                            KINDS.get(str(answer.get("type")), "json"), aliases=tuple(a for a in (qid,) if a)))
    for answer in answers:
        if id(answer) in used:
            continue
        key = text_of(dig(answer, "field", "ref")) or text_of(dig(answer, "field", "id")) or "answer"
        fields.append(Field(key, key, answer_value(answer), KINDS.get(str(answer.get("type")), "json")))

    hidden = response.get("hidden") if isinstance(response.get("hidden"), dict) else {}
    for name, value in hidden.items():
        fields.append(Field(f"hidden:{name}", str(name), value, "hidden", shown=False))
    for variable in response.get("variables") or []:
        if isinstance(variable, dict) and text_of(variable.get("key")):
            value = variable.get(str(variable.get("type")), variable.get("text", variable.get("number")))
            fields.append(Field(f"var:{variable['key']}", f"{variable['key']} (variable)", value,
                                "variable", shown=False))
    score = dig(response, "calculated", "score")
    if score is not None:
        fields.append(Field("calculated:score", "Score (calculated)", score, "calculated", shown=False))
    _resolve_recall(fields)

    candidates = []
    for item in fields:
        if item.kind == "payment" and isinstance(item.value, dict) and text_of(item.value.get("name")):
            candidates.append(Candidate("sender:payment.name", name=str(item.value["name"])))
    title = text_of(definition.get("title")) or text_of(response.get("form_id")) or "Typeform"
    token = text_of(response.get("token"))
    return Submission(
        title=title,
        default_subject="New Typeform response: {form_title}",
        fields=fields,
        candidates=candidates,
        ids={"form_id": text_of(response.get("form_id")), "response_id": token,
             "event_id": text_of(payload.get("event_id")), "submitted_at": response.get("submitted_at"),
             "ending": text_of(dig(response, "ending", "ref"))},
        links={"response_url": text_of(response.get("response_url")) or ""},
        variables={"response_id": token or "", "submitted_at": response.get("submitted_at") or ""},
        payload=payload,
    )


def _resolve_recall(fields: list[Field]) -> None:
    """Question titles quote earlier answers (``{{field:ref}}``, ``{{hidden:x}}``, ``{{var:x}}``)."""
    values = {item.key: item for item in fields}
    for item in fields:
        if "{{" not in item.label:
            continue

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("field:"):
                name = name[len("field:"):]
            found = values.get(name)
            return display(found.value, found.kind) if found else "…"

        item.label = _RECALL.sub(replace, item.label)


typeform = Source(
    name="typeform",
    label="Typeform",
    auth=(HmacSignature("Typeform-Signature", "Typeform", encoding="base64", prefix="sha256="),),
    parse=parse,
    read=read,
    event_id=event_id,
    event_id_rule="event_id (stable across Typeform's retries); else form_response.token",
    event_type=lambda payload, delivery: text_of(payload.get("event_type")) or "form_response",
    handles=frozenset({"form_response"}),
    form_id=form_id,
)
