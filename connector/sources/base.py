"""The declarative shape of a webhook sender, and the values passed between its steps.

A :class:`Source` says how a sender authenticates, how its body is read, how its events are named
and identified, which ones it ignores, and how one event becomes a :class:`Submission` (fields in
form order, the sender's own customer hints, ids and links). Turning a submission into a
``TicketRequest`` is shared (``building.py``), so every sender finds the customer and fits Halo's
limits the same way. Verification is kept apart from reading: a replay re-reads the stored body
without re-verifying it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from connector.errors import BadRequest
from connector.lazy import lazy_property
from connector.sources import bodies

if TYPE_CHECKING:
    from connector.sources.routes import Options, Route
    from connector.sources.signatures import Secrets
    from connector.ticket import TicketRequest

#: Event ids longer than this are replaced by a hash so provenance stays small.
MAX_EVENT_ID_CHARS = 200


@dataclass(frozen=True)
class Delivery:
    """One HTTP request as the sender made it: headers (lower-case names) and the raw body."""

    headers: Mapping[str, str]
    raw: bytes
    method: str = "POST"
    #: The URL the sender called, or a callable that builds it: only senders that sign the URL
    #: (HubSpot) read it, so the ack path does not pay for building it on every request.
    url: str | Callable[[], str] = ""
    path_secret: str | None = None

    @classmethod
    def build(cls, headers: Mapping[str, str], raw: bytes, **kwargs: Any) -> Delivery:
        return cls({str(k).lower(): str(v) for k, v in headers.items()}, bytes(raw), **kwargs)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @lazy_property
    def called_url(self) -> str:
        return self.url() if callable(self.url) else self.url

    @lazy_property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    @lazy_property
    def mime(self) -> str:
        return bodies.media_type(self.content_type)[0]

    @lazy_property
    def json(self) -> Any:
        return bodies.parse_json(self.raw)

    @lazy_property
    def body(self) -> Any:
        """The body decoded by its Content-Type (JSON, form or multipart)."""
        return bodies.parse_any(self.raw, self.content_type)

    @lazy_property
    def body_hash(self) -> str:
        return "sha256:" + hashlib.sha256(self.raw).hexdigest()[:40]


class Authenticator(Protocol):
    """One way a sender proves a request is its own."""

    #: What the sender must send, for "missing ..." messages (e.g. "a Typeform-Signature header").
    describe: str

    def applies(self, delivery: Delivery) -> bool:
        """True when the request carries this kind of credential (so this one decides)."""

    def verify(self, delivery: Delivery, secrets: Secrets, now: float) -> None:
        """Return when the request is authentic; raise ``Unauthorized`` otherwise."""


@dataclass
class Field:
    """One answer or attribute, in the sender's order, with its typed value."""

    key: str
    label: str
    value: Any
    #: text, email, phone, url, number, boolean, date, time, choice, choices, file, payment, name,
    #: address, matrix, hidden, variable, calculated, meta, json
    kind: str = "text"
    #: False for hidden fields, variables and sender metadata: kept in metadata, not in the message.
    shown: bool = True
    #: Other names a route may use for this field (e.g. Typeform's field id beside its ref).
    aliases: tuple[str, ...] = ()


@dataclass
class Candidate:
    """A customer hint the sender itself provides (a reporter's email, an app user id, a login)."""

    rule: str
    email: str | None = None
    name: str | None = None
    #: The customer's id in the customer's own product (Sentry ``user.id``, Intercom ``user_id``).
    user_id: str | None = None
    #: The person's id inside the sending tool (GitHub user id), used prefixed as a last resort.
    account_id: str | None = None
    #: Logins and tool ids looked up in the route's ``logins`` map.
    logins: tuple[str, ...] = ()


@dataclass
class Requested:
    """Values the sender asked for explicitly (the Zapier/Make/JSON contract); routes override them."""

    subject: str | None = None
    message: str | None = None
    priority: str | None = None
    ai_enabled: bool | None = None
    source: str | None = None
    user_id: str | None = None
    traits: dict[str, Any] = field(default_factory=dict)
    company: dict[str, Any] | None = None


@dataclass
class Submission:
    """What one sender event says, before routes and Halo's shape are applied."""

    title: str
    default_subject: str
    fields: list[Field] = field(default_factory=list)
    #: Free text that leads the message (an issue body, a comment, a contract ``message``).
    body: str | None = None
    #: Customer hints from the sender, best first.
    candidates: list[Candidate] = field(default_factory=list)
    #: Sender ids and URLs, recorded in metadata under the sender's name.
    ids: dict[str, Any] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)
    #: Extra names for subject templates (``repo``, ``number``, ``level`` …).
    variables: dict[str, Any] = field(default_factory=dict)
    requested: Requested = field(default_factory=Requested)
    #: Why the customer may be missing, in the sender's terms (shown when unidentified).
    identity_hint: str | None = None
    #: The decoded event, for dotted-path references in routes.
    payload: Any = None


def no_ping(item: Any, delivery: Delivery) -> str | None:
    return None


def no_form(item: Any, delivery: Delivery) -> str | None:
    return None


def single(payload: Any, delivery: Delivery) -> list[Any]:
    return [payload]


def constant(event_type: str) -> Callable[[Any, Delivery], str]:
    def event_type_of(item: Any, delivery: Delivery) -> str:
        return event_type

    return event_type_of


def json_object(delivery: Delivery) -> dict[str, Any]:
    payload = delivery.json
    if not isinstance(payload, dict):
        raise BadRequest("Expected a JSON object.")
    return payload


@dataclass(frozen=True)
class Source:
    """One webhook sender, declared: ``/hooks/<name>`` serves it out of the box."""

    name: str
    label: str
    #: Accepted credentials, first applicable wins; a request with none of them is refused.
    auth: tuple[Authenticator, ...]
    #: Reads one event into a submission (``route options`` give labels and login maps).
    read: Callable[[Any, Delivery, Options], Submission]
    #: The sender's id for one event, or None to fall back to a hash of the raw body.
    event_id: Callable[[Any, Delivery], str | None]
    #: Which id deduplicates events, in words (for the docs and the report).
    event_id_rule: str
    parse: Callable[[Delivery], Any] = json_object
    #: One delivery → events (HubSpot batches, Zapier arrays); most senders send one.
    split: Callable[[Any, Delivery], list[Any]] = single
    event_type: Callable[[Any, Delivery], str] = constant("submission")
    #: Event types handled out of the box; None handles all. Routes may widen or narrow this.
    handles: frozenset[str] | None = None
    #: A reason when the event is a ping/test/handshake that never makes a ticket.
    ping: Callable[[Any, Delivery], str | None] = no_ping
    #: The sender's form (or repository/project) id, for per-form overrides and ignore rules.
    form_id: Callable[[Any, Delivery], str | None] = no_form
    #: Headers to answer with (Formspree's REST-hook handshake echoes ``X-Hook-Secret``).
    handshake: Callable[[Delivery], dict[str, str] | None] | None = None

    @property
    def auth_description(self) -> str:
        return " or ".join(a.describe for a in self.auth)

    def ignore_reason(self, item: Any, delivery: Delivery, event_type: str, form_id: str | None,
                      options: Options) -> str | None:
        """Why this event makes no ticket, or None to accept it."""
        ping = self.ping(item, delivery)
        if ping:
            return ping
        if event_type in options.ignore_events:
            return f"{self.label} event {event_type} is ignored by the route."
        if form_id is not None and form_id in options.ignore_forms:
            return f"{self.label} form {form_id} is ignored by the route."
        if options.events is not None:
            if event_type not in options.events:
                return f"{self.label} event {event_type} is not in the route's events."
        elif self.handles is not None and event_type not in self.handles:
            return (f"{self.label} event {event_type} is not handled "
                    "(list it under events in the routes file to accept it).")
        return None

    def normalize(self, item: Any, delivery: Delivery, route: Route, options: Options, *,
                  event_id: str, event_type: str, form_id: str | None) -> TicketRequest:
        """The ticket for one event; pure, so replays can run it again on the stored body."""
        from connector.sources.building import build_ticket

        submission = self.read(item, delivery, options)
        return build_ticket(self, route, options, submission, event_id=event_id,
                            event_type=event_type, form_id=form_id)


def bounded_event_id(value: Any) -> str | None:
    """A sender id as a short string (long ones hashed), or None when absent."""
    if value is None or isinstance(value, (dict, list, bool)):
        return None
    text = str(value).strip()
    if not text:
        return None
    if len(text) > MAX_EVENT_ID_CHARS:
        return "sha256:" + hashlib.sha256(text.encode()).hexdigest()[:40]
    return text


def dig(data: Any, *path: Any, default: Any = None) -> Any:
    """``data[a][b][c]`` without KeyErrors or TypeErrors on unexpected shapes."""
    for step in path:
        if isinstance(data, dict):
            data = data.get(step)
        elif isinstance(data, list) and isinstance(step, int) and -len(data) <= step < len(data):
            data = data[step]
        else:
            return default
        if data is None:
            return default
    return data


def text_of(value: Any) -> str | None:
    """A string, number or bool as stripped text; None for empty or structured values."""
    if value is None or isinstance(value, (dict, list)):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value).strip()
    return text or None
