"""Soak: moderate webhook load for minutes, sampling backlog and memory, then a verdict on growth.

What it runs: the sandbox as Halo, gunicorn (gunicorn.conf.py) and worker processes, on the
chosen backend. Signed Typeform webhooks arrive open-loop at ``--rate`` per second for
``--minutes``; every ``--every`` seconds it samples undelivered submissions, the oldest one's age,
the Huey queue length and the largest RSS among web and among worker processes. After the load
stops it waits for the backlog to drain.

Verdict (printed last): PASS when the backlog drains to zero after the load, the oldest item's age
during the second half stays within 2x its first-half peak (plus 1 s), and neither kind of process
grows by more than 10 % (or 10 MB, whichever is larger) from the end of the first third to the end.

Run:  .venv/bin/python bench/bench_soak.py [--backend embedded|production] [--minutes 10] [--rate 20]
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("embedded", "production"), default="production")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=20.0, help="webhooks per second")
    parser.add_argument("--every", type=float, default=15.0, help="seconds between samples")
    parser.add_argument("--workers", type=int, default=1, help="worker processes")
    args = parser.parse_args()

    seconds = args.minutes * 60
    with common.stack(args.backend, "soak-", workers=args.workers) as running:
        backlog = common.Backlog(running.env)
        run_id = f"soak-{int(time.time())}"

        def send(session: requests.Session, index: int) -> int:
            return common.post_typeform(session, running.base, f"{run_id}-{index}").status_code

        results: list[common.Sent] = []
        load = threading.Thread(target=lambda: results.extend(
            common.open_loop(send, rate=args.rate, seconds=seconds, threads=16)), daemon=True)
        started = time.monotonic()
        load.start()
        samples: list[dict[str, float]] = []
        print(f"soak: {args.backend}, {args.rate:g} webhooks/s for {args.minutes:g} min, "
              f"{args.workers} worker process(es)")
        print(f"{'t(s)':>6} {'undelivered':>11} {'oldest(s)':>9} {'queue':>6} {'web MB':>7} {'worker MB':>9}")
        while load.is_alive():
            time.sleep(min(args.every, max(0.1, seconds + 1 - (time.monotonic() - started))))
            samples.append(_sample(running, backlog, time.monotonic() - started))
        load.join()
        drain_deadline = time.monotonic() + 60
        drained = backlog.sample()
        while drained["undelivered"] and time.monotonic() < drain_deadline:
            time.sleep(1)
            drained = backlog.sample()
        final = _sample(running, backlog, time.monotonic() - started)
        backlog.close()

    ok = sum(1 for sent in results if sent.status == 202)
    print(f"\nsent {len(results)}, answered 202: {ok}; after the load: {final['undelivered']:.0f} "
          f"undelivered, queue {final['queue']:.0f}")
    verdict, reasons = judge(samples, final)
    print("\n".join(reasons))
    print("VERDICT:", "PASS" if verdict else "FAIL (growth that does not return)")
    return 0 if verdict and ok == len(results) else 1


def _sample(running: common.Stack, backlog: common.Backlog, at: float) -> dict[str, float]:
    sample = {"t": at, **backlog.sample(), **running.rss()}
    print(f"{at:6.0f} {sample['undelivered']:11.0f} {sample['oldest_age_s']:9.1f} {sample['queue']:6.0f} "
          f"{sample['web']:7.1f} {sample['worker']:9.1f}", flush=True)
    return sample


def judge(samples: list[dict[str, float]], final: dict[str, float]) -> tuple[bool, list[str]]:
    """Whether anything grew and stayed grown; with one line per check."""
    reasons = []
    passed = True
    drained = final["undelivered"] == 0
    passed &= drained
    reasons.append(f"backlog after the load: {final['undelivered']:.0f} undelivered "
                   f"({'drained' if drained else 'NOT drained'})")
    half = max(1, len(samples) // 2)
    first_age = max(s["oldest_age_s"] for s in samples[:half])
    second_age = max(s["oldest_age_s"] for s in samples[half:]) if samples[half:] else 0.0
    age_ok = second_age <= 2 * first_age + 1.0
    passed &= age_ok
    reasons.append(f"oldest undelivered item: peak {first_age:.1f} s in the first half, {second_age:.1f} s "
                   f"in the second ({'steady' if age_ok else 'GROWING'})")
    third = max(1, len(samples) // 3)
    for kind in ("web", "worker"):
        early = samples[third - 1][kind]
        late = samples[-1][kind]
        allowed = max(10.0, 0.10 * early)
        grew = late - early
        kind_ok = grew <= allowed
        passed &= kind_ok
        reasons.append(f"{kind} RSS: {early:.1f} MB after the first third, {late:.1f} MB at the end "
                       f"(+{grew:.1f} MB, allowed {allowed:.1f}) ({'flat' if kind_ok else 'GROWING'})")
    return bool(passed), reasons


if __name__ == "__main__":
    sys.exit(main())
