"""Micro-benchmark: µs of CPU per verify + parse + normalize of the Typeform corpus sample.

The ack path (verify + parse + durable insert) has a budget of about 0.5 ms CPU per webhook;
this measures the part connector/sources owns. Run: ``.venv/bin/python bench/bench_sources.py``.

``--threads N`` also runs the ack's share (verify + parse + event id) of a 1 KB signed form in N
threads at once, as gunicorn's request threads do, and reports CPU and voluntary thread switches
per call: a lock shared by every request shows up there as extra switches (bench/README.md,
"A lock on every parse").
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402
from connector.config import corpora_dir, load_settings  # noqa: E402
from connector.sources import SOURCES, load_routes, process  # noqa: E402
from connector.sources.base import Delivery  # noqa: E402
from connector.sources.processing import authenticate, read_delivery  # noqa: E402

ROUNDS, PER_ROUND = 7, 2_000
#: Calls each thread makes in one run of ``threaded``.
PER_THREAD = 3_000


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


def threaded(call, threads: int, per_thread: int = PER_THREAD) -> tuple[float, float]:
    """CPU µs and voluntary thread switches per call, ``threads`` threads calling at once."""
    barrier = threading.Barrier(threads + 1)

    def work() -> None:
        barrier.wait()
        for _ in range(per_thread):
            call()

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    before, cpu = resource.getrusage(resource.RUSAGE_SELF), time.process_time()
    barrier.wait()
    for worker in workers:
        worker.join()
    after, calls = resource.getrusage(resource.RUSAGE_SELF), threads * per_thread
    return (time.process_time() - cpu) / calls * 1e6, (after.ru_nvcsw - before.ru_nvcsw) / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=0, help="also run the ack's share in this many threads")
    args = parser.parse_args()
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
    if args.threads:
        form = common.typeform_body("bench-threads")
        form_headers = common.typeform_headers(form)
        form_settings = load_settings({"TYPEFORM_SECRET": common.TYPEFORM_SECRET})

        def form_ack() -> None:
            process("typeform", headers=form_headers, raw=form, path_secret=None, settings=form_settings,
                    routes=routes, now=time.time(), build_tickets=False)

        for _ in range(200):  # warm-up, as per_call_us does
            form_ack()
        print(f"verify + parse + event id of a {len(form):,}-byte form, {ROUNDS} runs of 1 and "
              f"{args.threads} threads x {PER_THREAD:,} calls (CPU µs / voluntary switches per call):")
        for threads in (1, args.threads):
            runs = [threaded(form_ack, threads) for _ in range(ROUNDS)]
            cpu = statistics.median(run[0] for run in runs)
            switches = statistics.median(run[1] for run in runs)
            print(f"  {threads:2} thread(s): {cpu:6.1f} µs, {switches:.2f} switches"
                  f"  (worst run {max(run[0] for run in runs):.1f} µs, {max(run[1] for run in runs):.2f})")


if __name__ == "__main__":
    main()
