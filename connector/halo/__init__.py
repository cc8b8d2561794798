"""Talking to Halo: the HTTP client and the identity tokens it signs."""

from connector.halo.client import HaloClient, TicketCreated, extract_ticket_id

__all__ = ["HaloClient", "TicketCreated", "extract_ticket_id"]
