"""Property: any well-formed Typeform or Tally payload gives a valid Halo request or an unidentified
customer with a reason, and never an exception."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import JSON, assert_within_halo_limits, deliver, hmac_b64

text = st.text(max_size=60)
long_text = st.text(max_size=3_000)
ident = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_", min_size=1, max_size=12)
email = st.one_of(st.emails(), st.sampled_from(["maria.garcia@example.org", "Maria <m@example.com>", "nope", ""]))
number = st.one_of(st.integers(-10**12, 10**12), st.floats(allow_nan=False, allow_infinity=False))

TYPEFORM_ANSWERS = {
    "text": long_text, "email": email, "phone_number": text, "url": text, "number": number,
    "boolean": st.booleans(), "date": text, "file_url": text,
    "choice": st.fixed_dictionaries({}, optional={"id": ident, "label": text, "ref": ident, "other": text}),
    "choices": st.fixed_dictionaries({"labels": st.lists(text, max_size=5)},
                                     optional={"ids": st.lists(ident, max_size=2), "other": text}),
    "payment": st.fixed_dictionaries({"amount": text, "last4": text, "name": text, "success": st.booleans()}),
    "multi_format": st.dictionaries(ident, text, max_size=3),
}


@st.composite
def typeform_payloads(draw):
    kinds = draw(st.lists(st.sampled_from(sorted(TYPEFORM_ANSWERS)), max_size=12))
    fields, answers = [], []
    for index, kind in enumerate(kinds):
        field_id = f"id{index}"
        fields.append({"id": field_id, "ref": draw(ident), "type": kind, "title": draw(text)})
        if draw(st.booleans()):
            answers.append({"type": kind, kind: draw(TYPEFORM_ANSWERS[kind]), "field": {"id": field_id, "type": kind}})
    response = {
        "form_id": draw(ident), "token": draw(ident), "submitted_at": "2024-05-14T10:30:00Z",
        "definition": {"id": "F", "title": draw(text), "fields": fields},
        "answers": answers,
        "hidden": draw(st.dictionaries(ident, st.one_of(text, email), max_size=3)),
        "variables": draw(st.lists(st.one_of(
            st.fixed_dictionaries({"key": ident, "type": st.just("text"), "text": text}),
            st.fixed_dictionaries({"key": ident, "type": st.just("number"), "number": number})), max_size=3)),
    }
    if draw(st.booleans()):
        response["calculated"] = {"score": draw(st.integers(-100, 100))}
    return {"event_id": draw(ident), "event_type": "form_response", "form_response": response}


TALLY_SIMPLE = {
    "INPUT_TEXT": long_text, "TEXTAREA": long_text, "INPUT_EMAIL": email, "INPUT_PHONE_NUMBER": text,
    "INPUT_LINK": text, "INPUT_DATE": text, "INPUT_TIME": text, "INPUT_NUMBER": number, "RATING": number,
    "LINEAR_SCALE": number, "HIDDEN_FIELDS": st.one_of(text, email), "CALCULATED_FIELDS": st.one_of(number, text),
    "PAYMENT": st.one_of(number, text, email),
}
CHOICE_TYPES = ["MULTIPLE_CHOICE", "DROPDOWN", "CHECKBOXES", "MULTI_SELECT", "RANKING"]


@st.composite
def tally_fields(draw, index):
    key = f"question_{index}"
    kind = draw(st.sampled_from(sorted(TALLY_SIMPLE) + CHOICE_TYPES + ["FILE_UPLOAD", "SIGNATURE", "MATRIX"]))
    label = draw(st.one_of(st.none(), text))
    if kind in TALLY_SIMPLE:
        return [{"key": key, "label": label, "type": kind, "value": draw(st.one_of(st.none(), TALLY_SIMPLE[kind]))}]
    if kind in CHOICE_TYPES:
        options = [{"id": f"o{i}", "text": draw(text)} for i in range(draw(st.integers(0, 4)))]
        value = draw(st.lists(st.sampled_from([o["id"] for o in options] + ["unknown"]), max_size=3))
        extra = [{"key": f"{key}_{o['id']}", "label": f"{label} ({o['text']})", "type": kind, "value": o["id"] in value}
                 for o in options] if kind == "CHECKBOXES" else []
        return [{"key": key, "label": label, "type": kind, "value": value, "options": options}] + extra
    if kind == "MATRIX":
        rows = [{"id": f"r{i}", "text": draw(text)} for i in range(2)]
        cols = [{"id": f"c{i}", "text": draw(text)} for i in range(2)]
        value = {r["id"]: [draw(st.sampled_from(["c0", "c1"]))] for r in rows}
        return [{"key": key, "label": label, "type": kind, "value": value, "rows": rows, "columns": cols}]
    files = draw(st.lists(st.fixed_dictionaries({"id": ident, "name": text, "url": text, "mimeType": text,
                                                 "size": st.integers(0, 10**9)}), max_size=2))
    return [{"key": key, "label": label, "type": kind, "value": files}]


@st.composite
def tally_payloads(draw):
    fields = []
    for index in range(draw(st.integers(0, 10))):
        fields += draw(tally_fields(index))
    return {"eventId": draw(ident), "eventType": "FORM_RESPONSE", "createdAt": "2024-05-14T10:30:00Z",
            "data": {"responseId": draw(ident), "formId": draw(ident), "formName": draw(st.one_of(st.none(), text)),
                     "fields": fields}}


def check(route: str, payload: dict, secret_var: str, header: str) -> None:
    raw = json.dumps(payload, ensure_ascii=bool(len(payload) % 2)).encode()
    processed = deliver(route, raw, {**JSON, header: ("sha256=" if route == "typeform" else "") + hmac_b64("k", raw)},
                        env={secret_var: "k"})
    assert processed.status == "accepted"
    for item in processed.accepted:
        ticket = item.ticket_request
        if ticket.customer.identified:
            assert_within_halo_limits(ticket)
        else:
            assert item.attention
        json.dumps(ticket.to_dict(), allow_nan=False)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(typeform_payloads())
def test_any_well_formed_typeform_payload_gives_a_valid_request_or_an_unidentified_customer(payload):
    check("typeform", payload, "TYPEFORM_SECRET", "Typeform-Signature")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tally_payloads())
def test_any_well_formed_tally_payload_gives_a_valid_request_or_an_unidentified_customer(payload):
    check("tally", payload, "TALLY_SECRET", "Tally-Signature")
