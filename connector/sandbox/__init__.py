"""The Halo sandbox: a local emulator of Halo's documented ``/api/sdk`` API, mounted at ``/sandbox``.

It enforces the documented rules and limits (reference/halo-api.md), keeps what it receives in its
own database, injects faults on demand (:mod:`connector.sandbox.faults`) and shows its tickets on
a page, so the connector can be developed, tested and demonstrated without a Halo account.
Response bodies the docs do not show are provisional and live in :mod:`connector.sandbox.shapes`.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, Flask

from connector.config import Settings
from connector.errors import ConfigError
from connector.sandbox.api import api
from connector.sandbox.console import console
from connector.sandbox.faults import FaultSpecError, parse_spec
from connector.sandbox.replies import allow_any_origin, api_error_response
from connector.sandbox.rules import ApiError
from connector.sandbox.shapes import DEFAULT_TICKET_SHAPE, TICKET_SHAPES
from connector.sandbox.state import EXTENSION_KEY, SandboxState

__all__ = ["SandboxConfig", "create_app", "init_sandbox"]

URL_PREFIX = "/sandbox"


@dataclass(frozen=True)
class SandboxConfig:
    """How a sandbox behaves; validated on construction (a bad value raises ``ConfigError``)."""

    #: SQLAlchemy URL, e.g. ``sqlite:///var/sandbox.db`` or ``sqlite:///:memory:``.
    database_url: str
    #: Verifies ``user_token`` JWTs (HS256); ``users/update`` refuses everything without it.
    identity_secret: str | None = None
    #: Require a valid ``user_token`` on user-scoped calls (403 without), as the workspace setting does.
    identity_verification: bool = False
    #: The ``SANDBOX_FAULTS`` spec (grammar in :mod:`connector.sandbox.faults`).
    faults: str | None = None
    #: Accepted widget keys; ``None`` accepts any well-formed ``ab_live_…`` / ``ab_test_…`` key.
    api_keys: frozenset[str] | None = None
    #: PROVISIONAL response shape of ``tickets/create``: ``id``, ``ticket_id`` or ``nested``.
    ticket_shape: str = DEFAULT_TICKET_SHAPE

    def __post_init__(self) -> None:
        try:
            parse_spec(self.faults)
        except FaultSpecError as exc:
            raise ConfigError(f"SANDBOX_FAULTS: {exc}") from None
        if self.identity_verification and not self.identity_secret:
            raise ConfigError(
                "SANDBOX_IDENTITY_VERIFICATION needs SANDBOX_IDENTITY_SECRET (or HALO_IDENTITY_SECRET)."
            )
        if self.ticket_shape not in TICKET_SHAPES:
            raise ConfigError("ticket_shape must be one of: " + ", ".join(TICKET_SHAPES))
        if self.api_keys is not None and not isinstance(self.api_keys, frozenset):
            object.__setattr__(self, "api_keys", frozenset(self.api_keys))

    @classmethod
    def from_settings(cls, settings: Settings) -> SandboxConfig:
        """From :class:`connector.config.Settings`; the sandbox shares Halo's secret in sandbox mode."""
        secret = settings.sandbox_identity_secret or (
            settings.halo_identity_secret if settings.uses_sandbox else None
        )
        return cls(
            database_url=settings.sandbox_database_url,
            identity_secret=secret,
            identity_verification=settings.sandbox_identity_verification,
            faults=settings.sandbox_faults,
        )


def _blueprint() -> Blueprint:
    sandbox = Blueprint("halo_sandbox", __name__, url_prefix=URL_PREFIX)
    sandbox.register_blueprint(api)
    sandbox.register_blueprint(console)
    sandbox.after_request(allow_any_origin)
    sandbox.register_error_handler(ApiError, api_error_response)
    return sandbox


def init_sandbox(app: Flask, config: SandboxConfig) -> None:
    """Register the sandbox blueprint at /sandbox on an existing app (creates its tables)."""
    app.extensions[EXTENSION_KEY] = SandboxState.build(config)
    app.register_blueprint(_blueprint())


def create_app(config: SandboxConfig | None = None) -> Flask:
    """The sandbox on its own (same routes under /sandbox); in-memory unless configured."""
    app = Flask(__name__)
    init_sandbox(app, config or SandboxConfig(database_url="sqlite:///:memory:"))
    return app
