"""One JSON error shape for every entry point, whatever raised it.

``{"code": "...", "message": "...", "errors": {field: [messages]}}`` with the real status code
(and ``Retry-After`` where it applies), so Zapier, Make and curl users all read the same thing.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from connector.errors import ConnectorError, PayloadTooLarge, ServiceUnavailable

log = logging.getLogger("connector.web")

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


def error_response(error: ConnectorError) -> Response:
    response = jsonify(error.to_dict())
    response.status_code = error.status
    response.headers.update(error.headers())
    return response


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ConnectorError)
    def _connector_error(error: ConnectorError) -> Response:
        if error.status >= 500:
            log.warning("%s %s: %s", error.status, error.code, error.message)
        return error_response(error)

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(_error: RequestEntityTooLarge) -> Response:
        limit = app.config.get("MAX_CONTENT_LENGTH")
        return error_response(PayloadTooLarge(
            f"The request body is larger than {limit} bytes (MAX_BODY_BYTES)."))

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response:
        status = error.code or 500
        response = jsonify({"code": _HTTP_CODES.get(status, "http_error"),
                            "message": error.description or error.name})
        response.status_code = status
        allowed = getattr(error, "valid_methods", None)
        if allowed:
            response.headers["Allow"] = ", ".join(allowed)
        return response

    @app.errorhandler(DBAPIError)
    def _database_down(error: DBAPIError) -> Response:
        # Senders retry a 503 (Typeform for 10 h) but may disable a hook that answers 500.
        log.error("database error: %s", type(error.orig).__name__ if error.orig else error)
        return error_response(ServiceUnavailable(retry_after=30))

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        log.exception("unhandled error")
        return error_response(ConnectorError())
