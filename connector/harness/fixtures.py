"""Fixture files: finding, loading and validating cases (format in ``fixtures/README.md``).

Validation is marshmallow schemas, one per channel's request, so a malformed fixture fails with
its file, the field and what is expected instead of a traceback in the middle of a replay.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from connector.config import PROJECT_ROOT
from connector.errors import ConnectorError

FIXTURES_DIR = PROJECT_ROOT / "fixtures"
CHANNELS = ("zapier", "make", "api", "webhook", "email", "mailgun")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


class FixtureError(ConnectorError):
    """A fixture file that cannot be replayed: names the file, the field and what is expected."""

    status = 400
    code = "bad_fixture"

    def __init__(self, path: Path | str, problems: dict[str, Any] | str) -> None:
        self.path = str(path)
        self.problems = problems if isinstance(problems, dict) else {"": problems}
        described = "; ".join(f"{field or 'file'}: {message}"
                              for field, message in flatten_problems(self.problems))
        super().__init__(f"{self.path}: {described}")
        self.message = f"{self.path}: {described}"  # the whole list, not cut at 250 characters


def flatten_problems(problems: Any, prefix: str = "") -> list[tuple[str, str]]:
    """marshmallow's nested messages as ``(dotted.field, message)`` pairs."""
    if isinstance(problems, dict):
        found: list[tuple[str, str]] = []
        for key, value in problems.items():
            name = f"{prefix}.{key}" if prefix and key != "_schema" else (prefix or str(key))
            if key == "_schema":
                name = prefix
            found += flatten_problems(value, name)
        return found
    if isinstance(problems, list) and all(isinstance(item, str) for item in problems):
        return [(prefix, " ".join(problems))]
    if isinstance(problems, list):
        return [pair for item in problems for pair in flatten_problems(item, prefix)]
    return [(prefix, str(problems))]


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class ZapierRequest(_Strict):
    operation = fields.String(required=True, metadata={"help": "an operation key"})
    bundle = fields.Dict(required=True)

    @validates_schema
    def _bundle(self, data: dict[str, Any], **_: Any) -> None:
        unknown = set(data.get("bundle", {})) - {"authData", "inputData", "meta"}
        if unknown:
            raise ValidationError(f"only authData, inputData and meta are allowed, not "
                                  f"{', '.join(sorted(unknown))}", "bundle")
        for part in ("authData", "inputData", "meta"):
            if not isinstance(data["bundle"].get(part, {}), dict):
                raise ValidationError("expected an object", f"bundle.{part}")


class NameValue(_Strict):
    name = fields.String(required=True)
    value = fields.Raw(required=True)


class KeyValue(_Strict):
    key = fields.String(required=True)
    value = fields.Raw(required=True)


class MakeRequest(_Strict):
    """Make's HTTP "Make a request" module, as its mapper holds it."""

    url = fields.String(required=True, metadata={"help": "a path on the connector, e.g. /v1/me"})
    method = fields.String(required=True, validate=validate.OneOf(METHODS))
    headers = fields.List(fields.Nested(NameValue), load_default=list)
    qs = fields.List(fields.Nested(NameValue), load_default=list)
    bodyType = fields.String(load_default=None, validate=validate.OneOf(  # noqa: N815 - Make's name
        ["raw", "x_www_form_urlencoded"]))
    contentType = fields.String(load_default=None)  # noqa: N815
    data = fields.Raw(load_default=None)
    formFields = fields.List(fields.Nested(KeyValue), load_default=list)  # noqa: N815

    @validates_schema
    def _body(self, data: dict[str, Any], **_: Any) -> None:
        if not data["url"].startswith("/"):
            raise ValidationError("expected a path starting with / (the connector's URL is added "
                                  "at replay)", "url")
        if data.get("bodyType") == "raw" and not isinstance(data.get("data"), (str, dict, list)):
            raise ValidationError("a raw body needs data (text, or JSON as an object)", "data")


class ApiRequest(_Strict):
    """A plain HTTP call to the connector (scripts, curl)."""

    method = fields.String(required=True, validate=validate.OneOf(METHODS))
    path = fields.String(required=True)
    query = fields.Dict(keys=fields.String(), load_default=dict)
    headers = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)
    json = fields.Raw(load_default=None)
    body = fields.String(load_default=None, metadata={"help": "raw text body"})


class WebhookRequest(_Strict):
    route = fields.String(required=True)
    headers = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)
    json = fields.Raw(load_default=None, metadata={"help": "the body, sent as compact JSON"})
    body = fields.String(load_default=None, metadata={"help": "the raw body as text"})
    sign = fields.String(load_default="auto", validate=validate.OneOf(
        ["auto", "path", "header", "none"]))

    @validates_schema
    def _one_body(self, data: dict[str, Any], **_: Any) -> None:
        if (data.get("json") is None) == (data.get("body") is None):
            raise ValidationError("give exactly one of json or body", "json")


class EmailRequest(_Strict):
    eml = fields.String(required=True, metadata={"help": "an .eml file beside the fixture"})
    recipient = fields.String(load_default=None)


class MailgunRequest(_Strict):
    fields_ = fields.Dict(data_key="fields", keys=fields.String(), values=fields.String(),
                          load_default=dict)
    eml = fields.String(load_default=None, metadata={"help": "sent as body-mime (forward())"})


REQUEST_SCHEMAS: dict[str, type[Schema]] = {
    "zapier": ZapierRequest, "make": MakeRequest, "api": ApiRequest, "webhook": WebhookRequest,
    "email": EmailRequest, "mailgun": MailgunRequest,
}


class HaloReply(_Strict):
    method = fields.String(load_default="POST", validate=validate.OneOf(METHODS))
    path = fields.String(required=True, metadata={"help": "e.g. tickets/create"})
    status = fields.Integer(load_default=200, validate=validate.Range(min=100, max=599))
    json = fields.Raw(load_default=None)
    headers = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)


class HaloCall(_Strict):
    method = fields.String(load_default="POST", validate=validate.OneOf(METHODS))
    path = fields.String(required=True)
    json = fields.Raw(load_default=None)


class HaloSection(_Strict):
    sandbox = fields.Boolean(load_default=False)
    faults = fields.String(load_default=None, metadata={"help": "sandbox fault spec"})
    replies = fields.List(fields.Nested(HaloReply), load_default=list)
    calls = fields.List(fields.Nested(HaloCall), required=True)

    @validates_schema
    def _answers(self, data: dict[str, Any], **_: Any) -> None:
        if data["sandbox"] and data["replies"]:
            raise ValidationError("give replies or sandbox: true, not both", "replies")
        if data["faults"] and not data["sandbox"]:
            raise ValidationError("faults need sandbox: true", "faults")


class Expectation(_Strict):
    status = fields.Integer(required=True, validate=validate.Range(min=100, max=599))
    json = fields.Raw(load_default=None)
    headers = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)
    submissions = fields.List(fields.Dict(), load_default=None)


class GivenStep(_Strict):
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    request = fields.Dict(required=True)


class CaseSchema(_Strict):
    description = fields.String(required=True)
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    tags = fields.List(fields.String(), load_default=list)
    env = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)
    given = fields.List(fields.Nested(GivenStep), load_default=list)
    request = fields.Dict(required=True)
    halo = fields.Nested(HaloSection, required=True)
    expect = fields.Nested(Expectation, required=True)

    class Meta:
        unknown = RAISE
        ordered = True


@dataclass
class Case:
    """One validated fixture."""

    path: Path
    name: str
    description: str
    channel: str
    request: dict[str, Any]
    halo: dict[str, Any]
    expect: dict[str, Any]
    given: list[dict[str, Any]]
    tags: list[str]
    env: dict[str, str]
    #: The file as read, so ``--update`` rewrites only the expectations.
    document: dict[str, Any]

    def read_sibling(self, name: str) -> bytes:
        path = self.path.parent / name
        try:
            return path.read_bytes()
        except OSError:
            raise FixtureError(self.path, {"request.eml": f"expected a readable file {name} "
                                                          "beside the fixture"}) from None


def case_name(path: Path, root: Path | None = None) -> str:
    base = root or FIXTURES_DIR
    try:
        return str(path.relative_to(base).with_suffix(""))
    except ValueError:
        return str(path.with_suffix(""))


def load_case(path: Path, root: Path | None = None) -> Case:
    """Read and validate one fixture file (raises :class:`FixtureError`)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise FixtureError(path, f"cannot read the file ({error.strerror})") from None
    except ValueError as error:
        raise FixtureError(path, f"expected JSON ({error})") from None
    if not isinstance(document, dict):
        raise FixtureError(path, "expected a JSON object with description, channel, request, "
                                 "halo and expect")
    try:
        data = CaseSchema().load(document)
    except ValidationError as error:
        raise FixtureError(path, error.messages) from None  # type: ignore[arg-type]
    requests = [("request", data["channel"], data["request"])] + [
        (f"given.{index}.request", step["channel"], step["request"])
        for index, step in enumerate(data["given"])]
    loaded = []
    for field, channel, request in requests:
        try:
            loaded.append(REQUEST_SCHEMAS[channel]().load(request))
        except ValidationError as error:
            raise FixtureError(path, {field: error.messages}) from None
    for step, request in zip(data["given"], loaded[1:]):
        step["request"] = request
    _check_operation(path, data["channel"], loaded[0])
    for (field, channel, _), request in zip(requests, loaded):
        _check_files(path, field, channel, request)
    _check_wildcards(path, "expect.json", data["expect"].get("json"))
    for index, call in enumerate(data["halo"]["calls"]):
        _check_wildcards(path, f"halo.calls.{index}.json", call.get("json"))
    return Case(path=path, name=case_name(path, root), description=data["description"],
                channel=data["channel"], request=loaded[0], halo=data["halo"],
                expect=data["expect"], given=data["given"], tags=data["tags"], env=data["env"],
                document=document)


def _check_operation(path: Path, channel: str, request: dict[str, Any]) -> None:
    if channel != "zapier":
        return
    from connector.harness.zapier import operations

    if request["operation"] not in operations():
        raise FixtureError(path, {"request.operation": f"expected one of "
                                                       f"{', '.join(sorted(operations()))}"})


def _check_files(path: Path, field: str, channel: str, request: dict[str, Any]) -> None:
    name = request.get("eml") if channel in ("email", "mailgun") else None
    if name and not (path.parent / name).is_file():
        raise FixtureError(path, {f"{field}.eml": f"expected a file {name} beside the fixture"})


def _check_wildcards(path: Path, field: str, value: Any) -> None:
    """A misspelt wildcard would silently compare as text: refuse it, naming the known ones."""
    from connector.harness.matching import WILDCARDS

    if isinstance(value, str) and value.startswith("<any") and value not in WILDCARDS:
        raise FixtureError(path, {field: f"unknown wildcard {value}; expected one of "
                                         f"{', '.join(WILDCARDS)}"})
    if isinstance(value, dict):
        for key, item in value.items():
            _check_wildcards(path, f"{field}.{key}", item)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_wildcards(path, f"{field}.{index}", item)


def fixture_files(paths: Iterable[Path | str] = ()) -> list[Path]:
    """Every ``*.json`` fixture under the given files or folders (default: ``fixtures/``)."""
    found: list[Path] = []
    for given in list(paths) or [FIXTURES_DIR]:
        path = Path(given)
        if path.is_dir():
            found += sorted(p for p in path.rglob("*.json") if p.is_file())
        elif path.exists():
            found.append(path)
        else:
            raise FixtureError(path, "no such file or folder")
    return found


def load_cases(paths: Iterable[Path | str] = (), root: Path | None = None) -> list[Case]:
    return [load_case(path, root) for path in fixture_files(paths)]
