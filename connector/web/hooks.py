"""REST-hook subscriptions: ``POST /v1/hooks``, ``DELETE /v1/hooks/<id>``, ``GET /v1/hooks``.

Zapier's ``performSubscribe`` / ``performUnsubscribe`` and Make's ``attach`` / ``detach`` call
these. Subscribing answers 201 with the subscription's ``id`` (kept by Zapier as
``bundle.subscribeData``, by Make as ``webhook.externalHookId``) and, once only, its signing
``secret``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request
from marshmallow import ValidationError, fields, validate
from sqlalchemy import func, select

from connector.errors import InvalidInput, NotFound
from connector.hooks.outbox import EVENTS
from connector.hooks.sender import cancel_pending
from connector.hooks.signing import new_secret
from connector.hooks.targets import TargetRefused
from connector.records import iso
from connector.schemas import InputSchema
from connector.store import HookSubscription
from connector.store.types import utcnow
from connector.web.api import context
from connector.web.bodies import read_fields

bp = Blueprint("hooks", __name__, url_prefix="/v1")
#: Every event is copied to each subscription in the writer's transaction, so a key may not
#: fan one event out without bound.
MAX_SUBSCRIPTIONS = 100


class SubscribeInput(InputSchema):
    event = fields.String(required=True, validate=validate.OneOf(
        EVENTS, error="Unknown event; use one of: " + ", ".join(EVENTS) + "."), metadata={
        "label": "Event", "help": "The trigger whose items are delivered."})
    target_url = fields.String(required=True, metadata={
        "label": "Target URL", "help": "Where each item is POSTed (Zapier's bundle.targetUrl)."})


def subscription_dict(subscription: HookSubscription) -> dict[str, Any]:
    return {"id": subscription.id, "event": subscription.event,
            "target_url": subscription.target_url, "created_at": iso(subscription.created_at)}


@bp.post("/hooks")
def subscribe() -> tuple[Response, int]:
    ctx = context()
    try:
        data = SubscribeInput().load(read_fields(request))
    except ValidationError as error:
        raise InvalidInput.from_fields(error.messages) from None
    hooks = ctx.services.hooks
    assert hooks is not None
    try:
        hooks.check(data["target_url"])
    except TargetRefused as refused:
        raise InvalidInput.from_fields({"target_url": [str(refused)]}) from None
    subscription = HookSubscription(tenant=ctx.tenant, event=data["event"],
                                    target_url=data["target_url"].strip(), secret=new_secret(),
                                    created_at=utcnow(), client=ctx.client)
    with ctx.services.store.session() as session:
        count = session.execute(select(func.count()).select_from(HookSubscription)
                                .where(HookSubscription.tenant == ctx.tenant)).scalar_one()
        if count >= MAX_SUBSCRIPTIONS:
            raise InvalidInput.from_fields({"event": [
                f"This key already has {count} hook subscriptions (the most allowed); remove "
                "unused ones with DELETE /v1/hooks/<id>."]})
        session.add(subscription)
        session.flush()
        body = subscription_dict(subscription)
    return jsonify({**body, "secret": subscription.secret}), 201


@bp.delete("/hooks/<hook_id>")
def unsubscribe(hook_id: str) -> Response:
    """Answers 200 with the removed subscription: Zapier's shorthand ``performUnsubscribe``
    refuses an empty (204) answer ("Response needs to be JSON")."""
    ctx = context()
    with ctx.services.store.session() as session:
        subscription = session.get(HookSubscription, int(hook_id)) if hook_id.isdigit() else None
        if subscription is None or subscription.tenant != ctx.tenant:
            raise NotFound(f"No hook subscription {hook_id}.")
        cancel_pending(session, subscription.id)
        body = {**subscription_dict(subscription), "deleted": True}
        session.delete(subscription)
    return jsonify(body)


@bp.get("/hooks")
def list_subscriptions() -> Response:
    """This tenant's subscriptions, newest first (secrets are never shown again)."""
    ctx = context()
    with ctx.services.store.session() as session:
        rows = session.execute(select(HookSubscription).where(HookSubscription.tenant == ctx.tenant)
                               .order_by(HookSubscription.id.desc())).scalars().all()
        return jsonify([subscription_dict(row) for row in rows])
