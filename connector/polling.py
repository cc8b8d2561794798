"""Polling triggers: the query parameters every trigger accepts and the one query they share.

* Without a cursor (Zapier): the newest ``limit`` items, newest first. Zapier dedupes on ``id``.
* With ``after_id`` and/or ``since`` (Make's epoch polling, catch-up scripts): the *oldest*
  ``limit`` items past the cursor (by id; by date then id when only ``since`` is given), still
  answered newest first, so a client that moves its
  cursor to the largest id it received never skips anything, however many items arrived
  between two polls. Cursor polls stop at the committed-id fence (``connector.store.fence``).
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from marshmallow import ValidationError, fields, validate
from sqlalchemy import Select

from connector.operations import Context
from connector.schemas import InputSchema
from connector.store.fence import committed_ceiling

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
#: Epoch values above this are taken as milliseconds (Make and JavaScript timestamps).
_MILLIS_THRESHOLD = 100_000_000_000


class Since(fields.Field):
    """An ISO 8601 date or date-time (naive = UTC), or epoch seconds (or milliseconds)."""

    default_error_messages = {"invalid": "Give an ISO 8601 date-time (2024-05-01T10:00:00Z) or "
                                         "epoch seconds."}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        if isinstance(value, bool):
            raise self.make_error("invalid")
        text = str(value).strip()
        try:
            number = float(text)
        except ValueError:
            number = None
        try:
            if number is not None:
                if number > _MILLIS_THRESHOLD:
                    number /= 1000
                return datetime.fromtimestamp(number, tz=timezone.utc)
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except (ValueError, OverflowError, OSError):
            raise self.make_error("invalid") from None
        if isinstance(parsed, date) and not isinstance(parsed, datetime):  # pragma: no cover
            parsed = datetime(parsed.year, parsed.month, parsed.day)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=timezone.utc)
        return parsed.astimezone(timezone.utc)


def _limit(value: int) -> None:
    if value != -1 and not 1 <= value <= MAX_LIMIT:
        raise ValidationError(f"Must be from 1 to {MAX_LIMIT} (or -1 for the most allowed).")


#: Field metadata ``hidden``: a query parameter the generated apps fill themselves
#: (Zapier's ``bundle.meta.limit``, Make's epoch cursor), never shown to the user as a field.
class PollingInput(InputSchema):
    limit = fields.Integer(validate=_limit, metadata={
        "label": "Limit", "hidden": True,
        "help": f"Most items to answer (default {DEFAULT_LIMIT}, at most {MAX_LIMIT}; -1 = most)."})
    since = Since(metadata={
        "label": "Since", "hidden": True,
        "help": "Only items at or after this time (ISO 8601 or epoch seconds); fills oldest first."})
    after_id = fields.Integer(validate=validate.Range(min=0), metadata={
        "label": "After ID", "hidden": True,
        "help": "Only items with a larger id; fills oldest first (Make epoch polling)."})
    page = fields.Integer(validate=validate.Range(min=0, max=1000), metadata={
        "label": "Page", "hidden": True, "help": "Page of a listing without a cursor, from 0."})


def poll(ctx: Context, query: Select, model: Any, date_column: Any,
         params: dict[str, Any]) -> list[Any]:
    """Run a trigger's ``query`` (already scoped to the tenant) with the polling parameters."""
    limit = params.get("limit", DEFAULT_LIMIT)
    if limit == -1:
        limit = MAX_LIMIT
    after_id = params.get("after_id")
    since = params.get("since")
    store = ctx.services.store
    if after_id is None and since is None:
        query = query.order_by(model.id.desc()).limit(limit).offset(limit * params.get("page", 0))
        with store.session() as session:
            return list(session.execute(query).all())
    if since is not None:
        query = query.where(date_column >= since)
    if after_id is not None:
        query = query.where(model.id > after_id).order_by(model.id.asc())
    else:
        # Walks the (tenant, date, id) index from ``since`` instead of every older id.
        query = query.order_by(date_column.asc(), model.id.asc())
    ceiling = committed_ceiling(store.engine, model)
    if ceiling is not None:
        query = query.where(model.id <= ceiling)
    query = query.limit(limit)
    with store.session() as session:
        rows = list(session.execute(query).all())
    rows.reverse()
    return rows
