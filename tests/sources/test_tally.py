"""Tally: every documented field type, option ids mapped to text, checkbox duplicates skipped."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from connector.errors import Unauthorized

from .conftest import JSON, PATH_SECRET, assert_within_halo_limits, corpus, deliver, only_ticket, read, sample


def compact(raw: bytes) -> bytes:
    return json.dumps(json.loads(raw), separators=(",", ":"), ensure_ascii=False).encode()


def tally_signature(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def test_all_field_types_from_the_docs_payload():
    ticket = only_ticket(read("tally", corpus("tally_all_field_types.json")))
    meta = ticket.metadata
    assert ticket.customer.email == "alice@example.com" and ticket.customer.resolved_by == "field:question_w4Q4Xn"
    assert ticket.customer.name == "Alice Smith"
    assert ticket.subject == "New Tally response: Webhook payload"
    assert ticket.event_id == "a4cb511e-d513-4fa5-baee-b815d718dfd1"
    assert meta["Multiple choice"] == "In progress"
    assert meta["Checkboxes"] == ["Swimming", "Skiing"]
    assert meta["Dropdown"] == "Hard"
    assert meta["Multi-select"] == ["Surf", "Golf"]
    assert meta["Ranking"] == ["Pear", "Apple", "Banana"]
    assert meta["Matrix"] == {"Quality": ["Satisfied"], "Speed": ["Neutral"]}
    assert meta["Number"] == 10 and meta["Rating"] == 4 and meta["Linear scale"] == 7
    assert meta["Score"] == 20 and meta["Type"] == "Hard"
    assert meta["utm_campaign"] == "newsletter"
    assert meta["Website"] == "example.com" and meta["Time"] == "12:00"
    assert meta["File upload"][0]["url"].endswith("Tally_Icon.png")
    assert meta["Payment (price)"] == 9 and meta["Payment (currency)"] == "USD"
    assert not any(key.startswith("Checkboxes (") for key in meta)
    assert_within_halo_limits(ticket)


def test_message_lines_read_like_the_form():
    lines = only_ticket(read("tally", corpus("tally_all_field_types.json"))).message.splitlines()
    assert lines[:3] == ["Text: Hello", "Number: 10", "Email: alice@example.com"]
    assert "Checkboxes: Swimming, Skiing" in lines
    assert "Matrix: Quality: Satisfied; Speed: Neutral" in lines
    assert "File upload: Tally_Icon.png (https://storage.googleapis.com/tally-response-assets-dev/vBXMXN/34fd1ee5-4ead-4929-9a4a-918ac9f0b416/Tally_Icon.png)" in lines
    assert not any(line.startswith(("utm_campaign", "Score", "Type:")) for line in lines)


def test_constructed_contact_form_joins_first_and_last_name_and_skips_nulls():
    ticket = only_ticket(read("tally", sample("tally_contact.json")))
    assert ticket.customer.name == "Maria Garcia"
    assert ticket.customer.email == "maria.garcia@example.org"
    assert "Phone" not in ticket.metadata
    assert ticket.metadata["Operating systems"] == ["macOS", "Windows"]
    assert ticket.metadata["Kind of request"] == "Bug"
    assert "Émojis too: 🚀" in ticket.message


def test_payment_email_is_the_customer_when_no_email_question_was_answered():
    data = json.loads(corpus("tally_all_field_types.json"))
    data["data"]["fields"] = [f for f in data["data"]["fields"] if f["type"] != "INPUT_EMAIL"]
    ticket = only_ticket(read("tally", json.dumps(data).encode()))
    assert ticket.customer.email == "alice@example.com"
    assert ticket.customer.resolved_by == "sender:payment"


def test_signed_compact_body_as_sent_on_the_wire():
    raw = compact(sample("tally_contact.json"))
    headers = {**JSON, "Tally-Signature": tally_signature("tally-signing-secret", raw)}
    processed = deliver("tally", raw, headers, env={"TALLY_SECRET": "tally-signing-secret"})
    assert only_ticket(processed).customer.email == "maria.garcia@example.org"


def test_signature_over_the_compact_form_accepts_the_pretty_body_too():
    pretty = sample("tally_contact.json")
    headers = {**JSON, "Tally-Signature": tally_signature("tally-signing-secret", compact(pretty))}
    assert deliver("tally", pretty, headers, env={"TALLY_SECRET": "tally-signing-secret"}).status == "accepted"


def test_wrong_tally_signature_is_refused():
    raw = compact(sample("tally_contact.json"))
    with pytest.raises(Unauthorized):
        deliver("tally", raw, {**JSON, "Tally-Signature": tally_signature("other", raw)},
                env={"TALLY_SECRET": "tally-signing-secret"})


def test_a_custom_secret_header_works_instead_of_signing():
    raw = sample("tally_contact.json")
    processed = deliver("tally", raw, {**JSON, "X-Webhook-Token": PATH_SECRET}, env={"TALLY_SECRET": PATH_SECRET})
    assert processed.status == "accepted"


def test_other_event_types_are_ignored():
    data = json.loads(sample("tally_contact.json"))
    data["eventType"] = "FORM_DELETED"
    assert "FORM_DELETED is not handled" in read("tally", json.dumps(data).encode()).reason
