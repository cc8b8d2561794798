"""Webhooks over HTTP: verify, store once, acknowledge, then the worker creates the ticket."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from pathlib import Path

import pytest
from sqlalchemy import func, select

from connector.config import corpora_dir
from connector.services import services
from connector.store import Status, Submission
from tests.conftest import HALO, base_env

WEBHOOKS = corpora_dir() / "webhooks"
TYPEFORM_SECRET = "typeform-test-secret"
ZAPIER_SECRET = "zapier-path-secret-0123456789"


def typeform_signature(raw: bytes, secret: str = TYPEFORM_SECRET) -> str:
    digest = hmac.new(secret.encode(), raw, hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode()


def github_signature(raw: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return base_env(tmp_path, TYPEFORM_SECRET=TYPEFORM_SECRET, ZAPIER_SECRET=ZAPIER_SECRET,
                    GITHUB_SECRET="github-test-secret")


def submissions(app) -> list[Submission]:
    with app.app_context(), services().store.session() as session:
        return list(session.execute(select(Submission).order_by(Submission.id)).scalars())


def deliver_all(app) -> None:
    with app.app_context():
        svc = services()
        for row in submissions(app):
            svc.deliveries.deliver(row.id)


def post_typeform(client, raw: bytes, signature: str | None = None):
    headers = {"Content-Type": "application/json",
               "Typeform-Signature": signature or typeform_signature(raw)}
    return client.post("/hooks/typeform", data=raw, headers=headers)


def test_a_signed_typeform_response_is_stored_acknowledged_and_delivered(app, client, halo):
    raw = (WEBHOOKS / "typeform_basic.json").read_bytes()
    response = post_typeform(client, raw)
    assert response.status_code == 202, response.get_json()
    assert response.get_json()["status"] == "accepted"
    # stored raw, before anyone read it; the signature is not kept
    [row] = submissions(app)
    assert row.raw_body == raw and row.status == Status.PENDING and row.ticket_request is None
    assert not any("signature" in name for name in row.headers)
    # the worker reads it and creates the ticket from the real customer
    halo.post(f"{HALO}/tickets/create", json={"id": "t_1"})
    deliver_all(app)
    sent = json.loads(halo.calls[0].request.body)
    payload = json.loads(raw)
    assert sent["email"] and not sent["email"].startswith("noreply")
    assert sent["metadata"]["connector"]["event_id"] == payload["event_id"]
    assert submissions(app)[0].status == Status.DELIVERED


def test_the_same_event_twice_is_acknowledged_twice_and_stored_once(app, client):
    raw = (WEBHOOKS / "typeform_basic.json").read_bytes()
    first, second = post_typeform(client, raw), post_typeform(client, raw)
    assert first.status_code == second.status_code == 202
    assert second.get_json()["duplicates"] == 1
    assert second.get_json()["submissions"] == first.get_json()["submissions"]
    assert len(submissions(app)) == 1


def test_a_sender_retry_wakes_a_worker_again_only_while_the_submission_is_pending(app, client, halo):
    """The first request may have died between its insert and its wake-up (tests/faults)."""
    woken: list[int] = []
    with app.app_context():
        services().deliveries.bind_queue(lambda submission_id, eta: woken.append(submission_id))
    raw = (WEBHOOKS / "typeform_basic.json").read_bytes()
    first = post_typeform(client, raw).get_json()["submissions"]
    post_typeform(client, raw)
    assert woken == first * 2
    halo.post(f"{HALO}/tickets/create", json={"id": "t_1"})
    deliver_all(app)
    post_typeform(client, raw)
    assert woken == first * 2  # delivered: nothing to wake anyone for


@pytest.mark.parametrize("signature", ["sha256=AAAA", typeform_signature(b"other body"),
                                       typeform_signature(b"x", "wrong-secret")])
def test_a_bad_signature_is_401_and_nothing_is_stored_or_logged(app, client, caplog, signature):
    raw = (WEBHOOKS / "typeform_basic.json").read_bytes()
    caplog.set_level(logging.INFO)
    response = post_typeform(client, raw, signature)
    assert response.status_code == 401
    assert "TYPEFORM_SECRET" in response.get_json()["message"]
    assert submissions(app) == []
    assert "typeform" in caplog.text
    assert raw.decode()[:200] not in caplog.text and TYPEFORM_SECRET not in caplog.text


def test_a_missing_signature_is_401(app, client):
    response = client.post("/hooks/typeform", data=b"{}", content_type="application/json")
    assert response.status_code == 401


def test_a_sender_without_a_secret_refuses_naming_the_variable_without_a_404(client):
    response = client.post("/hooks/tally", json={"eventId": "x"})
    assert response.status_code == 503
    assert "TALLY_SECRET" in response.get_json()["message"]


def test_an_unknown_sender_is_404(client):
    assert client.post("/hooks/myspace", json={}).status_code == 404


def test_a_malformed_signed_body_is_400_with_the_parse_error_and_kept(app, client):
    raw = b'{"event_id": "x",'
    response = post_typeform(client, raw)
    assert response.status_code == 400
    assert "JSON" in response.get_json()["message"]
    [row] = submissions(app)
    assert row.status == Status.REJECTED and row.raw_body == raw


def test_a_ping_is_answered_2xx_ignored(app, client):
    raw = (WEBHOOKS / "github_ping.json").read_bytes()
    response = client.post("/hooks/github", data=raw, headers={
        "Content-Type": "application/json", "X-GitHub-Event": "ping",
        "X-GitHub-Delivery": "d-1", "X-Hub-Signature-256": github_signature(raw, "github-test-secret")})
    assert response.status_code == 200
    assert response.get_json()["status"] == "ignored"
    assert submissions(app) == []


def test_path_secret_senders_and_the_secret_never_reaches_the_log(app, client, caplog):
    caplog.set_level(logging.DEBUG)
    body = {"email": "pat@example.com", "subject": "From a Zap", "external_id": "row-1"}
    assert client.post(f"/hooks/zapier/{ZAPIER_SECRET}", json=body).status_code == 202
    assert client.post("/hooks/zapier/wrong-secret-0123456789", json=body).status_code == 401
    assert ZAPIER_SECRET not in caplog.text


def test_an_unidentified_customer_needs_attention_until_a_mapping_fix_is_replayed(tmp_path, make_app, halo):
    env = base_env(tmp_path, ZAPIER_SECRET=ZAPIER_SECRET)
    app = make_app(env)
    body = {"contact": "pat@example.com", "other": "also@example.com", "subject": "Hi"}
    assert app.test_client().post(f"/hooks/zapier/{ZAPIER_SECRET}", json=body).status_code == 202
    deliver_all(app)
    [row] = submissions(app)
    assert row.status == Status.NEEDS_ATTENTION and row.status_reason
    # the operator maps the email field and replays it
    routes = tmp_path / "routes.toml"
    routes.write_text('[routes.zapier]\nsender = "zapier"\nemail = "contact"\n')
    fixed = make_app({**env, "ROUTES_FILE": str(routes)})
    result = fixed.test_cli_runner().invoke(args=["deliveries", "replay", str(row.id)])
    assert result.exit_code == 0, result.output
    halo.post(f"{HALO}/tickets/create", json={"id": "t"})
    deliver_all(fixed)
    assert json.loads(halo.calls[0].request.body)["email"] == "pat@example.com"
    assert submissions(fixed)[0].status == Status.DELIVERED


def test_a_body_over_the_cap_is_413(tmp_path, make_app):
    app = make_app(base_env(tmp_path, TYPEFORM_SECRET=TYPEFORM_SECRET, MAX_BODY_BYTES="4096"))
    raw = json.dumps({"pad": "x" * 10_000}).encode()
    assert post_typeform(app.test_client(), raw).status_code == 413


def test_a_database_outage_answers_503_with_retry_after_not_500(app, client):
    from connector.store import Store

    with app.app_context():
        svc = services()
        svc.store.dispose()
        svc.store = Store("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")
    raw = (WEBHOOKS / "typeform_basic.json").read_bytes()
    response = post_typeform(client, raw)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"


def test_each_event_of_a_batch_is_stored_once(app, client):
    raw = json.dumps([{"email": "a@example.com", "subject": "A", "external_id": "1"},
                      {"email": "b@example.com", "subject": "B", "external_id": "2"}]).encode()
    response = client.post(f"/hooks/zapier/{ZAPIER_SECRET}", data=raw, content_type="application/json")
    assert response.status_code == 202
    assert len(response.get_json()["submissions"]) == 2
    with app.app_context(), services().store.session() as session:
        assert session.execute(select(func.count()).select_from(Submission)).scalar() == 2
