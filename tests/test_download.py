"""The crawl's HTTP client (crawler/download.py: Scrapy's aiohttp handler): names resolve through the crawl's
hosts map and guard, long header lines are read as Twisted's client read them, and a URL is asked for
exactly as it is stored. The hostile sites (tests/test_hostile.py) hold it to hangs, resets, cut bodies and
size caps; tests/test_politeness.py to the per-host limits."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

from tests.counting_server import CountingServer

ROOT = Path(__file__).resolve().parents[1]
HTML = "text/html; charset=utf-8"


def _crawl(tmp_path: Path, url: str, settings: dict) -> list[dict]:
    items = tmp_path / "items.jsonl"
    spec = {"settings": {"SITECENSUS_ALLOWED_HOSTS": ["127.0.0.1"], "DOWNLOAD_DELAY": 0.001, **settings},
            "site": {"url": url, "items": str(items)}}
    done = subprocess.run([sys.executable, "-m", "tests.crawl_child", json.dumps(spec)], cwd=ROOT, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in items.read_text(encoding="utf-8").splitlines() if '"url"' in line]


def test_header_lines_of_16_kb_are_read(tmp_path):
    """aiohttp's own limit is 8 KB a header line; a server's long Set-Cookie must not make its pages unreadable."""
    cookie = {"Set-Cookie": "JSESSIONID=" + "a" * 12_000 + "; Path=/"}
    home = '<html><head><title>区财政局</title></head><body><a href="/a.html">通知公告</a></body></html>'.encode()
    site = CountingServer({"/": (200, home, HTML, cookie), "/a.html": (200, b"<title>a</title>", HTML, cookie)})
    try:
        items = _crawl(tmp_path, site.base_url + "/", {})
    finally:
        site.close()
    outcomes = {urlsplit(i["url"]).path: (i["outcome"], i["error"]) for i in items}
    assert outcomes == {"/": ("ok", None), "/a.html": ("ok", None)}


def test_each_url_is_asked_for_as_it_is_stored(tmp_path):
    """The client sends Scrapy's URL as it is (yarl would turn %7E into ~): what the store says was fetched is
    what the server was asked."""
    home = ('<html><head><title>区财政局</title></head><body><a href="/%7Eold/a.html">旧栏目</a>'
            '<a href="/b.html?x=%2F&amp;y=1">搜索</a><a href="/c%20d.pdf">附件</a></body></html>').encode()
    site = CountingServer({"/": (200, home, HTML, {})}, fallback=lambda path: (200, b"<title>x</title>", HTML, {}))
    try:
        items = _crawl(tmp_path, site.base_url + "/", {})
        asked = site.requested()
    finally:
        site.close()
    stored = {(i["method"], urlsplit(i["url"])._replace(scheme="", netloc="").geturl()) for i in items}
    assert ("GET", "/%7Eold/a.html") in stored and ("HEAD", "/c%20d.pdf") in stored
    assert stored == set(asked)


def test_names_resolve_through_the_hosts_map_and_the_guard(tmp_path):
    """A name in crawl.hosts connects to its mapped address without DNS; with resolve_only_listed another name
    fails as a DNS error (nothing leaves the machine); an IP literal connects as it is."""
    site = CountingServer(fallback=lambda path: (200, b"<title>x</title>", HTML, {}))
    port = urlsplit(site.base_url).port
    home = (f'<html><head><title>区财政局</title></head><body><a href="http://www.mapped.test:{port}/m.html">主站</a>'
            f'<a href="http://gone.test:{port}/g.html">旧站</a><a href="/a.html">通知</a></body></html>').encode()
    site.routes["/"] = (200, home, HTML, {})
    try:
        items = _crawl(tmp_path, site.base_url + "/", {"SITECENSUS_HOSTS": {"www.mapped.test": "127.0.0.1"},
                                                       "SITECENSUS_RESOLVE_ONLY_LISTED": True})
        asked = site.requested()
    finally:
        site.close()
    outcomes = {urlsplit(i["url"]).hostname + urlsplit(i["url"]).path: (i["outcome"], i["error"]) for i in items}
    assert outcomes["www.mapped.test/m.html"] == ("ok", None)
    assert outcomes["gone.test/g.html"] == ("broken", "dns")
    assert outcomes["127.0.0.1/a.html"] == ("ok", None)
    assert ("HEAD", "/m.html") in asked and not any(path == "/g.html" for _, path in asked)


def test_a_site_written_without_its_slash_has_its_relative_links_followed(tmp_path):
    """A unit's address is often written http://www.x.gov.cn (no path); its home page's relative links (a.html,
    ./b/c.html) are the site's pages all the same."""
    home = ('<html><head><title>区财政局</title></head><body><a href="a.html">通知公告</a>'
            '<a href="./b/c.html">政策文件</a></body></html>').encode()
    site = CountingServer({"/": (200, home, HTML, {})}, fallback=lambda path: (200, b"<title>x</title>", HTML, {}))
    try:
        items = _crawl(tmp_path, site.base_url, {})
    finally:
        site.close()
    assert {(i["method"], urlsplit(i["url"]).path) for i in items} >= {("GET", "/a.html"), ("GET", "/b/c.html")}
