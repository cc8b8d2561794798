"""The harness's Zapier rendering agrees with Zapier's own runtime.

Every Zapier fixture's bundle is sent twice to a live connector: once as the harness renders it,
once through zapier-platform-core (tests/zapier/harness_driver.js, an app definition built from
``request_for`` + ``request_template``). Both must reach the connector as the same request.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
import requests

from connector.harness import load_cases
from connector.harness.inbound import HARNESS_API_KEY, build
from connector.harness.zapier import AUTH_TEST, operations, shorthand
from connector.manifests.zapier_requests import me_request, request_for, request_template
from tests.live_connector import Seen, live_connector

ZAPIER_DIR = Path(__file__).parent / "zapier"
NODE = shutil.which("node")
pytestmark = [pytest.mark.node, pytest.mark.slow, pytest.mark.skipif(
    NODE is None or not (ZAPIER_DIR / "node_modules" / "zapier-platform-core").is_dir(),
    reason="needs node and `make tests/zapier/node_modules/.installed` (make test installs both)")]

CASES = [case for case in load_cases() if case.channel == "zapier"]


def comparable(seen: Seen) -> dict:
    body = seen["body"]
    return {"method": seen["method"], "path": seen["path"],
            "query": sorted(parse_qsl(seen["query"], keep_blank_values=True)),
            "json": json.loads(body) if body else None}


def run_in_zapier(runs: list[dict], out: Path) -> list[dict]:
    spec = {
        "requestTemplate": request_template(),
        "authTest": me_request(),
        "operations": {key: {"kind": op.kind, "request": request_for(op)}
                       for key, op in operations().items() if op is not None},
        "runs": runs,
    }
    done = subprocess.run([NODE, str(ZAPIER_DIR / "harness_driver.js"), str(out)],
                          input=json.dumps(spec),
                          capture_output=True, text=True, timeout=120, cwd=ZAPIER_DIR, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(out.read_text())


def bundle_for(case, url: str) -> dict:
    bundle = json.loads(json.dumps(case.request["bundle"]))
    auth = bundle.setdefault("authData", {})
    if auth.get("api_key") in (None, "<api_key>"):
        auth["api_key"] = HARNESS_API_KEY
    auth["base_url"] = url
    return bundle


def test_every_zapier_bundle_reaches_the_connector_the_same_way_from_both_renderers(tmp_path):
    seen: list[Seen] = []
    with live_connector(tmp_path, seen=seen) as url:
        for case in CASES:
            outgoing = build(case, case.request, "zapier", base_url=url, api_key=HARNESS_API_KEY)
            requests.request(outgoing.method, url + outgoing.url_path, data=outgoing.body,
                             headers=outgoing.headers, timeout=10)
        ours = [comparable(s) for s in seen]
        seen.clear()
        answers = run_in_zapier([{"key": c.request["operation"], "bundle": bundle_for(c, url)}
                                 for c in CASES], tmp_path / "zapier_results.json")
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
