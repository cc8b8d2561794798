"""Google Forms, through the Apps Script in ``docs/google-forms-apps-script.js``.

Google Forms has no webhook; an installable ``onFormSubmit`` trigger posts JSON with the secret in
an ``X-Webhook-Token`` header (or the path). The shape accepted (what the script sends)::

    {
      "formId": "1FAIpQL…", "formTitle": "Support request", "responseId": "ACYDBN…",
      "timestamp": "2024-05-14T10:30:00.000Z",
      "respondentEmail": "maria.garcia@example.org",      // when the form collects emails
      "editUrl": "https://docs.google.com/forms/d/e/…",    // optional
      "answers": [{"id": 1234, "title": "Your name", "type": "TEXT", "response": "Maria Garcia"}, …]
    }

``response`` is a string, a list (checkboxes, grid rows) or a list of lists (checkbox grid);
FILE_UPLOAD responses are Drive file ids. A sheet-bound trigger may send ``namedValues``
(``{"Column": ["value"]}``) instead of ``answers``; a body with neither is read with the generic
key/value contract (``contract.py``).
"""

from __future__ import annotations

from typing import Any

from connector.sources.base import Delivery, Field, Source, Submission, text_of
from connector.sources.contract import as_object, contract_event_id, read_contract
from connector.sources.fields import as_email
from connector.sources.routes import Options
from connector.sources.signatures import SharedSecret

KINDS = {
    "TEXT": "text", "PARAGRAPH_TEXT": "text", "MULTIPLE_CHOICE": "choice", "LIST": "choice",
    "CHECKBOX": "choices", "SCALE": "number", "RATING": "number", "DATE": "date", "TIME": "time",
    "DATETIME": "text", "DURATION": "text", "FILE_UPLOAD": "file", "GRID": "choices",
    "CHECKBOX_GRID": "json",
}


def parse(delivery: Delivery) -> dict[str, Any]:
    return as_object(delivery.body, "Google Forms")


def _number(value: Any) -> Any:
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return value
        return int(number) if number.is_integer() else number
    return value


def _answer(answer: dict[str, Any], index: int, options: Options) -> Field | None:
    title = text_of(answer.get("title")) or f"Question {index + 1}"
    kind = KINDS.get(str(answer.get("type") or "TEXT").upper(), "text")
    value = answer.get("response")
    if kind == "number":
        value = _number(value)
    elif kind == "file" and isinstance(value, list):
        value = [f"https://drive.google.com/open?id={v}" for v in value if text_of(v)]
    elif kind == "text" and isinstance(value, str) and as_email(value) and "mail" in title.lower():
        kind = "email"
    key = text_of(answer.get("id")) or title
    return Field(key, options.labels.get(key) or options.labels.get(title) or title, value, kind,
                 aliases=(title,) if key != title else ())


def read(payload: dict[str, Any], delivery: Delivery, options: Options) -> Submission:
    answers = payload.get("answers")
    named = payload.get("namedValues")
    title = text_of(payload.get("formTitle")) or text_of(payload.get("formId")) or "Google Form"
    if not isinstance(answers, list) and not isinstance(named, dict):
        return read_contract(payload, label="Google Forms", labels=options.labels, title=title,
                             default_subject="New Google Forms response: {form_title}",
                             skip=frozenset({"formId", "formTitle", "responseId", "timestamp"}))
    fields: list[Field] = []
    if text_of(payload.get("respondentEmail")):
        fields.append(Field("respondentEmail", "Email address", payload["respondentEmail"], "email"))
    if isinstance(answers, list):
        for index, answer in enumerate(answers):
            if isinstance(answer, dict) and (item := _answer(answer, index, options)):
                fields.append(item)
    else:
        for column, values in named.items():
            value = values[0] if isinstance(values, list) and len(values) == 1 else values
            kind = "email" if column.lower() in ("email address", "email") else "text"
            shown = column.lower() != "timestamp"
            fields.append(Field(column, options.labels.get(column) or column, value, kind if shown else "meta",
                                shown=shown))
    return Submission(
        title=title,
        default_subject="New Google Forms response: {form_title}",
        fields=fields,
        ids={"form_id": text_of(payload.get("formId")), "response_id": text_of(payload.get("responseId")),
             "timestamp": text_of(payload.get("timestamp"))},
        links={"edit_url": text_of(payload.get("editUrl")) or ""},
        payload=payload,
    )


google_forms = Source(
    name="google_forms",
    label="Google Forms",
    auth=(SharedSecret(),),
    parse=parse,
    read=read,
    event_id=lambda p, d: text_of(p.get("responseId")) or contract_event_id(p),
    event_id_rule="responseId (FormResponse.getId()); else external_id; else a hash of the raw body",
    form_id=lambda p, d: text_of(p.get("formId")),
)
