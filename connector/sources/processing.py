"""The pure entry points the HTTP and replay layers call: authenticate, then read events.

``process()`` is the ack path for ``POST /hooks/<route>[/<secret>]``: find the route (404 when
unknown), require its secret (503 naming the variable when unset), verify the request (401),
decode the body (400 with the parse error), then name each event, ignore pings and unhandled
types, and build one ``TicketRequest`` per accepted event. ``interpret()`` is the same without
authentication, for replaying a stored delivery after a mapping fix (secrets may have rotated).
Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from connector.errors import Unauthorized
from connector.sources.base import Delivery, Source, bounded_event_id
from connector.sources.building import ATTENTION_KEY
from connector.sources.routes import Route, Routes
from connector.sources.signatures import Secrets, SenderNotConfigured
from connector.ticket import TicketRequest

#: Request headers never stored with a delivery: credentials and signatures.
_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-api-key", "api-key"})
_SECRET_WORDS = ("signature", "secret", "token", "password", "auth")


@dataclass(frozen=True)
class Accepted:
    """An event that becomes a ticket. ``attention`` says why a person must look at it."""

    event_id: str
    event_type: str
    #: None only when ``process(..., build_tickets=False)`` left building to the worker.
    ticket_request: TicketRequest | None
    form_id: str | None = None
    #: Set when the customer could not be identified: record the submission as needs-attention.
    attention: str | None = None


@dataclass(frozen=True)
class Ignored:
    """An event (ping, unhandled type, ignored form) answered 2xx without a ticket."""

    reason: str
    event_id: str | None = None
    event_type: str | None = None


@dataclass(frozen=True)
class Processed:
    """The outcome of one delivery: one item per event (several only for HubSpot/array batches)."""

    route: str
    sender: str
    tenant: str | None
    items: tuple[Accepted | Ignored, ...]
    #: Headers the response must carry (Formspree's REST-hook handshake).
    response_headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def accepted(self) -> list[Accepted]:
        return [item for item in self.items if isinstance(item, Accepted)]

    @property
    def ignored(self) -> list[Ignored]:
        return [item for item in self.items if isinstance(item, Ignored)]

    @property
    def status(self) -> str:
        """``"accepted"`` when at least one event makes a ticket, else ``"ignored"``."""
        return "accepted" if self.accepted else "ignored"

    @property
    def reason(self) -> str | None:
        """Why nothing was accepted (for the 2xx "ignored" answer)."""
        if self.accepted:
            return None
        return "; ".join(dict.fromkeys(item.reason for item in self.ignored)) or None


def _source(route: Route) -> Source:
    from connector.sources import SOURCES

    return SOURCES[route.sender]


def route_secrets(route: Route, settings: Any) -> Secrets:
    """The route's secret (and ``<VAR>_PREVIOUS`` during a rotation), or a 503 naming the variable."""
    variable = route.secret_variable
    values = tuple(v for v in (settings.get(variable), settings.get(f"{variable}_PREVIOUS")) if v)
    if not values:
        source = _source(route)
        where = f"{source.label} webhooks" if route.name == route.sender else \
            f"webhooks on /hooks/{route.name} ({source.label})"
        raise SenderNotConfigured(f"Set {variable} to accept {where}.")
    return Secrets(variable, values)


def authenticate(route: Route, delivery: Delivery, *, settings: Any, now: float) -> None:
    """Verify ``delivery`` against the route's secret; raise Unauthorized or SenderNotConfigured."""
    source = _source(route)
    secrets = route_secrets(route, settings)
    authenticator = next((a for a in source.auth if a.applies(delivery)), None)
    if authenticator is None:
        raise Unauthorized(f"Missing {source.auth_description}.")
    try:
        authenticator.verify(delivery, secrets, now)
    except Unauthorized as exc:
        raise Unauthorized(f"{exc.message} (checked with {secrets.variable})") from None


def process(route_name: str, *, headers: Mapping[str, str], raw: bytes, path_secret: str | None,
            settings: Any, routes: Routes, now: float, method: str = "POST",
            url: str | Callable[[], str] = "", build_tickets: bool = True) -> Processed:
    """Authenticate one delivery to ``/hooks/<route_name>`` and read its events.

    ``build_tickets=False`` stops after naming and screening the events (ids, types, ignores),
    for an ack path that leaves ticket building to the worker (``interpret()`` on the stored body).

    :raises NotFound: no sender or route has that name.
    :raises SenderNotConfigured: (503) the route's secret variable is not set.
    :raises Unauthorized: missing, malformed or wrong signature or secret, or a stale timestamp.
    :raises BadRequest: the body cannot be decoded (the message carries the parse error).
    """
    route = routes.get(route_name)
    delivery = Delivery.build(headers, raw, method=method, url=url, path_secret=path_secret)
    authenticate(route, delivery, settings=settings, now=now)
    return read_delivery(route, delivery, build_tickets=build_tickets)


def interpret(route_name: str, *, headers: Mapping[str, str], raw: bytes, routes: Routes,
              method: str = "POST", url: str = "") -> Processed:
    """Read a stored delivery again WITHOUT verifying it (replay after a mapping fix)."""
    route = routes.get(route_name)
    return read_delivery(route, Delivery.build(headers, raw, method=method, url=url))


def read_delivery(route: Route, delivery: Delivery, *, build_tickets: bool = True) -> Processed:
    source = _source(route)
    if source.handshake is not None and (answer := source.handshake(delivery)):
        reason = f"{source.label} subscription handshake."
        return Processed(route.name, source.name, route.tenant, (Ignored(reason, event_type="handshake"),),
                         response_headers=answer)
    payload = source.parse(delivery)
    events = source.split(payload, delivery)
    items: list[Accepted | Ignored] = []
    for index, item in enumerate(events):
        event_id = bounded_event_id(source.event_id(item, delivery))
        if event_id is None:
            event_id = delivery.body_hash + (f"#{index}" if len(events) > 1 else "")
        event_type = str(source.event_type(item, delivery))[:200]
        form_id = bounded_event_id(source.form_id(item, delivery))
        options = route.options_for(form_id)
        reason = source.ignore_reason(item, delivery, event_type, form_id, options)
        if reason:
            items.append(Ignored(reason, event_id, event_type))
            continue
        if not build_tickets:
            items.append(Accepted(event_id, event_type, None, form_id))
            continue
        ticket = source.normalize(item, delivery, route, options, event_id=event_id,
                                  event_type=event_type, form_id=form_id)
        attention = None if ticket.customer.identified else ticket.provenance.get(ATTENTION_KEY)
        items.append(Accepted(event_id, event_type, ticket, form_id, attention))
    return Processed(route.name, source.name, route.tenant, tuple(items))


def headers_for_storage(headers: Mapping[str, str]) -> dict[str, str]:
    """Headers worth keeping with a delivery (for replay), minus credentials and signatures.

    Names are lower-cased. Event names and delivery ids (``X-GitHub-Event``, ``webhook-id``)
    stay, since reading the event again needs them.
    """
    kept: dict[str, str] = {}
    for name, value in headers.items():
        lower = str(name).lower()
        if lower in _SECRET_HEADERS or any(word in lower for word in _SECRET_WORDS):
            continue
        kept[lower] = str(value)
    return kept
