"""Constructed notification and forward samples: the customer, the rule, and the ticket."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from connector.email.message import parse_email
from connector.email.resolve import ResolverConfig, resolve
from connector.email.ticket import email_to_ticket

SAMPLES = Path(__file__).parent / "samples"
EXPECTED = json.loads((SAMPLES / "expected.json").read_text(encoding="utf-8"))
CONFIG = ResolverConfig.from_values(EXPECTED["support_addresses"])


def _ticket(name: str, config: ResolverConfig = CONFIG):
    parsed = parse_email((SAMPLES / name).read_bytes())
    resolution = resolve(parsed, config)
    return parsed, resolution, email_to_ticket(parsed, resolution)


def test_every_sample_file_has_an_expectation_and_uses_crlf():
    files = {p.name for p in SAMPLES.glob("*.eml")}
    assert files == set(EXPECTED["samples"])
    for path in SAMPLES.glob("*.eml"):
        raw = path.read_bytes()
        assert b"\n" not in raw.replace(b"\r\n", b""), f"{path.name} has bare LF line endings"


@pytest.mark.parametrize("name", sorted(EXPECTED["samples"]))
def test_sample_resolves_to_the_expected_customer_by_the_expected_rule(name):
    want = EXPECTED["samples"][name]
    _, resolution, ticket = _ticket(name)
    assert resolution.email == want["email"]
    assert resolution.name == want["name"]
    assert resolution.resolved_by == want["resolved_by"]
    assert resolution.notifier == want["notifier"]
    if "notifier_tool" in want:
        assert resolution.notifier_tool == want["notifier_tool"]
    assert ticket.customer.email == want["email"]
    assert ticket.customer.resolved_by == (f"email:{want['resolved_by']}" if want["resolved_by"] else None)
    email_meta = ticket.metadata["email"]
    assert email_meta.get("notifier") == want["notifier"]
    assert email_meta.get("resolved_by") == want["resolved_by"]


@pytest.mark.parametrize("name", sorted(EXPECTED["samples"]))
def test_sample_never_resolves_to_a_support_address_or_notifier(name):
    _, resolution, _ = _ticket(name)
    if resolution.email:
        assert not resolution.email.endswith("@example.com")
        assert resolution.email != resolution.notifier


def test_formspree_reply_to_wins_and_the_form_fields_become_metadata():
    _, resolution, ticket = _ticket("formspree_notification_reply_to.eml")
    assert resolution.sender_kind == "notification"
    assert ticket.metadata["name"] == "María García"
    assert ticket.metadata["company"] == "Example Org"
    assert ticket.metadata["email (field)"] == "maria.garcia@example.org"
    assert ticket.metadata["message"].startswith("The CSV export button does nothing")
    assert "Could you have a look?" in ticket.message


def test_jotform_html_only_table_is_read_as_fields_and_its_re_prefix_dropped():
    parsed, _, ticket = _ticket("jotform_notification_reply_to.eml")
    assert parsed.body_from_html and "<td>" not in parsed.text
    assert ticket.subject == "Support Request Form - Lukas Becker"
    assert ticket.metadata["Priority"] == "High"
    assert ticket.metadata["Order number"] == "A-10442"
    assert "404 & the parcel" in ticket.metadata["Describe the problem"]
    assert ticket.metadata["email"]["body_from_html"] is True


def test_contact_form_7_from_line_is_a_field_and_gives_the_name():
    _, resolution, ticket = _ticket("wordpress_contact_form_7_reply_to.eml")
    assert resolution.name == "Aiko Tanaka"
    assert ticket.metadata["From"] == "Aiko Tanaka <aiko.tanaka@example.org>"
    assert ticket.metadata["Message Body"].startswith("I was charged twice")


def test_contact_form_7_body_line_finds_the_customer_when_reply_to_is_missing():
    raw = (SAMPLES / "wordpress_contact_form_7_reply_to.eml").read_bytes()
    raw = raw.replace(b"Reply-To: aiko.tanaka@example.org\r\n", b"")
    resolution = resolve(parse_email(raw), CONFIG)
    assert (resolution.email, resolution.name, resolution.resolved_by) == (
        "aiko.tanaka@example.org", "Aiko Tanaka", "body_fields")


def test_mailman_list_footer_and_tags_do_not_leak_into_the_subject():
    _, _, ticket = _ticket("mailman_dmarc_rewritten_from.eml")
    assert ticket.subject == "Invoice PDF is blank"
    assert ticket.metadata["tags"] == ["Customers"]


def test_agent_forward_keeps_the_customers_words_and_the_agents_note_apart():
    _, resolution, ticket = _ticket("gmail_manual_forward_by_agent.eml")
    assert ticket.subject == "Rechnung doppelt belastet"
    assert ticket.metadata["tags"] == ["Billing"]
    assert ticket.message.startswith("Guten Tag,")
    assert "kümmert euch" not in ticket.message
    assert ticket.metadata["email"]["forwarder_note"].startswith("Hallo Team,")
    assert ticket.metadata["email"]["forwarded"]["from"] == "Jonas Weber <jonas.weber@example.org>"
    assert resolution.sender_kind == "forward"


def test_outlook_forward_trims_the_quoted_reply_history_of_the_original():
    _, _, ticket = _ticket("outlook_forward_by_agent.eml")
    assert ticket.subject == "Cannot log in after password reset"
    assert ticket.message.endswith("Thanks,\nPriya")
    assert "Please reset your password" not in ticket.message
    assert ticket.metadata["email"]["forwarder_note"] == "Can someone from tier 2 take this one?"


def test_french_apple_mail_forward_is_decoded_and_unquoted():
    parsed, _, ticket = _ticket("apple_mail_forward_by_agent.eml")
    assert parsed.from_mailbox.name == "Théo Dubois"
    assert ticket.subject == "Problème de connexion"
    assert ticket.message.startswith("Bonjour,\n\ndepuis ce matin")
    assert ">" not in ticket.message
    assert ticket.metadata["email"]["forwarder_note"].startswith("Bonjour l’équipe")


def test_forward_as_attachment_takes_the_attached_message_and_lists_both_attachments():
    parsed, resolution, ticket = _ticket("forward_as_attachment_rfc822.eml")
    assert resolution.inner is not None and resolution.inner.resolved_by == "from"
    assert ticket.message.startswith("Hi Ben,")
    assert ticket.subject == "Broken invoice PDF"
    names = [(a["filename"], a["content_type"]) for a in ticket.metadata["attachments"]]
    assert names == [("Broken invoice PDF.eml", "message/rfc822"), ("screenshot.png", "image/png")]
    assert ticket.metadata["attachments"][1]["size"] == 70
    assert ticket.metadata["email"]["forwarder_note"] == "Forwarding as attachment, see below."


def test_an_outside_sender_attaching_a_message_stays_the_customer():
    raw = (SAMPLES / "forward_as_attachment_rfc822.eml").read_bytes()
    raw = raw.replace(b"From: Ben Carter <ben.carter@example.com>\r\nTo: support",
                      b"From: Ada Quinn <ada.quinn@example.org>\r\nTo: support")
    raw = raw.replace(b"Subject: Fwd: Broken invoice PDF", b"Subject: See the mail below")
    resolution = resolve(parse_email(raw), CONFIG)
    assert (resolution.email, resolution.resolved_by) == ("ada.quinn@example.org", "from")


def test_gmail_auto_forward_headers_name_the_forwarding_mailbox_not_the_customer():
    parsed, resolution, ticket = _ticket("gmail_auto_forward_filter.eml")
    assert parsed.header("x-forwarded-for") == "support@example.com inbox@helpdesk.example.net"
    assert resolution.email == "daniel.kim@example.org"
    assert ticket.metadata["email"]["recipient"] == "inbox@helpdesk.example.net"


def test_nested_agent_forwards_skip_colleagues_to_reach_the_customer():
    _, resolution, ticket = _ticket("nested_forward_by_agents.eml")
    assert resolution.forward_found.from_mailbox.address == "sam.ortiz@example.com"
    assert resolution.forwarded.from_mailbox.address == "emma.jones@example.org"
    assert ticket.subject == "Order A-30007 missing items"
    assert ticket.message == "Hello, two items were missing from order A-30007.\n\nEmma"


def test_nested_forward_passes_an_outside_reforward_without_text_of_its_own():
    _, resolution, _ = _ticket("nested_pure_reforward.eml")
    skipped = next(step for step in resolution.steps if step.rule == "inline_forward")
    assert "ivan.petrov@example.org" in skipped.detail
    assert resolution.forward_found.from_mailbox.address == "desk@reseller.example.net"


def test_html_only_outlook_forward_is_found_through_the_text_version():
    parsed, _, ticket = _ticket("outlook_html_forward_by_agent.eml")
    assert parsed.body_from_html
    assert ticket.subject == "Lizenzschlüssel ungültig"
    assert ticket.message.startswith("Hallo,")


def test_without_support_addresses_the_recipient_domain_marks_the_forwarding_agent_internal():
    _, resolution, _ = _ticket("gmail_manual_forward_by_agent.eml", ResolverConfig())
    assert resolution.email == "jonas.weber@example.org"


def test_support_addresses_are_never_chosen_and_the_email_is_kept_for_attention():
    _, resolution, ticket = _ticket("support_addresses_never_chosen.eml")
    assert not resolution.identified and not ticket.customer.identified
    assert "support team's own addresses" in ticket.metadata["needs_attention"]
    assert ticket.provenance["unresolved_reason"] == resolution.reason
    payload = ticket.halo_payload()
    assert "email" not in payload and payload["subject"] == "Website form: callback request"


def test_broken_charset_decodes_with_replacement_instead_of_failing():
    parsed, _, ticket = _ticket("broken_charset.eml")
    assert "\ufffd" in parsed.text and parsed.text.startswith("Hej, fakturan")
    assert parsed.subject.startswith("Fel p")
    assert ticket.message.endswith("Lars")
