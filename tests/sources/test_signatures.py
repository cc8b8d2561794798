"""Signature schemes: published and computed vectors pass exactly; every way to be wrong is a 401."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from connector.errors import Unauthorized
from connector.sources import SenderNotConfigured, signatures
from connector.sources.base import Delivery
from connector.sources.signatures import (
    BodyTimestamp,
    HmacSignature,
    HubSpotSignature,
    Secrets,
    SharedSecret,
    StandardWebhooksSignature,
)

from .conftest import JSON, PATH_SECRET, corpus, deliver, vectors

GITHUB = HmacSignature("X-Hub-Signature-256", "GitHub", prefix="sha256=")


def secrets(*values: str, variable: str = "TEST_SECRET") -> Secrets:
    return Secrets(variable, values)


def delivery(raw: bytes, **headers: str) -> Delivery:
    return Delivery.build({k.replace("_", "-"): v for k, v in headers.items()}, raw)


# --- published vectors ---------------------------------------------------------------------


def test_github_published_vector_verifies():
    vector = vectors()["published"]["github"]
    request = Delivery.build({vector["header"]: vector["expected"]}, vector["payload"].encode())
    GITHUB.verify(request, secrets(vector["secret"]), now=0)


def test_github_published_vector_through_the_github_route():
    vector = vectors()["published"]["github"]
    from connector.sources.processing import authenticate
    from .conftest import DEFAULT_ROUTES, settings

    request = Delivery.build({vector["header"]: vector["expected"]}, vector["payload"].encode())
    authenticate(DEFAULT_ROUTES.get("github"), request, settings=settings(GITHUB_SECRET=vector["secret"]), now=0)


def _standard(vector: dict, signature: str | None = None, **overrides: str) -> Delivery:
    headers = {
        "webhook-id": vector["webhook-id"],
        "webhook-timestamp": vector["webhook-timestamp"],
        "webhook-signature": signature or vector["expected_webhook-signature"],
    }
    headers.update({k.replace("_", "-"): v for k, v in overrides.items()})
    return Delivery.build({k: v for k, v in headers.items() if v != "<drop>"}, vector["payload"].encode())


def test_standard_webhooks_published_vector_verifies():
    vector = vectors()["published"]["standard_webhooks"]
    StandardWebhooksSignature().verify(_standard(vector), secrets(vector["secret"]), now=int(vector["webhook-timestamp"]))


def test_standard_webhooks_near_miss_signature_is_refused():
    vector = vectors()["published"]["standard_webhooks"]
    wrong = vector["negative_cases_from_suite"]["wrong_signature_same_prefix"]
    with pytest.raises(Unauthorized, match="No webhook-signature entry matches"):
        StandardWebhooksSignature().verify(_standard(vector, wrong), secrets(vector["secret"]),
                                           now=int(vector["webhook-timestamp"]))


def test_standard_webhooks_rotation_list_passes_when_any_v1_entry_matches():
    vector = vectors()["published"]["standard_webhooks"]
    listed = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v1a,ignoredEd25519== " + vector["expected_webhook-signature"]
    StandardWebhooksSignature().verify(_standard(vector, listed), secrets(vector["secret"]),
                                       now=int(vector["webhook-timestamp"]))


@pytest.mark.parametrize("offset", [-301, 301, -86_400])
def test_standard_webhooks_timestamps_outside_five_minutes_either_way_are_refused(offset):
    vector = vectors()["published"]["standard_webhooks"]
    with pytest.raises(Unauthorized, match="5 minutes"):
        StandardWebhooksSignature().verify(_standard(vector), secrets(vector["secret"]),
                                           now=int(vector["webhook-timestamp"]) + offset)


@pytest.mark.parametrize("offset", [-300, 0, 300])
def test_standard_webhooks_timestamps_inside_the_window_pass(offset):
    vector = vectors()["published"]["standard_webhooks"]
    StandardWebhooksSignature().verify(_standard(vector), secrets(vector["secret"]),
                                       now=int(vector["webhook-timestamp"]) + offset)


@pytest.mark.parametrize("missing", ["webhook_id", "webhook_timestamp", "webhook_signature"])
def test_standard_webhooks_missing_header_is_refused(missing):
    vector = vectors()["published"]["standard_webhooks"]
    with pytest.raises(Unauthorized, match="Missing"):
        StandardWebhooksSignature().verify(_standard(vector, **{missing: "<drop>"}), secrets(vector["secret"]),
                                           now=int(vector["webhook-timestamp"]))


@pytest.mark.parametrize("overrides, message", [
    ({"webhook_timestamp": "1614265330.5"}, "whole seconds"),
    ({"webhook_timestamp": "soon"}, "whole seconds"),
    ({"webhook_id": "msg.with.dots"}, "must not contain"),
])
def test_standard_webhooks_malformed_headers_are_refused(overrides, message):
    vector = vectors()["published"]["standard_webhooks"]
    with pytest.raises(Unauthorized, match=message):
        StandardWebhooksSignature().verify(_standard(vector, **overrides), secrets(vector["secret"]),
                                           now=int(vector["webhook-timestamp"]))


def test_standard_webhooks_signature_list_without_v1_is_malformed():
    vector = vectors()["published"]["standard_webhooks"]
    with pytest.raises(Unauthorized, match="no v1 signature"):
        StandardWebhooksSignature().verify(_standard(vector, "v1a,abc= v2,def="), secrets(vector["secret"]),
                                           now=int(vector["webhook-timestamp"]))


def test_standard_webhooks_svix_headers_are_accepted_too():
    vector = vectors()["published"]["standard_webhooks"]
    request = Delivery.build({"svix-id": vector["webhook-id"], "svix-timestamp": vector["webhook-timestamp"],
                              "svix-signature": vector["expected_webhook-signature"]}, vector["payload"].encode())
    StandardWebhooksSignature().verify(request, secrets(vector["secret"]), now=int(vector["webhook-timestamp"]))


def test_standard_webhooks_secret_that_is_not_base64_names_the_variable():
    vector = vectors()["published"]["standard_webhooks"]
    with pytest.raises(SenderNotConfigured, match="MY_SECRET must be the sender's whsec_"):
        StandardWebhooksSignature().verify(_standard(vector), secrets("whsec_***not base64***", variable="MY_SECRET"),
                                           now=int(vector["webhook-timestamp"]))


def test_standard_webhooks_computed_vector_over_the_typeform_sample():
    vector = vectors()["computed"]["standard_webhooks_over_sample"]
    request = Delivery.build({"webhook-id": vector["webhook-id"], "webhook-timestamp": vector["webhook-timestamp"],
                              "webhook-signature": vector["expected"]}, corpus("typeform_basic.json"))
    StandardWebhooksSignature().verify(request, secrets(vector["secret"]), now=int(vector["webhook-timestamp"]))


# --- computed HMAC vectors over corpus files ------------------------------------------------

HMAC_CASES = {
    "typeform": HmacSignature("Typeform-Signature", "Typeform", encoding="base64", prefix="sha256="),
    "sentry": HmacSignature("Sentry-Hook-Signature", "Sentry"),
    "jira": HmacSignature("X-Hub-Signature", "Jira", prefix="sha256="),
    "github_issue_opened": GITHUB,
}


def _computed(name: str) -> tuple[dict, bytes]:
    vector = vectors()["computed"][name]
    return vector, corpus(vector["sample"].split(" ")[0])


@pytest.mark.parametrize("name", sorted(HMAC_CASES))
def test_computed_vector_verifies_over_the_exact_file_bytes(name):
    vector, raw = _computed(name)
    HMAC_CASES[name].verify(Delivery.build({vector["header"]: vector["expected"]}, raw), secrets(vector["secret"]), 0)


@pytest.mark.parametrize("name", sorted(HMAC_CASES))
def test_wrong_secret_is_refused(name):
    vector, raw = _computed(name)
    with pytest.raises(Unauthorized, match="does not match"):
        HMAC_CASES[name].verify(Delivery.build({vector["header"]: vector["expected"]}, raw), secrets("not-the-secret"), 0)


@pytest.mark.parametrize("name", sorted(HMAC_CASES))
def test_tampered_body_is_refused(name):
    vector, raw = _computed(name)
    tampered = raw.replace(b"e", b"E", 1)
    with pytest.raises(Unauthorized, match="does not match"):
        HMAC_CASES[name].verify(Delivery.build({vector["header"]: vector["expected"]}, tampered),
                                secrets(vector["secret"]), 0)


def test_reserialised_json_is_refused_because_the_raw_bytes_are_signed():
    import json

    vector, raw = _computed("typeform")
    compact = json.dumps(json.loads(raw), separators=(",", ":")).encode()
    with pytest.raises(Unauthorized):
        HMAC_CASES["typeform"].verify(Delivery.build({vector["header"]: vector["expected"]}, compact),
                                      secrets(vector["secret"]), 0)


def test_github_legacy_sha1_vector_verifies():
    vector, raw = _computed("github_issue_opened")
    legacy = HmacSignature("X-Hub-Signature", "GitHub", digest="sha1", prefix="sha1=")
    legacy.verify(Delivery.build({vector["legacy_header"]: vector["legacy_expected"]}, raw), secrets(vector["secret"]), 0)


@pytest.mark.parametrize("header_value, message", [
    ("757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17", "must start with sha256="),
    ("sha256=", "no signature after the prefix"),
    ("sha1=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17", "must start with sha256="),
])
def test_malformed_prefixed_headers_are_refused(header_value, message):
    with pytest.raises(Unauthorized, match=message):
        GITHUB.verify(Delivery.build({"X-Hub-Signature-256": header_value}, b"Hello, World!"),
                      secrets("It's a Secret to Everybody"), 0)


def test_hex_signatures_compare_case_insensitively():
    vector = vectors()["published"]["github"]
    upper = "sha256=" + vector["expected"].split("=", 1)[1].upper()
    GITHUB.verify(Delivery.build({vector["header"]: upper}, vector["payload"].encode()), secrets(vector["secret"]), 0)


def test_every_comparison_goes_through_compare_digest(monkeypatch):
    calls = []
    real = hmac.compare_digest

    def spy(a, b):
        calls.append((type(a), type(b)))
        return real(a, b)

    monkeypatch.setattr(signatures.hmac, "compare_digest", spy)
    vector = vectors()["published"]["github"]
    GITHUB.verify(Delivery.build({vector["header"]: vector["expected"]}, vector["payload"].encode()),
                  secrets(vector["secret"]), 0)
    assert calls and all(kinds == (bytes, bytes) for kinds in calls)


def test_a_previous_secret_still_verifies_during_rotation():
    vector = vectors()["published"]["github"]
    GITHUB.verify(Delivery.build({vector["header"]: vector["expected"]}, vector["payload"].encode()),
                  secrets("the-new-secret", vector["secret"]), 0)


# --- Linear: signature plus a 60 s body timestamp --------------------------------------------

LINEAR = HmacSignature("Linear-Signature", "Linear", timestamp=BodyTimestamp("webhookTimestamp", 60))


def _linear(now_offset: float) -> None:
    vector, raw = _computed("linear")
    stamp = 1681207816078 / 1000
    LINEAR.verify(Delivery.build({vector["header"]: vector["expected"]}, raw), secrets(vector["secret"]),
                  now=stamp + now_offset)


@pytest.mark.parametrize("offset", [-60, 0, 59.9])
def test_linear_computed_vector_inside_the_window_passes(offset):
    _linear(offset)


@pytest.mark.parametrize("offset", [-61, 61, 3600])
def test_linear_stale_or_future_timestamp_is_refused_even_with_a_valid_signature(offset):
    with pytest.raises(Unauthorized, match="60 s"):
        _linear(offset)


def test_linear_body_without_timestamp_is_refused():
    body = b'{"action":"create","type":"Issue","data":{}}'
    request = Delivery.build({"Linear-Signature": hmac.new(b"k", body, hashlib.sha256).hexdigest()}, body)
    with pytest.raises(Unauthorized, match="no numeric webhookTimestamp"):
        LINEAR.verify(request, secrets("k"), now=0)


# --- Tally: raw body, or the compact re-serialisation it documents ---------------------------

TALLY = HmacSignature("Tally-Signature", "Tally", encoding="base64", also_compact_json=True)


def test_tally_signature_over_the_compact_json_accepts_a_pretty_printed_body():
    import json

    raw = corpus("tally_all_field_types.json")
    compact = json.dumps(json.loads(raw), separators=(",", ":"), ensure_ascii=False).encode()
    signature = base64.b64encode(hmac.new(b"tally-secret", compact, hashlib.sha256).digest()).decode()
    TALLY.verify(Delivery.build({"Tally-Signature": signature}, raw), secrets("tally-secret"), 0)
    TALLY.verify(Delivery.build({"Tally-Signature": signature}, compact), secrets("tally-secret"), 0)
    with pytest.raises(Unauthorized):
        TALLY.verify(Delivery.build({"Tally-Signature": signature}, raw.replace(b"Hello", b"Howdy")),
                     secrets("tally-secret"), 0)


# --- HubSpot ---------------------------------------------------------------------------------

HUB_URL = "https://connector.example.com/hooks/hubspot?portal=33&note=a%3Ab"
HUB_BODY = b'[{"objectId":1,"eventId":2,"subscriptionType":"contact.creation","occurredAt":1715682600000}]'


def _hub_v3(secret: str, stamp: int, url: str = HUB_URL, body: bytes = HUB_BODY, method: str = "POST") -> str:
    decoded = url.replace("%3A", ":")  # HubSpot decodes %3A before signing
    message = method.encode() + decoded.encode() + body + str(stamp).encode()
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def _hub_request(headers: dict[str, str], url: str = HUB_URL, body: bytes = HUB_BODY) -> Delivery:
    return Delivery.build(headers, body, method="POST", url=url)


def test_hubspot_v3_signature_over_method_uri_body_and_timestamp():
    stamp = 1_715_682_600_000
    request = _hub_request({"X-HubSpot-Signature-v3": _hub_v3("client-secret", stamp),
                            "X-HubSpot-Request-Timestamp": str(stamp)})
    HubSpotSignature().verify(request, secrets("client-secret"), now=stamp / 1000 + 120)


@pytest.mark.parametrize("offset", [301, -301])
def test_hubspot_v3_outside_five_minutes_is_refused(offset):
    stamp = 1_715_682_600_000
    request = _hub_request({"X-HubSpot-Signature-v3": _hub_v3("client-secret", stamp),
                            "X-HubSpot-Request-Timestamp": str(stamp)})
    with pytest.raises(Unauthorized, match="5 minutes"):
        HubSpotSignature().verify(request, secrets("client-secret"), now=stamp / 1000 + offset)


def test_hubspot_v3_signed_for_another_url_is_refused():
    stamp = 1_715_682_600_000
    request = _hub_request({"X-HubSpot-Signature-v3": _hub_v3("client-secret", stamp, url="https://evil.example.com/x"),
                            "X-HubSpot-Request-Timestamp": str(stamp)})
    with pytest.raises(Unauthorized, match="does not match"):
        HubSpotSignature().verify(request, secrets("client-secret"), now=stamp / 1000)


def test_hubspot_v3_without_timestamp_is_refused():
    request = _hub_request({"X-HubSpot-Signature-v3": _hub_v3("client-secret", 1)})
    with pytest.raises(Unauthorized, match="X-HubSpot-Request-Timestamp"):
        HubSpotSignature().verify(request, secrets("client-secret"), now=0)


def test_hubspot_v1_is_a_plain_sha256_of_secret_and_body():
    signature = hashlib.sha256(b"client-secret" + HUB_BODY).hexdigest()
    HubSpotSignature().verify(_hub_request({"X-HubSpot-Signature": signature}), secrets("client-secret"), now=0)
    with pytest.raises(Unauthorized):
        HubSpotSignature().verify(_hub_request({"X-HubSpot-Signature": signature}), secrets("other"), now=0)


def test_hubspot_v2_covers_method_and_uri():
    signature = hashlib.sha256(b"client-secret" + b"POST" + HUB_URL.replace("%3A", ":").encode() + HUB_BODY).hexdigest()
    headers = {"X-HubSpot-Signature": signature, "X-HubSpot-Signature-Version": "v2"}
    HubSpotSignature().verify(_hub_request(headers), secrets("client-secret"), now=0)


# --- shared secrets (senders that cannot sign) ----------------------------------------------


@pytest.mark.parametrize("headers, path", [
    ({}, PATH_SECRET),
    ({"X-Webhook-Token": PATH_SECRET}, None),
    ({"Authorization": f"Bearer {PATH_SECRET}"}, None),
    ({"Authorization": "Basic " + base64.b64encode(f"zapier:{PATH_SECRET}".encode()).decode()}, None),
])
def test_shared_secret_in_path_header_bearer_or_basic_auth(headers, path):
    request = Delivery.build(headers, b"{}", path_secret=path)
    SharedSecret().verify(request, secrets(PATH_SECRET), 0)


def test_wrong_shared_secret_is_refused_without_echoing_anything():
    request = Delivery.build({"X-Webhook-Token": "guess-guess-guess-guess"}, b"{}")
    with pytest.raises(Unauthorized) as info:
        SharedSecret().verify(request, secrets(PATH_SECRET), 0)
    assert PATH_SECRET not in info.value.message and "guess" not in info.value.message


def test_a_short_shared_secret_is_a_configuration_error_not_a_401():
    request = Delivery.build({}, b"{}", path_secret="short")
    with pytest.raises(SenderNotConfigured, match="JOTFORM_SECRET must be at least 16 characters") as info:
        SharedSecret().verify(request, secrets("short", variable="JOTFORM_SECRET"), 0)
    assert info.value.status == 503


# --- through process(): missing credentials and messages -------------------------------------


def test_missing_signature_header_is_a_401_naming_the_header():
    with pytest.raises(Unauthorized, match="Missing the Typeform-Signature header") as info:
        deliver("typeform", corpus("typeform_basic.json"), JSON, env={"TYPEFORM_SECRET": "typeform-test-secret"})
    assert info.value.status == 401


def test_unauthorized_messages_name_the_variable_but_never_the_secret_or_signature():
    vector = vectors()["computed"]["typeform"]
    with pytest.raises(Unauthorized) as info:
        deliver("typeform", corpus("typeform_basic.json"), {**JSON, "Typeform-Signature": vector["expected"]},
                env={"TYPEFORM_SECRET": "a-different-secret"})
    message = info.value.message
    assert "TYPEFORM_SECRET" in message
    assert "a-different-secret" not in message and vector["expected"] not in message


def test_unsigned_senders_without_any_secret_get_a_401_listing_the_ways_to_send_it():
    with pytest.raises(Unauthorized, match="secret in the URL"):
        deliver("jotform", corpus("jotform_raw.txt"), {}, env={"JOTFORM_SECRET": PATH_SECRET})
