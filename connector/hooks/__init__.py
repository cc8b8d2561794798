"""REST hooks: instant variants of the polling triggers.

Subscriptions say which trigger's items go to which URL. When a ticket is created, a
submission is recorded or a submission fails, :mod:`~connector.hooks.outbox` writes one outbox
row per matching subscription *in the same transaction*; after the commit a Huey task POSTs it
(:mod:`~connector.hooks.sender`), signed the Standard Webhooks way
(:mod:`~connector.hooks.signing`), to a target checked against SSRF
(:mod:`~connector.hooks.targets`), retried with backoff and swept up if its wake-up was lost.

The contract, as a subscriber sees it:

* ``POST /v1/hooks`` ``{"event": "<trigger key>", "target_url": "https://…"}`` answers 201
  ``{"id", "event", "target_url", "created_at", "secret"}``; the ``whsec_…`` secret is shown
  this once. ``DELETE /v1/hooks/<id>`` answers 204 (404 if the id is not this key's).
* Each delivery is a ``POST`` of one JSON object, exactly an item of
  ``GET /v1/triggers/<event>``, with ``webhook-id`` (the same on every retry of that item),
  ``webhook-timestamp`` (Unix seconds of this attempt) and ``webhook-signature``
  (``v1,`` + base64 HMAC-SHA256 of ``"{id}.{timestamp}.{body}"`` keyed by the secret's base64
  payload): any Standard Webhooks verifier checks it.
* 2xx = delivered. 410 = unsubscribe (the subscription is deleted). Anything else, redirects
  included (never followed), is retried with full-jitter backoff from 5 s to an hour, never
  sooner than ``Retry-After``, for ``HOOKS_RETRY_HOURS`` after the event.
"""
