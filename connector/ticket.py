"""The normalized ticket request every input becomes, and Halo's documented limits.

Zapier and Make actions, webhooks and emails all end in a :class:`TicketRequest`: who the
customer is, what the ticket says, and where it came from. Everything after that point (storage,
delivery, triggers) is shared. ``halo_payload()`` is the one place that shapes the
``tickets/create`` body and keeps it within Halo's limits by truncating with a visible marker,
so a large submission never fails for size.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

# Halo's documented limits (reference/halo-api.md, section 3).
SUBJECT_MAX_CHARS = 1_000
MESSAGE_MAX_CHARS = 50_000
METADATA_MAX_BYTES = 50_000
SOURCE_MAX_CHARS = 50
USER_TRAITS_MAX_BYTES = 20_000
COMPANY_TRAITS_MAX_BYTES = 50_000

PRIORITIES = ("priority", "normal")
TRUNCATION_MARKER = " … [truncated by Halo Connector]"

#: Metadata key under which the connector records where a ticket came from.
PROVENANCE_KEY = "connector"


@dataclass
class Customer:
    """Who the ticket is from. Halo needs ``email`` or ``user_id``."""

    email: str | None = None
    user_id: str | None = None
    name: str | None = None
    #: Traits sent to ``users/identify`` before the ticket (needs ``user_id``).
    traits: dict[str, Any] = field(default_factory=dict)
    #: Which rule found the customer, e.g. ``"route:email_field"`` or ``"header:reply-to"``.
    resolved_by: str | None = None

    @property
    def identified(self) -> bool:
        return bool(self.email or self.user_id)


@dataclass
class Company:
    """A company to ``companies/identify`` (and link the user to) before the ticket."""

    company_id: str
    name: str | None = None
    traits: dict[str, Any] = field(default_factory=dict)


@dataclass
class TicketRequest:
    """One ticket to create in Halo, from any input channel."""

    subject: str
    customer: Customer = field(default_factory=Customer)
    message: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    #: Halo's ``source`` label (e.g. ``"contact_form"``); defaults to the origin.
    source: str | None = None
    priority: str | None = None
    ai_enabled: bool | None = None
    company: Company | None = None
    #: Where it came from: the sender or channel name (``"typeform"``, ``"email"``, ``"zapier"``).
    origin: str = "api"
    #: The sender's own id for this event, used to create exactly one ticket per event.
    event_id: str | None = None
    #: Extra provenance recorded under ``metadata["connector"]`` (ids, URLs, notes).
    provenance: dict[str, Any] = field(default_factory=dict)

    # --- storage ---------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Plain data for storage (what ``dataclasses.asdict`` gives, at a tenth of its cost: the
        nested dicts are copied one level, which is all JSON storage needs)."""
        data = dict(self.__dict__)
        data["customer"] = dict(self.customer.__dict__, traits=dict(self.customer.traits))
        data["company"] = (dict(self.company.__dict__, traits=dict(self.company.traits))
                           if self.company else None)
        data["metadata"] = dict(self.metadata)
        data["provenance"] = dict(self.provenance)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TicketRequest:
        data = dict(data)
        customer = Customer(**data.pop("customer", None) or {})
        company_data = data.pop("company", None)
        company = Company(**company_data) if company_data else None
        return cls(customer=customer, company=company, **data)

    # --- the Halo call ---------------------------------------------------------------------

    def halo_payload(self, *, submission_id: int | str | None = None) -> dict[str, Any]:
        """The ``tickets/create`` body, fitted to Halo's limits."""
        body: dict[str, Any] = {}
        if self.customer.user_id:
            body["user_id"] = self.customer.user_id
        if self.customer.email:
            body["email"] = self.customer.email
        if self.customer.name:
            body["name"] = self.customer.name
        body["subject"] = truncate_text(single_line(self.subject) or "(no subject)", SUBJECT_MAX_CHARS)
        if self.message:
            body["message"] = truncate_text(self.message, MESSAGE_MAX_CHARS)
        body["metadata"] = fit_metadata(self._metadata_with_provenance(submission_id))
        body["source"] = truncate_text(self.source or self.origin, SOURCE_MAX_CHARS, marker="…")
        if self.priority:
            body["priority"] = self.priority
        if self.ai_enabled is not None:
            body["ai_enabled"] = bool(self.ai_enabled)
        return body

    def _metadata_with_provenance(self, submission_id: int | str | None) -> dict[str, Any]:
        provenance: dict[str, Any] = {"origin": self.origin}
        if self.event_id:
            provenance["event_id"] = self.event_id
        if self.customer.resolved_by:
            provenance["resolved_by"] = self.customer.resolved_by
        if submission_id is not None:
            provenance["submission_id"] = submission_id
        provenance.update(self.provenance)
        metadata = dict(self.metadata)
        metadata[PROVENANCE_KEY] = provenance
        return metadata


def single_line(text: str | None) -> str:
    """Collapse whitespace so a subject stays on one line."""
    return " ".join((text or "").split())


def truncate_text(text: str, max_chars: int, *, marker: str = TRUNCATION_MARKER) -> str:
    """Cut ``text`` to ``max_chars`` characters, ending with ``marker`` when it was cut."""
    if len(text) <= max_chars:
        return text
    if len(marker) >= max_chars:
        return text[:max_chars]
    return text[: max_chars - len(marker)].rstrip() + marker


def json_size(value: Any) -> int:
    """Size in bytes of ``value`` as compact UTF-8 JSON, the way Halo measures payloads."""
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str).encode())


def fit_metadata(metadata: dict[str, Any], max_bytes: int = METADATA_MAX_BYTES) -> dict[str, Any]:
    """Shrink ``metadata`` until its JSON fits ``max_bytes``, never failing.

    The longest string values are shortened first (with a visible marker); if that is not
    enough, the largest remaining values are replaced by a marker and their keys listed under
    ``_truncated``. The provenance entry is kept whole.
    """
    if json_size(metadata) <= max_bytes:
        return metadata
    fitted = json.loads(json.dumps(metadata, ensure_ascii=False, default=str))

    def strings(node: Any, path: tuple) -> list[tuple[tuple, str]]:
        found: list[tuple[tuple, str]] = []
        if isinstance(node, dict):
            for key, value in node.items():
                if path == () and key == PROVENANCE_KEY:
                    continue
                found += strings(value, path + (key,))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                found += strings(value, path + (index,))
        elif isinstance(node, str):
            found.append((path, node))
        return found

    def assign(path: tuple, value: Any) -> None:
        node = fitted
        for step in path[:-1]:
            node = node[step]
        node[path[-1]] = value

    # Shorten the longest strings, halving the cap until everything fits or strings are short.
    cap = max((len(s) for _, s in strings(fitted, ())), default=0)
    while json_size(fitted) > max_bytes and cap > 200:
        cap //= 2
        for path, text in strings(fitted, ()):
            if len(text) > cap:
                assign(path, truncate_text(text, cap))

    # Still too big (many keys, big numbers or lists): drop the largest top-level values. Each
    # entry's size is measured once, so thousands of keys cost one pass, not one pass per key.
    if json_size(fitted) > max_bytes:
        entries = [(json_size({key: value}) - 1, key) for key, value in fitted.items()
                   if key not in (PROVENANCE_KEY, "_truncated")]
        entries.sort(key=lambda entry: entry[0], reverse=True)
        total = json_size(fitted)
        dropped: list[str] = []
        # Room for the "_truncated" list itself (at most 50 names plus an ellipsis).
        budget = max_bytes - 64
        for size, key in entries:
            if total <= budget - json_size(dropped[:50]):
                break
            del fitted[key]
            dropped.append(str(key))
            total -= size
        if dropped:
            fitted["_truncated"] = dropped[:50] + (["…"] if len(dropped) > 50 else [])
        while json_size(fitted) > max_bytes:  # pathological: only provenance and the list remain
            names = fitted.get("_truncated") or []
            if not names:
                break
            fitted["_truncated"] = names[: len(names) // 2]
    return fitted
