"""Measure forward detection against the crisp-oss/email-forward-parser fixtures.

``python -m connector.email.evaluate [CORPUS_DIR]`` prints, per mail client and language,
whether the original sender's address and name were recovered from each forwarded body and
whether ordinary mails (the corpus's negative cases) were left alone. Each case is checked
twice: the body parser alone, and end to end, wrapped in an email an agent on a support
address sends, through ``parse_email`` -> ``resolve``. Exits 1 if any forwarded case loses the
address or any ordinary mail is taken for a forward.
"""

from __future__ import annotations

import base64
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.header import Header
from pathlib import Path

from connector.config import corpora_dir
from connector.email.forwards import parse_forward
from connector.email.message import parse_email
from connector.email.resolve import ResolverConfig, resolve

CORPUS_NAME = "email-forward-parser"
CLIENTS = (
    "new_outlook_2019", "outlook_2019", "outlook_2013", "outlook_live", "apple_mail",
    "ionos_one_and_one", "gmail", "hubspot", "mailmate", "missive", "thunderbird", "yahoo",
    "unknown",
)
AGENT = "agent@support.example.com"
EVALUATION_SUPPORT_ADDRESSES = "@support.example.com"


@dataclass
class CaseResult:
    body_file: str
    subject_file: str | None
    client: str
    language: str
    forwarded_expected: bool
    detected: bool
    address_ok: bool
    name_ok: bool
    end_to_end_ok: bool
    problem: str = ""

    @property
    def passed(self) -> bool:
        if self.forwarded_expected:
            return self.detected and self.address_ok
        return not self.detected


@dataclass
class Row:
    client: str
    language: str
    forwarded: int = 0
    address_ok: int = 0
    name_ok: int = 0
    ordinary: int = 0
    left_alone: int = 0
    end_to_end_ok: int = 0
    cases: int = 0

    def add(self, result: CaseResult) -> None:
        self.cases += 1
        self.end_to_end_ok += result.end_to_end_ok
        if result.forwarded_expected:
            self.forwarded += 1
            self.address_ok += result.detected and result.address_ok
            self.name_ok += result.detected and result.name_ok
        else:
            self.ordinary += 1
            self.left_alone += not result.detected


@dataclass
class Report:
    results: list[CaseResult] = field(default_factory=list)

    @property
    def failures(self) -> list[CaseResult]:
        return [result for result in self.results if not result.passed]

    def rows(self) -> list[Row]:
        rows: dict[tuple[str, str], Row] = {}
        for result in self.results:
            key = (result.client, result.language)
            rows.setdefault(key, Row(*key)).add(result)
        return [rows[key] for key in sorted(rows)]

    def totals(self, client: str | None = None) -> Row:
        total = Row(client or "TOTAL", "")
        for result in self.results:
            if client is None or result.client == client:
                total.add(result)
        return total


def client_and_language(body_file: str, subject_file: str | None) -> tuple[str, str]:
    """``gmail_pt_br_body_variant_3.txt`` -> (``gmail``, ``pt_br``)."""
    stem = body_file.rsplit(".", 1)[0]
    client = next((c for c in CLIENTS if stem.startswith(c + "_")), stem.split("_")[0])
    rest = stem[len(client) + 1:]
    language = "" if rest.startswith("body") else rest.split("_body", 1)[0]
    if not language and subject_file:
        language = subject_file[len(client) + 1:].split("_subject", 1)[0]
    return client, language or "-"


def _read(directory: Path, name: str) -> str:
    return (directory / name).read_bytes().decode("utf-8")


def _wrap(body: str, subject: str | None) -> bytes:
    """The corpus body as an email an agent on a support address sends to the helpdesk."""
    headers = [
        f"From: Support Agent <{AGENT}>",
        "To: helpdesk@support.example.com",
        "Message-ID: <evaluation@support.example.com>",
        "MIME-Version: 1.0",
        'Content-Type: text/plain; charset="utf-8"',
        "Content-Transfer-Encoding: base64",
    ]
    if subject is not None:
        headers.insert(2, f"Subject: {Header(subject, 'utf-8').encode()}")
    encoded = base64.encodebytes(body.encode("utf-8")).decode("ascii")
    return ("\r\n".join(headers) + "\r\n\r\n" + encoded.replace("\n", "\r\n")).encode("ascii")


def evaluate_case(directory: Path, case: dict, config: ResolverConfig) -> CaseResult:
    body = _read(directory, case["body_file"])
    subject = _read(directory, case["subject_file"]).strip() if case.get("subject_file") else None
    expected = case["expected"]
    client, language = client_and_language(case["body_file"], case.get("subject_file"))
    found = parse_forward(body, subject)
    want = (expected.get("email") or {}).get("from") or {}
    got = found.from_mailbox if found and found.from_mailbox else None
    address_ok = bool(found) and (got.address if got else None) == want.get("address")
    name_ok = bool(found) and (got.name if got else None) == want.get("name")

    resolution = resolve(parse_email(_wrap(body, subject)), config)
    if expected["forwarded"]:
        if want.get("address"):
            end_to_end_ok = (resolution.resolved_by == "inline_forward"
                             and resolution.email == want["address"])
        else:  # the original has a name and no address: nobody to choose, kept for attention
            end_to_end_ok = not resolution.identified and resolution.name == want.get("name")
    else:
        end_to_end_ok = resolution.resolved_by != "inline_forward"

    problem = ""
    if expected["forwarded"] and not found:
        problem = "forward not detected"
    elif expected["forwarded"] and not address_ok:
        problem = f"from address {got.address if got else None!r} != {want.get('address')!r}"
    elif not expected["forwarded"] and found:
        problem = f"ordinary mail taken for a forward ({found.layout})"
    elif not end_to_end_ok:
        problem = f"end to end: {resolution.resolved_by} {resolution.email!r}: {resolution.reason}"
    return CaseResult(case["body_file"], case.get("subject_file"), client, language,
                      expected["forwarded"], bool(found), address_ok, name_ok, end_to_end_ok,
                      problem)


def evaluate(directory: Path | None = None) -> Report:
    directory = Path(directory) if directory else corpora_dir() / CORPUS_NAME
    cases = json.loads((directory / "expected.json").read_text(encoding="utf-8"))["cases"]
    config = ResolverConfig.from_values(EVALUATION_SUPPORT_ADDRESSES)
    return Report([evaluate_case(directory, case, config) for case in cases])


def format_report(report: Report) -> str:
    header = ("client", "lang", "cases", "fwd", "address", "name", "ordinary", "left alone",
              "end-to-end")
    widths = (18, 6, 5, 4, 8, 5, 8, 10, 10)

    def line(values: Sequence[object]) -> str:
        return "  ".join(str(v).ljust(w) for v, w in zip(values, widths, strict=True)).rstrip()

    def cells(row: Row) -> list[object]:
        return [row.client, row.language, row.cases, row.forwarded,
                f"{row.address_ok}/{row.forwarded}", f"{row.name_ok}/{row.forwarded}", row.ordinary,
                f"{row.left_alone}/{row.ordinary}", f"{row.end_to_end_ok}/{row.cases}"]

    out = [line(header), line(["-" * w for w in widths])]
    current = None
    for row in report.rows():
        if current is not None and row.client != current:
            out.append(line(cells(report.totals(current))[:1] + ["all"] +
                            cells(report.totals(current))[2:]))
            out.append("")
        current = row.client
        out.append(line(cells(row)))
    if current is not None:
        out.append(line(cells(report.totals(current))[:1] + ["all"] + cells(report.totals(current))[2:]))
    out += ["", line(cells(report.totals()))]
    for failure in report.failures + [r for r in report.results if r.passed and r.problem]:
        out.append(f"  {'FAIL' if not failure.passed else 'note'} {failure.body_file} "
                   f"({failure.subject_file or 'no subject'}): {failure.problem}")
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    report = evaluate(Path(args[0]) if args else None)
    print(format_report(report))
    return 1 if report.failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
