"""email_to_ticket: subject, message, metadata, ids, and Halo's limits."""

from __future__ import annotations

import json

from connector.email.message import parse_email
from connector.email.resolve import ResolverConfig, resolve
from connector.email.ticket import email_to_ticket
from connector.ticket import MESSAGE_MAX_CHARS, METADATA_MAX_BYTES, SUBJECT_MAX_CHARS, json_size

CONFIG = ResolverConfig.from_values("support@example.com,@example.com")


def _ticket(headers: str, body: str = "Hello", **kwargs):
    raw = ("\r\n".join(line.strip() for line in headers.strip().splitlines()) + "\r\n\r\n" +
           body.replace("\n", "\r\n")).encode()
    parsed = parse_email(raw)
    return email_to_ticket(parsed, resolve(parsed, CONFIG), **kwargs)


def test_a_direct_reply_keeps_only_the_new_text_and_its_thread_ids():
    ticket = _ticket("""From: Maria <maria@example.org>
        To: support@example.com
        Subject: Re: [Case 42] Export fails
        Message-ID: <m2@example.org>
        In-Reply-To: <m1@example.com>
        References: <m0@example.com> <m1@example.com>""",
                     "Still broken.\n\nOn Mon, Mar 3, 2025 at 10:00 AM Support <support@example.com> "
                     "wrote:\n> Try again")
    assert ticket.subject == "Export fails"
    assert ticket.metadata["tags"] == ["Case 42"]
    assert ticket.message == "Still broken."
    assert ticket.event_id == "<m2@example.org>" and ticket.origin == "email"
    email = ticket.metadata["email"]
    assert email["in_reply_to"] == "<m1@example.com>"
    assert email["references"] == ["<m0@example.com>", "<m1@example.com>"]
    assert ticket.provenance == {"channel": "email", "message_id": "<m2@example.org>",
                                 "recipient": "support@example.com"}
    assert ticket.customer.resolved_by == "email:from"


def test_ordinary_mail_lines_are_not_turned_into_metadata_fields():
    ticket = _ticket("From: maria@example.org\nSubject: Question", "Note: this is prose.\nThanks")
    assert "Note" not in ticket.metadata


def test_the_recipient_argument_wins_over_the_headers():
    ticket = _ticket("From: maria@example.org\nTo: other@example.com", recipient="inbox@desk.example.net")
    assert ticket.provenance["recipient"] == "inbox@desk.example.net"
    assert ticket.metadata["email"]["recipient"] == "inbox@desk.example.net"


def test_without_message_id_the_event_id_is_a_digest_of_the_raw_email():
    first = _ticket("From: maria@example.org\nSubject: a", "one")
    again = _ticket("From: maria@example.org\nSubject: a", "one")
    other = _ticket("From: maria@example.org\nSubject: a", "two")
    assert first.event_id.startswith("sha256:") and first.event_id == again.event_id
    assert first.event_id != other.event_id


def test_a_subject_of_only_prefixes_and_tags_still_gives_a_subject():
    assert _ticket("From: maria@example.org\nSubject: Fwd: [Urgent]").subject == "Fwd: [Urgent]"
    assert _ticket("From: maria@example.org").halo_payload()["subject"] == "(no subject)"


def test_form_fields_never_overwrite_the_channels_own_keys():
    ticket = _ticket("From: noreply@forms.example.net\nReply-To: ana@example.org",
                     "email: ana@example.org\ntags: a, b\nattachments: none\nconnector: x")
    assert ticket.metadata["email (field)"] == "ana@example.org"
    assert ticket.metadata["tags (field)"] == "a, b"
    assert ticket.metadata["connector (field)"] == "x"
    assert isinstance(ticket.metadata["email"], dict)
    assert "connector" not in ticket.metadata  # provenance is added by halo_payload()
    assert ticket.halo_payload()["metadata"]["connector"]["resolved_by"] == "email:reply_to"


def test_an_unidentified_customer_is_kept_with_the_reason():
    ticket = _ticket("From: noreply@forms.example.net\nSubject: New lead", "Phone: 555 0100")
    assert not ticket.customer.identified
    assert ticket.metadata["needs_attention"].startswith("No customer address found.")
    assert ticket.metadata["email"]["sender_kind"] == "notification"
    assert ticket.metadata["Phone"] == "555 0100"


def test_a_huge_email_still_fits_halos_limits():
    fields = "\n".join(f"Question number {i}: " + "answer " * 200 for i in range(300))
    ticket = _ticket("From: noreply@forms.example.net\nReply-To: ana@example.org\nSubject: " +
                     "Long subject " * 200, fields + "\n" + "x" * 120_000)
    payload = ticket.halo_payload()
    assert len(payload["subject"]) <= SUBJECT_MAX_CHARS
    assert len(payload["message"]) <= MESSAGE_MAX_CHARS
    assert json_size(payload["metadata"]) <= METADATA_MAX_BYTES
    assert payload["email"] == "ana@example.org"
    json.dumps(payload)
