"""One Scrapy process for the tests of resuming and shared limits (a reactor runs once per process):

    python -m tests.crawl_child '<json>'

with json: `settings` (Scrapy settings over crawler/settings.py, or over Scrapy's defaults when `bare`), and
either `site` (a SiteSpider: url, site_key, store_url + site_id + scan_id to store through StoreSink and
resume from it when `resume`, or `items` to write items as JSON lines; `registry`: a Redis URL for
RedisScanRegistry with `scan`, `sites` the scan's site URLs) or `urls` (a plain spider that GETs them).
`ready`/`go`: files for a start line shared by several children (write one, wait for the other).
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path


class JsonSink:
    def __init__(self, path: str):
        self.out = open(path, "a", encoding="utf-8")

    def accept(self, item) -> None:
        fetch = getattr(item, "fetch", item)
        self.out.write(json.dumps({"url": fetch.url, "method": fetch.method, "page": fetch is not item,
                                   "outcome": fetch.outcome, "error": fetch.error}) + "\n")
        self.out.flush()

    def spider_closed(self, site, reason) -> None:
        pass

    def crawl_report(self, site, report) -> None:
        self.out.write(json.dumps({"report": report}) + "\n")
        self.out.flush()


def _site_spider(spec: dict, process) -> None:
    from crawler.registry import RedisScanRegistry, ScanRegistry, connect
    from crawler.spiders.site import SiteSpider

    sites = spec.get("sites", [spec["url"]])
    registry = (RedisScanRegistry.for_sites(sites, server=connect(spec["registry"]), scan_id=spec["scan"])
                if spec.get("registry") else ScanRegistry.for_sites(sites))
    resume = None
    if spec.get("store_url"):
        from sitecensus.resume import load_resume
        from sitecensus.scan import StoreSink
        from sitecensus.store import open_store
        sessions = open_store(spec["store_url"])
        sink = StoreSink(sessions, spec["scan_id"], {spec["url"]: spec["site_id"]})
        if spec.get("resume"):
            with sessions() as session:
                resume = load_resume(session, spec["site_id"])
    else:
        sink = JsonSink(spec["items"])
    process.crawl(SiteSpider, url=spec["url"], site_key=spec.get("site_key", spec["url"]), sink=sink,
                  registry=registry, resume=resume)
    process.sink = sink


def _plain_spider(urls: list[str], process) -> None:
    import scrapy

    from crawler.extract.links import netloc

    class Get(scrapy.Spider):
        name = "get"

        async def start(self):
            for url in urls:   # slots per host:port, as SiteSpider keys them
                yield scrapy.Request(url, dont_filter=True, callback=self.parse, meta={"download_slot": netloc(url)})

        def parse(self, response):
            return None

    process.crawl(Get)


def _start_line(spec: dict) -> None:
    if spec.get("ready"):
        Path(spec["ready"]).write_text("ready")
        deadline = time.monotonic() + 120
        while not Path(spec["go"]).exists():
            if time.monotonic() > deadline:
                raise SystemExit("no go")
            time.sleep(0.02)


def main(argv: list[str]) -> int:
    from scrapy.crawler import CrawlerProcess
    from scrapy.settings import Settings

    spec = json.loads(argv[0])
    settings = Settings()
    if not spec.get("bare"):
        settings.setmodule("crawler.settings", priority="project")
    settings.update({"LOG_LEVEL": "WARNING", **spec.get("settings", {})}, priority="cmdline")
    process = CrawlerProcess(settings)
    if "site" in spec:
        _site_spider(spec["site"], process)
    else:
        _plain_spider(spec["urls"], process)
    _start_line(spec)
    process.start()
    sink = getattr(process, "sink", None)
    if hasattr(sink, "flush"):
        sink.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
