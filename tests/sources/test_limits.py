"""Huge or hostile payloads: the Halo request stays within every limit, truncated visibly, never failing."""

from __future__ import annotations

import json
import tomllib

import pytest

from connector.errors import BadRequest
from connector.sources import SOURCES
from connector.sources.bodies import MAX_JSON_DEPTH
from connector.sources.routes import parse_routes
from connector.ticket import MESSAGE_MAX_CHARS, SUBJECT_MAX_CHARS, TRUNCATION_MARKER

from .conftest import assert_within_halo_limits, only_ticket, read


def typeform_with(answers: int, text: str, title: str = "Question") -> bytes:
    fields = [{"id": f"f{i}", "ref": f"r{i}", "type": "long_text", "title": f"{title} {i}"} for i in range(answers)]
    fields.append({"id": "mail", "ref": "mail", "type": "email", "title": "Email"})
    answer_list = [{"type": "text", "text": text, "field": {"id": f"f{i}", "type": "long_text"}} for i in range(answers)]
    answer_list.append({"type": "email", "email": "maria.garcia@example.org", "field": {"id": "mail", "type": "email"}})
    return json.dumps({"event_id": "big", "event_type": "form_response", "form_response": {
        "form_id": "F", "token": "t", "definition": {"id": "F", "title": "Big form " + "x" * 5000, "fields": fields},
        "answers": answer_list}}).encode()


def test_thousands_of_long_answers_fit_with_a_visible_marker():
    ticket = only_ticket(read("typeform", typeform_with(2_000, "lorem ipsum " * 200)))
    body = assert_within_halo_limits(ticket)
    assert len(body["message"]) == MESSAGE_MAX_CHARS and body["message"].endswith(TRUNCATION_MARKER)
    assert len(body["subject"]) == SUBJECT_MAX_CHARS and body["subject"].endswith(TRUNCATION_MARKER)
    assert "_truncated" in body["metadata"] or TRUNCATION_MARKER in json.dumps(body["metadata"], ensure_ascii=False)
    assert body["metadata"]["connector"]["event_id"] == "big"
    assert body["email"] == "maria.garcia@example.org"


def test_one_giant_answer_and_giant_labels():
    ticket = only_ticket(read("typeform", typeform_with(3, "é" * 300_000, title="L" * 10_000)))
    assert_within_halo_limits(ticket)
    assert all(len(key) <= 200 for key in ticket.metadata)


def test_a_megabyte_contract_message_and_a_long_source_label():
    body = json.dumps({"email": "maria.garcia@example.org", "subject": "s\n" * 2000, "message": "m" * 1_000_000,
                       "source": "a very long source label " * 10, "external_id": "e" * 10_000}).encode()
    ticket = only_ticket(read("zapier", body))
    payload = assert_within_halo_limits(ticket)
    assert payload["source"].endswith("…")
    assert len(ticket.event_id) < 60


def nested(levels: int) -> bytes:
    body: dict = {"email": "maria.garcia@example.org"}
    node = body
    for _ in range(levels):
        node["child"] = {}
        node = node["child"]
    node["leaf"] = "bottom"
    return json.dumps(body).encode()


def test_nesting_within_the_json_depth_limit_is_read_and_bounded():
    ticket = only_ticket(read("make", nested(MAX_JSON_DEPTH - 1)))
    assert_within_halo_limits(ticket)
    assert "bottom" in json.dumps(ticket.metadata)


def test_json_nested_deeper_than_the_limit_is_400():
    with pytest.raises(BadRequest, match=f"nested deeper than {MAX_JSON_DEPTH} levels"):
        read("make", nested(MAX_JSON_DEPTH))
    with pytest.raises(BadRequest, match="nested"):
        read("make", b"[" * 200_000 + b"]" * 200_000)


def test_huge_traits_are_fitted_to_the_user_traits_limit():
    custom = parse_routes(tomllib.loads('[routes.typeform]\ntraits = { notes = "{r0}", more = "{r1}" }\n'), SOURCES)
    ticket = only_ticket(read("typeform", typeform_with(2, "z" * 40_000), routes=custom))
    assert len(json.dumps(ticket.customer.traits)) <= 20_000


def test_many_zapier_items_in_one_array():
    body = json.dumps([{"email": f"user{i}@example.com", "message": "m" * 1000} for i in range(200)]).encode()
    processed = read("zapier", body)
    assert len(processed.accepted) == 200
    assert len({item.event_id for item in processed.accepted}) == 200
    for item in processed.accepted[:5]:
        assert_within_halo_limits(item.ticket_request)
