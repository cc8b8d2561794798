"""Mailbox parsing, system senders, support addresses, list rewrites, subject prefixes and tags."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.config import corpora_dir
from connector.email.addresses import (
    Mailbox,
    SupportAddresses,
    is_system_address,
    notifier_tool,
    parse_address_header,
    parse_mailbox_list,
    split_via,
    unwrap_mailman,
)
from connector.email.subjects import clean_subject, is_forward_subject, split_subject


@pytest.mark.parametrize("text, expected", [
    ("John, Doe <john.doe@example.org>", [("john.doe@example.org", "John, Doe")]),
    ("a@example.org, Nicholas <n@example.org>", [("a@example.org", None), ("n@example.org", "Nicholas")]),
    ("b@example.org <b@example.org>; c@example.org <c@example.org>",
     [("b@example.org", None), ("c@example.org", None)]),
    ("'Bessie, Berry' <b@example.org>, \"Suzanne\" <s@example.org>",
     [("b@example.org", "Bessie, Berry"), ("s@example.org", "Suzanne")]),
    ("John Doe [mailto:john@example.org]", [("john@example.org", "John Doe")]),
    ("John Doe<mailto:john@example.org> <john@example.org<mailto:john@example.org>>",
     [("john@example.org", "John Doe")]),
    ("John Doe (john@example.org)", [("john@example.org", "John Doe")]),
    ("Valéry", [(None, "Valéry")]),
    ("", []),
])
def test_printed_mailbox_lists_are_parsed_forgivingly(text, expected):
    assert [(m.address, m.name) for m in parse_mailbox_list(text)] == expected


def test_real_headers_use_rfc_5322_parsing_and_decode_names():
    assert parse_address_header('"Doe, John" <J.Doe@Example.ORG>, =?UTF-8?Q?Zo=C3=AB?= <z@example.org>') == [
        Mailbox("j.doe@example.org", "Doe, John"), Mailbox("z@example.org", "Zoë")]
    assert parse_address_header("not an address") == []


@pytest.mark.parametrize("address", [
    "noreply@formspree.io", "no-reply@example.org", "do_not_reply@example.org", "donotreply@example.org",
    "notifications@tally.example", "notify@example.org", "mailer-daemon@example.org",
    "bounces+123@em.example.org", "customers-bounces@lists.example.net", "wordpress@shop.example.com",
    "postmaster@example.org", "forms-receipts-noreply@google.com", "alerts@example.org",
    "shop-noreply@example.org", "anything@jotform.com", "person@typeform.com", "SRS0=ab=cd@example.org",
])
def test_system_senders_are_recognized(address):
    assert is_system_address(address)


@pytest.mark.parametrize("address", [
    "maria.garcia@example.org", "formation@example.org", "support@example.com", "noah@example.org",
    "info@example.org", "replyall@example.org", "someone@google.com",
])
def test_people_and_ordinary_mailboxes_are_not_system_senders(address):
    assert not is_system_address(address)


def test_notifier_tools_are_named():
    assert notifier_tool("noreply@formspree.io") == "formspree"
    assert notifier_tool("forms-receipts-noreply@google.com") == "google_forms"
    assert notifier_tool("wordpress@shop.example.com") == "wordpress"
    assert notifier_tool("maria@example.org") is None


def test_support_addresses_match_exact_plus_tagged_and_domain_entries():
    support = SupportAddresses.parse("Support@Example.com; @help.example.net")
    assert support.matches("support@example.com")
    assert support.matches("support+billing@example.com")
    assert support.matches("anyone@help.example.net")
    assert not support.matches("anyone@sub.help.example.net")
    assert not support.matches("maria@example.org")
    assert not support.matches(None)
    assert SupportAddresses.parse("").matches("support@example.com") is False


@pytest.mark.parametrize("raw", ["support", "@", "a@b", "support@example.com, nope"])
def test_bad_support_address_entries_are_refused_by_name(raw):
    with pytest.raises(ValueError, match="@domain"):
        SupportAddresses.parse(raw)


def test_list_rewrites_are_undone():
    assert split_via("'Maria Garcia' via Support") == ("Maria Garcia", "Support")
    assert split_via("Maria Garcia via Customers") == ("Maria Garcia", "Customers")
    assert split_via("Maria Garcia") is None
    assert unwrap_mailman("maria.garcia=40example.org@dmarc.lists.example.net") == "maria.garcia@example.org"
    assert unwrap_mailman("maria.garcia@example.org") is None


# --- subjects ------------------------------------------------------------------------------

CORPUS = corpora_dir() / "email-forward-parser"


@pytest.mark.parametrize("path", sorted(Path(CORPUS).glob("*_subject*.txt")), ids=lambda p: p.stem)
def test_every_corpus_subject_is_cleaned_and_read_as_forward_or_reply(path):
    subject = path.read_text(encoding="utf-8").strip()
    assert clean_subject(subject) == "Integer consequat non purus"
    assert is_forward_subject(subject) is not subject.startswith("Re:")


@pytest.mark.parametrize("subject, text, prefixes, tags, forward", [
    ("[Bug] [High] Fwd: Login fails", "Login fails", ("Fwd",), ("Bug", "High"), True),
    ("Fwd: [Bug] [High] Login fails", "Login fails", ("Fwd",), ("Bug", "High"), True),
    ("Re: Fwd: x", "x", ("Re", "Fwd"), (), False),
    ("FW: RE: hello [p1]", "hello", ("FW", "RE"), ("p1",), True),
    ("Doorst: Factuur", "Factuur", ("Doorst",), (), True),
    ("Vidarebefordran: Faktura", "Faktura", ("Vidarebefordran",), (), True),
    ("Переслать: Счёт", "Счёт", ("Переслать",), (), True),
    ("İLT: Fatura", "Fatura", ("İLT",), (), True),
    ("Fwd[2]: x", "x", ("Fwd",), (), True),
    ("AW: Rechnung", "Rechnung", ("AW",), (), False),
    ("In: x", "In: x", (), (), False),
    ("i: lowercase is not Italian Outlook", "i: lowercase is not Italian Outlook", (), (), False),
    ("Meeting at 10:30", "Meeting at 10:30", (), (), False),
])
def test_subject_prefixes_and_tags_are_peeled(subject, text, prefixes, tags, forward):
    parts = split_subject(subject)
    assert (parts.text, parts.prefixes, parts.tags, parts.forward) == (text, prefixes, tags, forward)
