"""Whatever arrives, the email path either refuses it as a BadRequest or makes a valid ticket."""

from __future__ import annotations

import base64
import quopri
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connector.email.forwards import parse_forward
from connector.email.message import parse_email
from connector.email.resolve import DEFAULT_ORDER, ResolverConfig, resolve
from connector.email.ticket import email_to_ticket
from connector.errors import BadRequest
from connector.ticket import (
    MESSAGE_MAX_CHARS,
    METADATA_MAX_BYTES,
    SOURCE_MAX_CHARS,
    SUBJECT_MAX_CHARS,
    json_size,
)

CONFIG = ResolverConfig.from_values("support@example.com,@example.com",
                                    ",".join(DEFAULT_ORDER) + ",body_first_address")

# Pieces of real-world mail that exercise every parser branch when shuffled together.
SNIPPETS = [
    "---------- Forwarded message ---------", "-------- Weitergeleitete Nachricht --------",
    "> Begin forwarded message:", "________________________________", "-----Original Message-----",
    "  ----- Forwarded Message ----- From: A <a@example.org>To: b@example.org Subject: x",
    "From: John Doe <john.doe@example.org>", "Von: \tJohn <j@example.org>", "De : x@example.org",
    "Sent: Monday", "Date: today", "Subject: Fwd: hi", "To: a@example.org; b@example.org", "Cc:",
    'On 28/10/2021 12:46, "John Doe" <john.doe@example.org> wrote:', "wrote:", "> quoted", ">",
    "Email: ana@example.org", "email:", "Name", "Ana Silva", "support@example.com", "[mailto:x@y.z]",
    "<mailto:a@example.org>", "=40", "\ufeff", "\xa0", "\t", "", "<table><tr><td>a</td></tr>",
]
HEADER_NAMES = ["From", "Reply-To", "Sender", "To", "Cc", "Subject", "X-Original-From",
                "X-Original-Sender", "Auto-Submitted", "Precedence", "Message-ID", "References",
                "In-Reply-To", "Date", "Delivered-To", "Content-Type", "Content-Transfer-Encoding"]
CHARSETS = ["utf-8", "iso-8859-1", "x-bogus", "utf-16", "shift_jis", '"', ""]

header_text = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=80),
    st.sampled_from(["noreply@forms.example.net", "'Ana' via List <l@lists.example.net>",
                     "a=40example.org@dmarc.example.net", "=?utf-8?Q?Ana_Silva?= <ana@example.org>",
                     "=?x-bogus?B?!!!?=", "support@example.com", "<id@example.org>", "auto-generated"]),
)
body_text = st.lists(st.one_of(st.sampled_from(SNIPPETS), st.text(max_size=60)), max_size=40).map("\n".join)


@st.composite
def emails(draw) -> bytes:
    headers = draw(st.lists(st.tuples(st.sampled_from(HEADER_NAMES), header_text), max_size=12))
    if draw(st.booleans()):
        headers.insert(0, ("From", draw(st.sampled_from(
            ["Ana <ana@example.org>", "noreply@forms.example.net", "agent@example.com"]))))
    charset = draw(st.sampled_from(CHARSETS))
    encoding = draw(st.sampled_from(["8bit", "base64", "quoted-printable", "x-unknown"]))
    body = draw(body_text).encode("utf-8", errors="surrogatepass")
    if encoding == "base64":
        body = base64.encodebytes(body)
    elif encoding == "quoted-printable":
        body = quopri.encodestring(body)
    subtype = draw(st.sampled_from(["plain", "html"]))
    lines = [f"{name}: {value}" for name, value in headers]
    lines += [f"Content-Type: text/{subtype}; charset={charset}", f"Content-Transfer-Encoding: {encoding}"]
    head = "\r\n".join(lines).encode("utf-8", errors="surrogatepass")
    if draw(st.booleans()):  # wrap it as a forward-as-attachment
        inner = head + b"\r\n\r\n" + body
        return (b"From: agent@example.com\r\nSubject: Fwd: x\r\nContent-Type: multipart/mixed; "
                b'boundary="zz"\r\n\r\n--zz\r\nContent-Type: text/plain\r\n\r\nnote\r\n--zz\r\n'
                b"Content-Type: message/rfc822\r\n\r\n" + inner + b"\r\n--zz--\r\n")
    return head + b"\r\n\r\n" + body


def _check(raw: bytes) -> None:
    try:
        parsed = parse_email(raw)
    except BadRequest as exc:
        assert exc.message and exc.status == 400
        return
    resolution = resolve(parsed, CONFIG)
    ticket = email_to_ticket(parsed, resolution)
    payload = ticket.halo_payload()
    assert 0 < len(payload["subject"]) <= SUBJECT_MAX_CHARS
    assert len(payload.get("message", "")) <= MESSAGE_MAX_CHARS
    assert json_size(payload["metadata"]) <= METADATA_MAX_BYTES
    assert len(payload["source"]) <= SOURCE_MAX_CHARS
    assert ticket.event_id
    if resolution.identified:
        assert payload["email"] == resolution.email and "@" in resolution.email
        assert not CONFIG.support.matches(resolution.email)
    else:
        assert "email" not in payload and payload["metadata"]["needs_attention"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000))
def test_arbitrary_bytes_are_refused_or_ticketed(raw):
    _check(raw)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(emails())
def test_arbitrary_messages_are_refused_or_ticketed_within_halos_limits(raw):
    _check(raw)


@settings(max_examples=300, deadline=None)
@given(body_text, st.one_of(st.none(), st.sampled_from(["FW: x", "Re: x", "WG: x", ""])))
def test_forward_parsing_never_fails(body, subject):
    found = parse_forward(body, subject)
    if found is not None:
        assert isinstance(found.body, str) and len(found.chain) >= 1


def test_hostile_megabyte_bodies_stay_fast():
    hostile = ["a" * 900_000, ">" * 900_000, "Label:\n" * 120_000, "-" * 900_000,
               ("On Mon, A <a@example.org> wrote:\n> x\n") * 20_000, "x@" * 400_000]
    for body in hostile:
        raw = b"From: noreply@forms.example.net\r\nSubject: FW: x\r\n\r\n" + body.encode()
        started = time.perf_counter()
        _check(raw)
        # Generous: quadratic behaviour would take minutes, linear takes about a second.
        assert time.perf_counter() - started < 20, body[:20]
