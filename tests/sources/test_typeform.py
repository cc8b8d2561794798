"""Typeform: the docs payload, every answer type, recall in titles, routes over form refs."""

from __future__ import annotations

import json
import tomllib

from connector.sources import SOURCES
from connector.sources.routes import parse_routes

from .conftest import JSON, assert_within_halo_limits, corpus, deliver, hmac_b64, only_ticket, read, sample


def routes(text: str):
    return parse_routes(tomllib.loads(text), SOURCES)


def test_docs_payload_becomes_a_ticket_from_the_respondent():
    raw = corpus("typeform_basic.json")
    ticket = only_ticket(deliver("typeform", raw, {**JSON, "Typeform-Signature": "sha256=" + hmac_b64("s", raw)},
                                 env={"TYPEFORM_SECRET": "s"}))
    assert ticket.customer.email == "laura@example.com"
    assert ticket.customer.name == "Laura"
    assert ticket.customer.resolved_by == "field:readable_ref_email"
    assert ticket.subject == "New Typeform response: Webhooks example"
    assert ticket.origin == "typeform" and ticket.source == "typeform"
    assert ticket.event_id == "LtWXD3crgy"
    body = assert_within_halo_limits(ticket)
    assert body["metadata"]["connector"]["resolved_by"] == "field:readable_ref_email"


def test_every_answer_is_a_line_in_form_order_with_readable_values():
    lines = only_ticket(read("typeform", corpus("typeform_basic.json"))).message.splitlines()
    assert lines[0].startswith("Thanks, …! What's it like where you live?")
    assert "What is your first name?: Laura" in lines
    assert "When did you move to the place where you live?: 2005-10-15" in lines
    assert "Which pictures do you like? You can choose as many as you like.: London, Sydney" in lines
    assert any(line.endswith("will not be shared.: Yes") for line in lines)
    assert "Do you have a favorite city we haven't listed?: No" in lines
    assert lines[-1].endswith("1 is poor, 5 is excellent: 4")
    assert len(lines) == 12


def test_metadata_keeps_types_hidden_fields_variables_and_the_score():
    metadata = only_ticket(read("typeform", corpus("typeform_basic.json"))).metadata
    assert metadata["Which pictures do you like? You can choose as many as you like."] == ["London", "Sydney"]
    assert metadata["Do you have a favorite city we haven't listed?"] is False
    assert metadata["How would you rate the weather where you currently live? 1 is poor weather, 5 is excellent weather."] == 3
    assert metadata["user_id"] == "abc123456"
    assert metadata["score (variable)"] == 4 and metadata["name (variable)"] == "typeform"
    assert metadata["Score (calculated)"] == 9
    assert metadata["typeform"]["response_id"] == "a3a12ec67a1365927098a606107fac15"


def test_hidden_fields_and_variables_stay_out_of_the_message():
    message = only_ticket(read("typeform", corpus("typeform_basic.json"))).message
    assert "abc123456" not in message and "(variable)" not in message


def test_all_answer_types_of_the_constructed_support_form():
    ticket = only_ticket(read("typeform", sample("typeform_with_choices.json")))
    assert ticket.customer.email == "maria.garcia@example.org"
    assert ticket.customer.name == "Maria Garcia"
    meta = ticket.metadata
    assert meta["What is your name?"] == "Maria Garcia"
    assert meta["Your email, Maria Garcia?"] == "maria.garcia@example.org"  # recall {{field:full_name}}
    assert meta["Phone number"] == "+15555550123"
    assert meta["What is it about?"] == "Data export"  # "other" text of a single choice
    assert meta["Which apps are affected?"] == ["Desktop", "Web", "Browser extension"]  # labels, not ids
    assert meta["How urgent is it?"] == 4
    assert meta["May we call you?"] is True
    assert meta["Since when?"] == "2024-05-10"
    assert meta["Your website"] == "https://www.example.com"
    assert meta["Screenshot"].startswith("https://api.typeform.com/responses/files/")
    assert meta["Priority support fee"] == {"amount": "9.00", "last4": "4242", "name": "Maria Garcia", "success": True}
    assert meta["Rank these features"] == ["Search", "Sync", "Export"]
    assert "Anything else?" not in meta
    assert meta["account_id"] == "ACC-20931" and meta["plan"] == "business"
    assert meta["typeform"]["response_url"] == "https://admin.typeform.com/form/sUpp0rt/results#responses"
    lines = ticket.message.splitlines()
    assert "Priority support fee: 9.00, paid by Maria Garcia, card ending 4242, succeeded" in lines
    assert "Tell us what happened:" in lines and "It happens on two machines." in lines
    assert lines[-1] == "Response url: https://admin.typeform.com/form/sUpp0rt/results#responses"


def test_route_maps_fields_by_ref_and_renders_the_subject_template():
    custom = routes(
        '[routes.support]\nsender = "typeform"\nemail = "contact_email"\nuser_id = "account_id"\n'
        'subject = "{form_title}: {topic} ({How urgent is it?}/5)"\nsource = "contact_form"\n'
        'priority = "priority"\nai_enabled = true\nmessage = "{details}"\ninclude_fields = false\n'
        '[routes.support.traits]\nplan = "{plan}"\nurgency = "{urgency}"\nchannel = "web"\n'
        '[routes.support.company]\nid = "{account_id}"\nname = "Example Corp"\n'
    )
    ticket = only_ticket(read("support", sample("typeform_with_choices.json"), routes=custom))
    assert ticket.subject == "Contact support: Data export (4/5)"
    assert ticket.customer.user_id == "ACC-20931" and ticket.customer.email == "maria.garcia@example.org"
    assert ticket.customer.resolved_by == "route:user_id, route:email"
    assert ticket.customer.traits == {"plan": "business", "urgency": 4, "channel": "web"}
    assert ticket.company.company_id == "ACC-20931" and ticket.company.name == "Example Corp"
    assert ticket.message == "Since the 4.2 update the desktop app logs me out every few minutes.\nIt happens on two machines.\n\nResponse url: https://admin.typeform.com/form/sUpp0rt/results#responses"
    body = assert_within_halo_limits(ticket)
    assert body["source"] == "contact_form" and body["priority"] == "priority" and body["ai_enabled"] is True


def test_per_form_override_wins_over_the_route():
    custom = routes(
        '[routes.typeform]\nsubject = "Generic {form_title}"\n'
        '[routes.typeform.forms.sUpp0rt]\nsubject = "Support: {topic}"\nmetadata_keys = "key"\n'
    )
    ticket = only_ticket(read("typeform", sample("typeform_with_choices.json"), routes=custom))
    assert ticket.subject == "Support: Data export"
    assert ticket.metadata["topic"] == "Data export"
    assert ticket.metadata["hidden:plan"] == "business"
    other = only_ticket(read("typeform", corpus("typeform_basic.json"), routes=custom))
    assert other.subject == "Generic Webhooks example"


def test_hidden_email_is_used_when_no_email_question_was_answered():
    data = json.loads(corpus("typeform_basic.json"))
    response = data["form_response"]
    response["answers"] = [a for a in response["answers"] if a["type"] != "email"]
    response["hidden"] = {"email": "hidden.person@example.com"}
    ticket = only_ticket(read("typeform", json.dumps(data).encode()))
    assert ticket.customer.email == "hidden.person@example.com"
    assert ticket.customer.resolved_by == "hidden:email"


def test_no_email_anywhere_is_kept_as_unidentified_with_a_reason():
    data = json.loads(corpus("typeform_basic.json"))
    data["form_response"]["answers"] = [a for a in data["form_response"]["answers"] if a["type"] != "email"]
    processed = read("typeform", json.dumps(data).encode())
    assert processed.status == "accepted"
    item = processed.accepted[0]
    assert not item.ticket_request.customer.identified
    assert item.ticket_request.customer.name == "Laura"
    assert "No customer email or user id in this Typeform event" in item.attention


def test_answers_join_on_ref_when_ids_are_missing_and_unknown_answers_still_count():
    data = {"event_id": "e1", "event_type": "form_response", "form_response": {
        "form_id": "f1", "token": "t1",
        "definition": {"id": "f1", "title": "T", "fields": [{"id": "a", "ref": "mail", "type": "email", "title": "Mail"}]},
        "answers": [
            {"type": "email", "email": "ref.join@example.com", "field": {"ref": "mail", "type": "email"}},
            {"type": "text", "text": "orphan answer", "field": {"id": "zzz", "type": "short_text"}},
        ]}}
    ticket = only_ticket(read("typeform", json.dumps(data).encode()))
    assert ticket.customer.email == "ref.join@example.com"
    assert ticket.metadata["zzz"] == "orphan answer"
