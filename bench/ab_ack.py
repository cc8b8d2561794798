"""A/B of the webhook ack between two checkouts of the connector, under gunicorn, in one run.

``bench_ack.py`` compares the connector with a bare Flask endpoint; this compares two versions of
the connector with each other, to tell whether a change to the ack path pays. Both run at once
(each on its own port, database schema or file, and queue), each with its own checkout's
gunicorn.conf.py; wrk then loads one at a time, alternating which goes first each round, with
fresh signed Typeform bodies every round. The verdict is the median of the per-round B/A
throughput ratios: on a shared 2-core machine single rounds swing by 10-20 %, so read a median
of 8 or more rounds, and anything within about 5 % of 1.00 as no difference.

Run (A = the commit before a change, B = this checkout):

    git worktree add /tmp/before HEAD~1
    .venv/bin/python bench/ab_ack.py /tmp/before . --backend production --rounds 8
    git worktree remove /tmp/before

Both checkouts run on this checkout's virtual environment. Needs wrk (Debian: apt-get install wrk).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import bench_ack, common  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a", type=Path, help="checkout A (the reference)")
    parser.add_argument("b", type=Path, help="checkout B (the change)")
    parser.add_argument("--backend", choices=("embedded", "production"), default="production")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each wrk run")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--bodies", type=int, default=30_000, help="distinct signed bodies per round")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is needed (Debian: apt-get install wrk)", file=sys.stderr)
        return 2
    roots = {"A": args.a.resolve(), "B": args.b.resolve()}
    for name, root in roots.items():
        if not (root / "gunicorn.conf.py").is_file():
            print(f"{name}: {root} is not a checkout of the connector (no gunicorn.conf.py)", file=sys.stderr)
            return 2
    with common.workspace("ab-ack-") as workdir:
        envs, procs, bases = {}, {}, {}
        try:
            for name, root in roots.items():
                side = workdir / name
                side.mkdir()
                envs[name] = common.connector_env(args.backend, side, "http://127.0.0.1:9/unused/api/sdk")
                envs[name].update(bench_ack.gunicorn_overrides())
                common.migrate(envs[name], root=root)
                procs[name], bases[name] = common.start_gunicorn(envs[name], side, name=f"connector-{name}",
                                                                 root=root)
            ratios: list[float] = []
            for round_number in range(args.rounds):
                bodies = workdir / f"bodies-{round_number}.txt"
                bench_ack.write_bodies(bodies, args.bodies)
                order = ["A", "B"][:: 1 if round_number % 2 == 0 else -1]
                rps = {name: bench_ack.wrk(bases[name], bodies, seconds=args.seconds,
                                           connections=args.connections)["rps"] for name in order}
                ratios.append(rps["B"] / rps["A"])
                print(f"  round {round_number + 1}: A {rps['A']:.0f} req/s, B {rps['B']:.0f} req/s, "
                      f"B/A {ratios[-1]:.2f}", flush=True)
        finally:
            for proc in procs.values():
                proc.stop()
            for env in envs.values():
                common.drop_schema(env["DATABASE_URL"])
                common.drop_queue(env)
    print(f"{args.backend}: median B/A {statistics.median(ratios):.3f} over {len(ratios)} rounds "
          f"({min(ratios):.2f}-{max(ratios):.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
