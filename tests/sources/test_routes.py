"""The routes file: the documented example loads; every mistake names the route and the key."""

from __future__ import annotations

import tomllib

import pytest

from connector.config import PROJECT_ROOT, load_settings
from connector.errors import ConfigError
from connector.sources import SOURCES, load_routes, routes_from_settings
from connector.sources.routes import parse_routes, secret_variable_for

EXAMPLE = PROJECT_ROOT / "docs" / "routes.example.toml"


def parse(text: str):
    return parse_routes(tomllib.loads(text), SOURCES)


def problems(text: str) -> dict[str, list[str]]:
    with pytest.raises(ConfigError) as info:
        parse(text)
    return info.value.details["problems"]


def test_the_documented_example_loads_and_keeps_every_builtin_sender():
    routes = load_routes(EXAMPLE)
    assert set(SOURCES) <= set(routes.names())
    support = routes.get("support")
    assert support.sender == "typeform"
    assert support.secret_variable == "SUPPORT_FORM_SECRET"
    assert support.tenant == "acme"
    assert support.options.email == "contact_email"
    assert support.options.traits["seats"] == 5
    assert support.options.company.id == "{company_id}"
    assert routes.get("jotform-tutoring").secret_variable == "JOTFORM_TUTORING_SECRET"
    assert routes.get("gravity_forms").options.labels["6"] == "Message"


def test_per_form_overrides_replace_scalars_and_merge_traits():
    support = load_routes(EXAMPLE).get("support")
    form = support.options_for("sUpp0rt")
    assert form.subject == "Priority support: {topic}"
    assert form.priority == "priority"
    assert dict(form.traits) == {"plan": "{plan}", "segment": "support-form", "seats": 5, "tier": "gold"}
    assert form.email == "contact_email"
    assert support.options_for("another-form") is support.options


def test_without_a_file_every_sender_is_a_route_with_its_own_secret_variable():
    routes = load_routes(None)
    for name in SOURCES:
        route = routes.get(name)
        assert route.sender == name
        assert route.secret_variable == f"{name.upper()}_SECRET"


@pytest.mark.parametrize("name, variable", [
    ("support", "SUPPORT_SECRET"), ("support-form", "SUPPORT_FORM_SECRET"), ("google_forms", "GOOGLE_FORMS_SECRET"),
])
def test_secret_variable_convention(name, variable):
    assert secret_variable_for(name) == variable


def test_unknown_key_names_the_route_and_the_key():
    found = problems('[routes.support]\nsender = "typeform"\nsubjct = "x"\n')
    assert found == {"routes.support.subjct": ["Unknown field."]}


def test_unknown_key_in_a_form_override_names_the_form():
    found = problems('[routes.support]\nsender = "typeform"\n[routes.support.forms.abc]\nsender = "tally"\n')
    assert "routes.support.forms.abc.sender" in found


@pytest.mark.parametrize("text, key, fragment", [
    ('[routes.x]\nsender = "typefrom"\n', "routes.x.sender", "Unknown sender 'typefrom'"),
    ('[routes.x]\nsource = "a"\n', "routes.x.sender", "Missing"),
    ('[routes.x]\nsender = "tally"\npriority = "high"\n', "routes.x.priority", "Must be one of"),
    ('[routes.x]\nsender = "tally"\nsubject = "{unclosed"\n', "routes.x.subject", "unclosed"),
    ('[routes.x]\nsender = "tally"\nsubject = "oops}"\n', "routes.x.subject", "unmatched"),
    ('[routes.x]\nsender = "tally"\nai_enabled = "false"\n', "routes.x.ai_enabled", "without quotes"),
    ('[routes.x]\nsender = "tally"\nfallback_email = "nobody"\n', "routes.x.fallback_email", "email"),
    ('[routes.x]\nsender = "github"\nlogins = { octocat = "not-an-email" }\n', "routes.x.logins.octocat", "email"),
    ('[routes.x]\nsender = "tally"\ntraits = { created_at = "{Date}" }\n', "routes.x.traits", "created_at"),
    ('[routes.x]\nsender = "tally"\ntraits = { plan = ["a"] }\n', "routes.x.traits.plan", "Trait values"),
    ('[routes.x]\nsender = "tally"\nsource = "' + "s" * 51 + '"\n', "routes.x.source", "50"),
    ('[routes.x]\nsender = "tally"\nsecret_env = "lower_case"\n', "routes.x.secret_env", "environment variable"),
    ('[routes.x]\nsender = "tally"\ncompany = { name = "Acme" }\n', "routes.x.company.id", "Missing"),
    ('[routes."Bad Name"]\nsender = "tally"\n', 'routes.Bad Name', "lower-case"),
    ('[routes.typeform]\nsender = "tally"\n', "routes.typeform.sender", "built-in"),
])
def test_each_mistake_is_named(text, key, fragment):
    found = problems(text)
    assert key in found, found
    assert fragment in " ".join(found[key])


def test_all_problems_are_reported_at_once():
    found = problems('[routes.a]\nsender = "nope"\n[routes.b]\nsender = "tally"\npriority = "max"\n')
    assert {"routes.a.sender", "routes.b.priority"} <= set(found)


def test_a_misspelt_top_level_table_is_refused():
    assert "route" in problems('[route.support]\nsender = "typeform"\n')


def test_invalid_toml_and_missing_files_are_config_errors(tmp_path):
    broken = tmp_path / "routes.toml"
    broken.write_text("[routes.x\n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_routes(broken)
    with pytest.raises(ConfigError, match="cannot read"):
        load_routes(tmp_path / "missing.toml")


def test_routes_file_variable_must_name_an_existing_file(tmp_path):
    with pytest.raises(ConfigError, match="ROUTES_FILE must be the path of an existing file"):
        load_settings({"ROUTES_FILE": str(tmp_path / "nope.toml")})


def test_routes_from_settings_reads_routes_file(tmp_path):
    path = tmp_path / "routes.toml"
    path.write_text('[routes.contact]\nsender = "tally"\nsource = "contact_form"\n')
    routes = routes_from_settings(load_settings({"ROUTES_FILE": str(path)}))
    assert routes.get("contact").options.source == "contact_form"
    assert "tally" in routes
