#!/usr/bin/env python3
"""The floor under any Scrapy crawler on this machine: fetch every page of the bench sites and follow their
same-host links with nothing else (no parsing tree, no link checks, no store), with the settings the product
crawls with (per-host concurrency 8, 128 in all, no retries, no cookies). Its CPU per page is what Scrapy,
Twisted and the HTTP/1.1 client cost before sitecensus does any work; issue 13's "<= 4 ms per page" is to be
read against it. Prints the bench's PAGE lines (no BROKEN lines: it checks nothing), so it runs as a tool:

    shared/bench/run_peers.sh --sites 47 --pages 400 --peers none \\
        --tool "scrapy-floor=$PWD/.venv/bin/python $PWD/benchmarks/bench_scrapy_floor.py --sites {sites_file}"
"""
from __future__ import annotations

import argparse
import re
import resource
import sys
import time
from contextlib import nullcontext
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy.crawler import CrawlerProcess
from scrapy.http import TextResponse

HANDLERS = {"aiohttp": {"http": "crawler.download.HttpDownloadHandler"}, "twisted": {}}
HREF = re.compile(rb'<a[^>]+href="([^"#]+)"')   # cheaper than any tree: the floor, not a reader


class FloorSpider(scrapy.Spider):
    name = "floor"

    def __init__(self, urls: list[str], **kwargs):
        super().__init__(**kwargs)
        self.start_urls = urls
        self.pages = 0

    def parse(self, response):
        if not isinstance(response, TextResponse):
            return
        self.pages += 1
        print(f"PAGE\t{response.url}")
        host = urlsplit(response.url).netloc
        for href in HREF.findall(response.body):
            url = urljoin(response.url, href.decode("utf-8", "replace"))
            if urlsplit(url).netloc == host:
                yield scrapy.Request(url, callback=self.parse)


def _trimmed() -> dict:
    """The product's settings that make each request and item cheaper; not its own middlewares (address guard,
    Retry-After), its frontier nor its de-duplication, which need the product's spider."""
    from crawler import settings
    off = {name: None for name, order in {**settings.DOWNLOADER_MIDDLEWARES, **settings.SPIDER_MIDDLEWARES}.items()
           if order is None}
    return {"DOWNLOADER_MIDDLEWARES": {k: v for k, v in off.items() if ".downloadermiddlewares." in k},
            "SPIDER_MIDDLEWARES": {k: v for k, v in off.items() if ".spidermiddlewares." in k},
            "DOWNLOADER_STATS": settings.DOWNLOADER_STATS, "CONCURRENT_ITEMS": settings.CONCURRENT_ITEMS,
            "REMOTE_CONTROL_ENABLED": settings.REMOTE_CONTROL_ENABLED, "STATS_CLASS": settings.STATS_CLASS,
            "EXTENSIONS": settings.EXTENSIONS}


def _gc_as_product():
    from sitecensus.scan import frozen_heap
    return frozen_heap()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sites", required=True, help="file with one base URL per line")
    parser.add_argument("--http-client", choices=("aiohttp", "twisted"), default="aiohttp",
                        help="aiohttp: the product's handler (crawler/download.py); twisted: Scrapy's default")
    parser.add_argument("--trim", action="store_true",
                        help="as the product runs Scrapy: its default middlewares, stats and item workers trimmed "
                             "(crawler/settings.py), the heap frozen and the young GC generation at 10,000 "
                             "(sitecensus/scan.py): what Scrapy itself costs the product per page")
    args = parser.parse_args()
    urls = [line.strip() for line in open(args.sites) if line.strip()]
    process = CrawlerProcess({**(_trimmed() if args.trim else {}),
        "LOG_LEVEL": "ERROR", "CONCURRENT_REQUESTS": 128, "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
        "DOWNLOAD_DELAY": 0.001,   # 0 makes a Scrapy 2.19 slot start its whole queue at once (README, politeness)
        "ROBOTSTXT_OBEY": False, "TELNETCONSOLE_ENABLED": False, "COOKIES_ENABLED": False, "RETRY_ENABLED": False,
        "HTTPERROR_ALLOW_ALL": True, "DEPTH_PRIORITY": 1,
        "SCHEDULER_DISK_QUEUE": "scrapy.squeues.PickleFifoDiskQueue",
        "SCHEDULER_MEMORY_QUEUE": "scrapy.squeues.FifoMemoryQueue",
        "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
        "DOWNLOAD_HANDLERS": HANDLERS[args.http_client]})
    crawler = process.create_crawler(FloorSpider)
    process.crawl(crawler, urls=urls)
    wall, cpu = time.monotonic(), time.process_time()
    with _gc_as_product() if args.trim else nullcontext():
        process.start()
    wall, cpu = time.monotonic() - wall, time.process_time() - cpu
    pages = crawler.spider.pages
    print(f"scrapy-floor ({args.http_client}{', trimmed' if args.trim else ''}): {pages} pages, {wall:.1f} s, {cpu:.1f} CPU s, {cpu / max(pages, 1) * 1000:.2f} ms CPU/page, "
          f"{pages / wall:.0f} pages/s, peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
