"""Faults that only show on a real socket: a hang past the client's timeout and a dropped connection."""

from __future__ import annotations

import concurrent.futures
import time

import pytest
import requests

from tests.sandbox.conftest import AUTH

TICKET = {"email": "jane@example.com", "subject": "Help"}


def tickets(session: requests.Session, base: str) -> list[dict]:
    return session.get(f"{base}/inspect/tickets", timeout=5).json()


def test_a_hang_makes_the_client_time_out_and_creates_nothing(live_server):
    base = live_server()
    with requests.Session() as session:
        with pytest.raises(requests.exceptions.ReadTimeout):
            session.post(f"{base}/api/sdk/tickets/create", json=TICKET,
                         headers={**AUTH, "X-Sandbox-Fault": "hang=0.6"}, timeout=0.2)
        time.sleep(0.6)
        assert tickets(session, base) == []


def test_a_hang_after_storing_leaves_a_ticket_the_client_never_heard_of(live_server):
    base = live_server(faults="hang=0.6:after:path=tickets/create")
    with requests.Session() as session:
        with pytest.raises(requests.exceptions.ReadTimeout):
            session.post(f"{base}/api/sdk/tickets/create", json=TICKET, headers=AUTH, timeout=0.2)
        [stored] = tickets(session, base)
        assert stored["subject"] == "Help"


def test_a_dropped_connection_gives_the_client_a_connection_error_and_creates_nothing(live_server):
    base = live_server(faults="drop:1")
    with requests.Session() as session:
        with pytest.raises(requests.exceptions.ConnectionError):
            session.post(f"{base}/api/sdk/tickets/create", json=TICKET, headers=AUTH, timeout=2)
        assert tickets(session, base) == []
        # The fault is used up; the next call succeeds on a fresh connection.
        assert session.post(f"{base}/api/sdk/tickets/create", json=TICKET, headers=AUTH, timeout=2).status_code == 200


def test_concurrent_requests_are_all_stored(live_server):
    base = live_server()

    def create(n: int) -> int:
        with requests.Session() as session:
            body = {"user_id": f"u{n % 5}", "subject": f"Ticket {n}"}
            return session.post(f"{base}/api/sdk/tickets/create", json=body, headers=AUTH, timeout=5).status_code

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(create, range(40)))
    assert statuses == [200] * 40
    with requests.Session() as session:
        assert len(tickets(session, base)) == 40
        users = session.get(f"{base}/inspect/users", timeout=5).json()
    assert sorted(u["external_id"] for u in users) == [f"u{i}" for i in range(5)]
