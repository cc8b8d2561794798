"""Logging set-up that never writes secrets: path secrets and keys are masked before output."""

from __future__ import annotations

import logging
import re

_SECRET_PATH = re.compile(r"(/hooks/[A-Za-z0-9_-]+/)[^/\s?\"']+")
_SECRET_QUERY = re.compile(r"((?:key|token|secret|signature|api_key)=)[^&\s\"']+", re.IGNORECASE)
_BEARER = re.compile(r"(Bearer\s+)[^\s\"']+", re.IGNORECASE)


def redact(text: str) -> str:
    text = _SECRET_PATH.sub(r"\1***", text)
    text = _SECRET_QUERY.sub(r"\1***", text)
    return _BEARER.sub(r"\1***", text)


class RedactingFilter(logging.Filter):
    """Masks secrets in access-log lines (a sender's secret may sit in the URL path)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


def configure_logging(level: str) -> None:
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
        if root.level > logging.INFO or root.level == logging.NOTSET:
            root.setLevel(logging.INFO)
    logging.getLogger("connector").setLevel(level)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # Huey logs every task it runs; worth it only when debugging.
    logging.getLogger("huey").setLevel(logging.DEBUG if level == "DEBUG" else logging.WARNING)
    # Filters on handlers see records from every child logger; filters on the access loggers
    # catch servers (Werkzeug, gunicorn) that bring their own handlers.
    targets = list(root.handlers) + [logging.getLogger(n) for n in ("werkzeug", "gunicorn.access")]
    for target in targets:
        if not any(isinstance(f, RedactingFilter) for f in target.filters):
            target.addFilter(RedactingFilter())
