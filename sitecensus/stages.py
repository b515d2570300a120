"""Seconds, CPU and peak memory of each stage of a scan (crawl, second tries, columns, judging, ledger,
reports, PDFs, screenshots), written to the scan's log and kept for the bench (benchmarks/bench_scan.py).

    with stage("评分"): ...        or        @stage("评分")

CPU counts this process and the children it waited for (the crawl's worker processes, the browser that
prints PDFs and takes screenshots). Peak memory is the process's own resident set at its highest during the
stage: Linux lets the high-water mark be reset (/proc/self/clear_refs), so each stage shows its own peak, not
the scan's. Children cannot be reset: a stage names their peak (the largest child's) when it rose during it.
A stage inside another counts in both (the outer figures include the inner ones).
"""
from __future__ import annotations

import logging
import re
import resource
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("sitecensus.stages")
_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


@dataclass
class StageTime:
    name: str
    seconds: float
    cpu_seconds: float
    peak_mb: float | None   # None where the platform cannot tell (no /proc)
    depth: int               # 1 for a stage inside another
    children_peak_mb: float | None = None   # the largest child's peak, when it rose during the stage

    def line(self) -> str:
        peak = f"，内存峰值 {self.peak_mb:.0f} MB" if self.peak_mb is not None else ""
        if self.children_peak_mb is not None:
            peak += f"（子进程 {self.children_peak_mb:.0f} MB）"
        return f"{'  ' * self.depth}{self.name}：用时 {self.seconds:.1f} 秒，CPU {self.cpu_seconds:.1f} 秒{peak}"


finished: list[StageTime] = []   # every stage of this process, in the order they ended
_open: list[list[float]] = []    # per open stage: the highest resident set seen by its inner stages (kB)


def _cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _children_peak_kb() -> float:
    return float(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)   # kB on Linux


def _high_water_kb() -> float | None:
    try:
        return float(re.search(r"VmHWM:\s+(\d+)", _STATUS.read_text()).group(1))
    except (OSError, AttributeError):
        return None


def _reset_high_water() -> None:
    try:
        _CLEAR_REFS.write_text("5")   # "5": reset the peak resident set size (Linux 4.0+)
    except OSError:
        pass   # then each stage reports the process's peak so far


def _note_peak(kb: float | None) -> None:
    """Hand a peak measured inside the open stages up to each of them (a reset would hide it from them)."""
    if kb is not None:
        for peak in _open:
            peak[0] = max(peak[0], kb)


@contextmanager
def stage(name: str):
    _note_peak(_high_water_kb())
    _reset_high_water()
    started, cpu, children = time.monotonic(), _cpu(), _children_peak_kb()
    _open.append([0.0])
    try:
        yield
    finally:
        inner_peak = _open.pop()[0]
        now = _high_water_kb()
        _note_peak(now)
        peak = max(now, inner_peak) / 1024 if now is not None else None
        children_now = _children_peak_kb()
        timing = StageTime(name, time.monotonic() - started, _cpu() - cpu, peak, len(_open),
                           children_now / 1024 if children_now > children else None)
        finished.append(timing)
        log.info("阶段 %s", timing.line().strip())
