"""Fault injection: make the sandbox slow, throttled, broken or silent on purpose.

Grammar (``SANDBOX_FAULTS``, ``PUT /sandbox/control/faults {"spec": …}`` and the per-request
``X-Sandbox-Fault`` header all use it)::

    spec    = fault *( (";" | ",") fault )
    fault   = head *( ":" item )
    head    = "latency" ["=" SECONDS]     sleep, then answer normally     (default 1 s)
            | "hang"    ["=" SECONDS]     sleep past the client's timeout, then answer 504 having
                                          stored nothing (default 30 s); with "after": store, sleep,
                                          then answer normally (the "outcome unknown" case)
            | STATUS                      answer with that 4xx/5xx status, e.g. 429, 500, 503
            | "drop"                      close the connection without any HTTP answer
    item    = COUNT                       only the next COUNT matching requests (default: every one)
            | "times=" COUNT              the same
            | "path=" GLOB                only API paths matching GLOB, e.g. tickets/create, users/*
            | "after"                     latency/hang only: sleep AFTER the request was handled and stored
            | "retry_after=" SECONDS      Retry-After: SECONDS  (429 defaults to 1)
            | "retry_date=" SECONDS       Retry-After as an HTTP date SECONDS from the moment of answering

Examples: ``latency=0.2`` · ``503:3`` · ``429:2:retry_after=5`` · ``drop:1:path=tickets/create`` ·
``hang=5:after:path=tickets/create`` (the ticket is created, the client times out: outcome unknown).

Faults apply only to ``/sandbox/api/sdk/…`` and run before anything else (authentication,
validation, storage), so a status, drop or plain hang fault never creates data; a plain latency
fault delays and then handles the request, and an ``after`` delay lets it be stored first. When several configured faults match a request, every matching delay
applies and the first matching status/drop fault decides the answer; each consumes one of its
COUNT. An ``X-Sandbox-Fault`` header replaces the configured faults for that one request (its
COUNT and path are ignored). The JSON form of ``PUT /sandbox/control/faults`` also takes a list of
objects, e.g. ``{"faults": [{"fault": "429", "retry_after": "Wed, 21 Oct 2026 07:28:00 GMT"}]}``,
where ``retry_after`` may be any literal header value.
"""

from __future__ import annotations

import fnmatch
import math
import re
import threading
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

DEFAULT_LATENCY_SECONDS = 1.0
DEFAULT_HANG_SECONDS = 30.0
DEFAULT_RETRY_AFTER = "1"
MAX_DELAY_SECONDS = 3600.0


class FaultSpecError(ValueError):
    """A fault spec that does not follow the grammar; the message says what is wrong."""


@dataclass
class Fault:
    """One configured fault. ``kind`` is ``latency``, ``hang``, ``status`` or ``drop``."""

    kind: str
    seconds: float = 0.0
    status: int = 0
    retry_after: str | None = None
    retry_date: float | None = None
    #: Requests left to affect; ``None`` means every matching request.
    times: int | None = None
    path: str | None = None
    after: bool = False

    @property
    def is_delay(self) -> bool:
        """A delay that lets the request be handled; otherwise the fault decides the answer."""
        return self.kind == "latency" or (self.kind == "hang" and self.after)

    def matches(self, api_path: str) -> bool:
        return self.path is None or fnmatch.fnmatchcase(api_path, self.path.strip("/"))

    def retry_after_header(self, now: datetime | None = None) -> str | None:
        if self.retry_date is not None:
            moment = (now or datetime.now(timezone.utc)) + timedelta(seconds=math.ceil(self.retry_date))
            return format_datetime(moment.replace(microsecond=0), usegmt=True)
        if self.retry_after is not None:
            return self.retry_after
        return DEFAULT_RETRY_AFTER if self.status == 429 else None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"fault": str(self.status) if self.kind == "status" else self.kind}
        if self.kind in ("latency", "hang"):
            data["seconds"] = self.seconds
            data["after"] = self.after
        for name in ("retry_after", "retry_date", "times", "path"):
            if getattr(self, name) is not None:
                data[name] = getattr(self, name)
        return data


@dataclass
class FaultPlan:
    """What to do to one request: delays before and after handling, and maybe a final answer."""

    before_seconds: float = 0.0
    after_seconds: float = 0.0
    terminal: Fault | None = None
    applied: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.before_seconds or self.after_seconds or self.terminal)


# --- parsing ---------------------------------------------------------------------------------


def parse_spec(spec: str | None) -> list[Fault]:
    """Parse the text grammar above into faults (an empty or blank spec means none)."""
    if not spec or not spec.strip():
        return []
    return [_parse_one(part.strip()) for part in re.split(r"[;,]", spec) if part.strip()]


def _parse_one(text: str) -> Fault:
    head, *items = [piece.strip() for piece in text.split(":")]
    name, _, value = head.partition("=")
    name = name.strip().lower()
    fault = _fault_for_head(name, value.strip(), text)
    for item in items:
        key, sep, val = item.partition("=")
        key = key.strip().lower()
        if not sep and key.isdigit():
            key, val = "times", key
        elif not sep and key in ("after", "before"):
            key, val = "after", "true" if key == "after" else "false"
        elif not sep:
            raise FaultSpecError(f"fault {text!r}: unknown item {item!r}")
        _set_option(fault, key, val.strip(), text)
    return _checked(fault, text)


def _fault_for_head(name: str, value: str, text: str) -> Fault:
    if name in ("latency", "hang"):
        default = DEFAULT_LATENCY_SECONDS if name == "latency" else DEFAULT_HANG_SECONDS
        return Fault(kind=name, seconds=_seconds(value, text) if value else default)
    if value:
        raise FaultSpecError(f"fault {text!r}: only latency and hang take a value (latency=SECONDS)")
    if name == "drop":
        return Fault(kind="drop")
    if name.isdigit():
        return Fault(kind="status", status=int(name))
    raise FaultSpecError(f"fault {text!r}: expected latency, hang, drop or an HTTP status such as 429 or 503")


def _set_option(fault: Fault, key: str, value: Any, text: str) -> None:
    if key == "times":
        try:
            fault.times = int(value)
        except (TypeError, ValueError):
            raise FaultSpecError(f"fault {text!r}: times must be a whole number") from None
    elif key == "path":
        fault.path = str(value).strip("/") or None
    elif key == "after":
        fault.after = value is True or str(value).lower() in ("1", "true", "yes")
    elif key == "retry_after":
        fault.retry_after = _retry_after(value, text)
    elif key == "retry_date":
        fault.retry_date = _seconds(value, text)
    elif key == "seconds":
        fault.seconds = _seconds(value, text)
    else:
        raise FaultSpecError(f"fault {text!r}: unknown option {key!r}")


def _retry_after(value: Any, text: str) -> str:
    if isinstance(value, bool) or value is None:
        raise FaultSpecError(f"fault {text!r}: retry_after must be seconds or an HTTP date")
    if isinstance(value, (int, float)):
        return str(max(0, math.ceil(value)))
    return str(value)


def _seconds(value: Any, text: str) -> float:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise FaultSpecError(f"fault {text!r}: {value!r} is not a number of seconds") from None
    if not 0 <= seconds <= MAX_DELAY_SECONDS:
        raise FaultSpecError(f"fault {text!r}: seconds must be from 0 to {MAX_DELAY_SECONDS:g}")
    return seconds


def _checked(fault: Fault, text: str) -> Fault:
    if fault.kind == "status" and not 400 <= fault.status <= 599:
        raise FaultSpecError(f"fault {text!r}: status must be 400-599")
    if fault.after and fault.kind not in ("latency", "hang"):
        raise FaultSpecError(f"fault {text!r}: only latency and hang can apply after storing")
    if fault.times is not None and fault.times < 1:
        raise FaultSpecError(f"fault {text!r}: times must be at least 1")
    return fault


def parse_json(data: Any) -> list[Fault]:
    """The body of ``PUT /sandbox/control/faults``: ``{"spec": "…"}`` or ``{"faults": [...]}``."""
    if isinstance(data, dict) and "spec" in data:
        if not isinstance(data["spec"], (str, type(None))):
            raise FaultSpecError("spec must be a string")
        return parse_spec(data["spec"])
    entries = data.get("faults") if isinstance(data, dict) else data
    if not isinstance(entries, list):
        raise FaultSpecError('send {"spec": "503:3"} or {"faults": [{"fault": "503", "times": 3}]}')
    faults: list[Fault] = []
    for entry in entries:
        if isinstance(entry, str):
            faults += parse_spec(entry)
            continue
        if not isinstance(entry, dict) or not isinstance(entry.get("fault"), (str, int)):
            raise FaultSpecError('each fault must be a spec string or an object with a "fault" key')
        text = str(entry["fault"])
        fault = _fault_for_head(text.strip().lower(), "", text)
        for key, value in entry.items():
            if key != "fault":
                _set_option(fault, key, value, text)
        faults.append(_checked(fault, text))
    return faults


# --- the live set ----------------------------------------------------------------------------


class FaultBook:
    """The configured faults and their remaining counts, shared by every request thread."""

    def __init__(self, faults: list[Fault] | None = None) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = list(faults or [])

    def replace(self, faults: list[Fault]) -> None:
        with self._lock:
            self._faults = [replace(f) for f in faults]

    def clear(self) -> None:
        self.replace([])

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.to_dict() for f in self._faults]

    def plan(self, api_path: str, header: str | None = None) -> FaultPlan:
        """Pick the faults for one request and consume their counts.

        :raises FaultSpecError: when the ``X-Sandbox-Fault`` header is malformed.
        """
        if header is not None and header.strip():
            return _plan_for(parse_spec(header))
        with self._lock:
            chosen = [f for f in self._faults if f.matches(api_path)]
            terminal = next((f for f in chosen if not f.is_delay), None)
            chosen = [f for f in chosen if f.is_delay or f is terminal]
            for fault in chosen:
                if fault.times is not None:
                    fault.times -= 1
            self._faults = [f for f in self._faults if f.times is None or f.times > 0]
            return _plan_for(chosen)


def _plan_for(faults: list[Fault]) -> FaultPlan:
    plan = FaultPlan()
    for fault in faults:
        if fault.is_delay:
            if fault.after:
                plan.after_seconds += fault.seconds
            else:
                plan.before_seconds += fault.seconds
            plan.applied.append(f"{fault.kind}={fault.seconds:g}{':after' if fault.after else ''}")
        elif plan.terminal is None:
            plan.terminal = fault
            labels = {"drop": "drop", "hang": f"hang={fault.seconds:g}"}
            plan.applied.append(labels.get(fault.kind, str(fault.status)))
    return plan
