"""The long-lived objects one process shares: settings, store, Halo client, deliveries, queue.

Built once by ``create_app`` and reachable from any request or CLI command through
:func:`services`, so views and operations never build clients or engines themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from huey import Huey

from connector.config import Settings
from connector.delivery.queue import EmbeddedWorker, connect, make_huey
from connector.delivery.service import Deliveries
from connector.halo import HaloClient
from connector.hooks.sender import HookSender
from connector.normalizers import renormalize
from connector.sources import Routes, routes_from_settings
from connector.store import Store

EXTENSION_KEY = "halo_connector"


@dataclass
class Services:
    settings: Settings
    store: Store
    halo: HaloClient
    deliveries: Deliveries
    huey: Huey
    worker: EmbeddedWorker
    hooks: HookSender | None = None
    #: The webhook routes (ROUTES_FILE, or every sender under its own name), loaded once.
    routes: Routes | None = None

    def close(self) -> None:
        self.worker.stop()
        self.store.dispose()

    def release_connections(self) -> None:
        """Close the database and queue connections opened so far (the engines and the queue
        stay usable and reconnect on next use), so a process forked from this one opens its
        own instead of sharing a socket or a SQLite handle with its parent."""
        self.store.dispose()
        self.huey.storage.close()


def build_services(settings: Settings, *, migrate: bool = True) -> Services:
    store = Store(settings.database_url)
    if migrate:
        store.migrate()
    halo = HaloClient.from_settings(settings)
    routes = routes_from_settings(settings)
    deliveries = Deliveries(store, halo, retry_seconds=settings.delivery_retry_seconds,
                            ambiguous=settings.ambiguous_delivery,
                            lease_seconds=settings.delivery_lease_seconds,
                            reader=lambda submission: renormalize(submission, settings, routes))
    hooks = HookSender(store, allow_private=settings.hooks_allow_private_targets,
                       retry_seconds=settings.hooks_retry_seconds)
    hooks.attach()
    huey = make_huey(settings)
    connect(huey, deliveries, hooks)
    return Services(settings, store, halo, deliveries, huey, EmbeddedWorker(huey, deliveries), hooks,
                    routes)


def services() -> Services:
    """The current app's services (inside a request or an app context)."""
    return current_app.extensions[EXTENSION_KEY]
