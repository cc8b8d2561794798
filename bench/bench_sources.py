"""Micro-benchmark: µs of CPU per verify + parse + normalize of the Typeform corpus sample.

The ack path (verify + parse + durable insert) has a budget of about 0.5 ms CPU per webhook;
this measures the part connector/sources owns. Run: ``.venv/bin/python bench/bench_sources.py``.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from connector.config import corpora_dir, load_settings  # noqa: E402
from connector.sources import SOURCES, load_routes, process  # noqa: E402
from connector.sources.base import Delivery  # noqa: E402
from connector.sources.processing import authenticate, read_delivery  # noqa: E402

ROUNDS, PER_ROUND = 7, 2_000


def per_call_us(call) -> str:
    """Median (and best) over rounds of the mean CPU time per call, in microseconds."""
    for _ in range(200):
        call()
    results = []
    for _ in range(ROUNDS):
        start = time.process_time()
        for _ in range(PER_ROUND):
            call()
        results.append((time.process_time() - start) / PER_ROUND * 1e6)
    return f"{statistics.median(results):7.1f} µs (best {min(results):6.1f})"


def main() -> None:
    raw = (corpora_dir() / "webhooks" / "typeform_basic.json").read_bytes()
    headers = {"Content-Type": "application/json", "Typeform-Signature": "sha256=yXx1NOUq79gUS80g8cD0OMyFgLiZ2I9bLrvQqqvMW/Q="}
    settings = load_settings({"TYPEFORM_SECRET": "typeform-test-secret"})
    routes = load_routes(None)
    route = routes.get("typeform")
    source = SOURCES["typeform"]

    def full() -> None:
        processed = process("typeform", headers=headers, raw=raw, path_secret=None, settings=settings,
                            routes=routes, now=time.time())
        assert processed.accepted[0].ticket_request.customer.email == "laura@example.com"

    def ack_only() -> None:
        process("typeform", headers=headers, raw=raw, path_secret=None, settings=settings, routes=routes,
                now=time.time(), build_tickets=False)

    def verify() -> None:
        authenticate(route, Delivery.build(headers, raw), settings=settings, now=0)

    def parse() -> None:
        source.parse(Delivery.build(headers, raw))

    def read_only() -> None:
        read_delivery(route, Delivery.build(headers, raw))

    delivery = Delivery.build(headers, raw)
    ticket = read_delivery(route, delivery).accepted[0].ticket_request

    print(f"typeform_basic.json ({len(raw):,} bytes), median of {ROUNDS} rounds x {PER_ROUND:,} calls, CPU time:")
    print(f"  verify + parse + normalize (process):  {per_call_us(full)}")
    print(f"  verify + parse + event id (build_tickets=False): {per_call_us(ack_only)}")
    print(f"    verify only (HMAC-SHA256, base64):    {per_call_us(verify)}")
    print(f"    parse only (JSON):                    {per_call_us(parse)}")
    print(f"    parse + normalize (replay path):      {per_call_us(read_only)}")
    print(f"  halo_payload() at delivery time:        {per_call_us(ticket.halo_payload)}")


if __name__ == "__main__":
    main()
