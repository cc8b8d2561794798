"""Body decoding and route templates, the small pieces every adapter leans on."""

from __future__ import annotations

import pytest

from connector.errors import BadRequest
from connector.sources import bodies, templates

from .conftest import corpus


def test_form_bodies_keep_order_and_turn_repeats_into_lists():
    assert bodies.parse_form(b"a=1&b=2&a=3&tags[]=x&empty=") == {"a": ["1", "3"], "b": "2", "tags": ["x"], "empty": ""}


def test_unflatten_nests_double_underscore_keys_and_keeps_blocked_ones_flat():
    assert bodies.unflatten({"customer__email": "a@example.com", "customer__name": "A", "x": 1}) == \
        {"customer": {"email": "a@example.com", "name": "A"}, "x": 1}
    assert bodies.unflatten({"customer": "plain", "customer__email": "a@example.com"}) == \
        {"customer": "plain", "customer__email": "a@example.com"}
    assert bodies.unflatten({"__odd": 1}) == {"__odd": 1}


def test_the_jotform_capture_has_23_parts():
    parts = bodies.parse_multipart(
        corpus("jotform_raw.txt"), "multipart/form-data; boundary=------------------------J1JNT4vbVO4FCC1qLG4HSv")
    assert len(parts) == 23
    assert parts["formID"] == "243231271343446" and parts["action"] == ""


def test_multipart_with_a_foreign_boundary_is_400():
    with pytest.raises(BadRequest, match="no part matches the boundary"):
        bodies.parse_multipart(b"--other\r\n\r\nx\r\n--other--\r\n", "multipart/form-data; boundary=mine")


@pytest.mark.parametrize("content_type, raw, expected", [
    ("application/json; charset=utf-8", b'{"a": 1}', {"a": 1}),
    ("application/vnd.api+json", b'{"a": 1}', {"a": 1}),
    (None, b' {"a": 1}', {"a": 1}),
    ("text/plain", b"a=1", {"a": "1"}),
])
def test_parse_any_by_content_type_or_by_look(content_type, raw, expected):
    assert bodies.parse_any(raw, content_type) == expected


def test_invalid_utf8_json_is_400():
    with pytest.raises(BadRequest, match="Malformed JSON"):
        bodies.parse_json(b'{"a": "\xff"}')


def resolve(values):
    return lambda ref: (values[ref], "text") if ref in values else None


def test_templates_render_references_and_literal_braces():
    assert templates.render("{{x}} {a}: {b} {missing}!", resolve({"a": "A", "b": 2})) == "{x} A: 2 !"


def test_a_template_that_is_one_reference_keeps_the_type():
    assert templates.render_value("{n}", resolve({"n": 4})) == 4
    assert templates.render_value("n={n}", resolve({"n": 4})) == "n=4"
    assert templates.render_value("{gone}", resolve({})) is None


@pytest.mark.parametrize("template", ["{open", "close}", "{}", "{a{b}}"])
def test_broken_templates_are_refused(template):
    with pytest.raises(ValueError):
        templates.parse(template)
