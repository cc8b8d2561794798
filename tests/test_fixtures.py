"""Every fixture under fixtures/ replayed offline: the regression suite the harness drives.

One connector per test process (its database on the backend under test), emptied between cases.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from connector.harness import FIXTURES_DIR, load_cases
from connector.harness.fixtures import fixture_files, load_case
from connector.harness.offline import OfflineRunner
from tests import backends

FILES = fixture_files([FIXTURES_DIR])


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OfflineRunner]:
    folder = tmp_path_factory.mktemp("harness")
    env = {**backends.queue_env()}
    if backends.production():
        env["DATABASE_URL"] = backends.database_url(folder)
    # Embedded: the runner's own scratch folder (memory-backed when the machine has one).
    with OfflineRunner(env=env) as replaying:
        yield replaying


def test_the_starter_set_is_large_enough_to_matter():
    assert len(FILES) >= 60
    assert len(load_cases()) == len(FILES)


@pytest.mark.parametrize("path", FILES, ids=lambda path: str(path.relative_to(FIXTURES_DIR)))
def test_fixture(runner: OfflineRunner, path: Path) -> None:
    result = runner.run(load_case(path))
    assert result.passed, "\n".join([result.case.description, *result.problems])
