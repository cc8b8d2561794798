"""REST hooks: instant variants of the polling triggers.

Subscriptions say which trigger's items go to which URL. When a ticket is created, a
submission is recorded or a submission fails, :mod:`~connector.hooks.outbox` writes one outbox
row per matching subscription *in the same transaction*; after the commit a Huey task POSTs it
(:mod:`~connector.hooks.sender`), signed the Standard Webhooks way
(:mod:`~connector.hooks.signing`), to a target checked against SSRF
(:mod:`~connector.hooks.targets`), retried with backoff and swept up if its wake-up was lost.
"""
