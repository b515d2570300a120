"""A site whose crawl was killed halfway (SIGKILL) is taken up again from the store (sitecensus/resume.py,
SiteSpider(resume=...)): nothing it had stored is requested again, and the store ends with the same pages,
links and fetches as an undisturbed crawl of the same site. Real processes, a loopback site that logs every
request, and the Redis registry a worker uses (the resumed site claims again what it had claimed)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import func, insert, select

from sitecensus.resume import load_resume
from sitecensus.store import Fetch, Link, Page, Scan, Site, open_store
from tests.counting_server import CountingServer

REPO = Path(__file__).resolve().parents[1]
SECTIONS, ARTICLES = 6, 6
PAGES = 1 + SECTIONS + SECTIONS * ARTICLES + 1   # home, sections, articles, the page /old.html moved to


def _html(title: str, links: list[str], images: list[str]) -> tuple[int, bytes, str, dict]:
    body = "".join(f'<li><a href="{href}">链接{n}</a></li>' for n, href in enumerate(links))
    body += "".join(f'<img src="{src}" alt="图{n}">' for n, src in enumerate(images))
    return 200, f"<html><head><title>{title}</title></head><body><h1>{title}</h1><ul>{body}</ul></body></html>".encode(), \
        "text/html; charset=utf-8", {}


def site_routes(external: str) -> dict:
    """A tree of pages; every page links home and its section, images on the site and elsewhere, documents."""
    routes = {"/": _html("区政府", [f"/s{s}.html" for s in range(SECTIONS)] + ["/old.html", "/missing.html"],
                         ["/img/logo.png", f"{external}/common.gif"]),
              "/old.html": (301, b"", "text/html", {"Location": "/new.html"}),
              "/new.html": _html("新页面", ["/", "/s0.html"], ["/img/logo.png"])}
    for s in range(SECTIONS):
        routes[f"/s{s}.html"] = _html(f"栏目{s}", ["/"] + [f"/s{s}/a{a}.html" for a in range(ARTICLES)],
                                      ["/img/logo.png", f"/img/s{s}.png", f"{external}/common.gif", f"{external}/s{s}.gif"])
        for a in range(ARTICLES):
            routes[f"/s{s}/a{a}.html"] = _html(f"文章{s}-{a}", ["/", f"/s{s}.html", f"/doc/{s}-{a}.pdf"],
                                               [f"/img/{s}-{a}.jpg", f"{external}/a-{s}-{a}.gif"])
    return routes


def _file(path: str):
    if path.endswith(".pdf"):
        return 200, b"%PDF-1.4 test", "application/pdf", {}
    if path.endswith((".png", ".jpg", ".gif")):
        return 200, b"GIF89a", "image/gif", {}
    return 404, "<html><head><title>404</title></head><body>页面不存在</body></html>".encode(), "text/html", {}


def new_store(path: Path, url: str) -> tuple[str, int, int]:
    store_url = f"sqlite:///{path}"
    sessions = open_store(store_url)
    with sessions.begin() as session:
        now = datetime.now(timezone.utc)
        scan = Scan(started_at=now, as_of=now, status="running")
        scan.sites.append(Site(unit="区政府", unit_kind="区政府", url=url))
        session.add(scan)
        session.flush()
        return store_url, scan.id, scan.sites[0].id


def crawl(url: str, store: tuple[str, int, int], redis_url: str | None = None, resume: bool = False) -> subprocess.Popen:
    store_url, scan_id, site_id = store
    spec = {"settings": {"SITECENSUS_ALLOWED_HOSTS": ["127.0.0.1"], "DOWNLOAD_DELAY": 0.001,
                         "CONCURRENT_REQUESTS_PER_DOMAIN": 2},
            "site": {"url": url, "store_url": store_url, "scan_id": scan_id, "site_id": site_id, "resume": resume,
                     "registry": redis_url, "scan": scan_id}}
    return subprocess.Popen([sys.executable, "-m", "tests.crawl_child", json.dumps(spec)], cwd=REPO,
                            env={**os.environ, "PYTHONPATH": str(REPO)}, stderr=subprocess.PIPE, text=True)


def finish(child: subprocess.Popen) -> None:
    _, err = child.communicate(timeout=180)
    assert child.returncode == 0, err


def stored(store: tuple[str, int, int]) -> dict:
    store_url, _, site_id = store
    with open_store(store_url)() as session:
        fetches = session.scalars(select(Fetch.url).where(Fetch.site_id == site_id)).all()
        return {"pages": Counter(session.scalars(select(Page.url).where(Page.site_id == site_id))),
                "fetches": Counter(fetches),
                "links": Counter(session.execute(select(Link.source, Link.target, Link.kind)
                                                 .where(Link.site_id == site_id)).all()),
                "crawl": session.scalar(select(Site.crawl).where(Site.id == site_id))}


def page_count(store_url: str) -> int:
    with open_store(store_url)() as session:
        return session.scalar(select(func.count(Page.id)))


def test_what_the_store_holds_of_a_site(store_url):
    """load_resume on both backends: pages by depth with their links in order, every URL requested, where the
    home page ended up; a site with nothing stored has nothing to resume."""
    sessions = open_store(store_url)
    with sessions.begin() as session:
        now = datetime.now(timezone.utc)
        scan = Scan(started_at=now, as_of=now, status="running")
        scan.sites += [Site(unit="甲", unit_kind="区政府", url="http://a.test/"),
                       Site(unit="乙", unit_kind="区政府", url="http://b.test/")]
        session.add(scan)
        session.flush()
        site, empty = scan.sites[0].id, scan.sites[1].id
        fetch = {"site_id": site, "scan_id": scan.id, "method": "GET", "outcome": "ok"}
        session.execute(insert(Fetch), [{**fetch, "url": "http://a.test/", "final_url": "https://a.test/"},
                                        {**fetch, "url": "https://a.test/x.html", "final_url": "https://a.test/x.html"},
                                        {**fetch, "url": "https://a.test/gone.png", "method": "HEAD",
                                         "outcome": "broken"}])
        session.execute(insert(Page), [
            {"site_id": site, "url": "https://a.test/x.html", "depth": 1, "kind": "other",
             "facts": {"links_unread": 7}},
            {"site_id": site, "url": "https://a.test/", "depth": 0, "kind": "home", "is_home": True, "facts": {}}])
        session.execute(insert(Link), [
            {"site_id": site, "source": "https://a.test/", "target": t, "tag": "a", "kind": k, "text": ""}
            for t, k in (("https://a.test/x.html", "page"), ("https://a.test/gone.png", "image"))])
    with sessions() as session:
        resume = load_resume(session, site)
        assert load_resume(session, empty) is None
    assert [(p.url, p.depth, p.is_home, p.links_unread) for p in resume.pages] == [
        ("https://a.test/", 0, True, 0), ("https://a.test/x.html", 1, False, 7)]
    assert resume.pages[0].links == [("https://a.test/x.html", "page"), ("https://a.test/gone.png", "image")]
    assert resume.fetched == {"http://a.test/", "https://a.test/x.html", "https://a.test/gone.png"}
    assert (resume.home_final_url, resume.home_ok) == ("https://a.test/", True)


def test_a_killed_crawl_resumes_without_fetching_again(redis_url, tmp_path):
    external = CountingServer(fallback=_file, delay=0.02)
    site = CountingServer(site_routes(external.base_url), fallback=_file, delay=0.12)
    home = site.base_url + "/"
    try:
        whole = new_store(tmp_path / "whole.db", home)
        finish(crawl(home, whole))
        undisturbed = stored(whole)
        assert sum(undisturbed["pages"].values()) == PAGES

        broken = new_store(tmp_path / "broken.db", home)
        child = crawl(home, broken, redis_url)
        deadline = time.monotonic() + 120
        while page_count(broken[0]) < 5:   # a first batch is stored (StoreSink writes every 2 s)
            assert child.poll() is None and time.monotonic() < deadline, "the crawl ended before it could be killed"
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        time.sleep(0.5)   # requests under way when it died reach the log
        before = stored(broken)
        asked_before = {name: len(server.log) for name, server in (("site", site), ("external", external))}
        assert 5 <= sum(before["pages"].values()) < PAGES, "killed halfway"

        finish(crawl(home, broken, redis_url, resume=True))
        after = stored(broken)
    finally:
        site.close()
        external.close()

    again = [server.base_url + path for name, server in (("site", site), ("external", external))
             for _, path, _, _ in server.log[asked_before[name]:]]
    assert again, "the resumed crawl fetched what was missing"
    assert not set(again) & set(before["fetches"]), "nothing stored before is requested again"
    assert home not in again
    # the same store as an undisturbed crawl, each fact once
    assert after["pages"] == undisturbed["pages"]
    assert after["fetches"] == undisturbed["fetches"]
    assert after["links"] == undisturbed["links"]
    assert set(after["fetches"].values()) == {1}
    for counter in ("link_checks", "pages_left", "checks_left", "links_unread", "traps"):
        assert after["crawl"][counter] == undisturbed["crawl"][counter], counter
