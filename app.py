"""Halo Connector: ``create_app()`` for any WSGI server; ``python app.py`` serves it with the
embedded defaults (SQLite, in-process delivery worker, the Halo sandbox when no HALO_API_KEY)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping

from dotenv import load_dotenv
from flask import Flask

from connector.cli import register_cli
from connector.config import ENV_FILE, SANDBOX_CONNECTOR_KEY, Settings, load_settings
from connector.errors import ConfigError
from connector.logs import configure_logging
from connector.services import EXTENSION_KEY, build_services
from connector.web import register_web

log = logging.getLogger("connector")


def create_app(env: Mapping[str, str] | None = None, *, start_worker: bool = False) -> Flask:
    """Build the service.

    :param env: settings to use instead of ``.env`` + the process environment (tests).
    :param start_worker: start the embedded delivery worker now; otherwise, in embedded mode, it
        starts with the first request (so CLI commands never start one).
    """
    settings = _settings(env)
    configure_logging(settings.log_level)
    app = Flask(__name__)
    app.config.update(SETTINGS=settings, MAX_CONTENT_LENGTH=settings.max_body_bytes)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    services = build_services(settings)
    app.extensions[EXTENSION_KEY] = services
    if settings.sandbox_enabled:
        from connector.sandbox import SandboxConfig, init_sandbox

        init_sandbox(app, SandboxConfig.from_settings(settings))
    register_web(app)
    register_cli(app)
    if start_worker and settings.worker_mode == "embedded":
        services.worker.start()
    app.before_request(_first_request_hook(app, settings, announced=start_worker))
    return app


def release_connections(app: Flask) -> None:
    """Before gunicorn forks a worker from a master that built the app (``preload_app``): close
    what building it opened (migrations, the queue's schema), so no worker shares a database or
    queue connection with its parent or siblings. Any other WSGI app is left alone."""
    from connector.sandbox.state import EXTENSION_KEY as SANDBOX_EXTENSION_KEY

    extensions = getattr(app, "extensions", {})
    if EXTENSION_KEY in extensions:
        extensions[EXTENSION_KEY].release_connections()
    sandbox = extensions.get(SANDBOX_EXTENSION_KEY)
    if sandbox is not None:
        sandbox.store.release_connections()


def _first_request_hook(app: Flask, settings: Settings, *, announced: bool):  # type: ignore[no-untyped-def]
    """Say which Halo we talk to and start the embedded worker with the first request, so CLI
    commands (which build the app too) stay quiet and never start a worker."""
    services = app.extensions[EXTENSION_KEY]

    def hook() -> None:
        nonlocal announced
        if not announced:
            announced = True
            _announce(settings)
        if settings.worker_mode == "embedded":
            services.worker.start()

    return hook


def _settings(env: Mapping[str, str] | None) -> Settings:
    if env is not None:
        return load_settings(env)
    load_dotenv(ENV_FILE, override=False)
    try:
        return load_settings()
    except ConfigError as error:
        print(f"Halo Connector cannot start. {error.message}", file=sys.stderr)
        raise SystemExit(2) from None


def _announce(settings: Settings) -> None:
    if settings.uses_sandbox:
        log.warning("No HALO_API_KEY set: tickets go to the built-in Halo SANDBOX at %s, not to Halo.",
                    settings.halo_api_url)
        if settings.sandbox_enabled:
            log.warning("See them at http://127.0.0.1:%d/sandbox/", settings.port)
        if SANDBOX_CONNECTOR_KEY in settings.api_keys:
            log.warning("Zapier/Make callers may use the key %r (set CONNECTOR_API_KEYS to choose "
                        "your own).", SANDBOX_CONNECTOR_KEY)
    else:
        log.info("Talking to Halo at %s", settings.halo_api_url)


def main() -> None:
    """Serve with gunicorn (one process, threads) and the embedded worker."""
    from gunicorn.app.base import BaseApplication

    settings = _settings(None)
    configure_logging(settings.log_level)
    _announce(settings)

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{settings.host}:{settings.port}")
            self.cfg.set("workers", 1)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("threads", 8)
            self.cfg.set("timeout", 60)
            self.cfg.set("accesslog", "-")
            # As in gunicorn.conf.py: a second instance on the host would share its path.
            self.cfg.set("control_socket_disable", True)

        def load(self) -> Flask:
            return create_app(start_worker=settings.worker_mode == "embedded")

    Server().run()


if __name__ == "__main__":
    main()
