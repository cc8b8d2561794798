"""Operation declarations: one object per file in ``actions/`` and ``triggers/``.

An operation is data (key, noun, label, description, a marshmallow input schema whose field
``metadata`` carries labels and help text, output fields) plus one ``perform`` function. The
same declaration serves the HTTP routes, the generated Zapier and Make apps, the OpenAPI
document and the operations reference, so none of them can drift from the others.

Input field ``metadata`` keys (anything else is refused by tests/test_registry.py):

* ``label`` (required), ``help``, ``placeholder``: what the user sees.
* ``choices``: ``{value: label}`` for a fixed dropdown (the field also validates with ``OneOf``).
* ``widget``: ``"text"`` for a multi-line box (Zapier ``type: text``, Make ``multiline``).
* ``dict``: an object of free key/value pairs (Zapier ``dict: true``, Make an array of
  ``key``/``value`` items, since a spec-less Make collection cannot be filled in); the
  field is listed in the schema's ``OBJECT_FIELDS`` and also accepts ``x__key``, ``x[key]``,
  line items and JSON strings.
* ``list``: a list of primitives (Zapier ``list: true``, Make ``array``).
* ``group``: a name gathering related optional fields (e.g. ``customer``, ``company``).
* ``hidden``: a query parameter the generated apps fill themselves (``limit``, ``since``,
  ``after_id``, ``page`` of polling triggers), never shown as a field.

The type comes from the marshmallow field class (String/Email/Url -> string, Integer -> integer,
Float -> number, Boolean -> boolean, DateTime/AwareDateTime -> datetime, Dict -> dict), and
``required=True`` marks required fields.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from marshmallow import Schema

if TYPE_CHECKING:
    from connector.services import Services

#: Who is calling, as far as the connector can tell: shapes a few answers and the records.
CLIENTS = ("zapier", "make", "api")


@dataclass(frozen=True)
class OutputField:
    """One field of an operation's result, for Zapier ``outputFields`` and Make ``interface``."""

    key: str
    label: str
    type: str = "string"  # string | integer | number | boolean | datetime | object | array
    help: str = ""
    important: bool = False


@dataclass
class Context:
    """What ``perform`` gets besides its validated input."""

    tenant: str
    client: str
    services: Services
    #: The raw body as received, kept with the record the operation creates.
    raw_body: bytes = b""
    content_type: str | None = None

    @property
    def settings(self) -> Any:
        return self.services.settings


@dataclass(frozen=True)
class Operation:
    key: str
    noun: str
    label: str
    description: str
    input_schema: type[Schema]
    perform: Callable[[Context, dict[str, Any]], Any]
    output_fields: tuple[OutputField, ...] = ()
    #: Longer guidance shown under the operation in Zapier/Make and in the reference.
    help: str = ""
    #: HTTP status of a successful answer.
    status: int = 200
    #: One result exactly as ``perform`` answers it (Zapier's static ``sample``, Make's samples).
    sample: Mapping[str, Any] = field(default_factory=dict)
    kind: ClassVar[str] = "operation"


@dataclass(frozen=True)
class Action(Operation):
    """Creates or updates something; answers one object."""

    kind: ClassVar[str] = "action"
    #: Bad input is kept as a ``rejected`` submission (what the user sent, and why it was refused).
    keeps_rejected_input: bool = False


@dataclass(frozen=True)
class SearchOrCreate:
    """Pairs a search with the action that creates what it did not find (Zapier's
    ``searchOrCreates``): a replayed step finds the first result instead of creating another.

    ``inputs`` maps each search input to the action input that receives the same value, so the
    generated app can pre-fill the create from the search.
    """

    create: str
    label: str
    description: str
    inputs: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Search(Operation):
    """Finds records; answers an array, best match first (empty = not found)."""

    kind: ClassVar[str] = "search"
    search_or_create: SearchOrCreate | None = None


@dataclass(frozen=True)
class Trigger(Operation):
    """A polling trigger; answers a bare array, newest first, each item with a stable ``id``."""

    kind: ClassVar[str] = "trigger"
    #: Field Make's epoch polling orders by.
    date_field: str = "created_at"
    #: Also offered as a REST hook (``POST /v1/hooks`` with ``event`` = this key); deliveries carry
    #: the same item shape as the polling answer.
    instant: bool = True


def by_key(operations: tuple[Operation, ...]) -> dict[str, Operation]:
    registry = {op.key: op for op in operations}
    if len(registry) != len(operations):
        raise ValueError("duplicate operation keys")
    return registry
