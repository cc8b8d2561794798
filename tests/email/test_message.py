"""parse_email: what is not an email is a 400 with the reason; everything else is read."""

from __future__ import annotations

import pytest

from connector.email.html_text import html_to_text
from connector.email.message import parse_email
from connector.errors import BadRequest


def _eml(headers: str, body: str = "Hello", *, extra: bytes = b"") -> bytes:
    return (headers.strip().replace("\n", "\r\n") + "\r\n\r\n" + body.replace("\n", "\r\n")).encode() + extra


@pytest.mark.parametrize("raw, reason", [
    (b"", "empty"),
    (b"   \r\n\r\n  ", "empty"),
    (b'{"from": "maria@example.org", "subject": "hi"}', "not an email"),
    (b"<html><body>Hello</body></html>", "not an email"),
    (b"\x00\x01\x02binary", "not an email"),
    (b"Subject: no sender\r\nTo: support@example.com\r\n\r\nHello", "no From header"),
    (b"From: undisclosed-recipients:;\r\nSubject: x\r\n\r\nHello", "no usable address"),
    (b"From: Maria Garcia\r\nSubject: x\r\n\r\nHello", "no usable address"),
])
def test_what_is_not_a_usable_email_is_a_bad_request_with_the_reason(raw, reason):
    with pytest.raises(BadRequest) as caught:
        parse_email(raw)
    assert reason in caught.value.message
    assert caught.value.status == 400


def test_headers_are_decoded_and_ids_kept():
    parsed = parse_email(_eml("""
From: =?UTF-8?Q?Mar=C3=ADa_Garc=C3=ADa?= <Maria.Garcia@Example.org>
Reply-To: "Doe, John" <john.doe@example.org>, jane@example.org
To: Support <support@example.com>
Cc: =?ISO-8859-1?Q?J=F6rg?= <joerg@example.org>
Subject: =?UTF-8?B?UHJvYmzDqG1l?= de connexion
Message-ID:  <abc.123@mail.example.org>
In-Reply-To: <prev@mail.example.org>
References: <first@mail.example.org>
 <prev@mail.example.org>
Date: Mon, 03 Mar 2025 10:12:45 +0100
"""))
    assert parsed.from_mailbox.address == "maria.garcia@example.org"
    assert parsed.from_mailbox.name == "María García"
    assert [(m.name, m.address) for m in parsed.reply_to] == [
        ("Doe, John", "john.doe@example.org"), (None, "jane@example.org")]
    assert parsed.cc[0].name == "Jörg"
    assert parsed.subject == "Problème de connexion"
    assert parsed.message_id == "<abc.123@mail.example.org>"
    assert parsed.in_reply_to == "<prev@mail.example.org>"
    assert parsed.references == ["<first@mail.example.org>", "<prev@mail.example.org>"]
    assert parsed.date_iso == "2025-03-03T10:12:45+01:00"
    assert parsed.recipient == "support@example.com"


def test_raw_utf8_headers_are_read_as_utf8():
    raw = "From: Zoë Ølsen <zoe@example.org>\r\nSubject: Årsrapport fejler\r\n\r\nHej".encode()
    parsed = parse_email(raw)
    assert parsed.from_mailbox.name == "Zoë Ølsen"
    assert parsed.subject == "Årsrapport fejler"


def test_plain_text_is_preferred_over_html_in_an_alternative():
    raw = _eml("""
From: a@example.org
Content-Type: multipart/alternative; boundary="b"
""", """--b
Content-Type: text/plain; charset=utf-8

plain version
--b
Content-Type: text/html; charset=utf-8

<p>html version</p>
--b--
""")
    parsed = parse_email(raw)
    assert parsed.text == "plain version"
    assert not parsed.body_from_html and "html version" in parsed.html


def test_html_only_body_becomes_readable_text_without_markup_scripts_or_styles():
    raw = _eml("""
From: a@example.org
Content-Type: text/html; charset=utf-8
""", """<html><head><style>p {color: red}</style><script>alert(1)</script></head>
<body><p>Hello&nbsp;there,</p><p>line one<br>line two</p>
<table><tr><th>Email</th><td>maria@example.org</td></tr><tr><td>a</td><td>b</td><td>c</td></tr></table>
<blockquote>old message</blockquote></body></html>""")
    parsed = parse_email(raw)
    assert parsed.body_from_html
    assert parsed.text == ("Hello\xa0there,\n\nline one\nline two\n\nEmail: maria@example.org\n"
                           "a | b | c\n\n> old message")


def test_attachments_are_listed_with_name_type_and_size_and_eml_files_are_read():
    attached_eml = "From: Sofia Rossi <sofia@example.org>\nSubject: inner\n\ninner body"
    raw = _eml("""
From: agent@example.com
Content-Type: multipart/mixed; boundary="b"
""", f"""--b
Content-Type: text/plain

see attachments
--b
Content-Type: application/pdf; name="invoice.pdf"
Content-Disposition: attachment; filename="=?UTF-8?Q?Rechnung_M=C3=A4rz.pdf?="
Content-Transfer-Encoding: base64

JVBERi0xLjQK
--b
Content-Type: application/octet-stream
Content-Disposition: attachment; filename="original.eml"

{attached_eml}
--b
Content-Type: image/png
Content-ID: <logo>

unnamed-inline-image
--b--
""")
    parsed = parse_email(raw)
    assert [(a.filename, a.content_type, a.size) for a in parsed.attachments] == [
        ("Rechnung März.pdf", "application/pdf", 9),
        ("original.eml", "application/octet-stream", len(attached_eml.replace("\n", "\r\n"))),
    ]
    assert parsed.text == "see attachments"
    assert parsed.attached_messages[0].from_mailbox.address == "sofia@example.org"
    assert parsed.attached_messages[0].text == "inner body"


def test_unknown_charset_and_broken_base64_do_not_fail():
    raw = _eml("""
From: a@example.org
Subject: =?x-klingon?Q?qapla=E9?=
Content-Type: text/plain; charset="x-klingon"
Content-Transfer-Encoding: base64
""", "w6l0w6k=!!!not base64")
    parsed = parse_email(raw)
    assert parsed.subject.startswith("qapla")
    assert isinstance(parsed.text, str)


def test_latin1_labelled_body_is_decoded_as_windows_1252():
    raw = _eml("From: a@example.org\nContent-Type: text/plain; charset=iso-8859-1", "") + \
        "Caf\xe9 \u20ac 5".encode("cp1252")
    assert parse_email(raw).text == "Café € 5"


def test_an_mbox_from_line_before_the_headers_is_accepted():
    parsed = parse_email(b"From maria@example.org Mon Mar  3 10:00:00 2025\nFrom: maria@example.org\n\nHi")
    assert parsed.from_mailbox.address == "maria@example.org"


def test_html_to_text_survives_unbalanced_markup():
    assert html_to_text("<table><tr><td>Name<td>Ana</table><p>x</div></blockquote>end") == \
        "Name: Ana\n\nx\n\nend"
