"""Connector CPU per Create Ticket call, with Halo excluded.

What it measures: CPU time of the serving thread (``time.thread_time``: user + kernel) inside the connector's WSGI
app for one ``POST /v1/actions/create_ticket`` (auth, body parsing, validation, the durable
submission record, the delivery claim, the ticket record and the answer), minus the CPU spent
inside the Halo stub. Halo is a ``requests`` transport adapter that answers at once without a
socket, so neither network nor Halo latency is counted; waiting for disk (SQLite's fsync) is
not CPU and is not counted either (wall time is printed beside it). The test client's own work
to build the request happens outside the measured span. Budget (DESIGN.md): p50 <= 2 ms.

Run:  .venv/bin/python bench/bench_create_ticket.py [--calls 2000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests
from requests.adapters import BaseAdapter

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app  # noqa: E402

API_KEY = "bench-key-123456"
HALO = "https://halo.bench/api/sdk"


class InstantHalo(BaseAdapter):
    """Answers every Halo call with 200 at once and counts the CPU it spent doing so."""

    def __init__(self) -> None:
        super().__init__()
        self.cpu = 0.0
        self.calls = 0

    def send(self, request: requests.PreparedRequest, **_kwargs: Any) -> requests.Response:
        started = time.process_time()
        response = requests.Response()
        response.status_code = 200
        response._content = b'{"id": "tkt_bench"}'
        response.headers["Content-Type"] = "application/json"
        response.url = request.url or ""
        response.request = request
        self.calls += 1
        self.cpu += time.process_time() - started
        return response

    def close(self) -> None:
        pass


def bare_flask_cpu_ms(calls: int) -> float:
    """p50 CPU of a bare Flask JSON endpoint on this machine, measured the same way: the
    yardstick that says how fast this machine is."""
    from flask import Flask, jsonify, request

    bare = Flask("bare")

    @bare.post("/echo")
    def echo() -> Any:
        return jsonify({"id": 1, **request.get_json()}), 201

    samples: list[float] = []
    inner = bare.wsgi_app

    def measured(environ: Any, start_response: Any) -> Any:
        started = time.thread_time()
        result = inner(environ, start_response)
        samples.append(time.thread_time() - started)
        return result

    bare.wsgi_app = measured  # type: ignore[method-assign]
    client = bare.test_client()
    body = json.dumps({"email": "customer@example.com", "subject": "Order", "metadata": {"plan": "pro"}})
    for _ in range(calls):
        client.post("/echo", data=body, content_type="application/json")
    return percentile([sample * 1000 for sample in samples[calls // 5:]], .50)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-create-"))
    env = {"HALO_API_URL": HALO, "HALO_API_KEY": "ab_live_bench", "CONNECTOR_API_KEYS": API_KEY,
           "DATABASE_URL": args.database_url or f"sqlite:///{workdir}/connector.db",
           "WORKER_MODE": "external", "SANDBOX_ENABLED": "false", "LOG_LEVEL": "WARNING",
           "HALO_MAX_RETRIES": "0"}
    app = create_app(env)
    services = app.extensions["halo_connector"]
    halo = InstantHalo()
    services.halo.session.mount("https://", halo)

    samples: list[tuple[float, float]] = []
    inner = app.wsgi_app

    def measured(environ: Any, start_response: Any) -> Any:
        stub_before = halo.cpu
        cpu, wall = time.thread_time(), time.perf_counter()
        result = inner(environ, start_response)
        samples.append((time.thread_time() - cpu - (halo.cpu - stub_before),
                        time.perf_counter() - wall))
        return result

    app.wsgi_app = measured  # type: ignore[method-assign]
    client = app.test_client()
    headers = {"Authorization": f"Bearer {API_KEY}", "User-Agent": "Zapier"}
    usage = None
    for number in range(args.warmup + args.calls):
        if number == args.warmup:
            usage = resource.getrusage(resource.RUSAGE_SELF)
        body = {"email": f"customer{number}@example.com", "name": "Pat Example",
                "subject": f"Order {number}: the printer is on fire",
                "message": "Flames everywhere. " * 20, "source": "contact_form",
                "metadata": {"plan": "pro", "seats": 12, "browser": "Firefox"},
                "external_id": f"row-{number}"}
        response = client.post("/v1/actions/create_ticket", headers=headers, data=json.dumps(body),
                               content_type="application/json")
        if response.status_code != 201:
            raise SystemExit(f"call {number} answered {response.status_code}: {response.get_json()}")
    end = resource.getrusage(resource.RUSAGE_SELF)
    assert usage is not None
    user_share = (end.ru_utime - usage.ru_utime) / max(1e-9, (end.ru_utime - usage.ru_utime)
                                                         + (end.ru_stime - usage.ru_stime))
    cpu_ms = [cpu * 1000 for cpu, _ in samples[args.warmup:]]
    wall_ms = [wall * 1000 for _, wall in samples[args.warmup:]]
    backend = (args.database_url or "sqlite").split(":", 1)[0]
    print(f"create_ticket, {args.calls} calls, {backend}, Halo stubbed in-process ({halo.calls} calls)")
    print(f"  connector CPU  p50 {percentile(cpu_ms, .50):6.2f} ms  p95 {percentile(cpu_ms, .95):6.2f} ms  "
          f"p99 {percentile(cpu_ms, .99):6.2f} ms  mean {statistics.fmean(cpu_ms):6.2f} ms")
    print(f"  of which user space {user_share:.0%} (the rest is the kernel, mostly fsync)")
    print(f"  wall (w/ fsync) p50 {percentile(wall_ms, .50):6.2f} ms  p95 {percentile(wall_ms, .95):6.2f} ms  "
          f"p99 {percentile(wall_ms, .99):6.2f} ms")
    bare = bare_flask_cpu_ms(args.calls)
    print(f"  yardstick: a bare Flask JSON endpoint costs {bare:.2f} ms CPU p50 here "
          f"(create_ticket = {percentile(cpu_ms, .50) / bare:.0f}x)")
    print(f"  budget p50 <= 2 ms: {'met' if percentile(cpu_ms, .50) <= 2 else 'MISSED'}")
    services.close()


if __name__ == "__main__":
    main()
