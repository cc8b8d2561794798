"""Flask CLI commands: ``flask worker``, ``flask db upgrade``, ``flask config``, ``flask deliveries``."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from connector.config import PROJECT_ROOT, config_reference, env_example
from connector.delivery.queue import run_consumer
from connector.errors import ConnectorError
from connector.records import iso, submission_summary
from connector.services import services
from connector.store import Attempt, Status, Submission, Ticket

db_cli = AppGroup("db", help="Database schema.")
config_cli = AppGroup("config", help="Configuration reference.")
deliveries_cli = AppGroup("deliveries", help="Inspect and replay stored submissions.")


@click.command("worker")
@click.option("--threads", default=4, show_default=True, help="Delivery threads in this process.")
def worker_command(threads: int) -> None:
    """Run a delivery worker until stopped (production: several, beside gunicorn)."""
    svc = services()
    run_consumer(svc.huey, svc.deliveries, workers=threads)


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Bring the database schema to the latest version."""
    services().store.migrate()
    click.echo("database is up to date")


@config_cli.command("example")
@click.option("--write", is_flag=True, help="Write .env.example instead of printing it.")
def config_example(write: bool) -> None:
    """Print (or write) .env.example, generated from the settings declaration."""
    text = env_example()
    if write:
        (PROJECT_ROOT / ".env.example").write_text(text)
        click.echo("wrote .env.example")
    else:
        click.echo(text, nl=False)


@config_cli.command("docs")
@click.option("--write", is_flag=True, help="Replace the table in README.md instead of printing it.")
def config_docs(write: bool) -> None:
    """Print (or write into README.md) the configuration table (and, with --write, the senders)."""
    if write:
        from connector.sources import sources_reference

        replace_section(PROJECT_ROOT / "README.md", "config", config_reference())
        replace_section(PROJECT_ROOT / "README.md", "senders", sources_reference())
        click.echo("updated README.md")
    else:
        click.echo(config_reference(), nl=False)


def replace_section(path: Path, name: str, content: str) -> None:
    """Replace what sits between ``<!-- name:start -->`` and ``<!-- name:end -->`` in a file."""
    text = path.read_text()
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    head, found, rest = text.partition(start)
    _, found_end, tail = rest.partition(end)
    if not found or not found_end:
        raise click.ClickException(f"{path.name} has no {start} … {end} section")
    path.write_text(f"{head}{start}\n{content.rstrip()}\n{end}{tail}")


@deliveries_cli.command("list")
@click.option("--status", type=click.Choice(Status.ALL), help="Only this state.")
@click.option("--problems", is_flag=True, help="Only what needs attention, failed or is dead.")
@click.option("--limit", default=50, show_default=True)
def deliveries_list(status: str | None, problems: bool, limit: int) -> None:
    """List submissions, newest first."""
    query = select(Submission).order_by(Submission.id.desc()).limit(limit)
    if status:
        query = query.where(Submission.status == status)
    elif problems:
        query = query.where(Submission.status.in_(Status.PROBLEMS))
    with services().store.session() as session:
        rows = session.execute(query).scalars().all()
        if not rows:
            click.echo("no submissions")
            return
        click.echo(f"{'ID':>6}  {'RECEIVED':20}  {'SOURCE':14}  {'STATUS':15}  {'CUSTOMER':30}  SUBJECT")
        for row in rows:
            customer = row.customer_email or row.customer_user_id or "-"
            click.echo(f"{row.id:>6}  {iso(row.received_at):20}  {row.source[:14]:14}  "
                       f"{row.status:15}  {customer[:30]:30}  {(row.subject or '')[:60]}")


@deliveries_cli.command("show")
@click.argument("submission_id", type=int)
@click.option("--body", is_flag=True, help="Also print the stored raw body.")
def deliveries_show(submission_id: int, body: bool) -> None:
    """Show one submission: its state, attempts, ticket and normalized request."""
    with services().store.session() as session:
        submission = session.get(Submission, submission_id)
        if submission is None:
            raise click.ClickException(f"no submission {submission_id}")
        summary = submission_summary(submission)
        summary["headers"] = submission.headers
        summary["ticket_request"] = submission.ticket_request
        ticket = session.execute(select(Ticket).where(Ticket.submission_id == submission_id)).scalar()
        summary["ticket"] = ({"id": ticket.id, "halo_ticket_id": ticket.halo_ticket_id,
                              "created_at": iso(ticket.created_at)} if ticket else None)
        attempts = session.execute(select(Attempt).where(Attempt.submission_id == submission_id)
                                   .order_by(Attempt.id)).scalars().all()
        summary["attempts_log"] = [
            {"started_at": iso(a.started_at), "outcome": a.outcome, "error_code": a.error_code,
             "halo_status": a.halo_status, "message": a.message} for a in attempts]
        raw = submission.raw_body
    click.echo(json.dumps(summary, indent=2, ensure_ascii=False, default=str))
    if body:
        click.echo("--- raw body ---")
        click.echo(raw.decode("utf-8", errors="replace"))


@deliveries_cli.command("replay")
@click.argument("submission_id", type=int)
def deliveries_replay(submission_id: int) -> None:
    """Send a submission again, re-reading it with the current mapping and settings."""
    from connector.normalizers import renormalize

    svc = services()
    with svc.store.session() as session:
        submission = session.get(Submission, submission_id)
        if submission is None:
            raise click.ClickException(f"no submission {submission_id}")
        try:
            fresh = renormalize(submission, svc.settings, svc.routes)
        except ConnectorError as error:
            raise click.ClickException(f"cannot read submission {submission_id}: {error.message}") from None
    try:
        status = svc.deliveries.replay(submission_id, fresh)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    if status == Status.PENDING:
        click.echo(f"submission {submission_id} queued for delivery"
                   + ("" if svc.worker.running or svc.settings.worker_mode == "external"
                      else " (start the service or `flask worker` to deliver it)"))
    else:
        click.echo(f"submission {submission_id} still needs attention: no customer found")


def register_cli(app: Flask) -> None:
    from connector.email.cli import email_cli
    from connector.harness.cli import harness_cli
    from connector.manifests.cli import manifest_cli

    for command in (worker_command, db_cli, config_cli, deliveries_cli, email_cli, manifest_cli,
                    harness_cli):
        app.cli.add_command(command)
