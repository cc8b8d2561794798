"""Emails to tickets: find the real customer of notification and forwarded emails.

``parse_email`` (raw RFC 822) or ``parse_mailgun`` (a Mailgun route POST) -> ``resolve`` (who
the customer is, by which rule, and why) -> ``email_to_ticket`` (the TicketRequest).
"""

from __future__ import annotations

from connector.email.forwards import ForwardedEmail, parse_forward
from connector.email.mailgun import parse_mailgun
from connector.email.message import Attachment, ParsedEmail, parse_email
from connector.email.resolve import DEFAULT_ORDER, RULES, Resolution, ResolverConfig, resolve
from connector.email.ticket import email_to_ticket

__all__ = [
    "DEFAULT_ORDER", "RULES", "Attachment", "ForwardedEmail", "ParsedEmail", "Resolution",
    "ResolverConfig", "email_to_ticket", "parse_email", "parse_forward", "parse_mailgun", "resolve",
]
