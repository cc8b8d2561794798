"""A connector served on a real socket (127.0.0.1, free port) with its own sandbox as Halo: what
Zapier's runtime (the generated app, the harness's cross-check) and ``flask harness replay
--against`` talk to."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import requests
from flask import Flask
from werkzeug.serving import make_server

from app import create_app
from connector.services import EXTENSION_KEY, Services

#: One request as the connector received it: method, path, query, raw body and headers.
Seen = dict[str, Any]


@dataclass
class LiveConnector:
    """The connector served on 127.0.0.1, its own sandbox standing in for Halo."""

    url: str
    app: Flask

    @property
    def services(self) -> Services:
        return self.app.extensions[EXTENSION_KEY]

    def sandbox(self, what: str) -> list[dict[str, Any]]:
        """What the Halo sandbox received (``tickets``, ``users``, ``companies``), newest first."""
        response = requests.get(f"{self.url}/sandbox/inspect/{what}", timeout=10)
        response.raise_for_status()
        return response.json()

    def halo_faults(self, spec: str) -> None:
        """Make the sandbox (Halo) misbehave, e.g. ``429:1:retry_after=7:path=tickets/create``."""
        response = requests.put(f"{self.url}/sandbox/control/faults", json={"spec": spec}, timeout=10)
        response.raise_for_status()


@contextmanager
def live_connector(env: dict[str, str], *, seen: list[Seen] | None = None,
                   start_worker: bool = False) -> Iterator[LiveConnector]:
    """Serve a connector built from ``env`` (``HALO_API_URL`` pointed at its own /sandbox);
    ``seen`` collects every ``/v1/`` request it received; ``start_worker`` runs the embedded
    delivery worker (webhooks and emails then become tickets by themselves)."""
    holder: dict[str, Callable[..., Any]] = {}

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if seen is not None and environ.get("PATH_INFO", "").startswith("/v1/"):
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length else b""
            environ["wsgi.input"] = io.BytesIO(body)
            seen.append({"method": environ["REQUEST_METHOD"], "path": environ["PATH_INFO"],
                         "query": environ.get("QUERY_STRING", ""), "body": body,
                         "headers": {k[5:].replace("_", "-").lower(): v for k, v in environ.items()
                                     if k.startswith("HTTP_")}})
        return holder["app"](environ, start_response)

    server = make_server("127.0.0.1", 0, wsgi, threaded=True)
    port = server.server_port
    app = create_app({**env, "HALO_API_URL": f"http://127.0.0.1:{port}/sandbox/api/sdk",
                      "SANDBOX_ENABLED": "true", "PORT": str(port),
                      **({"WORKER_MODE": "embedded"} if start_worker else {})},
                     start_worker=start_worker)
    holder["app"] = app
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield LiveConnector(url=f"http://127.0.0.1:{port}", app=app)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
        app.extensions[EXTENSION_KEY].close()
