"""The fixtures harness: replays sample Zap bundles, Make calls, webhooks and emails and checks the
exact Halo calls and answers they produce (``flask harness replay``, ``fixtures/README.md``)."""

from __future__ import annotations

from connector.harness.fixtures import FIXTURES_DIR, Case, FixtureError, load_cases
from connector.harness.samples import happy_path_sample

__all__ = ["FIXTURES_DIR", "Case", "FixtureError", "happy_path_sample", "load_cases"]
