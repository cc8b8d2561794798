"""Reporting a run: a progress bar on a terminal, a summary table, JUnit XML for CI."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from connector.harness.outcome import Result


class Progress:
    """``[#####.....] 120/300`` redrawn in place, only when writing to a terminal."""

    def __init__(self, total: int, stream: IO[str] | None = None, width: int = 30) -> None:
        self.total, self.done, self.failed, self.width = total, 0, 0, width
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() and total > 1

    def __call__(self, result: Result) -> None:
        self.done += 1
        self.failed += 0 if result.passed or result.skipped else 1
        if not self.enabled:
            return
        filled = self.width * self.done // max(self.total, 1)
        self.stream.write(f"\r[{'#' * filled}{'.' * (self.width - filled)}] {self.done}/{self.total}"
                          f"{f'  {self.failed} failed' if self.failed else ''}")
        if self.done == self.total:
            self.stream.write("\n")
        self.stream.flush()


def group_of(result: Result) -> str:
    return result.case.name.split("/", 1)[0]


def summary(results: Sequence[Result], seconds: float) -> str:
    """Failures with their diffs, then a passed/failed/skipped table per fixtures folder."""
    lines: list[str] = []
    for result in results:
        if result.skipped:
            continue
        if not result.passed:
            lines.append(f"FAIL {result.case.name}: {result.case.description}")
            lines += [f"  - {problem}" for problem in result.problems]
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for result in results:
        column = 2 if result.skipped else (0 if result.passed else 1)
        counts[group_of(result)][column] += 1
    width = max([len(name) for name in counts] + [7])
    lines += ["", f"{'fixtures':<{width}}  passed  failed  skipped"]
    for name in sorted(counts):
        passed, failed, skipped = counts[name]
        lines.append(f"{name:<{width}}  {passed:>6}  {failed:>6}  {skipped:>7}")
    total = [sum(c[i] for c in counts.values()) for i in range(3)]
    lines.append(f"{'total':<{width}}  {total[0]:>6}  {total[1]:>6}  {total[2]:>7}")
    rate = len(results) / seconds if seconds > 0 else 0.0
    lines.append(f"{len(results)} cases in {seconds:.2f} s ({rate:.0f} cases/s)")
    return "\n".join(lines)


def junit_xml(results: Sequence[Result], seconds: float) -> bytes:
    """One ``testsuite`` of one ``testcase`` per fixture; failures carry the diff lines."""
    failures = sum(1 for r in results if not r.passed and not r.skipped)
    skipped = sum(1 for r in results if r.skipped)
    suite = ET.Element("testsuite", name="halo-connector-fixtures", tests=str(len(results)),
                       failures=str(failures), errors="0", skipped=str(skipped),
                       time=f"{seconds:.3f}")
    for result in results:
        case = ET.SubElement(suite, "testcase", classname=group_of(result).replace("/", "."),
                             name=result.case.name, time=f"{result.seconds:.4f}")
        if result.skipped:
            ET.SubElement(case, "skipped", message=result.skipped)
        elif not result.passed:
            failure = ET.SubElement(case, "failure", message=result.problems[0][:200])
            failure.text = "\n".join(result.problems)
    return ET.tostring(ET.ElementTree(suite).getroot(), encoding="utf-8", xml_declaration=True)


def write_junit(path: Path, results: Sequence[Result], seconds: float) -> None:
    path.write_bytes(junit_xml(results, seconds))
