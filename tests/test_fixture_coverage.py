"""The starter set covers every operation, every sender and every email path, and each
operation's declared sample has the same shape as its replayed happy-path answer."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from actions import ACTIONS, SEARCHES
from connector.harness import happy_path_sample, load_cases
from connector.harness.matching import WILDCARDS, differences
from connector.harness.samples import happy_path_file, sample_for
from connector.manifests.make import make_files
from connector.manifests.zapier import zapier_definition
from connector.sources import SOURCES
from triggers import TRIGGERS

OPERATIONS = ACTIONS + SEARCHES + TRIGGERS
CASES = load_cases()
TYPE_OF_WILDCARD = {"<any:int>": int, "<any:number>": (int, float), "<any:str>": str,
                    "<any:bool>": bool, "<any:datetime>": str, "<any:email>": str,
                    "<any:object>": dict, "<any:list>": list}


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.key)
def test_every_operation_has_a_happy_path_and_an_edge_case(operation):
    assert happy_path_file(operation.key).exists()
    replayed = [c for c in CASES if c.channel == "zapier" and c.request["operation"] == operation.key]
    assert len(replayed) >= 2, f"{operation.key}: add an edge case (bad input, Halo 429/5xx, empty)"


def test_every_sender_is_replayed():
    routes = {c.request["route"] for c in CASES if c.channel == "webhook"}
    assert set(SOURCES) <= routes


def test_every_email_path_is_replayed():
    names = {c.name for c in CASES if c.channel in ("email", "mailgun")}
    for expected in ("email/reply_to", "email/forward_outlook", "email/forward_gmail",
                     "email/no_customer", "mailgun/parsed_fields", "mailgun/body_mime"):
        assert expected in names


@pytest.mark.parametrize("wanted", ["halo_429", "halo_503", "missing_customer", "duplicate",
                                    "empty_mapped_fields", "line_items"])
def test_the_notable_edge_cases_are_there(wanted):
    assert any(c.name.rsplit("/", 1)[-1].startswith(wanted) for c in CASES)


def shape(value: Any) -> Any:
    """Keys and value types, wildcards read as the type they stand for."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, str) and value in TYPE_OF_WILDCARD:
        return TYPE_OF_WILDCARD[value]
    return type(value)


def compatible(declared: Any, replayed: Any, path: str = "") -> list[str]:
    if isinstance(declared, dict) and isinstance(replayed, dict):
        problems = [f"{path}.{k}: only in one of them" for k in set(declared) ^ set(replayed)]
        for key in set(declared) & set(replayed):
            if key in ("metadata", "traits"):  # free key/value objects: only the type matters
                continue
            problems += compatible(declared[key], replayed[key], f"{path}.{key}")
        return problems
    if replayed is type(None) or declared is type(None):
        return []  # optional fields: null in one, a value in the other
    wanted = replayed if isinstance(replayed, tuple) else (replayed,)
    if isinstance(declared, type) and any(issubclass(declared, t) for t in wanted):
        return []
    return [f"{path}: declared {declared}, replayed {replayed}"]


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.key)
def test_the_declared_sample_matches_the_replayed_happy_path(operation):
    replayed = happy_path_sample(operation.key)
    assert not compatible(shape(dict(operation.sample)), shape(replayed))


def test_happy_path_samples_keep_their_wildcards_for_ids_and_times():
    sample = happy_path_sample("create_ticket")
    assert sample["id"] in WILDCARDS and sample["created_at"] == "<any:datetime>"
    assert sample["subject"] and sample["customer_email"].endswith("@example.com")



MAKE_SAMPLES = [json.loads(text) for path, text in make_files().items()
                if path.endswith(".samples.iml.json")]
ZAPIER = zapier_definition("https://connector.example.com")


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.key)
def test_the_generated_apps_show_the_replayed_answer(operation):
    """Zapier's ``sample`` and Make's samples are the happy-path answer with its wildcards filled
    from the declared sample: real replayed answers, not hand-written ones."""
    replayed = happy_path_sample(operation.key)
    shown = sample_for(operation)
    assert differences(replayed, shown) == []
    for key, value in replayed.items():
        wildcard = isinstance(value, str) and value in WILDCARDS
        assert shown[key] == (operation.sample[key] if wildcard else value)
    section = {"action": "creates", "search": "searches", "trigger": "triggers"}[operation.kind]
    assert ZAPIER[section][operation.key]["operation"]["sample"] == shown
    assert shown in MAKE_SAMPLES


def test_a_fixture_wildcard_without_a_declared_value_is_refused():
    with pytest.raises(ValueError, match="declared sample has no <any:"):
        sample_for(dataclasses.replace(OPERATIONS[0], sample={}))
