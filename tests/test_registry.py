"""The operation registries: every module registered under its file name, each declaration
complete enough for the Zapier app, the Make app and the OpenAPI document to be generated."""

from __future__ import annotations

import pkgutil
import re
from datetime import datetime

import pytest
from marshmallow import fields

import actions
import triggers
from actions import ACTIONS, SEARCHES
from connector.hooks.outbox import EVENTS
from connector.operations import Operation, Trigger
from triggers import TRIGGERS

ALL: tuple[Operation, ...] = ACTIONS + SEARCHES + TRIGGERS
SMALL_WORDS = {"a", "an", "and", "or", "of", "to", "in", "on", "for", "by", "the"}
TYPES = {"string": str, "integer": int, "number": (int, float), "boolean": bool,
         "datetime": str, "object": dict, "array": list}
FIELD_METADATA = {"label", "help", "choices", "widget", "dict", "list", "group", "hidden",
                  "placeholder"}


def modules(package) -> set[str]:
    return {info.name for info in pkgutil.iter_modules(package.__path__)}


def test_every_module_is_registered_under_its_file_name():
    registered = {op.key for op in ACTIONS + SEARCHES}
    assert modules(actions) == registered
    assert modules(triggers) == {op.key for op in TRIGGERS}
    for op in ALL:
        assert op.perform.__module__.rsplit(".", 1)[-1] == op.key


@pytest.mark.parametrize("op", ALL, ids=lambda op: op.key)
def test_labels_are_title_case_and_short(op):
    assert 2 <= len(op.label) <= 64
    for word in op.label.split():
        assert word[0].isupper() or word in SMALL_WORDS, op.label


@pytest.mark.parametrize("op", TRIGGERS, ids=lambda op: op.key)
def test_trigger_descriptions_follow_zapier_rules(op):
    assert op.description.startswith("Triggers when ") and op.description.endswith(".")


@pytest.mark.parametrize("op", ALL, ids=lambda op: op.key)
def test_every_operation_has_typed_output_fields_and_a_matching_sample(op):
    assert op.output_fields and op.description.endswith(".")
    keys = [field.key for field in op.output_fields]
    assert len(keys) == len(set(keys))
    assert set(op.sample) == set(keys), "sample and output fields must list the same keys"
    for field in op.output_fields:
        assert field.type in TYPES and 2 <= len(field.label) <= 64
        value = op.sample[field.key]
        if value is None:
            continue
        assert isinstance(value, TYPES[field.type]) and not (
            field.type in ("integer", "number") and isinstance(value, bool)), field.key
        if field.type == "datetime":
            assert re.search(r"(Z|[+-]\d\d:\d\d)$", value) and datetime.fromisoformat(
                value.replace("Z", "+00:00"))


@pytest.mark.parametrize("op", ALL, ids=lambda op: op.key)
def test_input_fields_carry_only_known_metadata_with_labels(op):
    for name, field in op.input_schema().fields.items():
        assert set(field.metadata) <= FIELD_METADATA, (name, field.metadata)
        assert field.metadata.get("label"), f"{op.key}.{name} has no label"
        assert field.metadata.get("help", "").strip().lower() != field.metadata["label"].lower()
        if field.metadata.get("dict"):
            assert isinstance(field, fields.Dict) and name in op.input_schema.OBJECT_FIELDS


def test_triggers_with_an_id_and_a_date_field_make_can_order_by():
    for op in TRIGGERS:
        keys = {field.key: field.type for field in op.output_fields}
        assert keys["id"] == "integer" and keys[op.date_field] == "datetime"


def test_every_instant_trigger_is_a_hook_event():
    assert {op.key for op in TRIGGERS if isinstance(op, Trigger) and op.instant} == set(EVENTS)


def test_search_or_create_points_at_a_real_action_with_matching_inputs():
    from actions import ACTIONS_BY_KEY

    pairs = [op for op in SEARCHES if op.search_or_create]
    assert [op.key for op in pairs] == ["find_ticket"]
    for search in pairs:
        pairing = search.search_or_create
        create = ACTIONS_BY_KEY[pairing.create]
        assert pairing.inputs
        for search_field, create_field in pairing.inputs.items():
            assert search_field in search.input_schema().fields
            assert create_field in create.input_schema().fields
        assert [f.key for f in search.output_fields] == [f.key for f in create.output_fields]
