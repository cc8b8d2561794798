"""The per-app sandbox state (store, faults, identity checks), kept in ``app.extensions``."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from flask import current_app

from connector.sandbox.faults import FaultBook, parse_spec
from connector.sandbox.identity import IdentityVerifier
from connector.sandbox.store import SandboxStore, org_id_for_key

if TYPE_CHECKING:
    from connector.sandbox import SandboxConfig

EXTENSION_KEY = "halo_sandbox"


@dataclass
class SandboxState:
    config: SandboxConfig
    store: SandboxStore
    faults: FaultBook
    identity: IdentityVerifier
    _known_orgs: set[str] = field(default_factory=set)
    _orgs_lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def build(cls, config: SandboxConfig) -> SandboxState:
        state = cls(
            config=config,
            store=SandboxStore(config.database_url),
            faults=FaultBook(parse_spec(config.faults)),
            identity=IdentityVerifier(config.identity_secret, config.identity_verification),
        )
        for key in sorted(config.api_keys or ()):
            state.org_for_key(key)
        return state

    def org_for_key(self, api_key: str) -> str:
        """The org of a widget key, registered on first use (so ``GET /config`` knows it)."""
        org_id = org_id_for_key(api_key)
        with self._orgs_lock:
            if org_id in self._known_orgs:
                return org_id
        self.store.ensure_org(api_key)
        with self._orgs_lock:
            self._known_orgs.add(org_id)
        return org_id

    def reset(self) -> None:
        """Wipe every record; configured keys' orgs are registered again."""
        self.store.reset()
        with self._orgs_lock:
            self._known_orgs.clear()
        for key in sorted(self.config.api_keys or ()):
            self.org_for_key(key)


def current() -> SandboxState:
    return current_app.extensions[EXTENSION_KEY]
