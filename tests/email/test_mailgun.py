"""Mailgun route POSTs become the same ParsedEmail as raw mail."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from connector.email.mailgun import parse_mailgun
from connector.email.resolve import ResolverConfig, resolve
from connector.email.ticket import email_to_ticket
from connector.errors import BadRequest

SAMPLE = json.loads((Path(__file__).parent / "samples" / "mailgun_inbound.json").read_text())
FIELDS = {key: value for key, value in SAMPLE.items() if not key.startswith("_")}
CONFIG = ResolverConfig.from_values("support@example.com")


def test_reply_to_inside_message_headers_finds_the_customer_and_sender_is_ignored():
    parsed = parse_mailgun(FIELDS)
    resolution = resolve(parsed, CONFIG)
    assert (resolution.email, resolution.name, resolution.resolved_by) == (
        "maria.garcia@example.org", "Maria Garcia", "reply_to")
    ticket = email_to_ticket(parsed, resolution)
    assert ticket.event_id == "<typeform-123@notifications.typeform.example>"
    assert ticket.provenance["recipient"] == "support@example.com"
    assert ticket.metadata["What is your email?"] == "maria.garcia@example.org"
    assert parsed.text.startswith("You have a new response")


def test_without_message_headers_the_flattened_fields_are_used():
    fields = {k: v for k, v in FIELDS.items() if k != "message-headers"}
    fields["Reply-To"] = "maria.garcia@example.org"
    fields["From"] = fields.pop("from")
    assert resolve(parse_mailgun(fields), CONFIG).email == "maria.garcia@example.org"


def test_raw_mime_routes_are_parsed_as_raw_email():
    raw = "From: Ana <ana@example.org>\r\nSubject: Hi\r\nMessage-ID: <a@example.org>\r\n\r\nHello"
    parsed = parse_mailgun({"body-mime": raw, "recipient": "support@example.com"})
    assert parsed.from_mailbox.address == "ana@example.org" and parsed.message_id == "<a@example.org>"


def test_uploaded_files_are_listed_and_attached_messages_read():
    inner = b"From: Sofia <sofia@example.org>\r\nSubject: Original\r\n\r\nThe original text"
    fields = dict(FIELDS, **{"from": "Agent <agent@example.com>", "message-headers": json.dumps(
        [["From", "Agent <agent@example.com>"], ["Subject", "Fwd: Original"]])})
    parsed = parse_mailgun(fields, [("report.pdf", "application/pdf", b"%PDF-1.4"),
                                    ("Original.eml", "message/rfc822", inner)])
    assert [(a.filename, a.size) for a in parsed.attachments] == [
        ("report.pdf", 8), ("Original.eml", len(inner))]
    resolution = resolve(parsed, ResolverConfig.from_values("@example.com"))
    assert (resolution.email, resolution.resolved_by) == ("sofia@example.org", "rfc822_attachment")


def test_header_injection_through_message_headers_is_impossible():
    fields = dict(FIELDS, **{"message-headers": json.dumps([
        ["From", "Ana <ana@example.org>\r\nReply-To: evil@example.net"],
        ["X-Bad\r\nReply-To", "evil@example.net"], ["Content-Type", "text/html"]])})
    parsed = parse_mailgun(fields)
    assert parsed.reply_to == [] and not parsed.body_from_html


def test_a_post_without_any_from_is_a_bad_request():
    with pytest.raises(BadRequest, match="no From"):
        parse_mailgun({"recipient": "support@example.com", "body-plain": "hi"})
