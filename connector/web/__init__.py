"""HTTP routes: health, the Zapier/Make API, webhooks, inbound email; one error shape for all."""

from __future__ import annotations

from flask import Flask

from connector.web import api, health, hooks, inbound_email, webhooks
from connector.web.errors import register_error_handlers


def register_web(app: Flask) -> None:
    register_error_handlers(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(hooks.bp)
    app.register_blueprint(webhooks.bp)
    app.register_blueprint(inbound_email.bp)
