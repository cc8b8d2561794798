"""Which backend the suite runs on: embedded (SQLite + SqliteHuey) or production (PostgreSQL + Redis).

``TEST_BACKEND=production`` runs every test that builds an app or a store against the PostgreSQL
and Redis servers on 127.0.0.1, each test in its own PostgreSQL schema and queue name, so parallel
runs never see each other's data. ``make test`` runs the suite once per backend.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

BACKEND = os.environ.get("TEST_BACKEND", "embedded")
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
RUN_ID = uuid.uuid4().hex[:8]
_schemas: list[str] = []

if BACKEND not in ("embedded", "production"):
    raise SystemExit(f"TEST_BACKEND must be embedded or production, not {BACKEND!r}")


def production() -> bool:
    return BACKEND == "production"


def database_url(tmp_path: Path) -> str:
    """A fresh, empty database for one test."""
    if not production():
        return f"sqlite:///{tmp_path}/connector.db"
    import psycopg

    schema = f"t_{RUN_ID}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_URL.replace("+psycopg", ""), autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    _schemas.append(schema)
    return f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"


def queue_env() -> dict[str, str]:
    """REDIS_URL and a queue name of this test's own (production backend only)."""
    if not production():
        return {}
    return {"REDIS_URL": REDIS_URL, "QUEUE_NAME": f"test-{RUN_ID}-{uuid.uuid4().hex[:8]}"}


def cleanup() -> None:
    """Drop this run's schemas and queue keys."""
    if not production():
        return
    import psycopg
    import redis

    with psycopg.connect(POSTGRES_URL.replace("+psycopg", ""), autocommit=True) as connection:
        for schema in _schemas:
            connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"*test-{RUN_ID}-*"):
        client.delete(key)
