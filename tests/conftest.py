"""Shared fixtures: a connector app on a throwaway SQLite database, Halo mocked with `responses`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import responses
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from connector.services import Services, services
from tests import backends

HALO = "https://halo.test/api/sdk"
API_KEY = "test-key-123456"
OTHER_TENANT_KEY = "other-key-123456"


def base_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """Settings for a test app: its own database and queue (on the backend under test), Halo at
    HALO (stub it with `responses`), no embedded worker unless asked for."""
    env = {
        "HALO_API_URL": HALO,
        "HALO_API_KEY": "ab_live_testkey",
        "CONNECTOR_API_KEYS": f"{API_KEY},other:{OTHER_TENANT_KEY}",
        "DATABASE_URL": backends.database_url(tmp_path),
        "SANDBOX_DATABASE_URL": f"sqlite:///{tmp_path}/sandbox.db",
        "WORKER_MODE": "external",
        "HALO_MAX_RETRIES": "0",
        "SANDBOX_ENABLED": "false",
        "LOG_LEVEL": "DEBUG",
        **backends.queue_env(),
    }
    env.update(overrides)
    return env


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    backends.cleanup()


def pytest_report_header(config: pytest.Config) -> str:
    return f"backend: {backends.BACKEND}"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return base_env(tmp_path)


@pytest.fixture
def make_app() -> Iterator[Callable[..., Flask]]:
    """Build apps that are closed (worker stopped, connections released) after the test."""
    built: list[Flask] = []

    def make(env: dict[str, str], **options: object) -> Flask:
        application = create_app(env, **options)
        built.append(application)
        return application

    yield make
    for application in built:
        application.extensions["halo_connector"].close()


@pytest.fixture
def app(env: dict[str, str], make_app: Callable[..., Flask]) -> Flask:
    return make_app(env)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def svc(app: Flask) -> Iterator[Services]:
    with app.app_context():
        yield services()


@pytest.fixture
def halo() -> Iterator[responses.RequestsMock]:
    """Halo stubbed with `responses`; every registered stub must be called."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def auth(key: str = API_KEY) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}
