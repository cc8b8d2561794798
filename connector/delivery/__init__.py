"""From stored submission to Halo ticket: durable intake, the queue, the worker and its sweeper.

The records are the source of truth; Huey only wakes workers up. A submission is claimed with an
atomic UPDATE (a lease fenced by its attempt count), so duplicate wake-ups, several workers and a
periodic sweep that re-enqueues lost work are all harmless.
"""

from connector.delivery.intake import Claim, Recorded, record_submission
from connector.delivery.service import Deliveries

__all__ = ["Claim", "Deliveries", "Recorded", "record_submission"]
