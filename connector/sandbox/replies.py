"""JSON answers and the CORS header every sandbox answer carries."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from connector.sandbox.rules import ApiError


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    response = jsonify(body)
    response.status_code = status
    response.headers.update(headers or {})
    return response


def api_error_response(error: ApiError) -> Response:
    return json_response(error.status, error.body, error.headers)


def allow_any_origin(response: Response) -> Response:
    """Halo answers every endpoint with ``Access-Control-Allow-Origin: *``."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
