"""Liveness and readiness for load balancers and orchestrators."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from connector.services import services

bp = Blueprint("health", __name__)


@bp.get("/health")
def health() -> Response:
    """Alive: the process answers. Never touches the database."""
    return jsonify({"status": "ok"})


@bp.get("/ready")
def ready() -> tuple[Response, int]:
    """Ready: the database answers, so webhooks can be stored and acknowledged."""
    try:
        services().store.ping()
    except Exception:
        return jsonify({"status": "unavailable", "database": "unreachable"}), 503
    return jsonify({"status": "ready", "database": "ok"}), 200
