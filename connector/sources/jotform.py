"""JotForm: multipart posts whose ``rawRequest`` part holds the answers (``pretty`` is display-only).

JotForm cannot sign, so the secret travels in the path (``/hooks/jotform/<secret>``). Labels are
not in ``rawRequest``: they come from the route's ``labels`` map (by ``q3_studentsName``, ``q3``
or ``studentsName``), else from the key (``studentsName`` → "Students name").
"""

from __future__ import annotations

import re
from typing import Any

from connector.errors import BadRequest
from connector.sources import bodies
from connector.sources.base import Delivery, Field, Source, Submission, text_of
from connector.sources.fields import as_email, humanize, is_empty
from connector.sources.routes import Options
from connector.sources.signatures import SharedSecret

QUESTION = re.compile(r"^q(\d+)_(.+)$")
EMAIL_NAME = re.compile(r"mail", re.IGNORECASE)
#: Top-level keys JotForm adds to ``rawRequest`` that are not answers.
INTERNAL = frozenset({
    "slug", "jsExecutionTracker", "submitSource", "buildDate", "uploadServerUrl", "eventObserver",
    "timeToSubmit", "validatedNewRequiredFieldIDs", "path", "file_server", "preview", "temp_upload",
    "event_id", "simple_spc", "website", "submitDate", "formID", "ip",
})


def parse(delivery: Delivery) -> dict[str, Any]:
    parts = delivery.body
    if not isinstance(parts, dict) or not isinstance(parts.get("rawRequest"), str):
        raise BadRequest("JotForm body has no rawRequest field (send the form's webhook here unchanged).")
    answers = bodies.parse_json(parts["rawRequest"], "JotForm rawRequest")
    if not isinstance(answers, dict):
        raise BadRequest("JotForm rawRequest must be a JSON object.")
    meta = {k: v for k, v in parts.items() if k not in ("rawRequest", "pretty")}
    return {"meta": meta, "answers": answers}


def _is_url_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(
        isinstance(v, str) and v.startswith(("http://", "https://")) for v in value)


def classify(name: str, value: Any) -> tuple[str, Any] | None:
    """``(kind, value)`` for one answer, or None when it is unanswered."""
    if isinstance(value, dict):
        if "first" in value or "last" in value:
            kind, value = "name", {k: v for k, v in value.items() if k in ("prefix", "first", "middle", "last", "suffix")}
        elif any(k.startswith("addr_line") for k in value) or "postal" in value:
            kind = "address"
        elif {"month", "day", "year"} <= set(value):
            if not all(text_of(value.get(k)) for k in ("year", "month", "day")):
                return None
            return "date", f"{value['year']}-{str(value['month']).zfill(2)}-{str(value['day']).zfill(2)}"
        elif "date" in value and "duration" in value:
            if not text_of(value.get("date")):
                return None
            kind = "json"
        elif set(value) <= {"colIds", "rowIds"}:
            return None
        else:
            kind = "json"
        return (kind, value) if not is_empty(value) else None
    if is_empty(value):
        return None
    if _is_url_list(value):
        return "file", value
    if isinstance(value, list):
        return "choices", [v for v in value if not is_empty(v)]
    if EMAIL_NAME.search(name) and as_email(value):
        return "email", value
    return "text", value


def read(payload: dict[str, Any], delivery: Delivery, options: Options) -> Submission:
    meta, answers = payload["meta"], payload["answers"]
    fields: list[Field] = []
    for key, value in answers.items():
        match = QUESTION.match(key)
        if match:
            number, name = match.groups()
        elif key not in INTERNAL and _is_url_list(value):
            number, name = None, key
        else:
            continue
        found = classify(name, value)
        if found is None:
            continue
        kind, typed = found
        label = (options.labels.get(key) or (number and options.labels.get(f"q{number}"))
                 or options.labels.get(name) or humanize(name))
        aliases = tuple(a for a in (f"q{number}" if number else None, name) if a and a != key)
        fields.append(Field(key, label, typed, kind, aliases=aliases))
    title = text_of(meta.get("formTitle")) or text_of(meta.get("formID")) or "JotForm form"
    return Submission(
        title=title,
        default_subject="New JotForm submission: {form_title}",
        fields=fields,
        ids={"form_id": text_of(meta.get("formID")), "submission_id": text_of(meta.get("submissionID")),
             "username": text_of(meta.get("username"))},
        variables={"submission_id": text_of(meta.get("submissionID")) or ""},
        payload=payload,
    )


jotform = Source(
    name="jotform",
    label="JotForm",
    auth=(SharedSecret(),),
    parse=parse,
    read=read,
    event_id=lambda p, d: text_of(p["meta"].get("submissionID")),
    event_id_rule="submissionID; else a hash of the raw body",
    form_id=lambda p, d: text_of(p["meta"].get("formID")),
)
