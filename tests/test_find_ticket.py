"""Find Ticket: the connector's own ticket records, by each criterion, tenant-scoped."""

from __future__ import annotations

from tests.conftest import OTHER_TENANT_KEY, auth
from tests.helpers import create_tickets, stub_halo_tickets

URL = "/v1/searches/find_ticket"


def test_finds_by_each_criterion_and_answers_a_bare_array(client, halo):
    stub_halo_tickets(halo)
    first, second = create_tickets(client, 2)
    by_id = client.get(URL, query_string={"ticket_id": second["id"]}, headers=auth()).get_json()
    by_external = client.get(URL, query_string={"external_id": "Ticket-0"}, headers=auth()).get_json()
    by_halo = client.get(URL, query_string={"halo_ticket_id": "halo_t"}, headers=auth()).get_json()
    by_email = client.get(URL, query_string={"email": "CUSTOMER1@example.com"}, headers=auth())
    assert by_id == [second] and by_external == [first]
    assert [t["id"] for t in by_halo] == [second["id"], first["id"]]  # newest first
    assert by_email.get_json() == [second]  # an upper-case spelling finds it too


def test_lower_case_search_finds_a_lower_case_address(client, halo):
    stub_halo_tickets(halo)
    made = create_tickets(client, 1)
    found = client.get(URL, query_string={"email": "customer0@example.com"}, headers=auth())
    assert found.get_json() == made


def test_criteria_combine_and_no_match_is_an_empty_array(client, halo):
    stub_halo_tickets(halo)
    create_tickets(client, 2)
    miss = client.get(URL, query_string={"external_id": "Ticket-0", "email": "customer1@example.com"},
                      headers=auth())
    assert miss.status_code == 200 and miss.get_json() == []


def test_limit_caps_the_answer(client, halo):
    stub_halo_tickets(halo)
    made = create_tickets(client, 3)
    found = client.get(URL, query_string={"halo_ticket_id": "halo_t", "limit": "2"}, headers=auth())
    assert [t["id"] for t in found.get_json()] == [made[2]["id"], made[1]["id"]]


def test_another_tenants_tickets_are_never_found(client, halo):
    stub_halo_tickets(halo)
    made = create_tickets(client, 1, key=OTHER_TENANT_KEY)
    assert client.get(URL, query_string={"ticket_id": made[0]["id"]}, headers=auth()).get_json() == []
    assert client.get(URL, query_string={"ticket_id": made[0]["id"]},
                      headers=auth(OTHER_TENANT_KEY)).get_json() == made


def test_no_criterion_or_a_bad_one_is_422(client):
    empty = client.get(URL, query_string={"ticket_id": "", "email": ""}, headers=auth())
    bad = client.get(URL, query_string={"ticket_id": "abc", "limit": "500"}, headers=auth())
    assert empty.status_code == 422 and "ticket_id" in empty.get_json()["message"]
    assert bad.status_code == 422 and set(bad.get_json()["errors"]) == {"ticket_id", "limit"}


def test_a_replayed_find_or_create_finds_the_ticket_instead_of_opening_another(client, halo):
    stub_halo_tickets(halo)
    body = {"email": "pat@example.com", "subject": "Order 7", "external_id": "order-7"}
    assert client.get(URL, query_string={"external_id": "order-7"}, headers=auth()).get_json() == []
    created = client.post("/v1/actions/create_ticket", headers=auth(), json=body).get_json()
    found = client.get(URL, query_string={"external_id": "order-7"}, headers=auth()).get_json()
    assert found == [created] and len(halo.calls) == 1
