from __future__ import annotations

import importlib
import pkgutil

import connector.sources as package
from connector.sources import SOURCES, sources_reference
from connector.sources.base import Source

EXPECTED = {
    "typeform", "tally", "jotform", "google_forms", "gravity_forms", "wpforms", "formspree", "hubspot",
    "github", "sentry", "linear", "jira", "intercom", "zapier", "make", "standard",
}


def adapter_modules() -> dict[str, list[Source]]:
    found: dict[str, list[Source]] = {}
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        declared = [v for v in vars(module).values() if isinstance(v, Source)]
        if declared and module.__name__ != package.__name__:
            found[info.name] = declared
    return found


def test_every_module_declaring_a_source_is_registered_under_its_file_name():
    modules = adapter_modules()
    assert set(modules) == set(SOURCES)
    for name, declared in modules.items():
        assert len(declared) == 1, f"{name} declares more than one Source"
        assert declared[0].name == name
        assert SOURCES[name] is declared[0]


def test_the_issue_lists_exactly_these_senders():
    assert set(SOURCES) == EXPECTED


def test_every_source_documents_its_event_id_and_authentication():
    for source in SOURCES.values():
        assert source.event_id_rule.strip()
        assert source.auth, source.name
        assert source.auth_description


def test_sources_reference_lists_every_route_and_secret_variable():
    table = sources_reference()
    for name in SOURCES:
        assert f"`/hooks/{name}`" in table
        assert f"`{name.upper()}_SECRET`" in table
