"""Shared fixtures: a connector app on a throwaway SQLite database, Halo mocked with `responses`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import responses
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from connector.services import Services, services

HALO = "https://halo.test/api/sdk"
API_KEY = "test-key-123456"
OTHER_TENANT_KEY = "other-key-123456"


def base_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """Settings for a test app: its own database and queue files, no embedded worker."""
    env = {
        "HALO_API_URL": HALO,
        "HALO_API_KEY": "ab_live_testkey",
        "CONNECTOR_API_KEYS": f"{API_KEY},other:{OTHER_TENANT_KEY}",
        "DATABASE_URL": f"sqlite:///{tmp_path}/connector.db",
        "WORKER_MODE": "external",
        "HALO_MAX_RETRIES": "0",
        "SANDBOX_ENABLED": "false",
        "LOG_LEVEL": "DEBUG",
    }
    env.update(overrides)
    return env


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return base_env(tmp_path)


@pytest.fixture
def app(env: dict[str, str]) -> Iterator[Flask]:
    application = create_app(env)
    yield application
    application.extensions["halo_connector"].close()


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
