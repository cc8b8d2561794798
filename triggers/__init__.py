"""Polling triggers, registered explicitly (a test fails if a module here is left out)."""

from __future__ import annotations

from connector.operations import Trigger, by_key

TRIGGERS: tuple[Trigger, ...] = ()

TRIGGERS_BY_KEY = by_key(TRIGGERS)
