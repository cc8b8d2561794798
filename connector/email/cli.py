"""``flask email preview FILE.eml`` and ``flask email evaluate [DIR]``.

Preview answers "who would this email's ticket be from, and why?" without creating anything:
the customer, the rule that found them, every rule tried, and the exact ``tickets/create``
body. Register with ``app.cli.add_command(email_cli)``.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask import current_app, has_app_context
from flask.cli import AppGroup

from connector.config import Settings, load_settings
from connector.email.evaluate import evaluate, format_report
from connector.email.message import parse_email
from connector.email.resolve import ResolverConfig, resolve
from connector.email.ticket import email_to_ticket
from connector.errors import ConnectorError

email_cli = AppGroup("email", help="See how notification and forwarded emails become tickets.")


def _settings() -> Settings:
    if has_app_context() and current_app.config.get("SETTINGS") is not None:
        return current_app.config["SETTINGS"]
    return load_settings()


@email_cli.command("preview", with_appcontext=False)
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--recipient", help="Our mailbox it was sent to (default: Delivered-To, else To).")
@click.option("--support-addresses", help="Use these instead of SUPPORT_ADDRESSES.")
def preview(path: Path, recipient: str | None, support_addresses: str | None) -> None:
    """Show the customer of an .eml file and the ticket it would create (nothing is sent)."""
    try:
        settings = _settings()
        config = ResolverConfig.from_settings(settings)
        if support_addresses is not None:
            config = ResolverConfig.from_values(support_addresses, settings.get("EMAIL_RESOLUTION_ORDER"))
        parsed = parse_email(path.read_bytes())
    except (ConnectorError, ValueError) as exc:
        raise click.ClickException(getattr(exc, "message", str(exc))) from None
    resolution = resolve(parsed, config, recipient=recipient)
    ticket = email_to_ticket(parsed, resolution, recipient=recipient)

    if resolution.identified:
        who = f"{resolution.name} <{resolution.email}>" if resolution.name else resolution.email
        click.echo(f"Customer:     {who}")
        click.echo(f"Found by:     {resolution.resolved_by}")
    else:
        click.echo("Customer:     none found; the ticket would be kept as needing attention")
    click.echo(f"Why:          {resolution.reason}")
    if resolution.notifier:
        tool = f" ({resolution.notifier_tool})" if resolution.notifier_tool else ""
        click.echo(f"Sent by:      {resolution.notifier}{tool}, a {resolution.sender_kind} sender")
    click.echo("Rules tried:")
    for step in resolution.steps:
        mark = "=>" if step.chosen else ("--" if step.routine else "x ")
        click.echo(f"  {mark} {step.rule}: {step.detail}")
    click.echo(f"Event id:     {ticket.event_id}")
    click.echo("tickets/create body:")
    click.echo(json.dumps(ticket.halo_payload(), indent=2, ensure_ascii=False))


@email_cli.command("evaluate", with_appcontext=False)
@click.argument("directory", required=False,
                type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.pass_context
def evaluate_command(ctx: click.Context, directory: Path | None) -> None:
    """Measure forward detection on the email-forward-parser corpus (exit 1 on any failure)."""
    report = evaluate(directory)
    click.echo(format_report(report))
    ctx.exit(1 if report.failures else 0)
