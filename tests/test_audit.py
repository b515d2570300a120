"""Audits answer in seconds and state their certainty (issue 11, points 4 and 5): `sitecensus audit` of a
400-page loopback site with the shipped politeness, lifted for loopback by settings.yaml's
crawl.unthrottled_networks, takes one fresh probe; an unreachable site answers 无法检测 in one timeout,
with V1 (from the fresh probe plus the ones stored) shown as 暂定 and no findings about its content."""
import json
import re
import shutil
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from sqlalchemy import insert, select

from conftest import REPO, run_cli
from reports.html import stem
from sitecensus.config import load_config
from sitecensus.demo import write_demo_config
from sitecensus.demo.server import DemoServer, Reply, SiteFiles, closed_port_url
from sitecensus.demo.sites import ColumnSpec, SiteSpec, build_site, external_site, portal_site
from sitecensus.scan import unthrottled_slots
from sitecensus.store import Fetch, Probe, Scan, open_store

UNIT = "区交通运输局"
COLUMNS = [("工作动态", "xwdt/gzdt", 1), ("部门动态", "xwdt/bmdt", 2), ("通知公告", "tzgg", 5), ("政策文件", "zwgk/zcwj", 9),
           ("人事信息", "zwgk/rsxx", 12), ("领导信箱", "hdjl/ldxx", 6), ("网上调查", "hdjl/wsdc", 8),
           ("在线访谈", "hdjl/zxft", 7), ("图片新闻", "xwdt/tpxw", 3)]
ARTICLES_PER_COLUMN = 40   # 9 columns x (40 articles + 4 list pages + the column's own address) + home ≈ 400 pages
# Issue 11 asks for under 10 s (measured 5.8–6.6 s on an idle 2-core machine, see README). The test holds a
# bound a busy CI machine cannot break by accident but the old polite crawl (60–70 s, 0.5 s per request) would.
AUDIT_SECONDS = 30


def big_site(today: date, base: str, external: str, portal: str, dead: str):
    """A department site of list pages (10 rows each, paged) and articles with an attachment each."""
    columns = [ColumnSpec(name, path, [first + 3 * i for i in range(ARTICLES_PER_COLUMN)]) for name, path, first in COLUMNS]
    spec = SiteSpec("big", UNIT, "宁波市北仑区交通运输局", columns)
    return spec, build_site(spec, base, today, external, portal, dead)


def shipped_politeness(config: Path) -> dict:
    """The demo config lifts politeness for its own sake; put back settings.yaml's as shipped, so only
    crawl.unthrottled_networks can lift it for loopback."""
    shipped = yaml.safe_load((REPO / "config" / "settings.yaml").read_text(encoding="utf-8"))
    settings = yaml.safe_load((config / "settings.yaml").read_text(encoding="utf-8"))
    keep = {key: settings["crawl"][key] for key in ("hosts", "resolve_only_listed")}   # no DNS query leaves
    settings["crawl"] = {**shipped["crawl"], **keep}
    settings["probes"] = shipped["probes"]
    (config / "settings.yaml").write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    return settings


@pytest.fixture(scope="module")
def audit_world(tmp_path_factory):
    base = tmp_path_factory.mktemp("audit")
    today = datetime.now(timezone(timedelta(hours=8))).date()
    servers = {key: DemoServer() for key in ("portal", "external", "big")}
    urls = {key: server.base_url for key, server in servers.items()}
    servers["portal"].serve(portal_site(today, urls["external"]))
    servers["external"].serve(external_site())
    spec, files = big_site(today, urls["big"], urls["external"], urls["portal"], closed_port_url())
    servers["big"].serve(files)
    try:
        config = write_demo_config(base / "config", urls, today, base / "out", [spec])
        settings = shipped_politeness(config)
        pages = sum(1 for path, reply in files.pages.items() if reply.content_type.startswith("text/html"))
        yield {"config": config, "settings": settings, "url": urls["big"], "pages": pages,
               "sessions": open_store(settings["store_url"])}
    finally:
        for server in servers.values():
            server.close()


def audit(world, url: str) -> tuple[object, dict, float]:
    started = time.monotonic()
    result = run_cli("audit", url, "--json", config=world["config"])
    elapsed = time.monotonic() - started
    print(f"\naudit {url}: {elapsed:.1f} s, exit {result.returncode}")   # the figure for the closing note
    assert result.returncode in (0, 1, 2), result.stderr
    return result, next(s for s in json.loads(result.stdout)["sites"] if s["url"] == url), elapsed


def probes_of(world, url: str, scan_id: int | None = None) -> list[Probe]:
    with world["sessions"]() as session:
        query = select(Probe).where(Probe.url == url)
        return session.scalars(query.where(Probe.scan_id == scan_id) if scan_id else query).all()


def latest_audit(world) -> int:
    with world["sessions"]() as session:
        return session.scalar(select(Scan.id).where(Scan.kind == "audit").order_by(Scan.id.desc()).limit(1))


def test_shipped_settings_lift_politeness_for_loopback_only():
    settings = yaml.safe_load((REPO / "config" / "settings.yaml").read_text(encoding="utf-8"))
    assert settings["crawl"]["per_host_delay_seconds"] > 0      # production sites keep their pace
    assert "127.0.0.0/8" in settings["crawl"]["unthrottled_networks"]
    assert settings["probes"]["per_audit"] == 1


def test_only_sites_on_unthrottled_networks_get_an_unthrottled_slot():
    crawl = load_config(REPO / "config").settings.crawl.model_copy(
        update={"hosts": {"Test.Example.gov.cn": "127.0.0.1", "intranet.example.gov.cn": "10.1.2.3"}})
    slots = unthrottled_slots(crawl, ["http://127.0.0.1:8080/", "http://test.example.gov.cn/", "http://[::1]:81/",
                                      "http://intranet.example.gov.cn/", "http://www.bl.gov.cn/", "http://10.0.0.1/"])
    assert set(slots) == {"127.0.0.1:8080", "test.example.gov.cn", "[::1]:81"}   # by IP or through crawl.hosts
    assert slots["127.0.0.1:8080"]["concurrency"] == crawl.unthrottled_concurrency
    office = crawl.model_copy(update={"unthrottled_networks": ["10.1.0.0/16"]})   # an intranet test server
    assert set(unthrottled_slots(office, ["http://intranet.example.gov.cn/", "http://127.0.0.1:8080/"])) == {
        "intranet.example.gov.cn"}


def test_audit_of_a_400_page_loopback_site_answers_in_seconds(audit_world):
    assert audit_world["pages"] >= 400
    result, site, elapsed = audit(audit_world, audit_world["url"])
    assert result.returncode in (0, 1) and site["verdict"] in ("合格", "不合格")
    assert site["stats"]["pages"] >= 400
    assert elapsed < AUDIT_SECONDS, f"audit took {elapsed:.1f} s"
    assert len(probes_of(audit_world, audit_world["url"], latest_audit(audit_world))) == 1   # one fresh probe


def test_unreachable_site_is_unchecked_in_one_timeout_with_provisional_v1(audit_world):
    url = closed_port_url()
    earlier = datetime.now(timezone.utc) - timedelta(hours=2)
    with audit_world["sessions"].begin() as session:   # what the service probed in the last hours
        session.execute(insert(Probe), [{"scan_id": None, "url": url, "at": earlier + timedelta(minutes=30 * i), "ok": False,
                                         "status": None, "error": "connect", "elapsed_ms": 1, "bytes": 0} for i in range(2)])
    result, site, elapsed = audit(audit_world, url)
    crawl, probes = audit_world["settings"]["crawl"], audit_world["settings"]["probes"]
    assert elapsed < crawl["download_timeout_seconds"] + probes["timeout_seconds"], f"audit took {elapsed:.1f} s"
    assert result.returncode == 2 and site["verdict"] == "无法检测" and not site["vetoed"] and site["score"] is None
    codes = {f["code"] for f in site["findings"]}
    assert codes <= {"V1", "D1", "G2"}   # availability and the address: nothing about content nobody read
    v1 = next(f for f in site["findings"] if f["code"] == "V1")
    assert v1["provisional"] and "3/3" in v1["title"] and "暂定" in v1["title"]   # 1 fresh + 2 stored probes
    assert "可用性尚无法确定" in site["note"]
    assert len(probes_of(audit_world, url, latest_audit(audit_world))) == 1

    sheet = Path(audit_world["settings"]["output_dir"]) / "audits" / f"{stem(site['unit'], url)}.html"
    html = sheet.read_text(encoding="utf-8")
    assert "暂定" in html and "可用性尚无法确定" in html
    assert "扣 500 分" not in html and "扣 20 分" in html and "已达该项上限" in html   # D1 after its cap
    text = re.sub(r"<style.*?</style>|<[^>]+>", "", html, flags=re.S)   # what a reader sees
    assert not any(word in text for word in ("provisional", "insufficient", "`"))


def test_a_hanging_site_costs_one_timeout_when_its_probe_timed_out_too(audit_world, tmp_path):
    """The home page never answers: the crawl times out, the fresh probe too; no second try after the crawl."""
    hanging = DemoServer()
    hanging.serve(SiteFiles(fallback=Reply(200, b"<html>late</html>", delay=60)))
    config = tmp_path / "config"
    shutil.copytree(audit_world["config"], config)
    settings = yaml.safe_load((config / "settings.yaml").read_text(encoding="utf-8"))
    settings["crawl"].update(download_timeout_seconds=3, retries=0, second_try_timeout_seconds=30)
    settings["probes"]["timeout_seconds"] = 3
    settings.update(store_url=f"sqlite:///{tmp_path / 'hang.db'}", output_dir=str(tmp_path / "out"))
    (config / "settings.yaml").write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    try:
        started = time.monotonic()
        result = run_cli("audit", hanging.base_url, "--json", config=config)
        elapsed = time.monotonic() - started
    finally:
        hanging.close()
    print(f"\naudit of a hanging site: {elapsed:.1f} s")
    site = json.loads(result.stdout)["sites"][0]
    assert result.returncode == 2 and site["verdict"] == "无法检测" and "访问超时" in site["note"]
    with open_store(settings["store_url"])() as session:
        home = session.scalar(select(Fetch).where(Fetch.url == hanging.base_url))
    assert home.tries == [{"error": "timeout"}, {"error": "timeout", "probe": True}]   # the probe was the second try
    assert elapsed < settings["crawl"]["second_try_timeout_seconds"]
