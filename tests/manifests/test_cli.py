"""``flask manifest ...``: the commands write what the generators produce, and README's
operations reference is generated (``make docs`` refreshes it)."""

from __future__ import annotations

import json

from connector.config import PROJECT_ROOT
from connector.manifests.make import make_files
from connector.manifests.reference import operations_reference
from connector.manifests.zapier import zapier_files
from tests.manifests.test_golden import on_disk


def test_zapier_and_make_commands_write_the_apps_with_the_base_url(app, tmp_path):
    runner = app.test_cli_runner()
    for target, generate in (("zapier", zapier_files), ("make", make_files)):
        outdir = tmp_path / target
        result = runner.invoke(args=["manifest", target, str(outdir),
                                     "--base-url", "https://connector.example.com/"])
        assert result.exit_code == 0, result.output
        assert on_disk(outdir) == generate("https://connector.example.com")
    auth = json.loads((tmp_path / "zapier" / "definition.json").read_text())["authentication"]
    assert auth["fields"][0]["default"] == "https://connector.example.com"
    params = json.loads((tmp_path / "make" / "connections" / "halo-connector" /
                         "halo-connector.params.iml.json").read_text())
    assert params[0]["default"] == "https://connector.example.com"


def test_a_base_url_that_is_not_a_url_is_refused_naming_the_option(app, tmp_path):
    result = app.test_cli_runner().invoke(args=["manifest", "zapier", str(tmp_path / "z"),
                                                "--base-url", "connector.example.com"])
    assert result.exit_code == 2 and "--base-url" in result.output
    assert not (tmp_path / "z").exists()


def test_openapi_prints_or_writes_the_document(app, tmp_path):
    runner = app.test_cli_runner()
    printed = runner.invoke(args=["manifest", "openapi"])
    assert printed.exit_code == 0 and json.loads(printed.output)["openapi"] == "3.1.0"
    written = runner.invoke(args=["manifest", "openapi", str(tmp_path / "api.json")])
    assert written.exit_code == 0
    assert (tmp_path / "api.json").read_text() == printed.output


def test_the_readme_operations_reference_is_generated_and_in_sync():
    readme = (PROJECT_ROOT / "README.md").read_text()
    start, end = "<!-- operations:start -->\n", "<!-- operations:end -->"
    assert start in readme and end in readme
    section = readme.split(start, 1)[1].split(end, 1)[0]
    assert section == operations_reference(), "run `make docs`"
    assert readme.index("## Zapier and Make") < readme.index("## Configuration")
