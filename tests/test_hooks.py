"""REST hooks end to end: subscribe/unsubscribe, the transactional outbox, signed deliveries to
a real local HTTP receiver, retries honouring Retry-After, 410, redirects, DNS rebinding, the
sweeper, and the Huey task."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from app import create_app
from connector.config import corpora_dir
from connector.hooks import outbox
from connector.hooks.sender import HookSender
from connector.hooks.signing import new_secret, signature
from connector.services import Services, services
from connector.store import HookDelivery, HookSubscription, OutboxStatus, Submission
from tests.conftest import OTHER_TENANT_KEY, auth, base_env
from tests.helpers import create_tickets, record, stub_halo_tickets


class Receiver:
    """A real HTTP server on 127.0.0.1 that records what it receives and answers as told."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.answers: list[tuple[int, dict[str, str]]] = []
        self.server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/catch"

    @Request.application
    def _app(self, request: Request) -> Response:
        self.received.append(({k.lower(): v for k, v in request.headers.items()}, request.get_data()))
        status, headers = self.answers.pop(0) if self.answers else (200, {})
        return Response("ok", status=status, headers=headers)

    def close(self) -> None:
        self.server.shutdown()
        self.thread.join(5)


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(timezone.utc) + timedelta(seconds=1)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return base_env(tmp_path, HOOKS_ALLOW_PRIVATE_TARGETS="true")


def subscribe(client, event: str, url: str, key: str | None = None) -> dict:
    response = client.post("/v1/hooks", headers=auth(key) if key else auth(),
                           json={"event": event, "target_url": url})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def outbox_rows(svc: Services) -> list[HookDelivery]:
    with svc.store.session() as session:
        return list(session.execute(select(HookDelivery).order_by(HookDelivery.id)).scalars())


def verify(secret: str, headers: dict[str, str], body: bytes) -> dict:
    return Webhook(secret).verify(body, headers)


# --- subscriptions -------------------------------------------------------------------------------


def test_subscribe_answers_201_with_an_id_and_a_secret_shown_once(client, receiver):
    created = subscribe(client, "new_ticket", receiver.url)
    assert set(created) == {"id", "event", "target_url", "created_at", "secret"}
    assert created["event"] == "new_ticket" and created["target_url"] == receiver.url
    assert created["secret"].startswith("whsec_") and created["created_at"].endswith("Z")
    listed = client.get("/v1/hooks", headers=auth()).get_json()
    assert listed == [{k: v for k, v in created.items() if k != "secret"}]


def test_form_encoded_subscribe_works_too(client, receiver):
    response = client.post("/v1/hooks", headers=auth(), data={"event": "failed_delivery",
                                                             "target_url": receiver.url})
    assert response.status_code == 201


def test_unsubscribe_is_200_with_what_was_removed_then_404_and_other_tenants_cannot_touch_it(client, receiver):
    hook = subscribe(client, "new_ticket", receiver.url)
    assert client.delete(f"/v1/hooks/{hook['id']}", headers=auth(OTHER_TENANT_KEY)).status_code == 404
    removed = client.delete(f"/v1/hooks/{hook['id']}", headers=auth())
    assert removed.status_code == 200 and removed.get_json() == {
        **{key: hook[key] for key in ("id", "event", "target_url", "created_at")}, "deleted": True}
    assert client.delete(f"/v1/hooks/{hook['id']}", headers=auth()).status_code == 404
    assert client.delete("/v1/hooks/not-a-number", headers=auth()).status_code == 404
    assert client.get("/v1/hooks", headers=auth()).get_json() == []


def test_bad_subscriptions_are_422_naming_the_fields(client):
    response = client.post("/v1/hooks", headers=auth(), json={"event": "new_order", "url": "x"})
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"event", "target_url", "url"}
    assert client.post("/v1/hooks", json={}).status_code == 401


# --- the outbox ----------------------------------------------------------------------------------


def test_each_event_writes_outbox_rows_only_for_matching_subscriptions_of_the_tenant(client, svc, halo, receiver):
    stub_halo_tickets(halo)
    subscribe(client, "new_ticket", receiver.url)
    subscribe(client, "new_ticket", receiver.url + "/2")
    subscribe(client, "failed_delivery", receiver.url)
    subscribe(client, "new_submission", receiver.url, key=OTHER_TENANT_KEY)
    create_tickets(client, 1)
    record(svc, email=None)
    record(svc, tenant="other")
    rows = outbox_rows(svc)
    assert [(row.tenant, row.event) for row in rows] == [
        ("default", "new_ticket"), ("default", "new_ticket"), ("default", "failed_delivery"),
        ("other", "new_submission")]
    assert len({row.message_id for row in rows}) == 4


def test_outbox_rows_exist_only_if_the_change_commits_and_only_then_wake_a_worker(client, svc, receiver):
    subscribe(client, "new_submission", receiver.url)
    woken: list[int] = []
    svc.hooks.bind_queue(lambda outbox_id, eta: woken.append(outbox_id))
    with pytest.raises(RuntimeError):
        with svc.store.session() as session:
            submission = Submission(tenant="default", channel="webhook", source="x", headers={},
                                    raw_body=b"", status="pending", attempts=0)
            session.add(submission)
            session.flush()
            outbox.submission_recorded(session, submission)
            assert woken == []  # not before the commit
            raise RuntimeError("the transaction fails after the outbox row was written")
    assert outbox_rows(svc) == [] and woken == []
    record(svc)
    assert woken == [row.id for row in outbox_rows(svc)] and len(woken) == 1


# --- deliveries ----------------------------------------------------------------------------------


def test_delivery_posts_the_polling_item_signed_the_standard_webhooks_way(client, svc, halo, receiver):
    stub_halo_tickets(halo)
    hook = subscribe(client, "new_ticket", receiver.url)
    create_tickets(client, 1)
    (row,) = outbox_rows(svc)
    assert svc.hooks.deliver(row.id) == OutboxStatus.DELIVERED
    (headers, body), = receiver.received
    assert verify(hook["secret"], headers, body) == client.get(
        "/v1/triggers/new_ticket", headers=auth()).get_json()[0]
    assert headers["webhook-id"] == row.message_id and headers["content-type"] == "application/json"
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 60
    with pytest.raises(WebhookVerificationError):
        verify(new_secret(), headers, body)
    with pytest.raises(WebhookVerificationError):
        verify(hook["secret"], headers, body.replace(b"Ticket 0", b"Ticket 1"))
    assert svc.hooks.deliver(row.id) is None  # delivered once, never again


def test_new_submission_and_failed_delivery_items_match_their_triggers(client, svc, receiver):
    submission_hook = subscribe(client, "new_submission", receiver.url)
    failure_hook = subscribe(client, "failed_delivery", receiver.url)
    record(svc, email=None, subject="Nobody")
    for row in outbox_rows(svc):
        svc.hooks.deliver(row.id)
    (h1, b1), (h2, b2) = receiver.received
    submission_item = verify(submission_hook["secret"], h1, b1)
    failure_item = verify(failure_hook["secret"], h2, b2)
    assert submission_item == client.get("/v1/triggers/new_submission", headers=auth()).get_json()[0]
    assert failure_item == client.get("/v1/triggers/failed_delivery", headers=auth()).get_json()[0]


def test_signature_matches_the_published_standard_webhooks_vector():
    vector = json.loads((corpora_dir() / "webhooks" / "signature_test_vectors.json").read_text())
    case = vector["published"]["standard_webhooks"]
    assert signature(case["secret"], case["webhook-id"], int(case["webhook-timestamp"]),
                     case["payload"].encode()) == case["expected_webhook-signature"]
    assert len(base64.b64decode(new_secret()[len("whsec_"):])) == 32


def sender(svc: Services, clock: Clock, **options) -> tuple[HookSender, list]:
    woken: list = []
    hooks = HookSender(svc.store, allow_private=True, clock=clock, rng=lambda: 0.5, **options)
    hooks.bind_queue(lambda outbox_id, eta: woken.append((outbox_id, eta)))
    return hooks, woken


def test_5xx_and_429_are_retried_with_backoff_honouring_retry_after_then_delivered(client, svc, receiver):
    subscribe(client, "new_submission", receiver.url)
    record(svc)
    (row,) = outbox_rows(svc)
    clock = Clock()
    hooks, woken = sender(svc, clock)
    receiver.answers += [(503, {}), (429, {"Retry-After": "120"})]
    assert hooks.deliver(row.id) == OutboxStatus.PENDING
    first_wait = woken[-1][1] - clock.now
    assert timedelta(seconds=1) <= first_wait <= timedelta(seconds=5)  # full jitter below 5 s
    assert hooks.deliver(row.id) is None  # not due yet
    clock.now = woken[-1][1]
    assert hooks.deliver(row.id) == OutboxStatus.PENDING
    assert woken[-1][1] - clock.now == timedelta(seconds=120)  # Retry-After beats the backoff
    clock.now = woken[-1][1]
    assert hooks.deliver(row.id) == OutboxStatus.DELIVERED
    ids = {headers["webhook-id"] for headers, _ in receiver.received}
    assert len(receiver.received) == 3 and ids == {row.message_id}
    (done,) = outbox_rows(svc)
    assert done.attempts == 3 and done.last_status == 200 and done.delivered_at is not None


def test_a_delivery_is_dead_after_the_retry_horizon(client, svc, receiver):
    subscribe(client, "new_submission", receiver.url)
    record(svc)
    (row,) = outbox_rows(svc)
    clock = Clock()
    hooks, _ = sender(svc, clock, retry_seconds=60)
    receiver.answers += [(500, {})] * 10
    statuses = []
    while not statuses or statuses[-1] == OutboxStatus.PENDING:
        statuses.append(hooks.deliver(row.id))
        clock.advance(seconds=30)
    (dead,) = outbox_rows(svc)
    assert statuses[-1] == OutboxStatus.DEAD and 2 <= len(statuses) <= 4
    assert "Gave up" in dead.last_error and dead.last_status == 500
    assert hooks.deliver(row.id) is None


def test_a_retry_after_beyond_the_horizon_gives_up_at_once(client, svc, receiver):
    subscribe(client, "new_submission", receiver.url)
    record(svc)
    (row,) = outbox_rows(svc)
    hooks, _ = sender(svc, Clock(), retry_seconds=600)
    receiver.answers.append((429, {"Retry-After": "3600"}))
    assert hooks.deliver(row.id) == OutboxStatus.DEAD


def test_410_deletes_the_subscription_and_cancels_what_was_waiting_for_it(client, svc, receiver):
    hook = subscribe(client, "new_submission", receiver.url)
    record(svc)
    record(svc)
    first, second = outbox_rows(svc)
    receiver.answers.append((410, {}))
    assert svc.hooks.deliver(first.id) == OutboxStatus.CANCELLED
    assert client.get("/v1/hooks", headers=auth()).get_json() == []
    assert [row.status for row in outbox_rows(svc)] == [OutboxStatus.CANCELLED] * 2
    assert svc.hooks.deliver(second.id) is None and len(receiver.received) == 1
    record(svc)
    assert len(outbox_rows(svc)) == 2  # nothing new for a removed subscription
    assert client.delete(f"/v1/hooks/{hook['id']}", headers=auth()).status_code == 404


def test_redirects_are_not_followed(client, svc, receiver):
    subscribe(client, "new_submission", receiver.url)
    record(svc)
    (row,) = outbox_rows(svc)
    receiver.answers.append((302, {"Location": "http://169.254.169.254/latest/meta-data/"}))
    assert svc.hooks.deliver(row.id) == OutboxStatus.PENDING
    (after,) = outbox_rows(svc)
    assert len(receiver.received) == 1 and "redirect" in after.last_error and after.last_status == 302


def test_delivery_rechecks_the_target_so_dns_rebinding_is_refused(tmp_path, receiver):
    app = create_app(base_env(tmp_path))  # private targets not allowed
    try:
        with app.app_context():
            svc = services()
            svc.hooks.resolve = lambda host, port: ["93.184.216.34"]
            response = app.test_client().post("/v1/hooks", headers=auth(), json={
                "event": "new_submission", "target_url": "http://hooks.example.com/catch"})
            assert response.status_code == 201
            record(svc)
            (row,) = outbox_rows(svc)
            svc.hooks.resolve = lambda host, port: ["127.0.0.1"]  # the name now points inside
            assert svc.hooks.deliver(row.id) == OutboxStatus.DEAD
            assert "127.0.0.1" in outbox_rows(svc)[0].last_error and receiver.received == []
    finally:
        app.extensions["halo_connector"].close()


def test_delivery_connects_to_the_checked_address_and_sends_the_hosts_name(client, svc, receiver):
    svc.hooks.resolve = lambda host, port: ["127.0.0.1"]
    port = receiver.server.server_port
    subscribe(client, "new_submission", f"http://hooks.example.com:{port}/catch")
    record(svc)
    (row,) = outbox_rows(svc)
    assert svc.hooks.deliver(row.id) == OutboxStatus.DELIVERED
    assert receiver.received[0][0]["host"] == f"hooks.example.com:{port}"


def test_an_unreachable_target_is_retried(client, svc, receiver):
    subscribe(client, "new_submission", receiver.url)
    receiver.close()
    record(svc)
    (row,) = outbox_rows(svc)
    assert svc.hooks.deliver(row.id) == OutboxStatus.PENDING
    assert "Could not reach" in outbox_rows(svc)[0].last_error


def test_the_sweeper_re_enqueues_lost_wake_ups_and_expired_leases(client, svc, receiver):
    subscribe(client, "new_submission", receiver.url)
    record(svc)
    record(svc)
    lost, leased = outbox_rows(svc)
    clock = Clock()
    hooks, woken = sender(svc, clock, poster=lambda *args: (_ for _ in ()).throw(SystemExit))
    with svc.store.session() as session:
        session.get(HookDelivery, leased.id).status = OutboxStatus.SENDING
        session.get(HookDelivery, leased.id).lease_until = clock.now + timedelta(seconds=60)
    assert hooks.sweep() == 0  # the first is not overdue yet, the second is leased
    clock.advance(seconds=61)
    assert hooks.sweep() == 2 and sorted(outbox_id for outbox_id, _ in woken) == [lost.id, leased.id]
    svc.hooks._clock = clock
    assert svc.hooks.deliver(leased.id) == OutboxStatus.DELIVERED  # an expired lease is claimable


def test_the_huey_worker_delivers_after_the_commit(tmp_path: Path, receiver):
    app: Flask = create_app(base_env(tmp_path, HOOKS_ALLOW_PRIVATE_TARGETS="true",
                                     WORKER_MODE="embedded"), start_worker=True)
    try:
        client = app.test_client()
        hook = subscribe(client, "new_submission", receiver.url)
        with app.app_context():
            record(services())
        deadline = time.monotonic() + 15
        while not receiver.received and time.monotonic() < deadline:
            time.sleep(0.05)
        (headers, body), = receiver.received
        assert verify(hook["secret"], headers, body)["subject"] == "Hello"
    finally:
        app.extensions["halo_connector"].close()


@pytest.fixture
def tls_receiver(tmp_path: Path) -> Iterator[tuple[Receiver, str]]:
    """A receiver speaking HTTPS with a certificate for hooks.example.com (made by openssl)."""
    import shutil
    import ssl
    import subprocess

    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=hooks.example.com", "-addext", "subjectAltName=DNS:hooks.example.com",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = Receiver()
    server.server.socket = context.wrap_socket(server.server.socket, server_side=True)
    yield server, str(cert)
    server.close()


def test_https_delivery_to_the_pinned_address_verifies_the_certificate_for_the_host_name(tls_receiver):
    from connector.hooks.sender import post
    from connector.hooks.targets import check_target

    server, ca = tls_receiver
    port = server.server.server_port
    target = check_target(f"https://hooks.example.com:{port}/catch", allow_private=True,
                          resolve=lambda host, p: ["127.0.0.1"])
    assert post(target, b"{}", {"Content-Type": "application/json"}, (3, 5), ca_certs=ca).status == 200
    assert server.received[0][0]["host"] == f"hooks.example.com:{port}"
    wrong_name = check_target(f"https://other.example.com:{port}/catch", allow_private=True,
                              resolve=lambda host, p: ["127.0.0.1"])
    with pytest.raises(Exception, match="(?i)certificate|hostname"):
        post(wrong_name, b"{}", {}, (3, 5), ca_certs=ca)
    assert len(server.received) == 1


def test_a_dns_failure_at_delivery_is_retried_not_given_up(client, svc, receiver):
    subscribe(client, "new_submission", receiver.url)
    record(svc)
    (row,) = outbox_rows(svc)

    def nxdomain(host: str, port: int) -> list[str]:
        raise OSError("temporary failure in name resolution")

    svc.hooks.resolve = nxdomain
    with svc.store.session() as session:
        subscription = session.execute(select(HookSubscription)).scalar_one()
        subscription.target_url = "http://hooks.example.com/catch"
    assert svc.hooks.deliver(row.id) == OutboxStatus.PENDING
    assert "could not be resolved" in outbox_rows(svc)[0].last_error


def test_the_sweeper_drops_finished_rows_after_the_retention_period(client, svc, receiver):
    subscribe(client, "new_submission", receiver.url)
    record(svc)
    record(svc)
    delivered, waiting = outbox_rows(svc)
    assert svc.hooks.deliver(delivered.id) == OutboxStatus.DELIVERED
    clock = Clock()
    hooks, _ = sender(svc, clock)
    hooks.sweep()
    assert len(outbox_rows(svc)) == 2
    clock.advance(days=8)
    hooks.sweep()
    assert [row.id for row in outbox_rows(svc)] == [waiting.id]  # unfinished rows are kept


def test_a_tenant_cannot_subscribe_without_bound(client, receiver, monkeypatch):
    from connector.web import hooks as routes

    monkeypatch.setattr(routes, "MAX_SUBSCRIPTIONS", 2)
    subscribe(client, "new_ticket", receiver.url)
    subscribe(client, "new_ticket", receiver.url)
    refused = client.post("/v1/hooks", headers=auth(), json={"event": "new_ticket",
                                                              "target_url": receiver.url})
    assert refused.status_code == 422 and "DELETE /v1/hooks" in refused.get_json()["message"]
    subscribe(client, "new_ticket", receiver.url, key=OTHER_TENANT_KEY)  # per tenant


def test_a_worker_whose_lease_expired_does_not_overwrite_the_worker_that_took_over(client, svc, receiver):
    from connector.hooks.sender import Answer

    subscribe(client, "new_submission", receiver.url)
    record(svc)
    (row,) = outbox_rows(svc)
    clock = Clock()
    takeover, _ = sender(svc, clock)

    def slow_then_failing(*_args) -> Answer:
        clock.advance(seconds=61)  # this worker hangs past its lease...
        assert takeover.deliver(row.id) == OutboxStatus.DELIVERED  # ...and another one delivers
        return Answer(500)

    stalled, _ = sender(svc, clock, poster=slow_then_failing)
    stalled.deliver(row.id)
    (after,) = outbox_rows(svc)
    assert after.status == OutboxStatus.DELIVERED and after.attempts == 2
    assert len(receiver.received) == 1
