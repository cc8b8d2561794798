"""Fixtures for the generated-app tests: the generated Zapier app folder and a live connector."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from connector.manifests.files import write_tree
from connector.manifests.zapier import zapier_files
from tests.live_connector import LiveConnector, live_connector


@pytest.fixture(scope="session")
def zapier_app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Zapier app exactly as `flask manifest zapier` writes it."""
    outdir = tmp_path_factory.mktemp("zapier-app")
    write_tree(outdir, zapier_files())
    return outdir


@pytest.fixture
def live(env) -> Iterator[LiveConnector]:
    """REST-hook targets on 127.0.0.1 allowed (the tests' receivers are local)."""
    with live_connector({**env, "HOOKS_ALLOW_PRIVATE_TARGETS": "true"}) as connector:
        yield connector
