"""TicketRequest: the tickets/create body and Halo's limits (never failing on size)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from connector.ticket import (
    MESSAGE_MAX_CHARS,
    METADATA_MAX_BYTES,
    SOURCE_MAX_CHARS,
    SUBJECT_MAX_CHARS,
    TRUNCATION_MARKER,
    Company,
    Customer,
    TicketRequest,
    fit_metadata,
    json_size,
)


def test_payload_names_the_customer_and_records_provenance():
    request = TicketRequest(subject="Printer  on\nfire", message="Help", origin="typeform",
                            event_id="evt_1", metadata={"Plan": "pro"}, priority="priority",
                            ai_enabled=True, customer=Customer(email="pat@example.com", name="Pat",
                                                               resolved_by="email_field"))
    body = request.halo_payload(submission_id=7)
    assert body == {
        "email": "pat@example.com", "name": "Pat", "subject": "Printer on fire", "message": "Help",
        "metadata": {"Plan": "pro", "connector": {"origin": "typeform", "event_id": "evt_1",
                                                  "resolved_by": "email_field", "submission_id": 7}},
        "source": "typeform", "priority": "priority", "ai_enabled": True,
    }


def test_round_trip_through_storage_keeps_everything():
    request = TicketRequest(subject="s", customer=Customer(user_id="u1", traits={"plan": "pro"}),
                            company=Company("c1", "Acme", {"industry": "SaaS"}), provenance={"x": 1})
    assert TicketRequest.from_dict(request.to_dict()) == request


def test_oversized_fields_are_cut_with_a_visible_marker():
    request = TicketRequest(subject="s" * 5000, message="m" * 80_000, source="x" * 80,
                            customer=Customer(email="pat@example.com"))
    body = request.halo_payload()
    assert len(body["subject"]) == SUBJECT_MAX_CHARS and body["subject"].endswith(TRUNCATION_MARKER)
    assert len(body["message"]) == MESSAGE_MAX_CHARS and body["message"].endswith(TRUNCATION_MARKER)
    assert len(body["source"]) == SOURCE_MAX_CHARS


def test_huge_metadata_is_shrunk_under_the_byte_limit_keeping_provenance():
    metadata = {f"field {i}": "é" * 3000 for i in range(40)}
    fitted = fit_metadata({**metadata, "connector": {"origin": "tally"}})
    assert json_size(fitted) <= METADATA_MAX_BYTES
    assert fitted["connector"] == {"origin": "tally"}
    assert any(TRUNCATION_MARKER in value for value in fitted.values() if isinstance(value, str))


def test_metadata_with_too_many_keys_drops_the_largest_and_lists_them():
    metadata = {f"k{i}": list(range(200)) for i in range(100)}
    fitted = fit_metadata(metadata)
    assert json_size(fitted) <= METADATA_MAX_BYTES
    assert fitted["_truncated"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=3000),
    lambda children: st.lists(children, max_size=20) | st.dictionaries(st.text(max_size=20), children, max_size=20),
    max_leaves=200,
)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.text(max_size=40), json_values, max_size=60), st.text(max_size=3000),
       st.text(max_size=70_000))
def test_any_request_fits_every_halo_limit(metadata, subject, message):
    body = TicketRequest(subject=subject, message=message, metadata=metadata,
                         customer=Customer(email="pat@example.com")).halo_payload()
    assert 0 < len(body["subject"]) <= SUBJECT_MAX_CHARS
    assert len(body.get("message", "")) <= MESSAGE_MAX_CHARS
    assert json_size(body["metadata"]) <= METADATA_MAX_BYTES
    assert len(body["source"]) <= SOURCE_MAX_CHARS


def test_to_dict_matches_dataclasses_asdict_and_round_trips():
    from dataclasses import asdict

    request = TicketRequest(subject="s", customer=Customer(email="a@example.com", traits={"a": {"b": 1}}),
                            metadata={"x": [1, {"y": 2}]}, company=Company("c", traits={"k": 1}),
                            provenance={"p": 1})
    assert request.to_dict() == asdict(request)
    assert TicketRequest.from_dict(request.to_dict()) == request
    assert TicketRequest(subject="s").to_dict() == asdict(TicketRequest(subject="s"))
