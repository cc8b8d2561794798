"""End to end: webhook in to ticket in the sandbox, at a sustained rate.

What it runs: the sandbox as a healthy Halo (its own process), gunicorn (gunicorn.conf.py) and
``--workers`` worker processes on the chosen backend. Signed Typeform webhooks are sent open-loop
at ``--rate`` per second for ``--seconds``; each one's latency is from the moment it was sent to the
``created_at`` the sandbox stamped on its ticket (same machine, same clock), matched by the event
id the connector puts in the ticket's metadata. Target (DESIGN.md, issue 7): p95 <= 5 s at 50/s.

Run:  .venv/bin/python bench/bench_e2e.py [--backend embedded|production] [--rate 50] [--seconds 60]
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("embedded", "production"), default="production")
    parser.add_argument("--rate", type=float, default=50.0, help="webhooks per second")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--threads", type=int, default=4, help="delivery threads per worker")
    args = parser.parse_args()

    expected = int(args.rate * args.seconds)
    with common.stack(args.backend, "e2e-", workers=args.workers, threads=args.threads) as running:
        run_id = f"e2e-{int(time.time())}"
        sent_at: dict[str, float] = {}

        def send(session: requests.Session, index: int) -> int:
            event_id = f"{run_id}-{index}"
            sent_at[event_id] = time.time()
            return common.post_typeform(session, running.base, event_id).status_code

        results = common.open_loop(send, rate=args.rate, seconds=args.seconds, threads=32)
        deadline = time.monotonic() + 120
        tickets = common.sandbox_tickets(running.halo, limit=10_000)
        while len(tickets) < expected and time.monotonic() < deadline:
            time.sleep(1)
            tickets = common.sandbox_tickets(running.halo, limit=10_000)

    by_event: dict[str, float] = {}
    duplicates = 0
    for ticket in tickets:
        event_id = common.ticket_event_id(ticket)
        if event_id in sent_at:
            duplicates += event_id in by_event
            by_event[event_id] = datetime.fromisoformat(ticket["created_at"]).timestamp() - sent_at[event_id]
    latencies = list(by_event.values())
    acked = sum(1 for sent in results if sent.status == 202)
    p50, p95, p99 = (common.percentile(latencies, p) for p in (50, 95, 99))
    ack_p99 = common.percentile([s.latency for s in results], 99) * 1000
    passed = len(latencies) == expected and acked == expected and not duplicates and p95 <= 5.0
    print(f"{args.backend}: {expected} webhooks at {args.rate:g}/s for {args.seconds:g} s, "
          f"{args.workers} worker process(es) x {args.threads} threads")
    print(f"acknowledged 202: {acked}/{expected} (ack p99 {ack_p99:.1f} ms); tickets in the sandbox: "
          f"{len(latencies)}/{expected}, duplicates: {duplicates}")
    print(f"webhook -> ticket: p50 {p50:.3f} s, p95 {p95:.3f} s, p99 {p99:.3f} s, max "
          f"{max(latencies, default=float('nan')):.3f} s (target p95 <= 5 s) -> {'PASS' if passed else 'FAIL'}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
