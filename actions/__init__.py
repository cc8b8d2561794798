"""Actions and searches, registered explicitly (a test fails if a module here is left out)."""

from __future__ import annotations

from actions import create_ticket
from connector.operations import Action, Search, by_key

ACTIONS: tuple[Action, ...] = (create_ticket.action,)
SEARCHES: tuple[Search, ...] = ()

ACTIONS_BY_KEY = by_key(ACTIONS)
SEARCHES_BY_KEY = by_key(SEARCHES)
