"""``lazy_property``: computed on first access, then kept on the instance, with no lock.

Python 3.11's ``functools.cached_property`` takes one lock per property, shared by every
instance of the class (3.12 dropped it). Each webhook body is parsed through such a property,
so request threads parsing different bodies queued on one lock and paid a thread switch for it
(bench/README.md, "A lock on every parse"). These instances belong to one request or one
delivery, so there is nothing to guard: at worst two threads sharing one compute it twice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar, overload

T = TypeVar("T")


class lazy_property(Generic[T]):  # noqa: N801 - used as a decorator, like property
    """Like ``functools.cached_property`` (the value lands in the instance ``__dict__``, so later
    reads never reach the descriptor and frozen dataclasses work), without its lock."""

    def __init__(self, compute: Callable[[Any], T]) -> None:
        self.compute = compute
        self.name = compute.__name__
        self.__doc__ = compute.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> lazy_property[T]: ...

    @overload
    def __get__(self, instance: object, owner: type | None = None) -> T: ...

    def __get__(self, instance: object | None, owner: type | None = None) -> T | lazy_property[T]:
        if instance is None:
            return self
        value = self.compute(instance)
        instance.__dict__[self.name] = value
        return value
