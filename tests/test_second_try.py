"""A link is broken only when the site is at fault: targets that timed out during the crawl are asked
again after it, and only a second failure is a 失效链接, with both tries in the evidence (loopback site
whose server answers some requests too late once, one always too late, one 404)."""
import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import yaml

from sqlalchemy import select

from conftest import run_cli
from sitecensus.demo import write_demo_config
from sitecensus.demo.server import DemoServer, Reply, SiteFiles
from sitecensus.store import Fetch, Page, open_store

UNIT = "区交通运输局"
TIMEOUT, SECOND_TIMEOUT = 2, 3
MAX_BYTES = 200_000


def page(title: str, body: str) -> Reply:
    return Reply(200, f"<html><head><title>{title}</title></head><body>{body}</body></html>".encode())


def late_once(reply: Reply) -> Reply:
    """Answers after the crawl's timeout the first time, at once from then on."""
    return Reply(reply.status, reply.body, reply.content_type, delay=TIMEOUT + 2, then=reply)


@pytest.fixture(scope="module")
def scan(tmp_path_factory):
    base = tmp_path_factory.mktemp("second-try")
    as_of = datetime.now(ZoneInfo("Asia/Shanghai")).replace(second=0, microsecond=0)
    servers = {key: DemoServer() for key in ("portal", "site")}
    portal, site = servers["portal"].base_url, servers["site"].base_url
    links = "".join(f'<li><a href="/{name}">{name}</a></li>' for name in
                    ("slow-page.html", "always-late.html", "gone.html", "doc.pdf", "huge-late.html")) + '<img src="/late.png" alt="x">'
    servers["portal"].serve(SiteFiles(fallback=page("北仑之窗", "北仑之窗")))
    servers["site"].serve(SiteFiles(pages={
        "/": page(UNIT, f"<h1>{UNIT}</h1><ul>{links}</ul>"),
        "/slow-page.html": late_once(page("通知", "正文内容")),
        "/late.png": late_once(Reply(200, b"\x89PNG\r\n\x1a\n0000", "image/png")),
        "/doc.pdf": late_once(Reply(200, b"%PDF-1.4 0000", "application/pdf")),
        "/huge-late.html": late_once(page("大页面", "很长的正文" * (MAX_BYTES // 10))),   # past the cap on its second try
        "/always-late.html": Reply(200, b"<html><body>late</body></html>", delay=SECOND_TIMEOUT + 3),
    }))
    try:
        config = write_demo_config(base / "config", {"portal": portal, "external": portal}, as_of.date(), base / "out", [])
        settings = yaml.safe_load((config / "settings.yaml").read_text(encoding="utf-8"))
        settings["crawl"].update(download_timeout_seconds=TIMEOUT, retries=0, second_try_timeout_seconds=SECOND_TIMEOUT,
                                 max_response_bytes=MAX_BYTES)
        settings["probes"].update(per_scan=1)
        (config / "settings.yaml").write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
        register = yaml.safe_load((config / "units.yaml").read_text(encoding="utf-8"))
        unit = next(u for u in register["units"] if u["name"] == UNIT)
        unit["urls"] = [site]
        (config / "units.yaml").write_text(yaml.safe_dump(register, allow_unicode=True), encoding="utf-8")
        result = run_cli("scan", "--json", "--as-of", as_of.strftime("%Y-%m-%dT%H:%M"), config=config)
        assert result.returncode == 0, result.stderr
        yield site, next(s for s in json.loads(result.stdout)["sites"] if s["unit"] == UNIT), base / "out"
    finally:
        for server in servers.values():
            server.close()


def broken(entry: dict) -> dict[str, str]:
    return {e["url"]: e["detail"] for f in entry["findings"] if f["code"] == "D2" for e in f["evidence"]}


def test_answers_that_came_too_late_once_are_no_broken_links(scan):
    site, entry, _ = scan
    found = broken(entry)
    assert not {site + "slow-page.html", site + "late.png", site + "doc.pdf"} & set(found)
    assert site + "gone.html" in found   # a real 404 stays broken


def test_a_target_late_twice_is_broken_with_both_tries_in_the_evidence(scan):
    site, entry, _ = scan
    detail = broken(entry)[site + "always-late.html"]
    assert detail.startswith("访问超时") and f"检测结束后重试：访问超时（限时 {SECOND_TIMEOUT} 秒）" in detail


def test_a_page_that_opened_on_its_second_try_is_read(scan):
    site, _, out = scan
    sessions = open_store(f"sqlite:///{out / 'sitecensus.db'}")
    with sessions() as session:
        page = session.scalar(select(Page).where(Page.url == site + "slow-page.html"))
    assert page is not None and page.title == "通知" and page.facts["second_try"] is True
    assert page.referrer == site and page.depth == 1


def test_a_page_past_the_download_cap_on_its_second_try_is_not_read_as_a_page(scan):
    site, entry, out = scan
    assert site + "huge-late.html" not in broken(entry)
    sessions = open_store(f"sqlite:///{out / 'sitecensus.db'}")
    with sessions() as session:
        fetch = session.scalar(select(Fetch).where(Fetch.url == site + "huge-late.html"))
        page = session.scalar(select(Page).where(Page.url == site + "huge-late.html"))
    assert (fetch.outcome, fetch.error) == ("unverifiable", "too_large") and page is None
