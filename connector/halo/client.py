"""The Halo API client: one session, timeouts, retries and one status-to-error mapping.

Every call goes through :meth:`HaloClient._post`, which retries what is safe to retry and turns
anything else into the connector's error hierarchy (:mod:`connector.errors`), so no caller ever
inspects a status code. ``tickets/create`` is not idempotent and Halo offers no idempotency key,
so once such a request may have reached Halo without an answer (read timeout, dropped
connection) the client stops and raises :class:`~connector.errors.HaloOutcomeUnknown` instead of
risking a second ticket. Logs name the call, status, attempt and duration, never keys or bodies.
"""

from __future__ import annotations

import json
import logging
import os
import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import requests
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError

from connector.errors import (
    HaloCredentialsError,
    HaloError,
    HaloForbidden,
    HaloOutcomeUnknown,
    HaloRateLimited,
    HaloUnavailable,
    HaloValidationError,
)
from connector.halo import tokens
from connector.halo.retry import Backoff, parse_retry_after

log = logging.getLogger("connector.halo")

USER_AGENT = "halo-connector/1.0"
#: Statuses that mean "not done, try again": the request was refused before being acted on.
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
USERS_UPDATE_BATCH = 1000
EVENTS_BATCH = 100
ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class TicketCreated:
    """What ``tickets/create`` answered: the ticket id (when Halo gave one) and the raw body."""

    ticket_id: str | None
    body: dict[str, Any] = field(default_factory=dict)


def extract_ticket_id(body: Any) -> str | None:
    """Find the ticket id in Halo's (undocumented) answer: ``id``, ``ticket_id`` or ``ticket.id``."""
    if not isinstance(body, dict):
        return None
    for container in (body, body.get("ticket"), body.get("data"),
                      (body.get("data") or {}).get("ticket") if isinstance(body.get("data"), dict) else None):
        if not isinstance(container, dict):
            continue
        for key in ("id", "ticket_id", "ticketId"):
            value = container.get(key)
            if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value):
                return str(value)
    return None


def _halo_message(body: Any, fallback: str) -> str:
    if isinstance(body, dict):
        for key in ("error", "message", "detail"):
            value = body.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()
            if isinstance(value, dict) and isinstance(value.get("message"), str):
                return value["message"].strip()
    return fallback


def error_for_response(path: str, response: requests.Response, *, now: float | None = None) -> HaloError:
    """The one place a Halo status becomes a connector error (stripe's ``specific_api_error``)."""
    status = response.status_code
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    message = _halo_message(body, "")
    details: dict[str, Any] = {"halo_status": status}
    if isinstance(body, dict) and isinstance(body.get("reserved_keys"), list):
        details["reserved_keys"] = body["reserved_keys"]
    if status == 401:
        return HaloCredentialsError(
            f"Halo rejected the connector's API key (HALO_API_KEY){': ' + message if message else '.'}",
            halo_status=status, details=details)
    if status == 403:
        return HaloForbidden(f"Halo refused {path}: {message or 'identity token missing or invalid'}"
                             " (check HALO_IDENTITY_SECRET).", halo_status=status, details=details)
    if status == 429:
        return HaloRateLimited(
            f"Halo is rate limiting {path}{': ' + message if message else ''}.",
            halo_status=status, retry_after=parse_retry_after(response.headers, now=now), details=details)
    if status in RETRY_STATUSES or status >= 500:
        return HaloUnavailable(
            f"Halo answered {status} for {path}{': ' + message if message else ''}.",
            halo_status=status, retry_after=parse_retry_after(response.headers, now=now), details=details)
    if status == 404:
        return HaloError(f"Halo answered 404 for {path}{': ' + message if message else ''}; "
                         "check HALO_API_URL.", halo_status=status, details=details)
    return HaloValidationError(f"Halo rejected {path}: {message or f'status {status}'}",
                               halo_status=status, details=details)


def _request_was_sent(exc: requests.RequestException) -> bool:
    """False only when we know Halo never received the request (so retrying cannot duplicate)."""
    if isinstance(exc, (requests.ConnectTimeout, requests.exceptions.SSLError)):
        return False
    if isinstance(exc, requests.ConnectionError) and exc.args:
        inner = exc.args[0]
        if isinstance(inner, MaxRetryError):
            inner = inner.reason
        if isinstance(inner, (NewConnectionError, ConnectTimeoutError)):
            return False
    return True


class HaloClient:
    """A client for ``/api/sdk``. Build one per process with :meth:`from_settings`.

    :param max_retries: quick retries inside one call; the background worker adds its own,
        longer schedule on top, so this stays small.
    :param retry_after_cap: the longest ``Retry-After`` honoured by waiting in place; a longer
        one is raised to the caller (:class:`HaloRateLimited` carries the delay).
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        identity_secret: str | None = None,
        connect_timeout: float = 3.05,
        read_timeout: float = 15.0,
        max_retries: int = 2,
        retry_after_cap: float = 30.0,
        backoff: Backoff = Backoff(),
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] = random.random,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.identity_secret = identity_secret
        self.timeout = (connect_timeout, read_timeout)
        self.max_retries = max_retries
        self.retry_after_cap = retry_after_cap
        self.backoff = backoff
        self._sleep, self._rng, self._clock = sleep, rng, clock
        self.session = session or _session_for(self.base_url)
        #: Per endpoint URL: the request with its URL and headers prepared (see ``_prepare``).
        self._templates: dict[str, requests.PreparedRequest] = {}
        self.session.headers.update({
            "Authorization": f"Bearer {api_key}",
            "User-Agent": USER_AGENT,
            "Accept": "application/json",
        })

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> HaloClient:
        options: dict[str, Any] = dict(
            identity_secret=settings.halo_identity_secret,
            connect_timeout=settings.halo_connect_timeout,
            read_timeout=settings.halo_read_timeout,
            max_retries=settings.halo_max_retries,
            retry_after_cap=settings.halo_retry_after_cap,
        )
        options.update(overrides)
        return cls(settings.halo_api_url, settings.halo_api_key, **options)

    # --- endpoints -----------------------------------------------------------------------------

    def create_ticket(self, payload: Mapping[str, Any]) -> TicketCreated:
        """``POST tickets/create``. Not idempotent: never resent once it may have arrived."""
        body = dict(payload)
        self._sign_for_user(body, body.get("user_id"))
        answer = self._post("tickets/create", body, idempotent=False)
        return TicketCreated(ticket_id=extract_ticket_id(answer), body=answer)

    def identify_user(self, user_id: str, *, traits: Mapping[str, Any] | None = None,
                      context: Mapping[str, Any] | None = None,
                      session_id: str | None = None) -> dict[str, Any]:
        """``POST users/identify``: upsert the user (and bump ``last_seen``) before a ticket."""
        body: dict[str, Any] = {"user_id": user_id}
        if traits:
            body["traits"] = dict(traits)
        if context:
            body["context"] = dict(context)
        if session_id:
            body["session_id"] = session_id
        self._sign_for_user(body, user_id)
        return self._post("users/identify", body, idempotent=True)

    def identify_company(self, company_id: str, *, user_id: str | None = None,
                         traits: Mapping[str, Any] | None = None,
                         context: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """``POST companies/identify``, linking ``user_id`` to the company when given."""
        body: dict[str, Any] = {"company_id": company_id}
        if user_id:
            body["user_id"] = user_id
        if traits:
            body["traits"] = dict(traits)
        if context:
            body["context"] = dict(context)
        self._sign_for_user(body, user_id)
        return self._post("companies/identify", body, idempotent=True)

    def update_users(self, users: Sequence[Mapping[str, Any]], *,
                     update_only: bool = False) -> dict[str, Any]:
        """``POST users/update`` in batches of at most 1000, with an org-scoped token.

        :returns: ``{"batches": n, "skipped": total skipped, "responses": [...]}``.
        """
        if not self.identity_secret:
            raise HaloForbidden("users/update needs HALO_IDENTITY_SECRET (Halo requires an "
                                "org-scoped token for it).")
        responses: list[dict[str, Any]] = []
        skipped = 0
        for batch in _chunks(list(users), USERS_UPDATE_BATCH):
            body: dict[str, Any] = {
                "users": [dict(user) for user in batch],
                "user_token": tokens.org_update_token(self.identity_secret, now=self._clock()),
            }
            if update_only:
                body["update_only"] = True
            answer = self._post("users/update", body, idempotent=True)
            responses.append(answer)
            if isinstance(answer.get("skipped"), int):
                skipped += answer["skipped"]
        return {"batches": len(responses), "skipped": skipped, "responses": responses}

    def send_events(self, events: Sequence[Mapping[str, Any]], *, user_id: str | None = None,
                    session_id: str | None = None) -> dict[str, Any]:
        """``POST events`` in batches of at most 100."""
        responses = []
        for batch in _chunks(list(events), EVENTS_BATCH):
            body: dict[str, Any] = {"events": [dict(event) for event in batch]}
            if user_id:
                body["user_id"] = user_id
            if session_id:
                body["session_id"] = session_id
            responses.append(self._post("events", body, idempotent=True))
        return {"batches": len(responses), "responses": responses}

    # --- plumbing ------------------------------------------------------------------------------

    def _sign_for_user(self, body: dict[str, Any], user_id: Any) -> None:
        if self.identity_secret and isinstance(user_id, str) and user_id and user_id != ANONYMOUS:
            body["user_token"] = tokens.user_token(self.identity_secret, user_id, now=self._clock())

    def _prepare(self, url: str, body: Mapping[str, Any]) -> requests.PreparedRequest:
        """The request, prepared once for every attempt. Preparing it ourselves and calling
        ``session.send`` skips requests' per-call settings merging (half its CPU cost); the URL
        and headers are prepared once per endpoint and only the body per call."""
        template = self._templates.get(url)
        if template is None:
            template = requests.PreparedRequest()
            template.prepare(method="POST", url=url,
                             headers={**self.session.headers, "Content-Type": "application/json"})
            self._templates[url] = template
        prepared = template.copy()
        data = json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
        prepared.prepare_body(data, None)
        return prepared

    def _post(self, path: str, body: Mapping[str, Any], *, idempotent: bool) -> dict[str, Any]:
        prepared = self._prepare(f"{self.base_url}/{path}", body)
        attempt = 0
        while True:
            started = time.perf_counter()
            try:
                response = self.session.send(prepared.copy(), timeout=self.timeout,
                                             allow_redirects=False)
            except requests.RequestException as exc:
                elapsed = (time.perf_counter() - started) * 1000
                sent = _request_was_sent(exc)
                log.warning("POST %s failed after %.0f ms (attempt %d): %s", path, elapsed,
                            attempt + 1, type(exc).__name__)
                if sent and not idempotent:
                    raise HaloOutcomeUnknown(
                        f"Halo did not answer {path} ({type(exc).__name__}); the request may "
                        "have been processed.") from exc
                error: HaloError = HaloUnavailable(
                    f"Could not reach Halo for {path} ({type(exc).__name__}).")
            else:
                elapsed = (time.perf_counter() - started) * 1000
                log.info("POST %s -> %d in %.0f ms (attempt %d)", path, response.status_code,
                         elapsed, attempt + 1)
                if response.status_code < 300:
                    return _json_object(response)
                error = error_for_response(path, response, now=self._clock())
                if response.status_code not in RETRY_STATUSES and response.status_code < 500:
                    raise error
            if attempt >= self.max_retries:
                raise error
            wait = self._wait_before_retry(attempt, error)
            if wait is None:
                raise error
            self._sleep(wait)
            attempt += 1

    def _wait_before_retry(self, attempt: int, error: HaloError) -> float | None:
        """Seconds to wait, or None when the wait Halo asks for is longer than we wait in place."""
        if error.retry_after is not None:
            if error.retry_after > self.retry_after_cap:
                return None
            # A little jitter on top so many clients told "5 s" do not all return together.
            return error.retry_after * (1 + 0.1 * self._rng())
        return self.backoff.delay(attempt, self._rng)


def _session_for(base_url: str) -> requests.Session:
    """A session that reads proxy and CA-bundle settings from the environment once, for the one
    host it talks to, instead of on every call (requests' ``trust_env`` re-reads the environment
    and ``.netrc`` per request, which costs about a millisecond of CPU each time)."""
    session = requests.Session()
    session.proxies.update(requests.utils.get_environ_proxies(base_url))
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle:
        session.verify = bundle
    session.trust_env = False
    return session


def _json_object(response: requests.Response) -> dict[str, Any]:
    if not response.content:
        return {}
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {"data": body}


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
