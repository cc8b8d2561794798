"""Operation inputs read once from the marshmallow schemas, in the terms every generator needs.

The Zapier, Make, OpenAPI and reference generators all describe the same fields; reading the
field ``metadata`` contract (see ``connector.operations``) here keeps them from drifting apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from marshmallow import fields as ma_fields
from marshmallow import Schema, missing, validate

from connector.manifests.zapier_requests import visible_fields
from connector.operations import Operation

#: marshmallow field class -> the neutral type the generators translate (first match wins, so
#: subclasses come before their bases: AwareDateTime before DateTime, Email/Url before String).
_TYPES: tuple[tuple[type[ma_fields.Field], str], ...] = (
    (ma_fields.Boolean, "boolean"),
    (ma_fields.Integer, "integer"),
    (ma_fields.Float, "number"),
    (ma_fields.Number, "number"),
    (ma_fields.DateTime, "datetime"),
    (ma_fields.Dict, "object"),
    (ma_fields.List, "array"),
)
#: String formats worth telling a platform about (Make has ``email``/``url`` parameter types).
_FORMATS: tuple[tuple[type[ma_fields.Field], str], ...] = (
    (ma_fields.Email, "email"),
    (ma_fields.Url, "url"),
)


@dataclass(frozen=True)
class InputField:
    """One input field as a user sees it in a Zap step, a Make module or the reference."""

    key: str
    label: str
    type: str  # string | integer | number | boolean | datetime | object | array
    required: bool = False
    help: str = ""
    placeholder: str = ""
    #: ``{value: label}`` for a fixed dropdown.
    choices: Mapping[str, str] | None = None
    multiline: bool = False
    group: str | None = None
    default: str | None = None
    #: ``email`` or ``url`` for strings validated as such.
    format: str | None = None
    maximum_length: int | None = None
    minimum: int | None = None
    maximum: int | None = None

    @property
    def is_dict(self) -> bool:
        return self.type == "object"

    @property
    def is_list(self) -> bool:
        return self.type == "array"


def field_type(field: ma_fields.Field) -> str:
    for cls, name in _TYPES:
        if isinstance(field, cls):
            return name
    return "string"


def input_field(name: str, field: ma_fields.Field) -> InputField:
    meta = field.metadata or {}
    kind = "object" if meta.get("dict") else "array" if meta.get("list") else field_type(field)
    default = field.load_default
    lengths = [v for v in field.validators if isinstance(v, validate.Length)]
    ranges = [v for v in field.validators if isinstance(v, validate.Range)]
    one_of = [v for v in field.validators if isinstance(v, validate.OneOf)]
    choices = meta.get("choices") or ({str(c): str(c) for c in one_of[0].choices} if one_of else None)
    return InputField(
        key=name,
        label=meta["label"],
        type=kind,
        required=field.required,
        help=meta.get("help", ""),
        placeholder=meta.get("placeholder", ""),
        choices=choices,
        multiline=meta.get("widget") == "text",
        group=meta.get("group"),
        default=None if default is missing or callable(default) else str(default),
        format=next((fmt for cls, fmt in _FORMATS if isinstance(field, cls)), None),
        maximum_length=lengths[0].max if lengths else None,
        minimum=ranges[0].min if ranges else None,
        maximum=ranges[0].max if ranges else None,
    )


def input_fields(operation: Operation) -> list[InputField]:
    """The fields a user maps, in declaration order (hidden polling parameters excluded)."""
    return [input_field(name, field) for name, field in visible_fields(operation)]


def schema_fields(schema: type[Schema]) -> list[InputField]:
    """Every field of an input schema, hidden ones included (the HTTP surface takes them all)."""
    declared = schema._declared_fields  # noqa: SLF001 - marshmallow's own registry
    return [input_field(name, field) for name, field in declared.items()]


def group_label(group: str) -> str:
    """``customer`` -> ``Customer``: the heading shown over a group of optional fields."""
    return group.replace("_", " ").title()


def groups(fields: list[InputField]) -> list[str]:
    """Group names in the order their first field appears."""
    return list(dict.fromkeys(f.group for f in fields if f.group))

