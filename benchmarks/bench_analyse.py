#!/usr/bin/env python3
"""CPU per page of reading a page (crawler/extract/page.py analyse_page), the half of a worker's CPU that is ours,
on a folder of saved pages: the shared bench's generated sites or ../shared/realpages. Prints the best of --runs
passes (the machine is shared: the best is the least disturbed) and, with --steps, each extractor's share.

    benchmarks/bench_analyse.py --pages '/tmp/govbench/sites_47x400/site_0[0-4]/www/**/*.html' [--runs 5] [--steps]

A page of the bench is read as a list or article page, its site's /index.html as the home page; a page of another
folder both ways. Measured 2026-11-27 (issue 13's sixth session), best of 3, the commit before the session's
changes and after them back to back: the bench's first five sites (2,015 pages) 1.87 -> 1.48 ms a page,
../shared/realpages (95 pages read both ways) 10.96 -> 8.93 ms (the date and personal-data patterns led by their
first character, placeholders ruled out on the page text, fewer hidden-link candidates, one decode per body).
"""
from __future__ import annotations

import argparse
import glob
import sys
import time
from collections import Counter
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from crawler.extract import page as page_module  # noqa: E402
from sitecensus.config import load_config  # noqa: E402
from sitecensus.scan import extract_options  # noqa: E402

STEPS = ("decode_html", "parse_text", "hidden_offsite_links", "_article_date", "_drop_code", "find_personal_data",
         "extract_identifiers", "extract_links", "extract_groups", "extract_breadcrumb", "shows_placeholder",
         "_content_text", "extract_pagination", "extract_nav", "find_notice")


def _readings(files: list[str]) -> list[tuple[str, bytes, bool]]:
    """(URL, body, read as home) for each reading of each page."""
    out = []
    for name in files:
        body = Path(name).read_bytes()
        if "/www/" in name:   # a govbench site: www/<host-less path>
            path = name.split("/www/", 1)[1]
            out.append((f"http://127.0.0.1/{path}", body, path == "index.html"))
        else:
            out += [(f"http://127.0.0.1/{Path(name).name}", body, home) for home in (False, True)]
    return out


def _timed_steps(spent: Counter) -> None:
    """Wrap each extractor analyse_page calls, adding its seconds to `spent`."""
    for name in STEPS:
        step = getattr(page_module, name)

        def timed(*args, _step=step, _name=name, **kwargs):
            started = time.perf_counter()
            try:
                return _step(*args, **kwargs)
            finally:
                spent[_name] += time.perf_counter() - started
        setattr(page_module, name, timed)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", required=True, help="a glob of saved HTML pages (quote it; ** recurses)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--steps", action="store_true", help="time each extractor too (adds a little to each)")
    args = parser.parse_args()
    readings = _readings(sorted(glob.glob(args.pages, recursive=True)))
    if not readings:
        print(f"没有找到页面：{args.pages}", file=sys.stderr)
        return 2
    config = load_config(REPO / "config")
    options, reference = extract_options(config.profile(None), config.dictionaries), date.today()
    spent: Counter = Counter()
    if args.steps:
        _timed_steps(spent)
    best = None
    for _ in range(max(1, args.runs)):
        started = time.process_time()
        for url, body, home in readings:
            page_module.analyse_page(url, body, None, reference, options, home)
        elapsed = time.process_time() - started
        best = elapsed if best is None else min(best, elapsed)
    print(f"{len(readings)} readings, best of {args.runs}: {1000 * best / len(readings):.3f} ms CPU a page")
    for name, seconds in spent.most_common():
        print(f"  {name:22s} {1e6 * seconds / len(readings) / max(1, args.runs):8.1f} µs a page")
    return 0


if __name__ == "__main__":
    sys.exit(main())
