"""Named webhook routes from ``ROUTES_FILE`` (TOML), with per-form overrides.

Out of the box every sender is reachable as ``/hooks/<sender>`` with default options and its
secret in ``<SENDER>_SECRET``. A routes file adds named routes bound to a sender, each with its
own secret variable (``<ROUTE>_SECRET`` unless ``secret_env`` says otherwise), field mapping,
subject template, static labels, identity rules and ignore rules, and per-form overrides keyed
by the sender's form id. The file is validated once at load; every error names the route and
key. See ``docs/routes.example.toml``.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from connector.errors import ConfigError, NotFound, flatten_field_errors
from connector.sources import templates
from connector.sources.fields import as_email
from connector.ticket import PRIORITIES, SOURCE_MAX_CHARS

ROUTE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
#: Halo rejects these keys inside user traits (reference/halo-api.md, users/identify).
RESERVED_TRAITS = frozenset({
    "id", "external_id", "org_id", "company_id", "created_at", "updated_at", "first_seen",
    "last_seen", "last_contacted_at",
})


def _empty() -> Mapping[str, Any]:
    return MappingProxyType({})


@dataclass(frozen=True)
class CompanyRule:
    """Templates for the company to identify before the ticket."""

    id: str
    name: str | None = None
    traits: Mapping[str, Any] = field(default_factory=_empty)


@dataclass(frozen=True)
class Options:
    """Everything a route (or a per-form override) can say about turning events into tickets."""

    email: str | None = None
    name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    user_id: str | None = None
    subject: str | None = None
    message: str | None = None
    include_fields: bool = True
    source: str | None = None
    priority: str | None = None
    ai_enabled: bool | None = None
    fallback_email: str | None = None
    form_title: str | None = None
    metadata_keys: str = "label"
    traits: Mapping[str, Any] = field(default_factory=_empty)
    company: CompanyRule | None = None
    events: frozenset[str] | None = None
    ignore_events: frozenset[str] = frozenset()
    ignore_forms: frozenset[str] = frozenset()
    labels: Mapping[str, str] = field(default_factory=_empty)
    logins: Mapping[str, str] = field(default_factory=_empty)


DEFAULT_OPTIONS = Options()


@dataclass(frozen=True)
class Route:
    """``/hooks/<name>``: a sender, the variable holding its secret, and its options."""

    name: str
    sender: str
    secret_variable: str
    options: Options = DEFAULT_OPTIONS
    forms: Mapping[str, Options] = field(default_factory=_empty)
    #: The tenant whose records this route's events belong to (None: the default tenant).
    tenant: str | None = None

    def options_for(self, form_id: str | None) -> Options:
        if form_id is not None and form_id in self.forms:
            return self.forms[form_id]
        return self.options


@dataclass(frozen=True)
class Routes:
    """Every reachable route by name: one per sender, plus (or overriding) the file's routes."""

    by_name: Mapping[str, Route] = field(default_factory=dict)

    def get(self, name: str) -> Route:
        route = self.by_name.get(name)
        if route is None:
            raise NotFound(f"No webhook sender or route is named '{name[:60]}'.")
        return route

    def __contains__(self, name: object) -> bool:
        return name in self.by_name

    def names(self) -> list[str]:
        return sorted(self.by_name)


def secret_variable_for(route_name: str) -> str:
    """``support-form`` → ``SUPPORT_FORM_SECRET`` (``typeform`` → ``TYPEFORM_SECRET``)."""
    return re.sub(r"[^A-Z0-9]", "_", route_name.upper()) + "_SECRET"


def default_routes(sender_names: Iterable[str]) -> dict[str, Route]:
    return {name: Route(name, name, secret_variable_for(name)) for name in sender_names}


# --- validation -------------------------------------------------------------------------------


def _template(value: str) -> None:
    try:
        templates.parse(value)
    except ValueError as exc:
        raise ValidationError(f"Invalid template: {exc}.") from None


def _email(value: str) -> None:
    if as_email(value) is None:
        raise ValidationError("Not a valid email address.")


def _trait_value(value: Any) -> None:
    if not isinstance(value, (str, int, float, bool)):
        raise ValidationError("Trait values are text (templates allowed), numbers or true/false.")
    if isinstance(value, str):
        _template(value)


def _trait_keys(value: Mapping[str, Any]) -> None:
    reserved = sorted(set(value) & RESERVED_TRAITS)
    if reserved:
        raise ValidationError(f"Halo rejects these trait keys: {', '.join(reserved)}.")


class StrictBoolean(fields.Boolean):
    """TOML has real booleans; a quoted "false" is a mistake worth naming."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise ValidationError("Must be true or false (without quotes).")
        return value


class CompanySchema(Schema):
    class Meta:
        unknown = RAISE

    id = fields.String(required=True, validate=[validate.Length(min=1), _template])
    name = fields.String(validate=_template)
    traits = fields.Dict(keys=fields.String(), values=fields.Raw(validate=_trait_value), load_default=dict)


class OptionsSchema(Schema):
    """The keys a route and a per-form override share."""

    class Meta:
        unknown = RAISE

    email = fields.String(validate=validate.Length(min=1))
    name = fields.String(validate=validate.Length(min=1))
    first_name = fields.String(validate=validate.Length(min=1))
    last_name = fields.String(validate=validate.Length(min=1))
    user_id = fields.String(validate=validate.Length(min=1))
    subject = fields.String(validate=[validate.Length(min=1, max=1_000), _template])
    message = fields.String(validate=[validate.Length(min=1), _template])
    include_fields = StrictBoolean()
    source = fields.String(validate=validate.Length(min=1, max=SOURCE_MAX_CHARS))
    priority = fields.String(validate=validate.OneOf(PRIORITIES))
    ai_enabled = StrictBoolean()
    fallback_email = fields.String(validate=_email)
    form_title = fields.String(validate=validate.Length(min=1, max=500))
    metadata_keys = fields.String(validate=validate.OneOf(("label", "key")))
    traits = fields.Dict(keys=fields.String(validate=validate.Length(min=1)),
                         values=fields.Raw(validate=_trait_value), validate=_trait_keys)
    company = fields.Nested(CompanySchema)
    events = fields.List(fields.String(validate=validate.Length(min=1)))
    ignore_events = fields.List(fields.String(validate=validate.Length(min=1)))
    labels = fields.Dict(keys=fields.String(), values=fields.String(validate=validate.Length(min=1)))
    logins = fields.Dict(keys=fields.String(), values=fields.String(validate=_email))


class RouteSchema(OptionsSchema):
    sender = fields.String()
    secret_env = fields.String(validate=validate.Regexp(
        r"^[A-Z][A-Z0-9_]*$", error="Must be an environment variable name like SUPPORT_FORM_SECRET."))
    tenant = fields.String(validate=validate.Regexp(r"^[A-Za-z0-9_-]+$"))
    ignore_forms = fields.List(fields.String(validate=validate.Length(min=1)))
    forms = fields.Dict(keys=fields.String(validate=validate.Length(min=1)), values=fields.Raw())

    @validates_schema
    def _forms_are_tables(self, data: dict[str, Any], **kwargs: Any) -> None:
        for form_id, table in (data.get("forms") or {}).items():
            if not isinstance(table, dict):
                raise ValidationError({"forms": {form_id: ["Must be a table of overrides."]}})


class FileSchema(Schema):
    class Meta:
        unknown = RAISE

    routes = fields.Dict(keys=fields.String(), values=fields.Raw(), load_default=dict)


_MERGED = ("traits", "labels", "logins")


def _options(data: Mapping[str, Any]) -> Options:
    values = {k: v for k, v in data.items() if k in Options.__dataclass_fields__}
    for key in ("events", "ignore_events", "ignore_forms"):
        if key in values and values[key] is not None:
            values[key] = frozenset(str(v) for v in values[key])
    for key in _MERGED:
        if key in values:
            values[key] = MappingProxyType(dict(values[key]))
    if values.get("company"):
        company = dict(values["company"])
        company["traits"] = MappingProxyType(dict(company.get("traits") or {}))
        values["company"] = CompanyRule(**company)
    return Options(**values)


def _merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if key in _MERGED and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def parse_routes(document: Mapping[str, Any], sender_names: Iterable[str], origin: str = "routes file") -> Routes:
    """Validate a parsed routes document into :class:`Routes` or raise one ConfigError listing all problems."""
    senders = sorted(sender_names)
    problems: dict[str, list[str]] = {}
    try:
        top = FileSchema().load(dict(document))
    except ValidationError as exc:
        raise _config_error(origin, flatten_field_errors(exc.messages)) from None
    routes = default_routes(senders)
    for name, table in top["routes"].items():
        prefix = f"routes.{name}"
        if not ROUTE_NAME.match(name):
            problems[prefix] = ["Route names are lower-case letters, digits, - and _ (at most 63)."]
            continue
        if not isinstance(table, dict):
            problems[prefix] = ["Must be a table."]
            continue
        try:
            data = RouteSchema().load(table)
        except ValidationError as exc:
            problems.update(flatten_field_errors(exc.messages, prefix))
            continue
        sender = data.pop("sender", None) or (name if name in senders else None)
        if sender not in senders:
            problems[f"{prefix}.sender"] = [
                f"Unknown sender {sender!r}; one of {', '.join(senders)}." if sender
                else f"Missing: which sender posts here ({', '.join(senders)})."
            ]
            continue
        if name in senders and sender != name:
            problems[f"{prefix}.sender"] = [f"The route {name} is the built-in {name} sender; name it differently."]
            continue
        forms: dict[str, Options] = {}
        for form_id, override in (data.pop("forms", None) or {}).items():
            try:
                form_data = OptionsSchema().load(override)
            except ValidationError as exc:
                problems.update(flatten_field_errors(exc.messages, f"{prefix}.forms.{form_id}"))
                continue
            forms[str(form_id)] = _options(_merge(data, form_data))
        routes[name] = Route(
            name=name,
            sender=sender,
            secret_variable=data.pop("secret_env", None) or secret_variable_for(name),
            options=_options(data),
            forms=MappingProxyType(forms),
            tenant=data.pop("tenant", None),
        )
    if problems:
        raise _config_error(origin, problems)
    return Routes(MappingProxyType(routes))


def _config_error(origin: str, problems: Mapping[str, list[str]]) -> ConfigError:
    """One error naming every route and key at fault (the full list also in ``details``)."""
    problems = {re.sub(r"\.(value|key)$", "", key): msgs for key, msgs in problems.items()}
    summary = "; ".join(f"{key}: {' '.join(msgs)}" for key, msgs in problems.items())
    return ConfigError(f"{origin}: {summary}", details={"problems": dict(problems)})


def load_routes(path: str | Path | None, sender_names: Iterable[str] | None = None) -> Routes:
    """Routes from a TOML file, or the built-in ones when ``path`` is empty."""
    if sender_names is None:
        from connector.sources import SOURCES

        sender_names = SOURCES
    if not path:
        return Routes(MappingProxyType(default_routes(sender_names)))
    file = Path(path)
    try:
        document = tomllib.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"ROUTES_FILE {file}: cannot read it ({exc.strerror}).") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"ROUTES_FILE {file}: invalid TOML: {exc}.") from None
    return parse_routes(document, sender_names, origin=f"ROUTES_FILE {file.name}")


def routes_from_settings(settings: Any) -> Routes:
    """The routes ``ROUTES_FILE`` names (relative paths are relative to the project)."""
    from connector.config import project_path

    raw = settings.get("ROUTES_FILE")
    return load_routes(project_path(raw) if raw else None)
