"""How long to wait between attempts: full-jitter exponential backoff that honours Retry-After.

Kept apart from the client so the background worker schedules its (much longer) retries with
the same rules.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime


@dataclass(frozen=True)
class Backoff:
    """``random(0, min(cap, base * 2**attempt))``: AWS's "full jitter", so retries from many
    workers spread out instead of arriving together."""

    base: float = 0.5
    cap: float = 8.0
    #: Never wait less than this, so a retry loop cannot spin.
    floor: float = 0.0

    def delay(self, attempt: int, rng: Callable[[], float] = random.random) -> float:
        ceiling = min(self.cap, self.base * (2 ** max(0, attempt)))
        return max(self.floor, rng() * ceiling)


def parse_retry_after(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Seconds to wait according to ``Retry-After`` (delta-seconds or an HTTP date), or None."""
    raw = headers.get("Retry-After")
    if raw is None:
        return None
    raw = raw.strip()
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)
