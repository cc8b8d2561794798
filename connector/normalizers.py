"""Re-reading a stored submission with today's mapping, for ``flask deliveries replay``.

Each channel that stores raw input names its normalizer here, explicitly. Channels whose
request was built from validated operation input (Zapier, Make, API) keep their stored request.
"""

from __future__ import annotations

from collections.abc import Callable

from connector.config import Settings
from connector.store import Submission
from connector.ticket import TicketRequest

Normalizer = Callable[[Submission, Settings], TicketRequest]

NORMALIZERS: dict[str, Normalizer] = {}


def renormalize(submission: Submission, settings: Settings) -> TicketRequest | None:
    """A fresh TicketRequest from the stored raw input, or None to keep the stored one."""
    normalizer = NORMALIZERS.get(submission.channel)
    return normalizer(submission, settings) if normalizer else None
