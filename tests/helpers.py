"""Small builders shared by the platform tests: records made through the real code paths."""

from __future__ import annotations

import os
from pathlib import Path

from connector.delivery import record_submission
from connector.services import Services
from connector.store.sqlite_writer import LOCK_SUFFIX
from connector.ticket import Customer, TicketRequest
from tests.conftest import API_KEY, HALO, auth


def stub_halo_tickets(halo) -> None:
    """Halo answers every tickets/create (any number of calls) with a ticket id."""
    halo.post(f"{HALO}/tickets/create", json={"id": "halo_t"})


def create_tickets(client, count: int, *, key: str = API_KEY, prefix: str = "Ticket") -> list[dict]:
    """Create ``count`` tickets through the Create Ticket action; their answers, oldest first."""
    made = []
    for number in range(count):
        response = client.post("/v1/actions/create_ticket", headers=auth(key), json={
            "email": f"customer{number}@example.com", "subject": f"{prefix} {number}",
            "external_id": f"{prefix}-{number}"})
        assert response.status_code == 201, response.get_json()
        made.append(response.get_json())
    return made


def record(svc: Services, *, tenant: str = "default", email: str | None = "pat@example.com",
           subject: str = "Hello", channel: str = "webhook", source: str = "typeform",
           event_id: str | None = None) -> int:
    """Store a webhook-style submission (pending, or needing attention without a customer)."""
    request = TicketRequest(subject=subject, customer=Customer(email=email), origin=source,
                            metadata={"plan": "pro"}, event_id=event_id)
    return record_submission(svc.store, tenant=tenant, channel=channel, source=source,
                             raw_body=b"{}", headers={}, content_type="application/json",
                             ticket_request=request, event_id=event_id).submission_id


def open_files(prefix: Path) -> list[str]:
    """Files whose path starts with ``prefix`` that this process holds open, writer-lock files
    aside (Linux: /proc/self/fd). A SQLite file open across a fork can lose the child's commits
    (tests/test_sqlite_writer.py), so forks are checked against this."""
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:  # the listing's own descriptor, closed by now
            continue
        if target.startswith(str(prefix)) and not target.endswith(LOCK_SUFFIX):
            found.append(target)
    return found
