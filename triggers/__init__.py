"""Polling triggers, registered explicitly (a test fails if a module here is left out)."""

from __future__ import annotations

from connector.operations import Trigger, by_key
from triggers import failed_delivery, new_submission, new_ticket

TRIGGERS: tuple[Trigger, ...] = (
    new_ticket.trigger,
    new_submission.trigger,
    failed_delivery.trigger,
)

TRIGGERS_BY_KEY = by_key(TRIGGERS)
