"""Make's own JSON Schemas (shared/reference/make-schemas, from Make's VS Code extension), loaded
into one registry, and which of them applies to each generated file (the extension's matching)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from connector.config import shared_dir

#: File-name ending -> schema file, as the extension matches them (most specific first).
SCHEMA_FOR = (
    ("makecomapp.json", "makecomapp.schema.json"),
    ("base.iml.json", "base.json"),
    (".communication.iml.json", "api.json"),
    (".attach.iml.json", "api.json"),
    (".detach.iml.json", "api.json"),
    (".epoch.iml.json", "epoch.json"),
    (".static-params.iml.json", "parameters.json"),
    (".mappable-params.iml.json", "parameters.json"),
    (".params.iml.json", "parameters.json"),
    (".interface.iml.json", "parameters.json"),
    (".samples.iml.json", "samples.json"),
    ("groups.json", "groups.json"),
)


def schemas_dir() -> Path:
    return shared_dir() / "reference" / "make-schemas"


@cache
def registry() -> Registry:
    resources = []
    for path in sorted(schemas_dir().glob("*.json")):
        resources.append((path.name, Resource.from_contents(json.loads(path.read_text()),
                                                            default_specification=DRAFT7)))
    return Registry().with_resources(resources)


def schema_name(relative: str) -> str | None:
    return next((schema for suffix, schema in SCHEMA_FOR if relative.endswith(suffix)), None)


def validator(schema: str) -> Draft7Validator:
    return Draft7Validator({"$ref": schema}, registry=registry())
