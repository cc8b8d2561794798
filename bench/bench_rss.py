"""Resident memory of each web (gunicorn worker) and delivery worker process, during and after load.

What it runs: the sandbox as Halo, gunicorn (gunicorn.conf.py, one process per core) and
``--workers`` worker processes on the chosen backend; signed Typeform webhooks open-loop at
``--rate`` per second for ``--seconds``, RSS sampled every second from /proc during the load and
once more after the backlog drained; "idle" is after one warm-up delivery. Target (DESIGN.md, issue 7): <= 150 MB per process.

Run:  .venv/bin/python bench/bench_rss.py [--backend embedded|production] [--rate 50] [--seconds 60]
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402

BUDGET_MB = 150.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("embedded", "production"), default="production")
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    with common.stack(args.backend, "rss-", workers=args.workers) as running:
        run_id = f"rss-{int(time.time())}"

        def send(session: requests.Session, index: int) -> int:
            return common.post_typeform(session, running.base, f"{run_id}-{index}").status_code

        backlog = common.Backlog(running.env)
        common.post_typeform(requests.Session(), running.base, f"{run_id}-warm-up")
        deadline = time.monotonic() + 30
        while backlog.sample()["undelivered"] or not backlog.sample()["delivered"]:
            if time.monotonic() > deadline:
                raise SystemExit("the warm-up webhook was not delivered")
            time.sleep(0.2)
        load = threading.Thread(target=common.open_loop, args=(send,),
                                kwargs=dict(rate=args.rate, seconds=args.seconds), daemon=True)
        idle = running.rss()
        peak = dict(idle)
        load.start()
        while load.is_alive():
            time.sleep(1)
            for kind, value in running.rss().items():
                peak[kind] = max(peak[kind], value)
        deadline = time.monotonic() + 60
        while backlog.sample()["undelivered"] and time.monotonic() < deadline:
            time.sleep(1)
        backlog.close()
        after = running.rss()
        per_process = {kind: [round(common.rss_mb(pid), 1) for pid in pids]
                       for kind, pids in running.processes().items()}

    print(f"{args.backend}: {args.rate:g} webhooks/s for {args.seconds:g} s; RSS in MB (largest process of each kind)")
    print(f"{'':8} {'idle':>7} {'peak':>7} {'after':>7}")
    for kind in ("web", "worker"):
        print(f"{kind:8} {idle[kind]:7.1f} {peak[kind]:7.1f} {after[kind]:7.1f}")
    print(f"each process after the load: {per_process}")
    passed = all(value <= BUDGET_MB for value in peak.values())
    print(f"budget {BUDGET_MB:g} MB per process -> {'PASS' if passed else 'FAIL'}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
