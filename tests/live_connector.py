"""A connector served on a real socket (127.0.0.1, free port) with its own sandbox as Halo and the
embedded worker: what ``flask harness replay --against`` and the Zapier runtime talk to."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from werkzeug.serving import make_server

from app import create_app
from connector.harness.inbound import harness_env
from tests.conftest import base_env

#: One request as the connector received it: method, path, query pairs and raw body.
Seen = dict[str, Any]


@contextmanager
def live_connector(tmp_path: Path, *, seen: list[Seen] | None = None) -> Iterator[str]:
    """Yields the base URL; ``seen`` collects every ``/v1/`` request the connector received."""
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
    env = base_env(tmp_path, HALO_API_URL=f"http://127.0.0.1:{port}/sandbox/api/sdk",
                   SANDBOX_ENABLED="true", WORKER_MODE="embedded", PORT=str(port), **harness_env())
    app = create_app(env, start_worker=True)
    holder["app"] = app
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        server.server_close()
        app.extensions["halo_connector"].close()
