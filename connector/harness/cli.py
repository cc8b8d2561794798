"""``flask harness replay|record|env``: the fixtures harness from the command line."""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

import click
from flask.cli import AppGroup

from connector.harness.fixtures import FixtureError, load_cases
from connector.harness.inbound import HARNESS_API_KEY, harness_env
from connector.harness.report import Progress, summary, write_junit

#: From this many cases a parallel replay beats its processes' start-up (about a second).
PARALLEL_FROM = 50

harness_cli = AppGroup("harness", help="Replay fixtures (regression cases) and record new ones.")


@harness_cli.command("replay")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--against", metavar="URL", help="Send the cases to a running connector (its sandbox "
              "is checked) instead of replaying offline.")
@click.option("--api-key", default=HARNESS_API_KEY, show_default=True,
              help="Connector key for --against.")
@click.option("--update", is_flag=True, help="Rewrite each fixture's expectations from what "
              "happened (review the diff before committing).")
@click.option("--junit", type=click.Path(path_type=Path), help="Also write JUnit XML here (CI).")
@click.option("--jobs", "-j", type=click.IntRange(1, 64),
              help="Offline: replay in this many processes (default: one per CPU from "
                   f"{PARALLEL_FROM} cases on, else one).")
def replay_command(paths: tuple[Path, ...], against: str | None, api_key: str, update: bool,
                   junit: Path | None, jobs: int | None) -> None:
    """Replay fixtures (default: all of fixtures/) and compare every Halo call and answer."""
    if update and against:
        raise click.UsageError("--update works offline only (it needs the exact Halo calls).")
    try:
        cases = load_cases(paths)
    except FixtureError as error:
        raise click.ClickException(error.message) from None
    if jobs is None:
        jobs = (os.cpu_count() or 1) if len(cases) >= PARALLEL_FROM else 1
    progress = Progress(len(cases))
    started = time.perf_counter()
    # Failed deliveries and refused webhooks are expected outcomes of many cases: keep the
    # connector's own warnings out of the report (and restore the level for whoever called us).
    connector_log = logging.getLogger("connector")
    level = connector_log.level
    connector_log.setLevel(logging.ERROR)
    try:
        if against:
            from connector.harness.against import replay_against

            results = list(replay_against(against, cases, api_key=api_key, on_result=progress))
        else:
            from connector.harness.offline import replay

            results = list(replay(cases, on_result=progress, jobs=jobs))
    finally:
        connector_log.setLevel(level)
    seconds = time.perf_counter() - started
    if update:
        from connector.harness.update import write_update

        changed = [r.case.name for r in results if write_update(r)]
        click.echo(f"updated {len(changed)} fixture(s)" + "".join(f"\n  {n}" for n in changed))
        return
    click.echo(summary(results, seconds))
    if junit:
        write_junit(junit, results, seconds)
        click.echo(f"wrote {junit}")
    if any(not r.passed and not r.skipped for r in results):
        sys.exit(1)


@harness_cli.command("record")
@click.argument("submission_id", type=int)
@click.option("--name", help="File name for the fixture (default: <channel>_<id>).")
@click.option("--folder", type=click.Path(path_type=Path), help="Where to write it "
              "(default: fixtures/recorded/).")
def record_command(submission_id: int, name: str | None, folder: Path | None) -> None:
    """Turn a received webhook or email into a fixture, secrets and personal data replaced."""
    from connector.errors import ConnectorError
    from connector.harness.record import record
    from connector.services import services

    try:
        path = record(services().store, submission_id, name=name, folder=folder)
    except ConnectorError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"wrote {path}; review it (and any .eml beside it) before committing")


@harness_cli.command("env")
def env_command() -> None:
    """Print the settings a connector needs to accept ``replay --against`` traffic."""
    for name, value in sorted(harness_env().items()):
        click.echo(f"{name}={value}")
