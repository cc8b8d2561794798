"""``flask --app app manifest ...``: write the generated Zapier app, Make app, OpenAPI document
and the README's operations reference."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click
from flask.cli import AppGroup

from connector.manifests.files import write_tree

manifest_cli = AppGroup("manifest", help="Generated Zapier/Make apps, OpenAPI and reference.")

_OUTDIR = click.argument("outdir", type=click.Path(file_okay=False, path_type=Path))
_BASE_URL = click.option("--base-url", help="The connector's public address, pre-filled in the "
                                            "connection (default: the user types it).")


def _check_base_url(base_url: str | None) -> str | None:
    if base_url is None:
        return None
    url = base_url.strip().rstrip("/")
    if not url.startswith(("https://", "http://")):
        raise click.BadParameter("must start with https:// (or http:// for local testing)",
                                 param_hint="--base-url")
    return url


def _write_app(files: Callable[[str | None], dict[str, str]], outdir: Path,
               base_url: str | None) -> None:
    written = write_tree(outdir, files(_check_base_url(base_url)))
    click.echo(f"wrote {len(written)} files to {outdir}")


@manifest_cli.command("zapier")
@_OUTDIR
@_BASE_URL
def zapier_command(outdir: Path, base_url: str | None) -> None:
    """Write the Zapier CLI app (package.json, index.js, definition.json, README) to OUTDIR."""
    from connector.manifests.zapier import zapier_files

    _write_app(zapier_files, outdir, base_url)


@manifest_cli.command("make")
@_OUTDIR
@_BASE_URL
def make_command(outdir: Path, base_url: str | None) -> None:
    """Write the Make custom app (VS Code extension local layout, makecomapp.json) to OUTDIR."""
    from connector.manifests.make import make_files

    _write_app(make_files, outdir, base_url)


@manifest_cli.command("openapi")
@click.argument("outfile", required=False, type=click.Path(dir_okay=False, path_type=Path))
@_BASE_URL
def openapi_command(outfile: Path | None, base_url: str | None) -> None:
    """Print (or write to OUTFILE) the OpenAPI 3.1 document of the HTTP surface."""
    from connector.manifests.files import dump_json
    from connector.manifests.openapi import openapi_document

    text = dump_json(openapi_document(_check_base_url(base_url)))
    if outfile is None:
        click.echo(text, nl=False)
        return
    write_tree(outfile.parent, {outfile.name: text})
    click.echo(f"wrote {outfile}")


@manifest_cli.command("reference")
@click.option("--write", is_flag=True, help="Replace the section in README.md instead of printing it.")
def reference_command(write: bool) -> None:
    """Print (or write into README.md) the operations reference."""
    from connector.cli import replace_section
    from connector.config import PROJECT_ROOT
    from connector.manifests.reference import operations_reference

    if write:
        replace_section(PROJECT_ROOT / "README.md", "operations", operations_reference())
        click.echo("updated README.md")
    else:
        click.echo(operations_reference(), nl=False)
