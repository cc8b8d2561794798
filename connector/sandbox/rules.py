"""Halo's documented request rules, checked the way the sandbox answers them.

Each check raises :class:`ApiError` with Halo's status (400 unless the docs say otherwise) and a
short ``{"error": …}`` body from :mod:`connector.sandbox.shapes`. Where the docs state a limit
but not what happens above it, the sandbox rejects with 400: that choice is marked PROVISIONAL.
Events are the one place the docs say values are "sanitized", so there strings are truncated.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from connector.sandbox import shapes
from connector.ticket import (
    MESSAGE_MAX_CHARS,
    METADATA_MAX_BYTES,
    PRIORITIES,
    SOURCE_MAX_CHARS,
    SUBJECT_MAX_CHARS,
    USER_TRAITS_MAX_BYTES,
    COMPANY_TRAITS_MAX_BYTES,
    json_size,
)

DEFAULT_SOURCE = "api"
DEFAULT_PRIORITY = "normal"

CHAT_MESSAGE_MAX_CHARS = 10_000
CHAT_HISTORY_MAX_MESSAGES = 50
CHAT_BEHAVIOR_CONTEXT_MAX_CHARS = 5_000
CHAT_CUSTOM_FIELDS_MAX_CHARS = 10_000
CHAT_MODES = ("chat", "voice", "video", "livehelp")

EVENTS_MAX_PER_BATCH = 100
EVENT_TYPE_MAX_CHARS = 100
EVENT_METADATA_MAX_BYTES = 10_000
#: PROVISIONAL: the docs say these are capped but the values are cut off in our copy.
EVENT_SELECTOR_MAX_CHARS = 1_000
EVENT_PAGE_URL_MAX_CHARS = 2_048

USERS_UPDATE_MAX_USERS = 1000
SERIES_ACTIONS = ("enroll", "remove")

RESERVED_USER_TRAITS = (
    "id", "external_id", "org_id", "company_id", "created_at", "updated_at",
    "first_seen", "last_seen", "last_contacted_at",
)
RESERVED_COMPANY_TRAITS = (
    "id", "external_id", "org_id", "created_at", "updated_at", "health_score", "team_size",
    "last_contacted_at",
)
#: Trait keys stored in their own columns; every other key goes to ``custom_fields``.
USER_TRAIT_COLUMNS = (
    "name", "email", "signed_up_at", "renewal_date", "renewal_status", "contract_term",
    "payment_terms", "on_contract", "mrr", "arr",
)
COMPANY_TRAIT_COLUMNS = (
    "name", "domain", "industry", "plan", "employee_count", "signed_up_at", "renewal_date",
    "renewal_status", "contract_term", "payment_terms", "on_contract", "mrr", "arr",
)
RENEWAL_STATUSES = (
    "up_for_renewal", "in_progress", "likely_to_renew", "expansion_opportunity", "set_to_cancel",
    "set_to_cancel_trial", "at_risk", "renewed", "lost",
)
TERMS = ("monthly", "quarterly", "annual", "bi_annual")
TRAIT_ENUMS = {"renewal_status": RENEWAL_STATUSES, "contract_term": TERMS, "payment_terms": TERMS}


class ApiError(Exception):
    """An answer other than success: ``status`` and the JSON ``body`` to send."""

    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        super().__init__(body.get("error", ""))
        self.status = status
        self.body = body
        self.headers = headers or {}


def bad_request(message: str) -> ApiError:
    return ApiError(400, shapes.error(message))


# --- primitives ------------------------------------------------------------------------------


def json_object(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise bad_request("Request body must be a JSON object")
    return raw


def present(body: dict[str, Any], name: str) -> bool:
    """A field counts as given unless it is absent, ``null`` or an empty string."""
    return body.get(name) not in (None, "")


def optional_string(body: dict[str, Any], name: str, *, max_chars: int | None = None) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise bad_request(f"{name} must be a string")
    if max_chars is not None and len(value) > max_chars:
        raise bad_request(f"{name} must be at most {max_chars:,} characters (got {len(value):,})")
    return value


def optional_object(body: dict[str, Any], name: str) -> dict[str, Any] | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise bad_request(f"{name} must be an object")
    return value


def optional_bool(body: dict[str, Any], name: str) -> bool | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise bad_request(f"{name} must be a boolean")
    return value


def optional_list(body: dict[str, Any], name: str) -> list[Any] | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, list):
        raise bad_request(f"{name} must be an array")
    return value


def json_chars(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str))


# --- tickets/create --------------------------------------------------------------------------


def ticket_fields(body: dict[str, Any]) -> dict[str, Any]:
    """The validated ``tickets/create`` body with Halo's defaults filled in."""
    if not present(body, "subject"):
        raise bad_request("subject is required")
    if not (present(body, "user_id") or present(body, "email")):
        raise bad_request("At least one of user_id or email is required")
    subject = optional_string(body, "subject", max_chars=SUBJECT_MAX_CHARS)
    message = optional_string(body, "message", max_chars=MESSAGE_MAX_CHARS)
    metadata = optional_object(body, "metadata")
    if metadata is not None and (size := json_size(metadata)) > METADATA_MAX_BYTES:
        raise bad_request(f"metadata must be at most {METADATA_MAX_BYTES:,} bytes (got {size:,})")
    source = optional_string(body, "source", max_chars=SOURCE_MAX_CHARS)
    priority = optional_string(body, "priority")
    if priority is not None and priority not in PRIORITIES:
        raise bad_request('priority must be "priority" or "normal"')
    ai_enabled = optional_bool(body, "ai_enabled")
    return {
        "user_id": optional_string(body, "user_id") or None,
        "email": optional_string(body, "email") or None,
        "name": optional_string(body, "name") or None,
        "subject": subject,
        "message": message if message else subject,
        "metadata": metadata or {},
        "source": source if source else DEFAULT_SOURCE,
        "priority": priority or DEFAULT_PRIORITY,
        "ai_enabled": bool(ai_enabled),
    }


# --- traits ----------------------------------------------------------------------------------


def split_traits(traits: dict[str, Any] | None, kind: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Check ``traits`` and split it into (column values, custom_fields).

    ``kind`` is ``"user"`` or ``"company"``. Reserved keys are all named in one 400.
    """
    if not traits:
        return {}, {}
    reserved = RESERVED_USER_TRAITS if kind == "user" else RESERVED_COMPANY_TRAITS
    offending = [key for key in traits if key in reserved]
    if offending:
        raise ApiError(400, shapes.reserved_keys_error(kind, offending))
    columns_allowed = USER_TRAIT_COLUMNS if kind == "user" else COMPANY_TRAIT_COLUMNS
    columns: dict[str, Any] = {}
    custom: dict[str, Any] = {}
    for key, value in traits.items():
        if key in columns_allowed:
            columns[key] = _trait_value(key, value)
        else:
            custom[key] = value
    return columns, custom


def _trait_value(key: str, value: Any) -> Any:
    if value is None:
        return None
    if key in TRAIT_ENUMS and value not in TRAIT_ENUMS[key]:
        raise bad_request(f"traits.{key} must be one of: {', '.join(TRAIT_ENUMS[key])}")
    if key == "on_contract" and not isinstance(value, bool):
        raise bad_request("traits.on_contract must be a boolean")
    if key in ("name", "email") and not isinstance(value, str):
        raise bad_request(f"traits.{key} must be a string")
    if key == "signed_up_at":
        return shapes.timestamp(_iso8601(key, value))
    if key == "renewal_date":
        _iso8601(key, value)
    return value


def _iso8601(key: str, value: Any) -> datetime:
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    raise bad_request(f"traits.{key} must be an ISO 8601 date")


def check_traits_size(traits: dict[str, Any] | None, context: dict[str, Any] | None, limit: int) -> None:
    """PROVISIONAL 400: traits + context measured as the sum of their compact UTF-8 JSON sizes."""
    size = (json_size(traits) if traits else 0) + (json_size(context) if context else 0)
    if size > limit:
        raise bad_request(f"traits and context must be at most {limit:,} bytes together (got {size:,})")


def user_identify_fields(body: dict[str, Any]) -> dict[str, Any]:
    traits = optional_object(body, "traits")
    context = optional_object(body, "context")
    columns, custom = split_traits(traits, "user")
    check_traits_size(traits, context, USER_TRAITS_MAX_BYTES)
    return {
        "columns": columns,
        "custom": custom,
        "context": context or {},
        "session_id": optional_string(body, "session_id") or None,
    }


def company_identify_fields(body: dict[str, Any]) -> dict[str, Any]:
    traits = optional_object(body, "traits")
    context = optional_object(body, "context")
    columns, custom = split_traits(traits, "company")
    check_traits_size(traits, context, COMPANY_TRAITS_MAX_BYTES)
    return {"columns": columns, "custom": custom, "context": context or {}}


def required_user_id(body: dict[str, Any]) -> str:
    if not present(body, "user_id"):
        raise bad_request("user_id is required")
    return optional_string(body, "user_id") or ""


# --- users/update ----------------------------------------------------------------------------


def update_items(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The batch under ``users`` (INFERRED wrapper key), or a single top-level ``user_id``/``traits``."""
    users = optional_list(body, "users")
    if users is None:
        if not present(body, "user_id"):
            raise bad_request("users is required (or a single user_id)")
        users = [{"user_id": body.get("user_id"), "traits": body.get("traits")}]
    if len(users) > USERS_UPDATE_MAX_USERS:
        raise bad_request(f"At most {USERS_UPDATE_MAX_USERS} users per call (got {len(users):,})")
    items: list[dict[str, Any]] = []
    offending: list[str] = []
    for index, raw in enumerate(users):
        if not isinstance(raw, dict):
            raise bad_request(f"users[{index}] must be an object")
        if not present(raw, "user_id") or not isinstance(raw["user_id"], str):
            raise bad_request(f"users[{index}].user_id is required")
        traits = optional_object(raw, "traits")
        offending += [k for k in (traits or {}) if k in RESERVED_USER_TRAITS and k not in offending]
        items.append({"user_id": raw["user_id"], "traits": traits})
    if offending:
        raise ApiError(400, shapes.reserved_keys_error("user", offending))
    for item in items:
        item["columns"], item["custom"] = split_traits(item.pop("traits"), "user")
    return items


# --- chat ------------------------------------------------------------------------------------


def chat_fields(body: dict[str, Any]) -> dict[str, Any]:
    if not present(body, "message"):
        raise bad_request("message is required")
    optional_string(body, "message", max_chars=CHAT_MESSAGE_MAX_CHARS)
    mode = optional_string(body, "mode") or "chat"
    if mode not in CHAT_MODES:
        raise bad_request("mode must be one of: " + ", ".join(CHAT_MODES))
    history = optional_list(body, "conversation_history") or []
    if len(history) > CHAT_HISTORY_MAX_MESSAGES:
        raise bad_request(
            f"conversation_history must have at most {CHAT_HISTORY_MAX_MESSAGES} messages (got {len(history)})"
        )
    if not all(isinstance(item, dict) for item in history):
        raise bad_request("conversation_history items must be objects")
    # The field's label is stripped in our copy of the docs; ``behavior_context`` is INFERRED.
    optional_string(body, "behavior_context", max_chars=CHAT_BEHAVIOR_CONTEXT_MAX_CHARS)
    custom_fields = optional_object(body, "custom_fields")
    if custom_fields is not None and (chars := json_chars(custom_fields)) > CHAT_CUSTOM_FIELDS_MAX_CHARS:
        raise bad_request(
            f"custom_fields must be at most {CHAT_CUSTOM_FIELDS_MAX_CHARS:,} characters (got {chars:,})"
        )
    images = optional_list(body, "images") or []
    if not all(isinstance(item, str) for item in images):
        raise bad_request("images must be an array of strings")
    optional_object(body, "context")
    for name in ("user_id", "session_id", "company_id", "agent_id"):
        optional_string(body, name)
    return {"mode": mode, "session_id": body.get("session_id") or None}


# --- events ----------------------------------------------------------------------------------


def event_items(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Validated events; string fields are truncated ("sanitized"), not rejected."""
    events = body.get("events")
    if events is None:
        raise bad_request("events is required")
    if not isinstance(events, list):
        raise bad_request("events must be an array")
    if len(events) > EVENTS_MAX_PER_BATCH:
        raise bad_request(f"At most {EVENTS_MAX_PER_BATCH} events per batch (got {len(events)})")
    items = []
    for index, event in enumerate(events):
        if not isinstance(event, dict):
            raise bad_request(f"events[{index}] must be an object")
        if not present(event, "event_type"):
            raise bad_request(f"events[{index}].event_type is required")
        event_type = optional_string(event, "event_type") or ""
        selector = optional_string(event, "element_selector")
        page_url = optional_string(event, "page_url")
        metadata = optional_object(event, "metadata")
        if metadata is not None and (size := json_size(metadata)) > EVENT_METADATA_MAX_BYTES:
            raise bad_request(
                f"events[{index}].metadata must be at most {EVENT_METADATA_MAX_BYTES:,} bytes (got {size:,})"
            )
        items.append({
            "event_type": event_type[:EVENT_TYPE_MAX_CHARS],
            "element_selector": selector[:EVENT_SELECTOR_MAX_CHARS] if selector else None,
            "page_url": page_url[:EVENT_PAGE_URL_MAX_CHARS] if page_url else None,
            "metadata": metadata or {},
        })
    return items


# --- series ----------------------------------------------------------------------------------


def series_fields(body: dict[str, Any]) -> dict[str, str]:
    """Errors verbatim from the series page."""
    names = ("action", "user_id", "series_id")
    if not all(present(body, name) and isinstance(body[name], str) for name in names):
        raise bad_request("action, user_id, and series_id are required")
    if body["action"] not in SERIES_ACTIONS:
        raise bad_request('action must be "enroll" or "remove"')
    return {name: body[name] for name in names}
