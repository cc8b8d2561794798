"""Webhook ack: a signed Typeform delivery (verify, parse, durable insert, wake-up) under gunicorn,
against a bare Flask endpoint under the same settings, in the same run.

What it measures, per backend (embedded: SQLite + SqliteHuey; production: PostgreSQL + Redis):

* throughput: ``wrk`` (closed loop, ``--connections`` connections, enough to saturate both
  servers, ``--seconds`` per run) posting
  pre-signed Typeform bodies, each a new event (so every request is a real insert, not a
  duplicate), to ``POST /hooks/typeform`` of the connector, and the same bodies to
  bench/bare_app.py. Each round runs both, one after the other (which goes first alternates);
  the ratio is the median over rounds of connector / bare within the round.
  Target (DESIGN.md, issues 4 and 7): ratio >= 0.5.
* p50/p99 at a fixed 100 requests/s: an open-loop Python sender (latency counted from when each
  request was due, so stalls are not hidden), ``--rate-seconds`` long. Target: p99 <= 50 ms.
* the floor under that p99: one plain commit of a row of the same size at the same rate on the
  same database, with the connector's own durability settings (PostgreSQL's synchronous commit;
  SQLite's WAL with synchronous=FULL). A durable ack waits for at least that disk flush, so
  where this machine's disk stalls (some have stalled for 0.1-1 s at a time), no ack meets the
  target, and the floor says so.

Both servers run gunicorn with the project's gunicorn.conf.py (GUNICORN_WORKERS defaults to the
number of cores; gevent workers for production, 16 threads a process for embedded; set any
GUNICORN_* in the environment to compare settings, both servers get them); no delivery worker
runs, so the numbers are the web side's.
wrk runs on the same machine and takes CPU from the server: the ratio is fair, the absolute
numbers are a floor.

Run:  .venv/bin/python bench/bench_ack.py --backend embedded|production|both [--seconds 8] [--rounds 5]
Needs wrk (Debian: apt-get install wrk).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import uuid
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402

LUA = Path(__file__).resolve().parent / "wrk_post.lua"
WRK_THREADS = 2


def write_bodies(path: Path, count: int) -> None:
    """``count`` signed Typeform deliveries, each its own event, one ``signature<TAB>body`` a line."""
    prefix = uuid.uuid4().hex[:8]
    with path.open("w") as out:
        for number in range(count):
            raw = common.typeform_body(f"ack-{prefix}-{number}", email=f"customer{number}@example.com")
            out.write(common.typeform_headers(raw)["Typeform-Signature"] + "\t" + raw.decode() + "\n")


def wrk(base: str, bodies: Path, *, seconds: float, connections: int) -> dict[str, float]:
    """One wrk run: requests/s, p50 and p99 in ms, and how many answers were not 2xx."""
    out = subprocess.run(
        ["wrk", "-t", str(WRK_THREADS), "-c", str(connections), "-d", f"{seconds:g}s", "--latency",
         "-s", str(LUA), f"{base}/hooks/typeform", "--", str(bodies), str(WRK_THREADS)],
        check=True, capture_output=True, text=True).stdout
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: .*", out)
    total = re.search(r"(\d+) requests in", out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
            "p50_ms": _ms(re.search(r"\s50%\s+([\d.]+\w+)", out).group(1)),  # type: ignore[union-attr]
            "p99_ms": _ms(re.search(r"\s99%\s+([\d.]+\w+)", out).group(1)),  # type: ignore[union-attr]
            "requests": float(total.group(1)) if total else 0.0,
            "bad": float(non_2xx.group(1)) if non_2xx else 0.0,
            "socket_errors": 1.0 if errors else 0.0}


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def fixed_rate(base: str, *, rate: float, seconds: float) -> dict[str, float]:
    """Open-loop signed Typeform deliveries at ``rate``/s: p50/p99 in ms, and answers not 202."""
    prefix = uuid.uuid4().hex[:8]

    def send(session: requests.Session, index: int) -> int:
        return common.post_typeform(session, base, f"rate-{prefix}-{index}").status_code

    sent = common.open_loop(send, rate=rate, seconds=seconds, threads=16)
    latencies = [s.latency * 1000 for s in sent]
    return {"p50_ms": common.percentile(latencies, 50), "p99_ms": common.percentile(latencies, 99),
            "bad": float(sum(1 for s in sent if s.status != 202))}


def commit_floor(database_url: str, *, rate: float, seconds: float) -> dict[str, float]:
    """p50/p99/max ms of one plain durable commit of a Typeform-sized row, ``rate`` a second on
    the open-loop schedule the acks get, through the connector's own engine settings
    (connector.store.make_engine)."""
    from sqlalchemy import text

    from connector.store import make_engine

    engine = make_engine(database_url)
    body = common.typeform_body("commit-floor")
    postgres = engine.dialect.name == "postgresql"
    key = "bigint GENERATED ALWAYS AS IDENTITY" if postgres else "INTEGER"
    try:
        with engine.connect() as connection:
            connection.execute(text(f"CREATE TABLE bench_commit_floor (id {key} PRIMARY KEY, "
                                    f"body {'bytea' if postgres else 'BLOB'})"))
            connection.commit()

            def commit(_session: requests.Session, _index: int) -> int:
                connection.execute(text("INSERT INTO bench_commit_floor (body) VALUES (:body)"), {"body": body})
                connection.commit()
                return 202

            # One thread: the connection is not shared, and each commit waits for the one before.
            sent = common.open_loop(commit, rate=rate, seconds=seconds, threads=1)
            connection.execute(text("DROP TABLE bench_commit_floor"))
            connection.commit()
    finally:
        engine.dispose()
    if len(sent) != int(rate * seconds):
        raise RuntimeError(f"the commit loop stopped after {len(sent)} commits")
    latencies = [s.latency * 1000 for s in sent]
    return {"p50_ms": common.percentile(latencies, 50), "p99_ms": common.percentile(latencies, 99),
            "max_ms": max(latencies)}


def run_backend(backend: str, args: argparse.Namespace) -> dict[str, float]:
    with common.workspace("ack-") as workdir:
        env = common.connector_env(backend, workdir, "http://127.0.0.1:9/unused/api/sdk")
        env.update(gunicorn_overrides())
        try:
            common.migrate(env)
            connector, connector_base = common.start_gunicorn(env, workdir, name="connector")
            bare, bare_base = common.start_gunicorn(env, workdir, name="bare", app="bench.bare_app:app")
            print(f"{backend}: gunicorn workers: {worker_class(connector)} (bare Flask: {worker_class(bare)})",
                  flush=True)
            try:
                bare_runs, connector_runs = [], []
                for round_number in range(args.rounds):
                    bodies = workdir / f"bodies-{round_number}.txt"
                    write_bodies(bodies, args.bodies)
                    # Alternate which goes first, so a drift in the machine's load favours neither.
                    order = [bare_base, connector_base][:: 1 if round_number % 2 == 0 else -1]
                    runs = {base: wrk(base, bodies, seconds=args.seconds, connections=args.connections)
                            for base in order}
                    bare_runs.append(runs[bare_base])
                    connector_runs.append(runs[connector_base])
                    print(f"  round {round_number + 1}: bare {bare_runs[-1]['rps']:.0f} req/s, "
                          f"connector {connector_runs[-1]['rps']:.0f} req/s, ratio "
                          f"{connector_runs[-1]['rps'] / bare_runs[-1]['rps']:.2f}", flush=True)
                    if connector_runs[-1]["requests"] > args.bodies:
                        print("  (more requests than bodies: later ones were duplicates)")
                paced_bare = fixed_rate(bare_base, rate=args.rate, seconds=args.rate_seconds)
                paced = fixed_rate(connector_base, rate=args.rate, seconds=args.rate_seconds)
                floor = commit_floor(env["DATABASE_URL"] if backend == "production"
                                     else f"sqlite:///{workdir}/commit-floor.db",
                                     rate=args.rate, seconds=args.rate_seconds)
            finally:
                connector.stop()
                bare.stop()
        finally:
            common.drop_schema(env["DATABASE_URL"])
            common.drop_queue(env)

    def median(runs: list[dict[str, float]], key: str) -> float:
        return statistics.median(run[key] for run in runs)

    result = {
        "bare_rps": median(bare_runs, "rps"), "connector_rps": median(connector_runs, "rps"),
        "bare_p50": median(bare_runs, "p50_ms"), "bare_p99": median(bare_runs, "p99_ms"),
        "connector_p50": median(connector_runs, "p50_ms"), "connector_p99": median(connector_runs, "p99_ms"),
        "bad": sum(run["bad"] for run in connector_runs) + paced["bad"],
        "rate_p50": paced["p50_ms"], "rate_p99": paced["p99_ms"],
        "bare_rate_p50": paced_bare["p50_ms"], "bare_rate_p99": paced_bare["p99_ms"],
        "floor_p50": floor["p50_ms"], "floor_p99": floor["p99_ms"], "floor_max": floor["max_ms"],
    }
    # Each round pairs the two servers a few seconds apart; the median of those paired ratios
    # holds up against the bursts of load a shared machine has better than a ratio of medians.
    result["ratio"] = statistics.median(c["rps"] / b["rps"] for b, c in zip(bare_runs, connector_runs))
    return result


def worker_class(server: common.Proc) -> str:
    """The worker class a gunicorn says it started with (gunicorn.conf.py chooses it)."""
    found = re.search(r"Using worker: (\S+)", server.log_text())
    return found.group(1) if found else "unknown"


def gunicorn_overrides() -> dict[str, str]:
    """GUNICORN_* settings from this environment, given to both servers alike."""
    return {name: value for name, value in os.environ.items() if name.startswith("GUNICORN_")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("embedded", "production", "both"), default="both")
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each wrk run")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--bodies", type=int, default=30_000, help="distinct signed bodies per round")
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--rate-seconds", type=float, default=30.0)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is needed (Debian: apt-get install wrk)", file=sys.stderr)
        return 2
    backends = ("embedded", "production") if args.backend == "both" else (args.backend,)
    verdicts = []
    for backend in backends:
        settings = ", ".join(f"{k}={v}" for k, v in sorted(gunicorn_overrides().items())) or "gunicorn.conf.py defaults"
        print(f"{backend}: {args.rounds} rounds of {args.seconds:g} s, {args.connections} connections, {settings}",
              flush=True)
        r = run_backend(backend, args)
        ratio_ok, p99_ok = r["ratio"] >= 0.5, r["rate_p99"] <= 50 and r["bad"] == 0
        verdicts.append(ratio_ok and p99_ok)
        print(f"{backend}: medians: connector {r['connector_rps']:.0f} req/s (p50 {r['connector_p50']:.1f} ms, "
              f"p99 {r['connector_p99']:.1f} ms), bare Flask {r['bare_rps']:.0f} req/s (p50 "
              f"{r['bare_p50']:.1f} ms, p99 {r['bare_p99']:.1f} ms); median ratio {r['ratio']:.2f} "
              f"(target >= 0.5) -> {'PASS' if ratio_ok else 'FAIL'}")
        print(f"{backend}: at {args.rate:g} req/s open loop: connector p50 {r['rate_p50']:.1f} ms, "
              f"p99 {r['rate_p99']:.1f} ms (target <= 50); bare p50 {r['bare_rate_p50']:.1f} ms, "
              f"p99 {r['bare_rate_p99']:.1f} ms; answers not 2xx: {r['bad']:.0f} -> "
              f"{'PASS' if p99_ok else 'FAIL'}", flush=True)
        print(f"{backend}: the disk's floor, a plain durable commit alone at {args.rate:g}/s: p50 "
              f"{r['floor_p50']:.1f} ms, p99 {r['floor_p99']:.1f} ms, max {r['floor_max']:.0f} ms"
              + (" (above the target: no durable ack can meet it on this machine now)"
                 if r["floor_p99"] > 50 else ""), flush=True)
    return 0 if all(verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
