#!/usr/bin/env python3
"""Scan the sites of a govbench sites.txt with sitecensus and print the bench's plug-in contract:

    PAGE<TAB>url                         once per HTML page fetched
    BROKEN<TAB>source<TAB>target<TAB>why  once per broken (source page, target) pair

Politeness limits are lifted for loopback (the bench's nginx is ours); everything else is the
product's own scan pipeline (Scrapy spiders, store, column discovery, scoring, reports).
Environment: BENCH_WORKERS (crawl workers, 0 = one per core), BENCH_PRINT=0 (no screenshots or sheet PDFs),
BENCH_RENDER=0 (no headless browser for script-built pages), BENCH_CONCURRENCY (requests in flight per site; default: crawl.total_concurrency of config/settings.yaml).

    benchmarks/bench_scan.py --sites /tmp/govbench/sites_10x400/sites.txt --out /tmp/sc-bench
    shared/bench/run_peers.sh --sites 10 --pages 400 --peers none \
        --tool "sitecensus=$PWD/.venv/bin/python $PWD/benchmarks/bench_scan.py --sites {sites_file} --out {out_dir}"
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from sqlalchemy import select

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sitecensus import stages  # noqa: E402
from sitecensus.app import App  # noqa: E402
from sitecensus.config import Config, ConsolidationForm, Unit, load_config  # noqa: E402
from sitecensus.store import Fetch, Link, Page, Site  # noqa: E402


def bench_config(out: Path, per_host: int) -> Config:
    base = load_config(REPO / "config")
    settings = base.settings.model_copy(deep=True)
    settings.store_url = f"sqlite:///{out / 'bench.db'}"
    settings.output_dir = str(out / "reports")
    settings.crawl.per_host_concurrency = per_host
    settings.crawl.per_host_delay_seconds = 0
    settings.crawl.unthrottled_concurrency = per_host
    # the bench's "external" and dead hosts stand for public addresses but live on loopback, unregistered
    settings.crawl.private_networks_allowed = ["127.0.0.0/8"]
    # requests in flight per site: the product's default unless BENCH_CONCURRENCY says otherwise (128 left ~100
    # requests per site parked in Scrapy's downloader queues, ~20 MB more per worker and no faster)
    settings.crawl.total_concurrency = int(os.environ.get("BENCH_CONCURRENCY", settings.crawl.total_concurrency))
    settings.crawl.max_pages_per_site = 100_000
    settings.crawl.max_depth = 50
    settings.crawl.download_timeout_seconds = 10
    settings.crawl.render.enabled = os.environ.get("BENCH_RENDER", "1") != "0"   # the bench sites are static
    settings.queue.workers = int(os.environ.get("BENCH_WORKERS", "0"))   # 0: one per core
    settings.probes.per_scan = 1
    # BENCH_PRINT=0: no evidence screenshots and sheet PDFs (~110 s of Chromium per scan that no peer does), to
    # compare the crawl-and-judge pipeline with the peers; the default measures the whole product
    settings.sheets.pdf = settings.sheets.screenshots.enabled = os.environ.get("BENCH_PRINT", "1") != "0"
    settings.probes.spacing_seconds = 0
    return Config(directory=base.directory, settings=settings, units=[])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sites", required=True, type=Path, help="file with one base URL per line")
    parser.add_argument("--out", required=True, type=Path, help="folder for the store and reports")
    parser.add_argument("--per-host", type=int, default=8, help="concurrent requests per host (default 8)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench.db").unlink(missing_ok=True)
    urls = [line.strip() for line in args.sites.read_text().splitlines() if line.strip()]
    config = bench_config(args.out, args.per_host)
    config.units = [Unit(name=f"site{i:02d}", kind="部门", urls=[u], consolidation=ConsolidationForm())
                    for i, u in enumerate(urls)]
    app = App(config)
    started = time.monotonic()
    outcome = app.scan(config.units, app.as_of(None))
    elapsed = time.monotonic() - started
    with app.sessions() as session:
        site_ids = session.scalars(select(Site.id).where(Site.scan_id == outcome.scan_id)).all()
        pages = 0
        for (url,) in session.execute(select(Page.url).where(Page.site_id.in_(site_ids))):
            print(f"PAGE\t{url}")
            pages += 1
        broken = session.execute(
            select(Link.source, Link.target, Fetch.status, Fetch.error).distinct()
            .join(Fetch, (Fetch.scan_id == outcome.scan_id) & (Fetch.url == Link.target))
            .where(Link.site_id.in_(site_ids), Fetch.outcome == "broken"))
        pairs = 0
        for source, target, status, error in broken:
            print(f"BROKEN\t{source}\t{target}\t{error or status}")
            pairs += 1
    print(f"sitecensus: {len(urls)} sites, {pages} pages, {pairs} broken pairs in {elapsed:.1f} s "
          f"({pages / elapsed:.0f} pages/s)", file=sys.stderr)
    for timing in stages.finished:   # each stage's seconds, CPU and peak memory (sitecensus/stages.py)
        print(f"sitecensus: {timing.line()}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
