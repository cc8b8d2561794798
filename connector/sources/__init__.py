"""Webhook sources: one adapter module per sender, each exporting one declarative ``Source``.

``SOURCES`` is the explicit registry (a test fails when an adapter module is missing from it).
The HTTP layer calls :func:`process` for ``POST /hooks/<route>[/<secret>]`` and
:func:`interpret` to replay a stored delivery; :func:`headers_for_storage` strips credentials
from the headers it keeps.
"""

from __future__ import annotations

from connector.sources.base import Source
from connector.sources.formspree import formspree
from connector.sources.github import github
from connector.sources.google_forms import google_forms
from connector.sources.gravity_forms import gravity_forms
from connector.sources.hubspot import hubspot
from connector.sources.intercom import intercom
from connector.sources.jira import jira
from connector.sources.jotform import jotform
from connector.sources.linear import linear
from connector.sources.make import make
from connector.sources.sentry import sentry
from connector.sources.standard import standard
from connector.sources.tally import tally
from connector.sources.typeform import typeform
from connector.sources.wpforms import wpforms
from connector.sources.zapier import zapier

SOURCES: dict[str, Source] = {
    source.name: source
    for source in (
        typeform, tally, jotform, google_forms, gravity_forms, wpforms, formspree, hubspot,
        github, sentry, linear, jira, intercom, zapier, make, standard,
    )
}

from connector.sources.processing import (  # noqa: E402  (processing looks SOURCES up by name)
    Accepted,
    Ignored,
    Processed,
    headers_for_storage,
    interpret,
    process,
)
from connector.sources.routes import Route, Routes, load_routes, routes_from_settings  # noqa: E402
from connector.sources.signatures import SenderNotConfigured  # noqa: E402


def sources_reference() -> str:
    """Markdown table of every sender: route, secret variable, accepted credentials, event id."""
    from connector.config import sender_secret_variable

    rows = ["| Route | Sender | Secret | Authentication | Event id (deduplication) |", "|---|---|---|---|---|"]
    for source in SOURCES.values():
        rows.append(
            f"| `/hooks/{source.name}` | {source.label} | `{sender_secret_variable(source.name)}` | "
            f"{source.auth_description} | {source.event_id_rule} |"
        )
    return "\n".join(rows) + "\n"


__all__ = [
    "SOURCES", "Accepted", "Ignored", "Processed", "Route", "Routes", "SenderNotConfigured", "Source",
    "headers_for_storage", "interpret", "load_routes", "process", "routes_from_settings",
    "sources_reference",
]
