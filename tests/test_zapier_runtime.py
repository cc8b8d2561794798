"""The harness's Zapier rendering agrees with Zapier's own runtime.

Every Zapier fixture's bundle is sent twice to a live connector: once as the harness renders it,
once through zapier-platform-core running the generated Zapier app (`flask manifest zapier`,
tests/zapier/run_app.js). Both must reach the connector as the same request.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

import pytest
import requests

from connector.harness import load_cases
from connector.harness.inbound import HARNESS_API_KEY, build, harness_env
from connector.harness.zapier import AUTH_TEST, operations, shorthand
from connector.manifests.files import write_tree
from connector.manifests.zapier import zapier_files
from tests.conftest import base_env
from tests.live_connector import Seen, live_connector
from tests.manifests.runtime import call, run_zapier

pytestmark = [pytest.mark.node, pytest.mark.slow]

CASES = [case for case in load_cases() if case.channel == "zapier"]
GROUPS = {"action": "creates", "search": "searches", "trigger": "triggers"}


def comparable(seen: Seen) -> dict:
    body = seen["body"]
    return {"method": seen["method"], "path": seen["path"],
            "query": sorted(parse_qsl(seen["query"], keep_blank_values=True)),
            "json": json.loads(body) if body else None}


def method_of(operation_key: str) -> str:
    """Where the generated app keeps the operation's perform, as Zapier's backend names it."""
    operation = operations()[operation_key]
    if operation is None:  # the harness's AUTH_TEST
        return "authentication.test"
    return f"{GROUPS[operation.kind]}.{operation_key}.operation.perform"


def bundle_for(case, url: str) -> dict:
    bundle = json.loads(json.dumps(case.request["bundle"]))
    auth = bundle.setdefault("authData", {})
    if auth.get("api_key") in (None, "<api_key>"):
        auth["api_key"] = HARNESS_API_KEY
    auth["base_url"] = url
    return bundle


def test_every_zapier_bundle_reaches_the_connector_the_same_way_from_both_renderers(tmp_path):
    app_dir = tmp_path / "zapier-app"
    write_tree(app_dir, zapier_files())
    seen: list[Seen] = []
    with live_connector(base_env(tmp_path, **harness_env()), seen=seen) as live:
        for case in CASES:
            outgoing = build(case, case.request, "zapier", base_url=live.url, api_key=HARNESS_API_KEY)
            requests.request(outgoing.method, live.url + outgoing.url_path, data=outgoing.body,
                             headers=outgoing.headers, timeout=10)
        ours = [comparable(s) for s in seen]
        seen.clear()
        answers = run_zapier(app_dir, [call(method_of(c.request["operation"]), bundle_for(c, live.url))
                                       for c in CASES])["results"]
        theirs = [comparable(s) for s in seen]
    assert len(answers) == len(CASES)
    assert any(a["ok"] for a in answers), answers[:3]
    assert len(ours) == len(theirs) == len(CASES)
    for case, mine, zapiers in zip(CASES, ours, theirs):
        assert mine == zapiers, case.name
    # Zapier's runtime sent the generated app's headers too
    assert all(s["headers"]["x-halo-connector-client"] == "zapier" for s in seen)


def test_both_renderers_refuse_an_object_inside_a_longer_string(tmp_path):
    from connector.harness.zapier import RenderError, render

    with pytest.raises(RenderError, match="Cannot reliably interpolate"):
        render("id-{{bundle.inputData.metadata}}", {"bundle.inputData.metadata": {"a": 1}})
    assert shorthand(AUTH_TEST)["url"].endswith("/v1/me")
