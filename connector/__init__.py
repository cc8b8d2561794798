"""Halo Connector: Zapier, Make, webhooks and email into Halo tickets from the real customer."""

__version__ = "1.0.0"
