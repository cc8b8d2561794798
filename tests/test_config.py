"""Settings: defaults, validation that names the variable, sandbox mode, generated docs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from connector.config import (
    PROJECT_ROOT,
    REAL_HALO_URL,
    SANDBOX_CONNECTOR_KEY,
    VARIABLES,
    env_example,
    load_settings,
)
from connector.errors import ConfigError


def test_no_key_means_sandbox_with_the_built_in_url_and_a_sandbox_caller_key():
    settings = load_settings({})
    assert settings.uses_sandbox and settings.sandbox_enabled
    assert settings.halo_api_url == "http://127.0.0.1:5000/sandbox/api/sdk"
    assert settings.api_keys == {SANDBOX_CONNECTOR_KEY: "default"}
    assert settings.database_url == f"sqlite:///{PROJECT_ROOT / 'var' / 'connector.db'}"
    assert settings.port == 5000 and settings.redis_url is None


def test_a_key_means_the_real_halo_and_no_sandbox():
    settings = load_settings({"HALO_API_KEY": "ab_live_x", "CONNECTOR_API_KEYS": "k1234567,acme:k7654321"})
    assert not settings.uses_sandbox and not settings.sandbox_enabled
    assert settings.halo_api_url == REAL_HALO_URL
    assert settings.api_keys == {"k1234567": "default", "k7654321": "acme"}


@pytest.mark.parametrize("env, variable, expected", [
    ({"PORT": "http"}, "PORT", "whole number from 1 to 65535"),
    ({"PORT": "70000"}, "PORT", "whole number"),
    ({"HALO_API_URL": "ftp://x"}, "HALO_API_URL", "http:// or https:// URL"),
    ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL", "sqlite:/// or postgresql://"),
    ({"REDIS_URL": "localhost:6379"}, "REDIS_URL", "redis://"),
    ({"HALO_API_KEY": "ha_secret_abc", "CONNECTOR_API_KEYS": "k1234567"}, "HALO_API_KEY", "identity secret"),
    ({"HALO_IDENTITY_SECRET": "ab_live_x"}, "HALO_IDENTITY_SECRET", "widget key"),
    ({"CONNECTOR_API_KEYS": "short"}, "CONNECTOR_API_KEYS", "8+"),
    ({"WORKER_MODE": "celery"}, "WORKER_MODE", "embedded, external"),
    ({"SANDBOX_ENABLED": "maybe"}, "SANDBOX_ENABLED", "true or false"),
    ({"HALO_API_KEY": "ab_live_x"}, "CONNECTOR_API_KEYS", "must be set when HALO_API_KEY"),
    ({"HALO_API_KEY": "ab_live_x", "CONNECTOR_API_KEYS": "dev-key-change-me"}, "CONNECTOR_API_KEYS",
     "placeholder"),
])
def test_a_bad_value_is_refused_naming_the_variable_and_what_is_expected(env, variable, expected):
    with pytest.raises(ConfigError) as caught:
        load_settings(env)
    assert variable in caught.value.message
    assert expected in caught.value.message


def test_every_problem_is_named_in_one_message():
    with pytest.raises(ConfigError) as caught:
        load_settings({"PORT": "x", "LOG_LEVEL": "LOUD"})
    assert "PORT" in caught.value.message and "LOG_LEVEL" in caught.value.message


def test_postgres_urls_use_the_psycopg3_driver_and_relative_sqlite_paths_the_project():
    assert load_settings({"DATABASE_URL": "postgresql://u@h/db"}).database_url == "postgresql+psycopg://u@h/db"
    assert load_settings({"DATABASE_URL": "sqlite:///var/x.db"}).database_url == \
        f"sqlite:///{PROJECT_ROOT / 'var' / 'x.db'}"


def test_sender_secrets_follow_the_naming_convention():
    settings = load_settings({"TYPEFORM_SECRET": "abc", "GOOGLE_FORMS_SECRET": "def"})
    assert settings.sender_secret("typeform") == "abc"
    assert settings.sender_secret("google_forms") == "def"
    assert settings.sender_secret("tally") is None


def test_env_example_is_generated_from_the_declaration_and_kept_in_sync():
    committed = (PROJECT_ROOT / ".env.example").read_text()
    assert committed == env_example(), "run `flask --app app config example --write`"
    for var in VARIABLES:
        assert var.name in committed


def test_the_readme_documents_every_variable():
    readme = (PROJECT_ROOT / "README.md").read_text()
    missing = [var.name for var in VARIABLES if f"`{var.name}`" not in readme]
    assert not missing, f"README lacks {missing}: paste `flask --app app config docs`"


def test_python_app_py_refuses_to_start_with_one_message_naming_the_variable(tmp_path: Path):
    env = {"PATH": "/usr/bin:/bin", "PORT": "not-a-port", "HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, str(PROJECT_ROOT / "app.py")], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "PORT must be a whole number" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_readme_sender_table_is_generated_from_the_adapters():
    from connector.sources import sources_reference

    readme = (PROJECT_ROOT / "README.md").read_text()
    assert sources_reference().strip() in readme, "run `make docs`"
