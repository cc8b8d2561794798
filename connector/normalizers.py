"""Reading a stored submission into a ticket request, with today's settings and mapping.

Webhooks are acknowledged as soon as their raw body is stored; the worker reads them here
(and ``flask deliveries replay`` reads them again after a mapping fix). Emails are read the same
way on replay. Each channel that stores raw input names its reader here, explicitly; channels
whose request was built from validated operation input (Zapier, Make, API) keep their stored one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from connector.config import Settings
from connector.errors import BadRequest
from connector.store import Submission
from connector.ticket import TicketRequest

#: Where an email's recipient (our mailbox) is kept among the stored headers.
RECIPIENT_HEADER = "x-connector-recipient"


def read_webhook(submission: Submission, settings: Settings, routes: Any) -> TicketRequest:
    """The stored delivery's event (``submission.event_id``) as a ticket request."""
    from connector.sources import interpret

    processed = interpret(submission.source, headers=submission.headers, raw=submission.raw_body,
                          routes=routes)
    accepted = processed.accepted
    for item in accepted:
        if item.event_id == submission.event_id and item.ticket_request is not None:
            return item.ticket_request
    if len(accepted) == 1 and accepted[0].ticket_request is not None:
        return accepted[0].ticket_request
    reason = processed.reason or f"event {submission.event_id} is no longer in the delivery"
    raise BadRequest(f"Nothing to deliver under the current mapping: {reason}")


def read_email(submission: Submission, settings: Settings, routes: Any) -> TicketRequest:
    """Parse, resolve and build the ticket of a stored raw email (or Mailgun post)."""
    from connector.email import ResolverConfig, email_to_ticket, parse_email, resolve
    from connector.web.inbound_email import parse_stored_mailgun

    recipient = (submission.headers or {}).get(RECIPIENT_HEADER)
    if submission.source == "mailgun":
        parsed = parse_stored_mailgun(submission.raw_body, submission.content_type or "")
    else:
        parsed = parse_email(submission.raw_body)
    resolution = resolve(parsed, ResolverConfig.from_settings(settings), recipient=recipient)
    return email_to_ticket(parsed, resolution, recipient=recipient)


Reader = Callable[[Submission, Settings, Any], TicketRequest]

READERS: dict[str, Reader] = {
    "webhook": read_webhook,
    "email": read_email,
}


def renormalize(submission: Submission, settings: Settings, routes: Any = None) -> TicketRequest | None:
    """A fresh TicketRequest from the stored raw input, or None to keep the stored one."""
    reader = READERS.get(submission.channel)
    if reader is None:
        return None
    if routes is None:
        from connector.sources import routes_from_settings

        routes = routes_from_settings(settings)
    return reader(submission, settings, routes)
