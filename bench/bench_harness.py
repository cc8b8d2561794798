"""Benchmark: offline fixture replay throughput (cases per second), target >= 200.

Replays every fixture under fixtures/ ROUNDS times after a warm-up pass (which builds the
connector and fills caches), in one process and in JOBS processes (``replay --jobs``), and prints
wall-clock cases/s plus CPU ms per case (the figure that depends least on what else the machine
runs).
Run: ``.venv/bin/python bench/bench_harness.py [JOBS]`` (default JOBS: the number of CPUs).
"""

from __future__ import annotations

import logging
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from connector.harness import load_cases  # noqa: E402
from connector.harness.offline import OfflineRunner, ProcessReplay  # noqa: E402

ROUNDS = 5


def single_process(cases) -> tuple[float, float]:
    """Median wall cases/s and CPU ms per case, one connector reused across rounds."""
    walls, cpus = [], []
    with OfflineRunner() as runner:
        for case in cases:  # warm-up
            runner.run(case)
        for _ in range(ROUNDS):
            wall, cpu = time.perf_counter(), time.process_time()
            results = [runner.run(case) for case in cases]
            walls.append(len(cases) / (time.perf_counter() - wall))
            cpus.append((time.process_time() - cpu) * 1000 / len(cases))
            assert all(r.passed for r in results), [r.case.name for r in results if not r.passed]
    return statistics.median(walls), statistics.median(cpus)


def parallel(cases, jobs: int) -> float:
    """Wall cases/s over ``jobs`` processes, after each has built its connector and warmed up."""
    with ProcessReplay(jobs) as processes:
        list(processes.run(cases * jobs))  # warm-up: every worker builds its connector
        batch = cases * ROUNDS
        started = time.perf_counter()
        results = list(processes.run(batch))
        seconds = time.perf_counter() - started
    assert all(r.passed for r in results)
    return len(batch) / seconds


def main() -> None:
    # As `flask harness replay` does: the connector's warnings about expected failures stay quiet.
    logging.getLogger("connector").setLevel(logging.ERROR)
    jobs = int(sys.argv[1]) if len(sys.argv) > 1 else (os.cpu_count() or 1)
    cases = load_cases()
    wall, cpu = single_process(cases)
    print(f"{len(cases)} fixtures, {ROUNDS} rounds, load average {os.getloadavg()[0]:.2f}")
    print(f"1 process : {wall:6.0f} cases/s wall, {cpu:5.2f} ms CPU per case "
          f"(= {1000 / cpu:.0f} cases/s per idle core)")
    if jobs > 1:
        print(f"{jobs} processes: {parallel(cases, jobs):6.0f} cases/s wall")


if __name__ == "__main__":
    main()
