"""Actions and searches, registered explicitly (a test fails if a module here is left out)."""

from __future__ import annotations

from actions import create_ticket, find_ticket, identify_company, identify_user
from connector.operations import Action, Search, by_key

ACTIONS: tuple[Action, ...] = (
    create_ticket.action,
    identify_user.action,
    identify_company.action,
)
SEARCHES: tuple[Search, ...] = (find_ticket.search,)

ACTIONS_BY_KEY = by_key(ACTIONS)
SEARCHES_BY_KEY = by_key(SEARCHES)
