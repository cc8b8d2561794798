"""Mounting the sandbox in a host app, configuration from Settings, file databases and the CLI."""

from __future__ import annotations

import sqlite3

import pytest
from flask import Flask, jsonify
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert, select
from sqlalchemy.pool import StaticPool

from connector.config import load_settings
from connector.sandbox import SandboxConfig, create_app, init_sandbox
from tests.sandbox.conftest import AUTH, SECRET

TICKET = {"email": "jane@example.com", "subject": "Help"}


def test_it_mounts_beside_a_host_app_with_its_own_engine_and_tables():
    host_meta = MetaData()
    notes = Table("notes", host_meta, Column("id", Integer, primary_key=True), Column("text", String))
    host_engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    host_meta.create_all(host_engine)
    app = Flask("host")

    @app.post("/notes")
    def add_note():
        with host_engine.begin() as conn:
            conn.execute(insert(notes).values(text="hello"))
        return jsonify(ok=True)

    @app.errorhandler(404)
    def host_404(_error):
        return "host 404", 404

    init_sandbox(app, SandboxConfig(database_url="sqlite:///:memory:"))
    client = app.test_client()
    assert client.post("/notes").json == {"ok": True}
    assert client.post("/sandbox/api/sdk/tickets/create", json=TICKET, headers=AUTH).status_code == 200
    assert len(client.get("/sandbox/inspect/tickets").json) == 1
    with host_engine.connect() as conn:
        assert conn.execute(select(notes.c.text)).scalars().all() == ["hello"]
        assert "sandbox_tickets" not in {row[0] for row in conn.exec_driver_sql("SELECT name FROM sqlite_master")}
    assert client.get("/elsewhere").get_data(as_text=True) == "host 404"
    assert client.post("/sandbox/api/sdk/nope", headers=AUTH).json == {"error": "Not found"}


def test_two_apps_keep_separate_sandboxes():
    one, two = create_app(), create_app()
    one.test_client().post("/sandbox/api/sdk/tickets/create", json=TICKET, headers=AUTH)
    assert two.test_client().get("/sandbox/inspect/tickets").json == []


def test_a_file_database_is_created_in_wal_mode_and_survives_a_restart(tmp_path):
    path = tmp_path / "nested" / "sandbox.db"
    config = SandboxConfig(database_url=f"sqlite:///{path}")
    create_app(config).test_client().post("/sandbox/api/sdk/tickets/create", json=TICKET, headers=AUTH)
    assert len(create_app(config).test_client().get("/sandbox/inspect/tickets").json) == 1
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_config_from_settings_in_sandbox_mode_shares_halo_identity_secret(tmp_path):
    settings = load_settings({
        "HALO_IDENTITY_SECRET": SECRET,
        "SANDBOX_DATABASE_URL": f"sqlite:///{tmp_path / 's.db'}",
        "SANDBOX_IDENTITY_VERIFICATION": "true",
        "SANDBOX_FAULTS": "503:1",
    })
    config = SandboxConfig.from_settings(settings)
    assert config.database_url == f"sqlite:///{tmp_path / 's.db'}"
    assert config.identity_secret == SECRET
    assert config.identity_verification is True
    assert config.faults == "503:1"


def test_config_from_settings_prefers_the_sandbox_secret_and_ignores_halos_with_a_real_key():
    sandbox_secret = "ha_secret_" + "b" * 40
    with_key = load_settings({"HALO_API_KEY": "ab_live_real", "CONNECTOR_API_KEYS": "k" * 12,
                              "HALO_IDENTITY_SECRET": SECRET})
    assert SandboxConfig.from_settings(with_key).identity_secret is None
    both = load_settings({"HALO_IDENTITY_SECRET": SECRET, "SANDBOX_IDENTITY_SECRET": sandbox_secret})
    assert SandboxConfig.from_settings(both).identity_secret == sandbox_secret


def test_an_unknown_ticket_shape_is_a_configuration_error():
    from connector.errors import ConfigError

    with pytest.raises(ConfigError):
        SandboxConfig(database_url="sqlite:///:memory:", ticket_shape="flat")


def test_the_command_line_builds_the_configured_sandbox(monkeypatch, tmp_path):
    from connector.sandbox import __main__ as cli

    started = {}

    def fake_run(self, **kwargs):
        started["app"], started["kwargs"] = self, kwargs

    monkeypatch.setattr(Flask, "run", fake_run)
    monkeypatch.setattr(cli, "load_dotenv", lambda: None)
    monkeypatch.delenv("SANDBOX_FAULTS", raising=False)
    monkeypatch.setenv("SANDBOX_IDENTITY_SECRET", SECRET)
    db = tmp_path / "cli.db"
    assert cli.main(["--port", "5999", "--database-url", f"sqlite:///{db}", "--faults", "429:1",
                     "--identity-verification"]) == 0
    assert started["kwargs"] == {"host": "127.0.0.1", "port": 5999, "threaded": True, "use_reloader": False}
    client = started["app"].test_client()
    assert client.post("/sandbox/api/sdk/chat", json={"message": "hi"}, headers=AUTH).status_code == 429
    assert client.post("/sandbox/api/sdk/chat", json={"message": "hi", "user_id": "u1"}, headers=AUTH).status_code == 403
    assert db.exists()


def test_the_command_line_refuses_a_bad_fault_spec(capsys, monkeypatch):
    from connector.sandbox import __main__ as cli

    monkeypatch.setattr(cli, "load_dotenv", lambda: None)
    assert cli.main(["--database-url", "sqlite:///:memory:", "--faults", "nonsense"]) == 2
    assert "SANDBOX_FAULTS" in capsys.readouterr().err
