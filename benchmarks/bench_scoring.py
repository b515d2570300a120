#!/usr/bin/env python3
"""Cost of scoring alone (no crawling): judge the latest scan stored in a sitecensus database again,
as `sitecensus rescore` does, and report wall seconds, CPU seconds and peak RSS.

    benchmarks/bench_scoring.py --db /tmp/govbench/results/<run>/sitecensus.d/bench.db [--profile inspection2019]
"""
from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sitecensus.config import load_config  # noqa: E402
from sitecensus.judging import judge_scan  # noqa: E402
from sitecensus.scan import parse_as_of  # noqa: E402
from sitecensus.store import latest_scan_id, open_store  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True, type=Path)
    parser.add_argument("--profile", default="census2015")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    config = load_config(REPO / "config")
    profile = config.profile(args.profile)
    sessions = open_store(f"sqlite:///{args.db}")
    with sessions() as session:
        scan_id = latest_scan_id(session)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    times = []
    for _ in range(args.repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        judge_scan(sessions, scan_id, parse_as_of(None, "Asia/Shanghai"), profile, config)
        times.append((time.perf_counter() - wall, time.process_time() - cpu))
    best = min(times)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"scoring scan {scan_id} ({args.profile}): best of {args.repeat}: {best[0]:.2f} s wall, {best[1]:.2f} s CPU; "
          f"peak RSS {peak:.0f} MB (before scoring {rss_before:.0f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
