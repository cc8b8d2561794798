"""Settings from the environment and ``.env``, validated once at start-up.

Every variable is declared once in :data:`VARIABLES` (name, default, what is expected, help).
That list validates the environment, and it is also the source of ``.env.example`` and the
configuration table in the README (``flask config docs``), so the three never drift apart.
A bad or missing value stops start-up with one message naming each variable at fault.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from connector.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_VAR_DIR = PROJECT_ROOT / "var"
#: Settings read after the environment (which wins), by the app and by gunicorn.conf.py alike.
ENV_FILE = PROJECT_ROOT / ".env"

REAL_HALO_URL = "https://api.haloagents.ai/api/sdk"
#: The widget key the connector presents to its own sandbox when no HALO_API_KEY is set.
SANDBOX_HALO_KEY = "ab_live_sandbox"
#: The connector key accepted in sandbox mode when CONNECTOR_API_KEYS is not set.
SANDBOX_CONNECTOR_KEY = "sandbox-key"
DEFAULT_TENANT = "default"


# --- parsers: each turns the raw string into a value or raises ValueError(expected) -----------


def _url(raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("an http:// or https:// URL")
    return raw.rstrip("/")


def _database_url(raw: str) -> str:
    if not re.match(r"^(sqlite|postgresql)(\+\w+)?://", raw):
        raise ValueError("a SQLAlchemy URL starting with sqlite:/// or postgresql://")
    if raw.startswith("postgresql://"):
        # psycopg 3 is the driver we ship; plain postgresql:// would ask for psycopg2.
        raw = "postgresql+psycopg://" + raw[len("postgresql://") :]
    if raw.startswith("sqlite:///") and not raw.startswith("sqlite:////"):
        path = raw[len("sqlite:///") :]
        if path and path != ":memory:" and not path.startswith("file:"):
            # Relative SQLite paths are relative to the project, not to whatever the cwd is.
            raw = _sqlite_url(PROJECT_ROOT / path)
    return raw


def _redis_url(raw: str) -> str:
    if not re.match(r"^rediss?://", raw):
        raise ValueError("a redis:// or rediss:// URL")
    return raw


def int_range(low: int, high: int) -> Callable[[str], int]:
    """A whole-number setting within bounds; the error says which numbers are allowed."""

    def parse(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise ValueError(f"a whole number from {low} to {high}") from None
        if not low <= value <= high:
            raise ValueError(f"a whole number from {low} to {high}")
        return value

    return parse


def _float_range(low: float, high: float) -> Callable[[str], float]:
    def parse(raw: str) -> float:
        try:
            value = float(raw)
        except ValueError:
            raise ValueError(f"a number from {low:g} to {high:g}") from None
        if not low <= value <= high:
            raise ValueError(f"a number from {low:g} to {high:g}")
        return value

    return parse


def parse_bool(raw: str) -> bool:
    """A yes/no setting; anything but the usual spellings is an error, not a silent default."""
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError("true or false")


def choice(*options: str) -> Callable[[str], str]:
    """A setting that takes one of ``options``; the error lists them."""

    def parse(raw: str) -> str:
        if raw not in options:
            raise ValueError("one of " + ", ".join(options))
        return raw

    return parse


def _halo_key(raw: str) -> str:
    if raw.startswith("ha_secret_"):
        raise ValueError("the widget key (ab_live_…); this looks like the identity secret")
    if any(c.isspace() for c in raw):
        raise ValueError("a key without spaces, like ab_live_…")
    return raw


def _identity_secret(raw: str) -> str:
    if raw.startswith("ab_"):
        raise ValueError("the identity secret (ha_secret_…); this looks like the widget key")
    return raw


def _api_keys(raw: str) -> dict[str, str]:
    """``key`` or ``tenant:key`` entries, comma-separated, into ``{key: tenant}``."""
    keys: dict[str, str] = {}
    for entry in raw.split(","):
        entry = entry.strip()
        if not entry:
            continue
        tenant, sep, key = entry.rpartition(":")
        tenant = tenant if sep else DEFAULT_TENANT
        if len(key) < 8 or not re.fullmatch(r"[A-Za-z0-9_.~-]+", key):
            raise ValueError("comma-separated keys of 8+ letters, digits, _ . ~ or -, each optionally tenant:key")
        if not re.fullmatch(r"[A-Za-z0-9_-]+", tenant):
            raise ValueError("tenant names of letters, digits, _ or - (tenant:key)")
        keys[key] = tenant
    if not keys:
        raise ValueError("at least one key")
    return keys


def _queue_name(raw: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", raw):
        raise ValueError("1-64 letters, digits, _ . or -")
    return raw


def project_path(raw: str) -> Path:
    """A path from a setting; relative ones are relative to the project, like DATABASE_URL."""
    path = Path(raw).expanduser()
    return path if path.is_absolute() else PROJECT_ROOT / path


def _existing_file(raw: str) -> str:
    if not project_path(raw).is_file():
        raise ValueError("the path of an existing file (relative paths start at the project folder)")
    return raw


def _csv(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def _support_addresses(raw: str) -> str:
    from connector.email.addresses import SupportAddresses  # the email package owns the format

    SupportAddresses.parse(raw)
    return raw


def _email_resolution_order(raw: str) -> str:
    from connector.email.resolve import parse_order

    parse_order(raw)
    return raw


# --- the declaration ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Var:
    """One environment variable the connector reads."""

    name: str
    help: str
    parse: Callable[[str], Any] = str
    default: str | None = None
    group: str = "Service"
    secret: bool = False
    #: Shown in .env.example instead of the default (e.g. a commented placeholder).
    example: str | None = None


VARIABLES: tuple[Var, ...] = (
    # Halo
    Var("HALO_API_URL", f"Base URL of the Halo API: {REAL_HALO_URL} when HALO_API_KEY is set; "
        "without a key, this service's own sandbox (/sandbox/api/sdk) unless set.",
        _url, None, "Halo", example=""),
    Var("HALO_API_KEY", "Halo widget key (ab_live_…, Setup > Install). Unset: use the built-in "
        "sandbox, said loudly at start-up.", _halo_key, None, "Halo", secret=True, example=""),
    Var("HALO_IDENTITY_SECRET", "Halo identity secret (ha_secret_…, Settings > Security). When "
        "set, user-scoped calls carry a signed user_token; needed for users/update.",
        _identity_secret, None, "Halo", secret=True, example=""),
    Var("HALO_CONNECT_TIMEOUT", "Seconds to wait for a connection to Halo.",
        _float_range(0.05, 60), "3.05", "Halo"),
    Var("HALO_READ_TIMEOUT", "Seconds to wait for Halo's answer.", _float_range(0.05, 300), "15", "Halo"),
    Var("HALO_MAX_RETRIES", "Quick retries inside one Halo call (connection errors, 408, 429, 5xx); "
        "background delivery retries for up to DELIVERY_RETRY_HOURS on top.",
        int_range(0, 10), "2", "Halo"),
    Var("HALO_RETRY_AFTER_CAP", "Longest Retry-After (seconds) a call waits in place; longer waits "
        "are handed back to the caller or rescheduled.", _float_range(0, 3600), "30", "Halo"),
    # Callers
    Var("CONNECTOR_API_KEYS", "Keys Zapier and Make callers present (Authorization: Bearer or "
        "X-API-Key), comma-separated; tenant:key scopes a key's records to a tenant. Required with "
        "HALO_API_KEY; without it the sandbox accepts 'sandbox-key'.",
        _api_keys, None, "Callers", secret=True, example=""),
    # Storage and work
    Var("DATABASE_URL", "Where records live: sqlite:///path or postgresql://user@host/db.",
        _database_url, None, "Storage", example="sqlite:///var/connector.db"),
    Var("REDIS_URL", "Redis for the background queue (RedisHuey). Unset: a SQLite queue beside "
        "the database.", _redis_url, None, "Storage", example=""),
    Var("QUEUE_NAME", "Name of the queue; deployments sharing one Redis need different names.",
        _queue_name, "halo-connector", "Storage"),
    Var("WORKER_MODE", "embedded runs the delivery worker inside the web process (one machine); "
        "external expects `flask worker` processes.", choice("embedded", "external"),
        "embedded", "Storage"),
    Var("AMBIGUOUS_DELIVERY", "When Halo may have created a ticket but never answered (timeout, "
        "worker killed mid-call): hold it as needs-attention (no duplicate) or retry (no wait, may "
        "duplicate).", choice("hold", "retry"), "hold", "Storage"),
    Var("DELIVERY_RETRY_HOURS", "How long a delivery to Halo is retried before it is dead-lettered.",
        _float_range(0.01, 24 * 30), "72", "Storage"),
    Var("DELIVERY_LEASE_SECONDS", "How long a worker holds a submission it is delivering; if the "
        "worker dies, another takes it over after this (longer than the slowest delivery).",
        _float_range(1, 3600), "300", "Storage"),
    # Web
    Var("PUBLIC_URL", "The address Zapier, Make and webhook senders reach this service at (e.g. "
        "https://connector.example.com): used in the generated apps and to check signatures that "
        "cover the URL (HubSpot) behind a proxy.", _url, None, "Service", example=""),
    Var("HOST", "Address `python app.py` and `make run` listen on (0.0.0.0 for other machines).",
        str, "127.0.0.1", "Service"),
    Var("PORT", "Port `python app.py` and `make run` listen on.", int_range(1, 65535), "5000", "Service"),
    Var("MAX_BODY_BYTES", "Largest request body accepted (413 above).",
        int_range(1024, 50_000_000), "1000000", "Service"),
    Var("LOG_LEVEL", "Logging level.", choice("DEBUG", "INFO", "WARNING", "ERROR"), "INFO", "Service"),
    # Sandbox
    Var("SANDBOX_ENABLED", "Serve the Halo sandbox at /sandbox/. Defaults to true when HALO_API_KEY "
        "is unset.", parse_bool, None, "Sandbox", example=""),
    Var("SANDBOX_DATABASE_URL", "Where the sandbox keeps what it received.", _database_url, None,
        "Sandbox", example="sqlite:///var/sandbox.db"),
    Var("SANDBOX_IDENTITY_SECRET", "Identity secret the sandbox verifies user_token JWTs with.",
        str, None, "Sandbox", secret=True, example=""),
    Var("SANDBOX_IDENTITY_VERIFICATION", "Make the sandbox require a valid user_token (403 without).",
        parse_bool, "false", "Sandbox"),
    Var("SANDBOX_FAULTS", "Faults the sandbox injects, e.g. 'latency=0.2' or '503:3' or "
        "'429:2:retry_after=5' (grammar in connector/sandbox/README.md).", str, None, "Sandbox", example=""),
    # REST hooks (instant triggers)
    Var("HOOKS_ALLOW_PRIVATE_TARGETS", "Let REST-hook target URLs point at loopback or private "
        "addresses (local testing only; link-local and metadata addresses stay refused).",
        parse_bool, "false", "Hooks"),
    Var("HOOKS_RETRY_HOURS", "How long a REST-hook delivery is retried before it is given up.",
        _float_range(0.01, 24 * 30), "24", "Hooks"),
    # Email
    Var("SUPPORT_ADDRESSES", "The support team's own addresses, never taken as the customer: "
        "comma-separated addresses and @domain entries (support@acme.com,@acme.com). Agents on "
        "these addresses forwarding a customer's mail make the forwarded sender the customer.",
        _support_addresses, None, "Email", example=""),
    Var("EMAIL_RESOLUTION_ORDER", "Rules that find an email's customer, in order, comma-separated "
        "(default: rfc822_attachment,reply_to,x_original_from,x_original_sender,sender_on_behalf,"
        "via_rewrite,inline_forward,body_fields,from; body_first_address is also available).",
        _email_resolution_order, None, "Email", example=""),
    # Webhooks
    Var("ROUTES_FILE", "TOML file of named webhook routes (/hooks/<route>) with field mapping and "
        "per-form overrides; see docs/routes.example.toml. Unset: every sender at /hooks/<sender>. "
        "Each route's secret comes from <ROUTE>_SECRET (e.g. TYPEFORM_SECRET).",
        _existing_file, None, "Webhooks", example=""),
)

VARIABLES_BY_NAME = {var.name: var for var in VARIABLES}


@dataclass(frozen=True)
class Settings:
    """The validated configuration. Build it with :func:`load_settings`."""

    halo_api_url: str
    halo_api_key: str
    halo_identity_secret: str | None
    halo_connect_timeout: float
    halo_read_timeout: float
    halo_max_retries: int
    halo_retry_after_cap: float
    api_keys: dict[str, str]
    database_url: str
    redis_url: str | None
    queue_name: str
    worker_mode: str
    delivery_retry_seconds: float
    ambiguous_delivery: str
    public_url: str | None
    host: str
    port: int
    max_body_bytes: int
    log_level: str
    sandbox_enabled: bool
    sandbox_database_url: str
    sandbox_identity_secret: str | None
    sandbox_identity_verification: bool
    sandbox_faults: str | None
    #: True when no HALO_API_KEY is set and the connector talks to a sandbox.
    uses_sandbox: bool
    #: The raw environment, for per-sender settings such as TYPEFORM_SECRET.
    environ: Mapping[str, str] = field(repr=False, default_factory=dict)
    hooks_allow_private_targets: bool = False
    hooks_retry_seconds: float = 24 * 3600
    delivery_lease_seconds: float = 300.0

    def get(self, name: str, default: str | None = None) -> str | None:
        """A raw variable that is not part of the fixed set (e.g. ``<SENDER>_SECRET``)."""
        value = self.environ.get(name)
        return value if value not in (None, "") else default

    def sender_secret(self, sender: str) -> str | None:
        """The secret for a webhook sender: ``<SENDER>_SECRET``, e.g. ``TYPEFORM_SECRET``."""
        return self.get(sender_secret_variable(sender))

    def tenant_for_key(self, key: str) -> str | None:
        return self.api_keys.get(key)


def web_waits_only_on_sockets(environ: Mapping[str, str]) -> bool:
    """Whether this deployment's web processes wait only on the network: records in PostgreSQL,
    the queue in Redis, deliveries in separate worker processes (``WORKER_MODE=external``).
    gunicorn.conf.py then serves with gevent, where a blocking SQLite call or an in-process
    worker would stall every request of the process."""
    def value(name: str) -> str:
        return (environ.get(name) or "").strip()

    return (value("DATABASE_URL").startswith("postgresql") and bool(value("REDIS_URL"))
            and value("WORKER_MODE") == "external")


def sender_secret_variable(sender: str) -> str:
    return f"{sender.upper()}_SECRET"


def _sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Validate ``environ`` (default: ``os.environ``) into :class:`Settings`.

    :raises ConfigError: naming every variable that is missing or malformed.
    """
    env = dict(os.environ if environ is None else environ)
    values: dict[str, Any] = {}
    problems: list[str] = []
    for var in VARIABLES:
        raw = env.get(var.name)
        if raw is None or raw.strip() == "":
            values[var.name] = var.parse(var.default) if var.default is not None else None
            continue
        try:
            values[var.name] = var.parse(raw.strip())
        except ValueError as exc:
            values[var.name] = None
            problems.append(f"{var.name} must be {exc}")

    key = values["HALO_API_KEY"]
    uses_sandbox = key is None and not env.get("HALO_API_KEY", "").strip()
    if not uses_sandbox and not values["CONNECTOR_API_KEYS"]:
        problems.append(
            "CONNECTOR_API_KEYS must be set when HALO_API_KEY is set "
            "(comma-separated keys your Zapier/Make connections will use)"
        )
    if not uses_sandbox and "change-me" in env.get("CONNECTOR_API_KEYS", ""):
        problems.append("CONNECTOR_API_KEYS still holds the example placeholder; set a random key")
    if problems:
        raise ConfigError("Configuration error: " + "; ".join(problems) + ".")

    port = values["PORT"]
    sandbox_enabled = values["SANDBOX_ENABLED"]
    if sandbox_enabled is None:
        sandbox_enabled = uses_sandbox
    halo_url = values["HALO_API_URL"] or (
        f"http://127.0.0.1:{port}/sandbox/api/sdk" if uses_sandbox else REAL_HALO_URL
    )
    api_keys = values["CONNECTOR_API_KEYS"] or {SANDBOX_CONNECTOR_KEY: DEFAULT_TENANT}

    return Settings(
        halo_api_url=halo_url,
        halo_api_key=key or SANDBOX_HALO_KEY,
        halo_identity_secret=values["HALO_IDENTITY_SECRET"],
        halo_connect_timeout=values["HALO_CONNECT_TIMEOUT"],
        halo_read_timeout=values["HALO_READ_TIMEOUT"],
        halo_max_retries=values["HALO_MAX_RETRIES"],
        halo_retry_after_cap=values["HALO_RETRY_AFTER_CAP"],
        api_keys=api_keys,
        database_url=values["DATABASE_URL"] or _sqlite_url(DEFAULT_VAR_DIR / "connector.db"),
        redis_url=values["REDIS_URL"],
        queue_name=values["QUEUE_NAME"],
        worker_mode=values["WORKER_MODE"],
        delivery_retry_seconds=values["DELIVERY_RETRY_HOURS"] * 3600,
        ambiguous_delivery=values["AMBIGUOUS_DELIVERY"],
        public_url=values["PUBLIC_URL"],
        host=values["HOST"],
        port=port,
        max_body_bytes=values["MAX_BODY_BYTES"],
        log_level=values["LOG_LEVEL"],
        sandbox_enabled=sandbox_enabled,
        sandbox_database_url=values["SANDBOX_DATABASE_URL"]
        or _sqlite_url(DEFAULT_VAR_DIR / "sandbox.db"),
        sandbox_identity_secret=values["SANDBOX_IDENTITY_SECRET"],
        sandbox_identity_verification=values["SANDBOX_IDENTITY_VERIFICATION"],
        sandbox_faults=values["SANDBOX_FAULTS"],
        uses_sandbox=uses_sandbox,
        environ=env,
        hooks_allow_private_targets=values["HOOKS_ALLOW_PRIVATE_TARGETS"],
        hooks_retry_seconds=values["HOOKS_RETRY_HOURS"] * 3600,
        delivery_lease_seconds=values["DELIVERY_LEASE_SECONDS"],
    )


def env_example() -> str:
    """Render ``.env.example`` from :data:`VARIABLES`."""
    lines = [
        "# Halo Connector settings. Copy to .env (never commit .env) and fill in what you need.",
        "# Generated from connector/config.py by `flask config example`; edit there, not here.",
        "# Per-sender webhook secrets follow the pattern <SENDER>_SECRET, e.g. TYPEFORM_SECRET.",
    ]
    group = None
    for var in VARIABLES:
        if var.group != group:
            group = var.group
            lines += ["", f"# --- {group} ---"]
        lines.append(f"# {var.help}")
        value = var.example if var.example is not None else (var.default or "")
        prefix = "" if value else "# "
        lines.append(f"{prefix}{var.name}={value}")
    return "\n".join(lines) + "\n"


def config_reference() -> str:
    """Markdown table of every variable, for the README."""
    rows = ["| Variable | Default | What it does |", "|---|---|---|"]
    for var in VARIABLES:
        default = f"`{var.default}`" if var.default is not None else "–"
        rows.append(f"| `{var.name}` | {default} | {var.help} |")
    return "\n".join(rows) + "\n"


def shared_dir() -> Path:
    """The shared reference material (corpora, Make schemas) beside the project.

    Tests and evaluation scripts read the corpora from here by path; set ``HALO_SHARED_DIR`` to
    point elsewhere.
    """
    return Path(os.environ.get("HALO_SHARED_DIR") or PROJECT_ROOT.parent / "shared")


def corpora_dir() -> Path:
    return shared_dir() / "corpora"
