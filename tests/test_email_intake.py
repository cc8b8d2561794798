"""Inbound email over HTTP: raw RFC 822 and Mailgun posts become tickets from the real customer."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from connector.normalizers import renormalize
from connector.services import services
from connector.store import Status, Submission
from tests.conftest import HALO, auth, base_env

SAMPLES = Path(__file__).parent / "email" / "samples"
MAILGUN_KEY = "mailgun-signing-key-for-tests"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return base_env(tmp_path, MAILGUN_SECRET=MAILGUN_KEY, SUPPORT_ADDRESSES="@example.com")


def eml(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def post_email(client, raw: bytes, **headers):
    return client.post("/inbound/email?recipient=support@example.com", data=raw,
                       headers={**auth(), "Content-Type": "message/rfc822", **headers})


def rows(app) -> list[Submission]:
    with app.app_context(), services().store.session() as session:
        return list(session.execute(select(Submission).order_by(Submission.id)).scalars())


def test_a_form_notification_becomes_a_ticket_from_the_submitter(app, client, halo):
    response = post_email(client, eml("formspree_notification_reply_to.eml"))
    assert response.status_code == 202, response.get_json()
    body = response.get_json()
    assert body["status"] == "accepted"
    assert body["customer"]["email"] == "maria.garcia@example.org"
    halo.post(f"{HALO}/tickets/create", json={"id": "t"})
    with app.app_context():
        services().deliveries.deliver(body["submission"])
    sent = json.loads(halo.calls[0].request.body)
    assert sent["email"] == "maria.garcia@example.org"
    assert "noreply@formspree.io" in json.dumps(sent["metadata"])  # the notifier is recorded
    assert sent["metadata"]["connector"]["resolved_by"]


def test_the_same_message_to_the_same_mailbox_is_stored_once(app, client):
    raw = eml("formspree_notification_reply_to.eml")
    first, second = post_email(client, raw), post_email(client, raw)
    assert second.get_json()["duplicate"] and first.get_json()["submission"] == second.get_json()["submission"]
    assert len(rows(app)) == 1


def test_an_email_with_no_customer_is_kept_as_needing_attention(app, client):
    raw = (b"From: Forms <noreply@forms.example.net>\r\nTo: support@example.com\r\n"
           b"Subject: New entry\r\nMessage-ID: <x1@forms.example.net>\r\n\r\nSomeone wrote in.\r\n")
    response = post_email(client, raw)
    assert response.status_code == 202
    assert response.get_json()["status"] == "needs_attention" and response.get_json()["reason"]
    assert rows(app)[0].status == Status.NEEDS_ATTENTION


@pytest.mark.parametrize("raw, reason", [(b"", "empty"), (b"just some words", "email"),
                                         (b"Subject: hi\r\n\r\nno sender\r\n", "From")])
def test_not_an_email_is_400_with_the_reason_and_nothing_is_stored(app, client, raw, reason):
    response = post_email(client, raw)
    assert response.status_code == 400
    assert reason.lower() in response.get_json()["message"].lower()
    assert rows(app) == []


def test_other_content_types_are_415_and_a_key_is_required(client):
    raw = eml("formspree_notification_reply_to.eml")
    assert client.post("/inbound/email", data=raw, headers={**auth(), "Content-Type": "text/plain"}
                       ).status_code == 415
    assert client.post("/inbound/email", data=raw, content_type="message/rfc822").status_code == 401


def test_a_broken_charset_still_decodes(client):
    assert post_email(client, eml("broken_charset.eml")).status_code == 202


# --- Mailgun --------------------------------------------------------------------------------------


def mailgun_fields(**overrides) -> dict[str, str]:
    fields = {k: v for k, v in json.loads((SAMPLES / "mailgun_inbound.json").read_text()).items()
              if not k.startswith("_")}
    fields["timestamp"] = str(int(time.time()))
    fields["token"] = "a" * 50
    fields["signature"] = hmac.new(MAILGUN_KEY.encode(), (fields["timestamp"] + fields["token"]).encode(),
                                   hashlib.sha256).hexdigest()
    fields.update(overrides)
    return fields


def test_a_signed_mailgun_post_finds_the_customer_in_message_headers(app, client):
    response = client.post("/inbound/mailgun", data=mailgun_fields())
    assert response.status_code == 202, response.get_json()
    assert response.get_json()["customer"]["email"] == "maria.garcia@example.org"
    [row] = rows(app)
    # the signature fields are not kept, and the stored post reads back the same way (replay)
    assert b"signature" not in row.raw_body and b'"token"' not in row.raw_body
    with app.app_context():
        again = renormalize(row, services().settings, services().routes)
    assert again.customer.email == "maria.garcia@example.org"


@pytest.mark.parametrize("overrides", [{"signature": "0" * 64}, {"timestamp": "1000000000"},
                                       {"token": ""}])
def test_a_mailgun_post_that_does_not_verify_is_401(app, client, overrides):
    fields = mailgun_fields()
    fields.update(overrides)
    assert client.post("/inbound/mailgun", data=fields).status_code == 401
    assert rows(app) == []


def test_mailgun_without_a_signing_key_refuses_naming_the_variable(tmp_path, make_app):
    app = make_app(base_env(tmp_path))
    response = app.test_client().post("/inbound/mailgun", data=mailgun_fields())
    assert response.status_code == 503 and "MAILGUN_SECRET" in response.get_json()["message"]
