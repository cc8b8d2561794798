"""Zapier, Make and Standard Webhooks: the key/value contract in every encoding."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from connector.errors import BadRequest, Unauthorized

from .conftest import JSON, PATH_SECRET, assert_within_halo_limits, corpus, deliver, only_ticket, read, sample, vectors

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
ZAPIER_FILES = [
    ("zapier_post_form.txt", FORM),
    ("zapier_post_json_unflattened.json", JSON),
    ("zapier_post_json_unflatten_no.json", JSON),
    ("zapier_post_json_wrapped_in_array.json", JSON),
]


@pytest.mark.parametrize("name, headers", ZAPIER_FILES)
def test_every_zapier_encoding_reads_the_same_customer_and_ticket(name, headers):
    processed = deliver("zapier", corpus(name), {**headers, "X-Webhook-Token": PATH_SECRET},
                        env={"ZAPIER_SECRET": PATH_SECRET})
    ticket = only_ticket(processed)
    assert ticket.customer.email == "maria.garcia@example.org"
    assert ticket.customer.name == "Maria Garcia"
    assert ticket.subject == "Logged out every few minutes"
    assert ticket.message.startswith("Since the 4.2 update the desktop app logs me out every few minutes.")
    assert ticket.source == "Typeform: Contact support"
    assert ticket.metadata["Customer email"] == "maria.garcia@example.org"
    assert "Maria Garcia" not in ticket.message  # identity keys stay out of the message
    assert_within_halo_limits(ticket)


def test_zapier_basic_auth_password_is_the_secret():
    auth = "Basic " + base64.b64encode(f"anything:{PATH_SECRET}".encode()).decode()
    processed = deliver("zapier", corpus("zapier_post_json_unflattened.json"), {**JSON, "Authorization": auth},
                        env={"ZAPIER_SECRET": PATH_SECRET})
    assert processed.status == "accepted"


def test_zapier_array_of_several_objects_is_several_events():
    body = json.dumps([{"email": "a@example.com", "message": "one"}, {"email": "b@example.com", "message": "two"}]).encode()
    processed = read("zapier", body)
    assert [i.ticket_request.customer.email for i in processed.accepted] == ["a@example.com", "b@example.com"]
    assert [i.event_id[-2:] for i in processed.accepted] == ["#0", "#1"]
    assert processed.accepted[0].event_id.split("#")[0] == processed.accepted[1].event_id.split("#")[0]


def test_zapier_contract_options():
    body = json.dumps({
        "email": "Maria Garcia <maria.garcia@example.org>", "description": "Help", "priority": "urgent",
        "ai_enabled": "false", "external_id": "zap-run-1", "user_id": "u-42",
        "traits": {"plan": "pro", "created_at": "2020-01-01"}, "company": {"id": "co-1", "name": "Example Corp"},
        "custom_fields": {"product": "Acme", "seats": 3}, "line_items": [{"sku": "A"}, {"sku": "B"}],
    }).encode()
    item = read("zapier", body).accepted[0]
    ticket = item.ticket_request
    assert item.event_id == "zap-run-1"
    assert ticket.customer.email == "maria.garcia@example.org" and ticket.customer.name == "Maria Garcia"
    assert ticket.customer.user_id == "u-42"
    assert ticket.customer.traits == {"plan": "pro"}  # Halo rejects created_at in traits
    assert ticket.company.company_id == "co-1" and ticket.company.name == "Example Corp"
    assert ticket.priority == "priority" and ticket.ai_enabled is False
    assert ticket.subject == "Help"
    assert ticket.metadata["Product"] == "Acme" and ticket.metadata["Seats"] == 3
    assert ticket.metadata["Line items"] == [{"sku": "A"}, {"sku": "B"}]


def test_zapier_empty_or_scalar_bodies_are_400():
    with pytest.raises(BadRequest, match="empty"):
        read("zapier", b"", FORM)
    with pytest.raises(BadRequest, match="empty array"):
        read("zapier", b"[]")
    with pytest.raises(BadRequest, match="object or an array of objects"):
        read("zapier", b'[1, "a"]')


def test_make_suggested_contract():
    processed = deliver("make", corpus("make_http_request.json"), {**JSON, "Authorization": f"Bearer {PATH_SECRET}"},
                        env={"MAKE_SECRET": PATH_SECRET})
    ticket = only_ticket(processed)
    assert ticket.customer.email == "maria.garcia@example.org"
    assert ticket.subject == "Logged out every few minutes"
    assert ticket.priority == "priority"  # "high"
    assert ticket.source == "make"
    assert ticket.metadata["Product"] == "Acme Desktop" and ticket.metadata["Account id"] == "ACC-20931"
    assert ticket.message.splitlines()[-1] == "Account id: ACC-20931"


def test_make_multipart_body():
    body = (b"--m\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\nmaria.garcia@example.org\r\n"
            b"--m\r\nContent-Disposition: form-data; name=\"message\"\r\n\r\nHello from Make\r\n"
            b"--m\r\nContent-Disposition: form-data; name=\"file\"; filename=\"log.txt\"\r\nContent-Type: text/plain\r\n\r\n"
            b"abc\r\n--m--\r\n")
    ticket = only_ticket(read("make", body, {"Content-Type": "multipart/form-data; boundary=m"}))
    assert ticket.customer.email == "maria.garcia@example.org"
    assert ticket.metadata["File"] == {"filename": "log.txt", "content_type": "text/plain", "size": 3}


def test_make_with_no_subject_or_message_gets_a_default_subject():
    ticket = only_ticket(read("make", b'{"email": "maria.garcia@example.org"}'))
    assert ticket.subject == "New Make request"


def test_unknown_content_type_is_400():
    with pytest.raises(BadRequest, match="Cannot read a body of type application/xml"):
        read("make", b"<a/>", {"Content-Type": "application/xml"})


# --- Standard Webhooks --------------------------------------------------------------------------


def _sign(secret: str, msg_id: str, stamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def test_standard_webhooks_envelope_is_unwrapped():
    secret = vectors()["computed"]["standard_webhooks_over_sample"]["secret"]
    raw = sample("standard_webhooks_ticket.json")
    stamp = 1_715_682_600
    headers = {**JSON, "webhook-id": "msg_2bXkSample", "webhook-timestamp": str(stamp),
               "webhook-signature": _sign(secret, "msg_2bXkSample", stamp, raw)}
    item = deliver("standard", raw, headers, env={"STANDARD_SECRET": secret}, now=stamp + 30).accepted[0]
    ticket = item.ticket_request
    assert item.event_id == "msg_2bXkSample" and item.event_type == "submission.created"
    assert ticket.customer.email == "maria.garcia@example.org"
    assert ticket.priority == "priority"
    assert ticket.metadata["Seats"] == 12
    assert ticket.metadata["standard"]["type"] == "submission.created"


def test_standard_webhooks_replay_outside_the_window_is_refused():
    secret = vectors()["computed"]["standard_webhooks_over_sample"]["secret"]
    raw = sample("standard_webhooks_ticket.json")
    stamp = 1_715_682_600
    headers = {**JSON, "webhook-id": "msg_1", "webhook-timestamp": str(stamp),
               "webhook-signature": _sign(secret, "msg_1", stamp, raw)}
    with pytest.raises(Unauthorized, match="5 minutes"):
        deliver("standard", raw, headers, env={"STANDARD_SECRET": secret}, now=stamp + 301)
