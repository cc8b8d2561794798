"""The JSON inspection views, the reset control and the HTML ticket page."""

from __future__ import annotations

import pytest


def test_inspected_tickets_are_newest_first_with_the_resolved_customer(sandbox):
    sandbox.post("users/identify", {"user_id": "u1", "traits": {"name": "Jane Doe", "email": "jane@example.com"}})
    sandbox.ticket(user_id="u1", subject="First", metadata={"form": "contact"}, source="contact_form")
    sandbox.ticket(email="bob@example.com", name="Bob", subject="Second", priority="priority", ai_enabled=True)
    newest, oldest = sandbox.inspect("tickets")
    assert (newest["subject"], oldest["subject"]) == ("Second", "First")
    assert (oldest["customer_name"], oldest["customer_email"]) == ("Jane Doe", "jane@example.com")
    assert oldest["user"]["external_id"] == "u1"
    assert oldest["metadata"] == {"form": "contact"} and oldest["source"] == "contact_form"
    assert (newest["priority"], newest["ai_enabled"]) == ("priority", True)
    for key in ("id", "org_id", "created_at", "message", "request"):
        assert key in newest


@pytest.mark.parametrize("what", ["tickets", "users", "companies", "events"])
def test_every_inspection_view_honours_limit(sandbox, what):
    for n in range(3):
        sandbox.ticket(user_id=f"u{n}")
        sandbox.post("companies/identify", {"company_id": f"c{n}"})
        sandbox.post("events", {"events": [{"event_type": f"e{n}"}]})
    assert len(sandbox.inspect(what)) == 3
    assert len(sandbox.inspect(what, limit=2)) == 2


@pytest.mark.parametrize("limit", ["0", "-1", "many", "100001"])
def test_a_bad_limit_is_a_400(sandbox, limit):
    assert sandbox.client.get("/sandbox/inspect/tickets", query_string={"limit": limit}).status_code == 400


def test_inspection_can_be_narrowed_to_one_org(sandbox):
    from connector.sandbox.store import org_id_for_key

    sandbox.post("tickets/create", {"email": "a@example.com", "subject": "A"}, key="ab_live_one")
    sandbox.post("tickets/create", {"email": "a@example.com", "subject": "B"}, key="ab_live_two")
    [only] = sandbox.inspect("tickets", org_id=org_id_for_key("ab_live_two"))
    assert only["subject"] == "B"


def test_reset_wipes_all_data(sandbox):
    sandbox.ticket()
    sandbox.post("companies/identify", {"company_id": "c1"})
    sandbox.post("events", {"events": [{"event_type": "a"}]})
    assert sandbox.client.post("/sandbox/control/reset").status_code == 200
    for what in ("tickets", "users", "companies", "events"):
        assert sandbox.inspect(what) == []


def test_the_page_is_readable_with_zero_tickets(sandbox):
    response = sandbox.client.get("/sandbox/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "Halo sandbox" in html
    assert "No tickets yet" in html
    assert "/sandbox/api/sdk/tickets/create" in html


def test_the_page_lists_tickets_newest_first_with_their_details(sandbox):
    sandbox.ticket(email="jane@example.com", name="Jane Doe", subject="Older one", source="contact_form",
                   metadata={"plan": "pro", "answers": {"q1": "yes"}})
    sandbox.ticket(user_id="user-42", subject="Newer one", priority="priority", ai_enabled=True)
    html = sandbox.client.get("/sandbox/").get_data(as_text=True)
    assert html.index("Newer one") < html.index("Older one")
    for text in ("Jane Doe", "jane@example.com", "user-42", "contact_form", "plan", "pro", "&#34;q1&#34;",
                 "AI reply on", "AI reply off", "2 tickets"):
        assert text in html, text


def test_the_page_escapes_ticket_content(sandbox):
    evil = "<script>alert('x')</script>"
    sandbox.ticket(email="a@example.com", name=evil, subject=evil, message=evil + " body",
                   source="<b>src</b>", metadata={evil: evil})
    html = sandbox.client.get("/sandbox/").get_data(as_text=True)
    assert "<script>" not in html
    assert "<b>src</b>" not in html
    assert "&lt;script&gt;" in html
