"""The corpus evaluation (module and CLI) and ``flask email preview``."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from flask import Flask

from connector.config import load_settings
from connector.email.cli import email_cli
from connector.email.evaluate import client_and_language, evaluate, main

SAMPLES = Path(__file__).parent / "samples"
GMAIL = ("---------- Forwarded message ---------\nFrom: Ann Lee <ann@example.org>\nDate: today\n"
         "Subject: Hi\nTo: <bob@example.com>\n\nHello\n")
REPLY = "Sure.\n\nOn Mon, Ann Lee <ann@example.org> wrote:\n> Hello\n"


def _corpus(tmp_path: Path, cases: list[tuple[str, str, dict]]) -> Path:
    for name, text, _ in cases:
        (tmp_path / name).write_text(text, encoding="utf-8")
    expected = {"cases": [{"body_file": name, "subject_file": None, "expected": exp}
                          for name, _, exp in cases]}
    (tmp_path / "expected.json").write_text(json.dumps(expected), encoding="utf-8")
    return tmp_path


FORWARD_OK = {"forwarded": True, "email": {"from": {"address": "ann@example.org", "name": "Ann Lee"}}}


def test_the_whole_corpus_passes_the_parser_and_end_to_end():
    report = evaluate()
    total = report.totals()
    assert not report.failures
    assert (total.cases, total.forwarded, total.ordinary) == (206, 196, 10)
    assert total.address_ok == total.name_ok == 196 and total.left_alone == 10
    assert total.end_to_end_ok == 206


def test_a_wrong_address_or_a_negative_taken_for_a_forward_fails_the_run(tmp_path, capsys):
    directory = tmp_path / "c"
    directory.mkdir()
    _corpus(directory, [
        ("gmail_en_body.txt", GMAIL, FORWARD_OK),
        ("gmail_en_body_variant_4.txt", REPLY, {"forwarded": False}),
    ])
    assert main([str(directory)]) == 0
    _corpus(directory, [
        ("gmail_en_body.txt", GMAIL, {"forwarded": True, "email": {"from": {"address": "x@example.org"}}}),
        ("gmail_en_body_variant_4.txt", GMAIL, {"forwarded": False}),
    ])
    assert main([str(directory)]) == 1
    out = capsys.readouterr().out
    assert "FAIL gmail_en_body.txt" in out and "ordinary mail taken for a forward" in out


def test_clients_and_languages_come_from_the_file_names():
    cases = [
        ("gmail_pt_br_body_variant_3.txt", None, ("gmail", "pt_br")),
        ("outlook_live_body.txt", "outlook_live_de_subject.txt", ("outlook_live", "de")),
        ("new_outlook_2019_en_body_variant_14_1.txt", None, ("new_outlook_2019", "en")),
        ("outlook_2019_cz_body.txt", "outlook_2019_subject.txt", ("outlook_2019", "cz")),
    ]
    for body_file, subject_file, expected in cases:
        assert client_and_language(body_file, subject_file) == expected


def test_cli_evaluate_prints_the_table_and_sets_the_exit_status(tmp_path):
    directory = _corpus(tmp_path, [("gmail_en_body.txt", GMAIL, FORWARD_OK)])
    result = CliRunner().invoke(email_cli, ["evaluate", str(directory)])
    assert result.exit_code == 0 and "TOTAL" in result.output and "1/1" in result.output
    _corpus(tmp_path, [("gmail_en_body.txt", REPLY, FORWARD_OK)])
    assert CliRunner().invoke(email_cli, ["evaluate", str(directory)]).exit_code == 1


def test_cli_preview_explains_the_customer_and_prints_the_exact_payload(monkeypatch):
    monkeypatch.setenv("SUPPORT_ADDRESSES", "support@example.com,@example.com")
    result = CliRunner().invoke(email_cli, ["preview", str(SAMPLES / "outlook_forward_by_agent.eml")])
    assert result.exit_code == 0, result.output
    assert "Customer:     Priya Patel <priya.patel@example.org>" in result.output
    assert "Found by:     inline_forward" in result.output
    assert "=> inline_forward:" in result.output
    payload = json.loads(result.output.split("tickets/create body:\n", 1)[1])
    assert payload["email"] == "priya.patel@example.org"
    assert payload["subject"] == "Cannot log in after password reset"


def test_cli_preview_uses_the_apps_settings_when_there_is_an_app():
    app = Flask(__name__)
    app.config["SETTINGS"] = load_settings({"EMAIL_RESOLUTION_ORDER": "from"})
    with app.app_context():
        sample = str(SAMPLES / "formspree_notification_reply_to.eml")
        result = CliRunner().invoke(email_cli, ["preview", sample])
    assert result.exit_code == 0
    assert "none found" in result.output and "needs_attention" in result.output


def test_cli_preview_refuses_what_is_not_an_email_with_the_reason(tmp_path):
    path = tmp_path / "note.json"
    path.write_text('{"hello": "world"}')
    result = CliRunner().invoke(email_cli, ["preview", str(path)])
    assert result.exit_code == 1 and "not an email" in result.output


def test_cli_preview_can_override_the_support_addresses(monkeypatch):
    monkeypatch.delenv("SUPPORT_ADDRESSES", raising=False)
    sample = str(SAMPLES / "support_addresses_never_chosen.eml")
    assert "Customer:     Help Desk <helpdesk@example.com>" in CliRunner().invoke(
        email_cli, ["preview", sample]).output
    result = CliRunner().invoke(email_cli, ["preview", "--support-addresses", "@example.com", sample])
    assert "Customer:     none found" in result.output
