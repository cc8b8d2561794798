"""Every case of the crisp-oss/email-forward-parser fixtures (shared corpus, read by path)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from connector.config import corpora_dir
from connector.email.forwards import ForwardedEmail, parse_forward

CORPUS = corpora_dir() / "email-forward-parser"
EXPECTED = json.loads((CORPUS / "expected.json").read_text(encoding="utf-8"))
BODY = EXPECTED["constants"]["BODY"]
CASES = EXPECTED["cases"]


def _case_id(case: dict) -> str:
    return case["body_file"].removesuffix(".txt") + (
        "+" + case["subject_file"].removesuffix(".txt") if case["subject_file"] else "")


def _read(name: str) -> str:
    return (CORPUS / name).read_bytes().decode("utf-8")


def _parse(case: dict) -> ForwardedEmail | None:
    subject = _read(case["subject_file"]).strip() if case["subject_file"] else None
    return parse_forward(_read(case["body_file"]), subject)


def _mailbox(mailbox) -> dict:
    return {"address": mailbox.address, "name": mailbox.name}


def _expected_body(case: dict) -> str:
    """The corpus describes some bodies in words; compute them from the file the same way."""
    wanted = case["expected"]["email"]["body"]
    if not wanted.startswith("<"):
        return wanted
    text = _read(case["body_file"]).replace("\r\n", "\n").replace("\ufeff", "")
    lines = text.split("\n")
    last_header = "CC:" if case["body_file"].startswith("thunderbird") else "Subject:"
    end = next(i for i, line in enumerate(lines) if line.lstrip("> *").startswith(last_header))
    rest = lines[end + 1:]
    if "'>' quote markers removed" in wanted:
        rest = [re.sub(r"^>[ \t]?", "", line) for line in rest]
    return "\n".join(line.rstrip() for line in rest).strip()


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_corpus_case_is_detected_or_left_alone_as_expected(case):
    assert (_parse(case) is not None) is case["expected"]["forwarded"]


FORWARDED = [case for case in CASES if case["expected"]["forwarded"]]


@pytest.mark.parametrize("case", FORWARDED, ids=_case_id)
def test_corpus_forward_recovers_the_original_sender_address_and_name(case):
    found = _parse(case)
    assert found is not None and found.from_mailbox is not None
    assert _mailbox(found.from_mailbox) == case["expected"]["email"]["from"]


@pytest.mark.parametrize("case", FORWARDED, ids=_case_id)
def test_corpus_forward_recovers_subject_date_and_the_forwarders_note(case):
    found = _parse(case)
    expected = case["expected"]
    assert found.subject == expected["email"]["subject"]
    if "date" in expected["email"]:
        assert found.date
    if "message" in expected:
        assert found.note == expected["message"]


@pytest.mark.parametrize("case", FORWARDED, ids=_case_id)
def test_corpus_forward_recovers_the_original_body(case):
    assert _parse(case).body == _expected_body(case)


@pytest.mark.parametrize("case", FORWARDED, ids=_case_id)
def test_corpus_forward_recovers_to_and_cc(case):
    found = _parse(case)
    email = case["expected"]["email"]
    if "to" in email:
        assert [_mailbox(m) for m in found.to] == email["to"]
    if "to[0]" in email:
        assert found.to and _mailbox(found.to[0]) == email["to[0]"]
    if "to_addresses" in email:
        assert [m.address for m in found.to] == email["to_addresses"]
    if "cc" in email:
        assert [_mailbox(m) for m in found.cc] == email["cc"]


def test_the_corpus_is_read_in_place_and_complete():
    assert len(CASES) == 206
    used = {c["body_file"] for c in CASES} | {c["subject_file"] for c in CASES if c["subject_file"]}
    on_disk = {p.name for p in Path(CORPUS).glob("*_*.txt") if not p.name.startswith("LICENSE")}
    assert used == on_disk


def test_nested_forwards_keep_the_outermost_original_and_chain_the_inner_ones():
    case = next(c for c in CASES if c["body_file"] == "gmail_en_body_variant_15.txt")
    chain = _parse(case).chain
    assert [level.from_mailbox.address for level in chain] == [
        "john.doe@acme.com", "thibault@acme.com", "john.doe@acme.com"]
    assert chain[1].subject.startswith("TR: ")
