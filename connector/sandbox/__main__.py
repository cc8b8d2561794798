"""Run the sandbox on its own: ``python -m connector.sandbox --port 5001``.

Options default to the SANDBOX_* environment variables (and ``.env``), so the standalone sandbox
behaves like the one the connector mounts. Serves with Werkzeug's threaded development server.
"""

from __future__ import annotations

import argparse
import os
import sys

from dotenv import load_dotenv

from connector.config import DEFAULT_VAR_DIR, VARIABLES_BY_NAME
from connector.errors import ConfigError
from connector.sandbox import SandboxConfig, create_app
from connector.sandbox.shapes import TICKET_SHAPES


def _parsed(name: str, raw: str | None) -> object:
    """``raw`` checked by the connector's own parser for variable ``name`` (None when blank)."""
    if raw is None or not raw.strip():
        return None
    try:
        return VARIABLES_BY_NAME[name].parse(raw.strip())
    except ValueError as exc:
        raise ConfigError(f"{name} must be {exc}") from None


def _env(name: str) -> object:
    return _parsed(name, os.environ.get(name))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m connector.sandbox", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5001)
    parser.add_argument("--database-url", help="SQLAlchemy URL (default: SANDBOX_DATABASE_URL or var/sandbox.db)")
    parser.add_argument("--faults", help="fault spec, e.g. '503:3' (default: SANDBOX_FAULTS)")
    parser.add_argument("--identity-verification", action="store_true", default=None,
                        help="require user_token (secret from SANDBOX_IDENTITY_SECRET)")
    parser.add_argument("--ticket-shape", choices=TICKET_SHAPES, default="id",
                        help="provisional tickets/create response shape")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    load_dotenv()
    args = parse_args(argv)
    try:
        verification = args.identity_verification
        if verification is None:
            verification = bool(_env("SANDBOX_IDENTITY_VERIFICATION"))
        config = SandboxConfig(
            database_url=_parsed("SANDBOX_DATABASE_URL", args.database_url)
            or _env("SANDBOX_DATABASE_URL")
            or f"sqlite:///{DEFAULT_VAR_DIR / 'sandbox.db'}",
            identity_secret=_env("SANDBOX_IDENTITY_SECRET") or _env("HALO_IDENTITY_SECRET"),
            identity_verification=verification,
            faults=args.faults if args.faults is not None else _env("SANDBOX_FAULTS"),
            ticket_shape=args.ticket_shape,
        )
    except ConfigError as exc:
        print(exc.message, file=sys.stderr)
        return 2
    app = create_app(config)
    print(f"Halo sandbox on http://{args.host}:{args.port}/sandbox/ "
          f"(API base http://{args.host}:{args.port}/sandbox/api/sdk)", file=sys.stderr)
    app.run(host=args.host, port=args.port, threaded=True, use_reloader=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
