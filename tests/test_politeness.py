"""Per-host politeness holds whatever the delay: a loopback server counts the requests it is answering at
once. With `per_host_delay_seconds: 0` Scrapy 2.19 would start a slot's whole queue at once (see
sitecensus/scan.py MIN_DELAY); the configured concurrency must hold, and the unthrottled one for loopback."""
import threading
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import yaml

from conftest import loopback_config, run_cli
from sitecensus.demo.server import DemoServer, Reply, SiteFiles

UNIT = "区交通运输局"
PAGES = 40


class Gauge:
    """Requests being answered right now, and the most ever seen at once."""

    def __init__(self):
        self.lock = threading.Lock()
        self.now = self.most = self.total = 0

    def answer(self, body: str):
        def handler(_method, _query, _form) -> Reply:
            with self.lock:
                self.now += 1
                self.total += 1
                self.most = max(self.most, self.now)
            time.sleep(0.15)   # long enough for requests to overlap if the crawler lets them
            with self.lock:
                self.now -= 1
            return Reply(200, body.encode())
        return handler


def scan_with(tmp_path, crawl: dict) -> Gauge:
    as_of = datetime.now(ZoneInfo("Asia/Shanghai")).replace(second=0, microsecond=0)
    gauge = Gauge()
    portal, site = DemoServer(), DemoServer()
    links = "".join(f'<li><a href="/p/{i}.html">通知{i}</a><span>2026-11-{1 + i % 20:02d}</span></li>' for i in range(PAGES))
    pages = {f"/p/{i}.html": gauge.answer(f"<html><head><title>通知{i}</title></head><body>正文{i}</body></html>")
             for i in range(PAGES)}
    pages["/"] = gauge.answer(f"<html><head><title>{UNIT}</title></head><body><ul>{links}</ul></body></html>")
    portal.serve(SiteFiles(fallback=Reply(200, "<html><body>北仑之窗</body></html>".encode())))
    site.serve(SiteFiles(handlers=pages))
    try:
        config = loopback_config(tmp_path, portal.base_url, as_of.date(), crawl)
        register = yaml.safe_load((config / "units.yaml").read_text(encoding="utf-8"))
        register["units"] = [u for u in register["units"] if u["name"] == UNIT]
        register["units"][0]["urls"] = [site.base_url]
        (config / "units.yaml").write_text(yaml.safe_dump(register, allow_unicode=True), encoding="utf-8")
        result = run_cli("scan", "--json", "--as-of", as_of.strftime("%Y-%m-%dT%H:%M"), config=config)
        assert result.returncode == 0, result.stderr
    finally:
        portal.close()
        site.close()
    return gauge


@pytest.mark.parametrize("limit", [1, 2])
def test_per_host_concurrency_holds_with_no_delay(tmp_path, limit):
    gauge = scan_with(tmp_path, {"per_host_concurrency": limit, "per_host_delay_seconds": 0,
                                 "unthrottled_networks": []})
    assert gauge.total >= PAGES + 1          # every page was asked for (probes included)
    assert gauge.most <= limit + 1           # + the home-page probe, which runs beside the crawl


def test_the_unthrottled_loopback_concurrency_holds_and_is_reached(tmp_path):
    """Reached too: the HTTP client keeps no per-host connection limit of its own (crawler/download.py), which
    would hold the slot's requests back inside their download timeout."""
    gauge = scan_with(tmp_path, {"unthrottled_networks": ["127.0.0.0/8"], "unthrottled_concurrency": 4,
                                 "per_host_concurrency": 2})
    assert 4 <= gauge.most <= 4 + 1


def test_each_request_says_which_page_linked_to_it(tmp_path):
    """Referer is set as a request leaves (crawler.middlewares.RefererFromMeta), not held by waiting requests:
    pages, link checks (HEAD, then GET when HEAD fails), each hop of a redirect and the home page (none) all carry
    the right one, and Scrapy's redirect middlewares do not warn, once a site, that its RefererMiddleware is off."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    from tests.counting_server import CountingServer

    home = ('<html><head><title>首页</title></head><body><a href="/a.html">通知公告</a>'
            '<img src="/b.gif" alt="b"><a href="/c.pdf">附件</a><a href="/old.html">旧栏目</a></body></html>').encode()
    page = '<html><head><title>通知</title></head><body><a href="/d.html">下一篇</a></body></html>'.encode()
    routes = {"/": (200, home, "text/html; charset=utf-8", {}), "/a.html": (200, page, "text/html; charset=utf-8", {}),
              "/d.html": (200, b"<html><title>d</title></html>", "text/html; charset=utf-8", {}),
              "/b.gif": (200, b"GIF89a", "image/gif", {}),
              "/old.html": (301, b"", "text/html", {"Location": "/new.html"}),
              "/new.html": (200, b"<html><title>new</title></html>", "text/html; charset=utf-8", {})}
    site = CountingServer(routes, fallback=lambda path: (405 if path == "/c.pdf" else 404, b"", "text/plain", {}))
    root = Path(__file__).resolve().parents[1]
    spec = {"settings": {"SITECENSUS_ALLOWED_HOSTS": ["127.0.0.1"], "DOWNLOAD_DELAY": 0.001},
            "site": {"url": site.base_url + "/", "items": str(tmp_path / "items.jsonl")}}
    try:
        done = subprocess.run([sys.executable, "-m", "tests.crawl_child", json.dumps(spec)], cwd=root, timeout=120,
                              env={**os.environ, "PYTHONPATH": str(root)}, capture_output=True, text=True)
    finally:
        site.close()
    assert done.returncode == 0, done.stderr
    home_url, page_url = site.base_url + "/", site.base_url + "/a.html"
    assert site.referers == {("GET", "/"): None, ("GET", "/a.html"): home_url, ("HEAD", "/b.gif"): home_url,
                             ("HEAD", "/c.pdf"): home_url, ("GET", "/c.pdf"): home_url, ("GET", "/d.html"): page_url,
                             ("GET", "/old.html"): home_url, ("GET", "/new.html"): home_url}
    assert "RefererMiddleware" not in done.stderr
