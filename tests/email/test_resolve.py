"""The resolution rules one by one, their order, and the settings that drive them."""

from __future__ import annotations

import pytest

from connector.config import load_settings
from connector.email.message import parse_email
from connector.email.resolve import DEFAULT_ORDER, RULES, ResolverConfig, resolve
from connector.errors import ConfigError

SUPPORT = ResolverConfig.from_values("support@example.com,@example.com")


def _email(headers: str, body: str = "Hello") -> bytes:
    lines = [line.strip() for line in headers.strip().splitlines()]
    return ("\r\n".join(lines) + "\r\n\r\n" + body.replace("\n", "\r\n")).encode()


def _resolve(headers: str, body: str = "Hello", config: ResolverConfig = SUPPORT, **kwargs):
    return resolve(parse_email(_email(headers, body)), config, **kwargs)


def test_a_person_writing_directly_is_the_customer():
    resolution = _resolve("From: Maria Garcia <maria@example.org>\nTo: support@example.com")
    assert (resolution.email, resolution.name, resolution.resolved_by) == (
        "maria@example.org", "Maria Garcia", "from")
    assert resolution.notifier is None and resolution.sender_kind == "direct"


def test_reply_to_skips_our_own_and_the_senders_address_and_takes_the_next():
    resolution = _resolve("""From: Forms <noreply@forms.example.net>
        Reply-To: support@example.com, noreply@forms.example.net, Ana Silva <ana@example.org>""")
    assert (resolution.email, resolution.name, resolution.resolved_by) == (
        "ana@example.org", "Ana Silva", "reply_to")


def test_reply_to_of_a_person_does_not_replace_the_person():
    resolution = _resolve("From: Maria <maria@example.org>\nReply-To: maria.private@example.net")
    assert (resolution.email, resolution.resolved_by) == ("maria@example.org", "from")


def test_auto_submitted_mail_uses_reply_to_and_is_never_its_own_customer():
    headers = "From: Shop <orders@shop.example.net>\nAuto-Submitted: auto-generated"
    assert _resolve(headers + "\nReply-To: buyer@example.org").email == "buyer@example.org"
    unresolved = _resolve(headers)
    assert not unresolved.identified and "automated" in unresolved.reason


def test_a_notifier_without_reply_to_falls_back_to_labelled_body_fields():
    resolution = _resolve("From: noreply@forms.example.net",
                          "Name: Ana Silva\nE-mail address: ana@example.org\nMessage: hi")
    assert (resolution.email, resolution.name, resolution.resolved_by) == (
        "ana@example.org", "Ana Silva", "body_fields")


def test_first_and_last_name_fields_make_the_name():
    resolution = _resolve("From: noreply@forms.example.net",
                          "First name: Ana\nLast name: Silva\nEmail: ana@example.org")
    assert resolution.name == "Ana Silva"


def test_body_fields_of_a_persons_mail_are_not_the_customer():
    resolution = _resolve("From: maria@example.org", "Email: someone.else@example.org")
    assert resolution.email == "maria@example.org"


def test_the_first_body_address_rule_is_off_by_default_and_can_be_switched_on():
    headers, body = "From: noreply@forms.example.net", "A visitor (ana@example.org) asked for a call."
    assert not _resolve(headers, body).identified
    order = ",".join(DEFAULT_ORDER) + ",body_first_address"
    config = ResolverConfig.from_values("support@example.com", order)
    resolution = _resolve(headers, body, config)
    assert (resolution.email, resolution.resolved_by) == ("ana@example.org", "body_first_address")


def test_the_order_is_configurable():
    headers = "From: noreply@forms.example.net\nReply-To: reply@example.org"
    body = "Email: field@example.org"
    assert _resolve(headers, body).email == "reply@example.org"
    config = ResolverConfig.from_values(None, "body_fields,reply_to")
    resolution = _resolve(headers, body, config)
    assert (resolution.email, resolution.resolved_by) == ("field@example.org", "body_fields")
    assert [step.rule for step in resolution.steps] == ["body_fields"]


def test_removing_a_rule_from_the_order_disables_it():
    config = ResolverConfig.from_values("support@example.com", "from")
    resolution = _resolve("From: noreply@forms.example.net\nReply-To: ana@example.org", config=config)
    assert not resolution.identified


def test_settings_drive_the_resolver_and_bad_values_stop_start_up():
    settings = load_settings({"SUPPORT_ADDRESSES": "help@example.com",
                              "EMAIL_RESOLUTION_ORDER": "reply_to, from"})
    config = ResolverConfig.from_settings(settings)
    assert config.order == ("reply_to", "from") and config.support.matches("help@example.com")
    assert ResolverConfig.from_settings(load_settings({})).order == DEFAULT_ORDER
    with pytest.raises(ConfigError, match="EMAIL_RESOLUTION_ORDER"):
        load_settings({"EMAIL_RESOLUTION_ORDER": "from,guess"})
    with pytest.raises(ConfigError, match="SUPPORT_ADDRESSES"):
        load_settings({"SUPPORT_ADDRESSES": "helpdesk"})


def test_every_rule_in_the_default_order_exists():
    assert set(DEFAULT_ORDER) <= set(RULES) and len(set(DEFAULT_ORDER)) == len(DEFAULT_ORDER)


def test_an_outside_sender_forwarding_something_stays_the_customer():
    body = ("Look what I got:\n\n---------- Forwarded message ---------\n"
            "From: Shop <orders@shop.example.net>\nDate: today\nSubject: Your order\n\nThanks")
    resolution = _resolve("From: Maria <maria@example.org>\nSubject: Fwd: Your order", body)
    assert (resolution.email, resolution.resolved_by) == ("maria@example.org", "from")


def test_an_agent_forward_whose_original_has_no_address_is_kept_with_the_name():
    body = ("-----Original Message-----\nFrom: John Doe\nSent: 23 July 2022 07:53\n"
            "To: Support\nSubject: Help\n\nPlease call me.")
    resolution = _resolve("From: agent@example.com\nSubject: FW: Help", body)
    assert not resolution.identified and resolution.name == "John Doe"
    assert resolution.sender_kind == "forward"
    assert "has no address" in resolution.reason


def test_a_reply_by_an_agent_with_quoted_history_is_not_a_forward():
    body = ("Thanks, fixed.\n\n________________________________\nFrom: Maria <maria@example.org>\n"
            "Sent: Monday\nTo: support@example.com\nSubject: Bug\n\nIt crashes.")
    resolution = _resolve("From: agent@example.com\nSubject: RE: Bug", body)
    assert resolution.resolved_by != "inline_forward" and not resolution.identified


def test_the_recipient_mailbox_is_never_the_customer():
    resolution = _resolve("From: noreply@forms.example.net\nReply-To: inbox@desk.example.net",
                          config=ResolverConfig(), recipient="inbox@desk.example.net")
    assert not resolution.identified


def test_sender_on_behalf_of_a_notifier_does_not_make_the_notifier_the_customer():
    resolution = _resolve("From: noreply@forms.example.net\nSender: relay@example.org")
    assert not resolution.identified
    assert any(step.rule == "sender_on_behalf" and "cannot be the customer" in step.detail
               for step in resolution.steps)


def test_google_groups_without_original_headers_uses_reply_to_and_the_via_name():
    resolution = _resolve("""From: "'Maria Garcia' via Support" <support-group@groups.example.com>
        Reply-To: maria.garcia@example.org""")
    assert (resolution.email, resolution.name, resolution.resolved_by) == (
        "maria.garcia@example.org", "Maria Garcia", "via_rewrite")


def test_a_via_rewrite_without_any_original_address_is_unresolved_but_keeps_the_name():
    resolution = _resolve("From: Maria Garcia via Customers <customers@lists.example.net>")
    assert not resolution.identified and resolution.name == "Maria Garcia"
    assert resolution.sender_kind == "list"


def test_the_evidence_lists_every_rule_tried_until_the_choice():
    resolution = _resolve("From: noreply@forms.example.net\nReply-To: ana@example.org")
    evidence = resolution.evidence()
    assert [e["rule"] for e in evidence] == ["rfc822_attachment", "reply_to"]
    assert evidence[-1]["chosen"] and "Reply-To names ana@example.org" in evidence[-1]["detail"]
    assert evidence[0] == {"rule": "rfc822_attachment", "chosen": False,
                           "detail": "no message/rfc822 attachment", "applies": False}


def test_a_support_inbox_on_a_public_mail_provider_does_not_make_its_users_colleagues():
    body = ("FYI\n\n---------- Forwarded message ---------\nFrom: Shop <orders@shop.example.net>\n"
            "Date: today\nSubject: Your order\n\nThanks")
    resolution = _resolve("From: Maria <maria@gmail.com>\nSubject: Fwd: Your order", body,
                          config=ResolverConfig(), recipient="acme.support@gmail.com")
    assert (resolution.email, resolution.resolved_by) == ("maria@gmail.com", "from")
    colleague = _resolve("From: Ben <ben@acme.example>\nSubject: Fwd: Your order", body.replace(
        "orders@shop.example.net", "maria@example.org"), config=ResolverConfig(),
        recipient="help@acme.example")
    assert (colleague.email, colleague.resolved_by) == ("maria@example.org", "inline_forward")


OUTLOOK_BLOCK = ("Please look at this.\n\n________________________________\nFrom: Maria <maria@example.org>\n"
                 "Sent: Monday\nTo: agent@example.com\nSubject: Export fails\n\nThe export fails.")


def test_an_agents_forward_under_a_rewritten_subject_is_still_a_forward():
    resolution = _resolve("From: agent@example.com\nSubject: Customer cannot export", OUTLOOK_BLOCK)
    assert (resolution.email, resolution.resolved_by) == ("maria@example.org", "inline_forward")


def test_a_notifiers_quoted_block_under_a_plain_subject_is_not_a_forward():
    resolution = _resolve("From: noreply@forms.example.net\nSubject: Customer cannot export", OUTLOOK_BLOCK)
    assert resolution.resolved_by != "inline_forward"
