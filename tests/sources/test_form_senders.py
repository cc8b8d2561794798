"""JotForm, Google Forms, Gravity Forms, WPForms and Formspree: unsigned senders with a shared secret."""

from __future__ import annotations

import json
import tomllib

import pytest

from connector.errors import BadRequest, Unauthorized
from connector.sources import SOURCES
from connector.sources.routes import parse_routes

from .conftest import JSON, PATH_SECRET, assert_within_halo_limits, corpus, deliver, only_ticket, read, sample

JOTFORM_TYPE = {"Content-Type": "multipart/form-data; boundary=------------------------J1JNT4vbVO4FCC1qLG4HSv"}


def routes(text: str):
    return parse_routes(tomllib.loads(text), SOURCES)


# --- JotForm ----------------------------------------------------------------------------------


def test_jotform_capture_reads_raw_request_never_pretty():
    processed = deliver("jotform", corpus("jotform_raw.txt"), JOTFORM_TYPE, env={"JOTFORM_SECRET": PATH_SECRET},
                        path_secret=PATH_SECRET)
    item = processed.accepted[0]
    ticket = item.ticket_request
    assert item.event_id == "6084250982513018472"
    assert ticket.subject == "New JotForm submission: Tutor Appointment Form"
    assert ticket.customer.name == "Niloth P"
    assert ticket.metadata["Students name"] == {"first": "Niloth", "last": "P"}
    assert ticket.metadata["Type of"] == "Online Tutoring"
    assert ticket.metadata["Identity proof"][1].endswith("/Driving.license.png")
    assert ticket.metadata["jotform"] == {"form_id": "243231271343446", "submission_id": "6084250982513018472",
                                          "username": "UserNiloth"}
    assert "Appointment" not in ticket.metadata and "Date" not in ticket.metadata and "Table" not in ticket.metadata
    assert "Student's Name:" not in ticket.message  # the pretty field is not used
    assert not ticket.customer.identified and item.attention


def test_jotform_route_labels_and_email_sub_fields():
    raw_request = {"q3_name": {"first": "Maria", "last": "Garcia"}, "q4_email": "maria.garcia@example.org",
                   "q5_address": {"addr_line1": "1 Example Street", "addr_line2": "", "city": "Springfield",
                                  "state": "", "postal": "12345", "country": "United States"},
                   "q6_howCan": "The app logs me out.", "q7_dateOf": {"month": "05", "day": "10", "year": "2024"},
                   "q8_topics": ["Login", "Desktop"], "slug": "submit/1"}
    body = (f"formID=991&submissionID=555&formTitle=Support&rawRequest={json.dumps(raw_request)}"
            "&pretty=Name:Maria Garcia, Email:maria.garcia@example.org").encode()
    from urllib.parse import quote

    body = b"&".join(
        part.split(b"=", 1)[0] + b"=" + quote(part.split(b"=", 1)[1].decode()).encode() for part in body.split(b"&"))
    custom = routes('[routes.jotform]\nlabels = { q6_howCan = "How can we help?", q7 = "Date of incident" }\n')
    ticket = only_ticket(read("jotform", body, {"Content-Type": "application/x-www-form-urlencoded"}, routes=custom))
    assert ticket.customer.email == "maria.garcia@example.org" and ticket.customer.resolved_by == "field:q4_email"
    assert ticket.customer.name == "Maria Garcia"
    lines = ticket.message.splitlines()
    assert lines == ["Name: Maria Garcia", "Email: maria.garcia@example.org",
                     "Address: 1 Example Street, Springfield, 12345, United States",
                     "How can we help?: The app logs me out.", "Date of incident: 2024-05-10", "Topics: Login, Desktop"]


def test_jotform_without_raw_request_is_400():
    body = b"--b\r\nContent-Disposition: form-data; name=\"formID\"\r\n\r\n1\r\n--b--\r\n"
    with pytest.raises(BadRequest, match="no rawRequest"):
        read("jotform", body, {"Content-Type": "multipart/form-data; boundary=b"})


def test_jotform_with_a_broken_raw_request_is_400_with_the_parse_error():
    body = b"--b\r\nContent-Disposition: form-data; name=\"rawRequest\"\r\n\r\n{\"q1_a\": \r\n--b--\r\n"
    with pytest.raises(BadRequest, match="Malformed JotForm rawRequest: Expecting value"):
        read("jotform", body, {"Content-Type": "multipart/form-data; boundary=b"})


def test_multipart_without_a_boundary_is_400():
    with pytest.raises(BadRequest, match="no boundary"):
        read("jotform", corpus("jotform_raw.txt"), {"Content-Type": "multipart/form-data"})


def test_jotform_wrong_path_secret_is_401():
    with pytest.raises(Unauthorized):
        deliver("jotform", corpus("jotform_raw.txt"), JOTFORM_TYPE, env={"JOTFORM_SECRET": PATH_SECRET},
                path_secret="wrong-wrong-wrong-wrong")


# --- Google Forms -----------------------------------------------------------------------------


def test_google_forms_apps_script_post_with_the_token_header():
    processed = deliver("google_forms", sample("google_forms_apps_script.json"),
                        {**JSON, "X-Webhook-Token": PATH_SECRET}, env={"GOOGLE_FORMS_SECRET": PATH_SECRET})
    item = processed.accepted[0]
    ticket = item.ticket_request
    assert item.event_id == "ACYDBNjExampleResponseId42"
    assert ticket.subject == "New Google Forms response: Support request"
    assert ticket.customer.email == "maria.garcia@example.org"
    assert ticket.customer.resolved_by == "field:respondentEmail"
    assert ticket.customer.name == "Maria Garcia"
    meta = ticket.metadata
    assert meta["Which platforms?"] == ["macOS", "Windows"]
    assert meta["How bad is it?"] == 4
    assert meta["Screenshot"] == ["https://drive.google.com/open?id=1AbCdEfGhIjKlMnOp"]
    assert meta["Rate each area"] == ["Good", "Poor"]
    assert "What happened?: The app logs me out every few minutes." in ticket.message
    assert_within_halo_limits(ticket)


def test_google_forms_sheet_trigger_named_values():
    ticket = only_ticket(read("google_forms", sample("google_forms_sheet.json")))
    assert ticket.customer.email == "maria.garcia@example.org"
    assert ticket.customer.name == "Maria Garcia"
    assert ticket.metadata["What happened?"] == "The app logs me out every few minutes."
    assert "Timestamp" not in ticket.message


def test_google_forms_custom_script_body_falls_back_to_the_contract():
    body = json.dumps({"formTitle": "Feedback", "email": "maria.garcia@example.org", "message": "Great app"}).encode()
    ticket = only_ticket(read("google_forms", body))
    assert ticket.customer.email == "maria.garcia@example.org"
    assert ticket.message.startswith("Great app")
    assert ticket.subject == "New Google Forms response: Feedback"


# --- Gravity Forms ----------------------------------------------------------------------------


def test_gravity_forms_entry_with_composite_fields():
    custom = routes('[routes.gravity_forms]\nform_title = "Website contact"\n'
                    'labels = { "1" = "Name", "2" = "Email", "3" = "Product", "4" = "Platforms", "5" = "Address", '
                    '"6" = "Message", "7" = "Log file", "8" = "Severity" }\n')
    processed = deliver("gravity_forms", sample("gravity_forms_webhook_all_fields.json"), JSON,
                        env={"GRAVITY_FORMS_SECRET": PATH_SECRET}, path_secret=PATH_SECRET, routes=custom)
    item = processed.accepted[0]
    ticket = item.ticket_request
    assert item.event_id == "entry:1042" and item.form_id == "3"
    assert ticket.subject == "New Gravity Forms entry: Website contact"
    assert ticket.customer.email == "maria.garcia@example.org"
    assert ticket.customer.name == "Maria Garcia"
    assert ticket.metadata["Platforms"] == ["macOS", "Windows"]
    assert ticket.metadata["Address"]["city"] == "Springfield"
    assert ticket.metadata["Severity"] == 4
    assert ticket.metadata["Log file"].endswith("log.txt")
    assert "192.0.2.10" not in json.dumps(ticket.metadata) and "Mozilla" not in json.dumps(ticket.metadata)
    assert ticket.metadata["gravity_forms"]["source_url"] == "https://www.example.com/support/"
    lines = ticket.message.splitlines()
    assert lines[:3] == ["Name: Maria Garcia", "Email: maria.garcia@example.org", "Product: Acme Desktop"]
    assert "Address: 1 Example Street, Springfield, 12345, United States" in lines


def test_gravity_forms_without_labels_reads_field_ids():
    ticket = only_ticket(read("gravity_forms", sample("gravity_forms_webhook_all_fields.json")))
    assert "Field 6: Since the 4.2 update the desktop app logs me out every few minutes." in ticket.message
    assert ticket.customer.resolved_by == "only_email:2"


def test_gravity_forms_form_encoded_select_fields():
    body = b"form_id=3&id=77&your_email=maria.garcia%40example.org&your_question=Why%3F"
    ticket = only_ticket(read("gravity_forms", body, {"Content-Type": "application/x-www-form-urlencoded"}))
    assert ticket.customer.email == "maria.garcia@example.org"
    assert ticket.metadata["Your question"] == "Why?"


# --- WPForms ----------------------------------------------------------------------------------


def test_wpforms_mapped_keys():
    processed = read("wpforms", sample("wpforms_entry.json"))
    item = processed.accepted[0]
    ticket = item.ticket_request
    assert item.event_id == "entry:345" and item.form_id == "12"
    assert ticket.subject == "Logged out every few minutes"
    assert ticket.customer.email == "maria.garcia@example.org" and ticket.customer.name == "Maria Garcia"
    assert ticket.message.splitlines()[0] == "Since the 4.2 update the desktop app logs me out every few minutes."
    assert ticket.metadata["Platforms"] == ["macOS", "Windows"]
    assert ticket.metadata["wpforms"] == {"form_id": "12", "entry_id": "345"}


def test_wpforms_without_a_subject_uses_the_form_name():
    data = json.loads(sample("wpforms_entry.json"))
    del data["subject"], data["message"]
    ticket = only_ticket(read("wpforms", json.dumps(data).encode()))
    assert ticket.subject == "New WPForms entry: Contact support"


# --- Formspree --------------------------------------------------------------------------------


def test_formspree_submission_in_keys_order():
    ticket = only_ticket(read("formspree", sample("formspree_webhook.json")))
    assert ticket.customer.email == "maria.garcia@example.org" and ticket.customer.resolved_by == "field:_replyto"
    assert ticket.customer.name == "Maria Garcia"
    assert ticket.subject == "Logged out every few minutes"
    assert ticket.message.splitlines()[:2] == ["Name: Maria Garcia", "Reply-to: maria.garcia@example.org"]
    assert "_date" not in ticket.metadata


def test_formspree_rest_hook_handshake_echoes_the_hook_secret():
    processed = deliver("formspree", b"", {"X-Hook-Secret": "handshake-value"}, env={"FORMSPREE_SECRET": PATH_SECRET},
                        path_secret=PATH_SECRET)
    assert processed.status == "ignored"
    assert processed.response_headers == {"X-Hook-Secret": "handshake-value"}


def test_formspree_build_hook_with_an_empty_body_is_ignored():
    assert read("formspree", b"", {}).reason == "Formspree build hook (empty body)."
