"""``lazy_property``: computed once per instance, kept in its ``__dict__``, and never making one
instance wait for another (Python 3.11's ``functools.cached_property`` does: one lock per
property for the whole class, so every webhook parse in a process queued behind the others)."""

from __future__ import annotations

import threading
from dataclasses import FrozenInstanceError, dataclass

import pytest

from connector.lazy import lazy_property
from connector.sources.base import Delivery


@dataclass(frozen=True)
class Parsed:
    raw: str
    calls: list[str]

    @lazy_property
    def upper(self) -> str:
        """The raw text in capitals."""
        self.calls.append(self.raw)
        return self.raw.upper()


def test_computed_once_and_kept_on_a_frozen_instance() -> None:
    item = Parsed("abc", [])
    assert item.upper == "ABC"
    assert item.upper == "ABC"
    assert item.calls == ["abc"]
    assert item.__dict__["upper"] == "ABC"
    with pytest.raises(FrozenInstanceError):
        item.raw = "other"  # type: ignore[misc]


def test_each_instance_has_its_own_value() -> None:
    calls: list[str] = []
    first, second = Parsed("one", calls), Parsed("two", calls)
    assert (first.upper, second.upper, first.upper) == ("ONE", "TWO", "ONE")
    assert calls == ["one", "two"]


def test_the_class_attribute_is_the_descriptor_with_its_docstring() -> None:
    assert isinstance(Parsed.upper, lazy_property)
    assert Parsed.upper.__doc__ == "The raw text in capitals."


def test_one_instance_computing_does_not_hold_up_another() -> None:
    """A slow computation on one instance (a large body parsing) must not block a second
    instance in another thread: with a class-wide lock the second thread waits for the first."""
    started, release = threading.Event(), threading.Event()

    class Slow:
        def __init__(self, blocks: bool) -> None:
            self.blocks = blocks

        @lazy_property
        def value(self) -> str:
            if self.blocks:
                started.set()
                assert release.wait(10), "the test never released the slow computation"
            return "done"

    results: dict[str, str] = {}
    slow = threading.Thread(target=lambda: results.setdefault("slow", Slow(True).value))
    slow.start()
    try:
        assert started.wait(5)
        fast = threading.Thread(target=lambda: results.setdefault("fast", Slow(False).value))
        fast.start()
        fast.join(2)
        assert results.get("fast") == "done", "the second instance waited for the first"
    finally:
        release.set()
        slow.join(5)
    assert results == {"slow": "done", "fast": "done"}


def test_delivery_parses_its_body_once() -> None:
    delivery = Delivery.build({"Content-Type": "application/json"}, b'{"a": [1, 2]}')
    assert delivery.json is delivery.json == {"a": [1, 2]}
    assert delivery.body is delivery.body
    assert delivery.mime == "application/json"
