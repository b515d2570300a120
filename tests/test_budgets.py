"""Hostile sites cannot stall a scan: per-site budgets of link checks, pages and time, and crawler traps
(crawler/traps.py), with what was left unchecked reported as 无法核实. Loopback servers count every
request they receive."""
import json
import threading
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from sqlalchemy import select

from conftest import loopback_config, run_cli
from crawler.traps import CALENDAR, LONG, REPEAT, TrapGuard
from sitecensus.demo.server import DemoServer, Reply
from sitecensus.store import Scan, Site, open_store

LINKS = 100_000
PAGE_LINKS = 20_000   # crawl.max_links_per_page: the page is read up to its 20,000th link
CHECKS, PAGES, CALENDAR_VALUES = 200, 60, 12
UNITS = {"many": "区交通运输局", "soft404": "区财政局", "calendar": "区住房和城乡建设局", "drip": "区卫生和计划生育局"}


def html(title: str, body: str) -> Reply:
    return Reply(200, f"<html><head><title>{title}</title></head><body><h1>{title}</h1>{body}</body></html>".encode())


# ------------------------------------------------------------------ traps (unit)

NOT_TRAPS = [
    "http://www.bl.gov.cn/art/2026/11/26/art_123_456.html",
    "http://www.bl.gov.cn/col/col1229/index.html?uid=1&pageNum=2",
    "http://www.bl.gov.cn/xxgk/202611/t20261126_1234567.html",
    "http://www.bl.gov.cn/module/download/downfile.jsp?classid=0&filename=2611261234567.pdf",
    "http://www.bl.gov.cn/art/2011/11/11/art_11_11.html",
    "http://www.bl.gov.cn/zwgk/zfxxgk/fdzdgknr/index.html",
    "http://www.bl.gov.cn/xxgk/xxgk/index.html",
    "http://www.bl.gov.cn/content.jsp?id=2015",
    "http://www.bl.gov.cn/col/2026/index.html",
    "http://www.bl.gov.cn/search.jsp?page=3&d=20261126&m=11",
]


def test_normal_cms_urls_are_not_traps():
    guard = TrapGuard()
    assert [guard.reason(url) for url in NOT_TRAPS] == [None] * len(NOT_TRAPS)


def test_many_articles_under_date_folders_are_not_a_calendar():
    guard = TrapGuard(max_calendar_values=5)
    urls = [f"http://x.gov.cn/art/2026/{m}/{d}/art_1229_{m * 100 + d}.html" for m in range(1, 13) for d in range(1, 29)]
    urls += [f"http://x.gov.cn/xxgk/2026{m:02d}/t2026{m:02d}{d:02d}_{d}.html" for m in range(1, 13) for d in range(1, 29)]
    urls += [f"http://x.gov.cn/content.jsp?id={n}" for n in range(1900, 2100)]
    urls += [f"http://x.gov.cn/col/col1229/index.html?uid=1&pageNum={n}" for n in range(1, 200)]
    assert not [url for url in urls if guard.reason(url)]


def test_a_calendar_counts_each_date_once_from_its_first_url_on():
    guard = TrapGuard(max_calendar_values=2)
    day = "http://x.gov.cn/cal?date=2026-11-{:02d}".format
    assert [guard.reason(day(1)), guard.reason(day(1)), guard.reason(day(2))] == [None, None, None]
    assert [guard.reason(day(3)), guard.reason(day(1)), guard.reason(day(2))] == [CALENDAR, None, None]


def test_path_repeating_a_segment_sequence_is_a_trap():
    guard = TrapGuard()
    assert guard.reason("http://x.gov.cn/a/b/a/b/a/b/") == REPEAT
    assert guard.reason("http://x.gov.cn/a/a/a/x.html") == REPEAT
    assert guard.reason("http://x.gov.cn/a/b/a/b/") is None


def test_absurdly_long_url_is_a_trap():
    guard = TrapGuard(max_url_chars=2000)
    assert guard.reason("http://x.gov.cn/?q=" + "x" * 2000) == LONG
    assert guard.reason("http://x.gov.cn/?q=" + "x" * 1900) is None


@pytest.mark.parametrize("shape", ["/cal?month={y}-{m:02d}", "/cal?year={y}&month={m}", "/cal/{y}/{m}/",
                                   "/events/{y}{m:02d}/index.html", "/cal.jsp?date={y}{m:02d}01",
                                   "/calendar?month={i}", "/calendar?month=-{i}&day=3"])
def test_endless_calendar_stops_after_so_many_dates(shape):
    guard = TrapGuard(max_calendar_values=50)
    urls = [f"http://x.gov.cn{shape.format(y=2026 + i // 12, m=i % 12 + 1, i=i)}" for i in range(120)]
    verdicts = [guard.reason(url) for url in urls]
    assert verdicts[:50] == [None] * 50 and set(verdicts[50:]) == {CALENDAR}
    assert guard.reason(urls[0]) is None   # an admitted date asked about again (a link on every page) stays admitted


# ------------------------------------------------------------------ hostile sites (a real scan)

class Counting:
    """A loopback server answering by path, counting the requests it receives."""

    def __init__(self, answer):
        self.server = DemoServer()
        self.count = 0
        self.lock = threading.Lock()
        outer = self

        def _answer(handler, form):
            with outer.lock:
                outer.count += 1
            return answer(handler.path.split("#")[0])

        self.server.handler._answer = _answer
        self.server.serve(self.server.handler.files)
        self.url = self.server.base_url


def many_links(path: str) -> Reply:
    if path == "/":
        items = "".join(f'<li><a href="/files/{i}.pdf">附件{i}</a></li>' for i in range(LINKS))
        return html(UNITS["many"], f"<ul>{items}</ul>")
    return Reply(200, b"%PDF-1.4 0000", "application/pdf")


def soft_404(path: str) -> Reply:
    """Every path answers 200 with the same page, whose relative links grow the path forever."""
    return html(UNITS["soft404"], '<a href="a/">a</a> <a href="b/x.html">b</a> <a href="c/">c</a> <a href="d/">d</a>')


def calendar(path: str) -> Reply:
    if not path.startswith("/cal?month="):
        return html(UNITS["calendar"], '<a href="/cal?month=2026-11">活动日历</a>')
    year, month = map(int, path.split("=")[1].split("-"))
    index = year * 12 + month - 1
    prev, nxt = index - 1, index + 1
    return html(f"{year}年{month}月", f'<a href="/cal?month={prev // 12}-{prev % 12 + 1:02d}">上个月</a>'
                                    f'<a href="/cal?month={nxt // 12}-{nxt % 12 + 1:02d}">下个月</a>')


def drip(path: str) -> Reply:
    """Slow pages without end: each answers after two seconds and links to five new ones."""
    name = path.strip("/").removesuffix(".html")
    n = int(name) if name.isdigit() else 0
    links = "".join(f'<a href="/{5 * n + k}.html">第{5 * n + k}页</a>' for k in range(1, 6))
    return Reply(200, html(UNITS["drip"], links).body, delay=2.0)


def scan_of(base, servers: dict[str, Counting], crawl: dict) -> tuple[dict, float, object]:
    as_of = datetime.now(ZoneInfo("Asia/Shanghai")).replace(second=0, microsecond=0)
    portal = DemoServer()
    portal.serve(type(portal.handler.files)(fallback=html("北仑之窗", "北仑之窗")))
    try:
        config = loopback_config(base, portal.base_url, as_of.date(), crawl)
        register = yaml.safe_load((config / "units.yaml").read_text(encoding="utf-8"))
        for unit in register["units"]:
            key = next((k for k, name in UNITS.items() if name == unit["name"]), None)
            unit["urls"] = [servers[key].url] if key in servers else []
        (config / "units.yaml").write_text(yaml.safe_dump(register, allow_unicode=True), encoding="utf-8")
        started = time.monotonic()
        result = run_cli("scan", "--json", "--as-of", as_of.strftime("%Y-%m-%dT%H:%M"), config=config, timeout=300)
        elapsed = time.monotonic() - started
        assert result.returncode == 0, result.stderr
        sites = {s["unit"]: s for s in json.loads(result.stdout)["sites"]}
        return {key: sites[UNITS[key]] for key in servers}, elapsed, open_store(f"sqlite:///{base / 'out' / 'sitecensus.db'}")
    finally:
        portal.close()


BUDGETS = {"max_link_checks_per_site": CHECKS, "max_pages_per_site": PAGES, "max_depth": 100, "max_links_per_page": PAGE_LINKS,
           "trap_max_calendar_values": CALENDAR_VALUES, "per_host_delay_seconds": 0}


def scan_counting(base, answers: dict, crawl: dict):
    servers = {key: Counting(answer) for key, answer in answers.items()}
    try:
        sites, elapsed, sessions = scan_of(base, servers, crawl)
        return sites, {key: s.count for key, s in servers.items()}, elapsed, sessions
    finally:
        for s in servers.values():
            s.server.close()


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    return scan_counting(tmp_path_factory.mktemp("budgets"), {"soft404": soft_404, "calendar": calendar}, BUDGETS)


@pytest.fixture(scope="module")
def many(tmp_path_factory):
    """On its own: reading a page of 100,000 links holds the crawler for seconds (measured, not asserted)."""
    return scan_counting(tmp_path_factory.mktemp("many"), {"many": many_links}, BUDGETS)


def reasons(site: dict) -> str:
    return "\n".join(u["reason"] for u in site["unverified"])


def test_a_page_with_100000_links_checks_only_its_budget(many):
    sites, requests, elapsed, sessions = many
    said = f"{PAGE_LINKS - CHECKS} 个链接未检查（超出每站 {CHECKS} 个链接的检查上限）"
    unread = f"{LINKS - PAGE_LINKS} 个链接未读取、未检查（页面链接超出每页 {PAGE_LINKS} 个的上限）"
    assert requests["many"] <= CHECKS + 5    # the home page, its probe, and the budgeted checks
    assert said in reasons(sites["many"]) and unread in reasons(sites["many"])
    assert elapsed < 120
    out = Path(sessions.kw["bind"].url.database).parent   # the unit's problem sheet lists it under 无法核实
    sheet = next((out / "sheets").glob(f"{UNITS['many']}-*.html")).read_text(encoding="utf-8")
    assert "无法核实的项目" in sheet and said in sheet and unread in sheet


def test_a_soft_404_site_stays_within_its_page_budget_and_its_traps_are_reported(hostile):
    sites, requests, _, sessions = hostile
    assert requests["soft404"] <= PAGES + CHECKS + 5
    text = reasons(sites["soft404"])
    assert "个页面未抓取（超出每站 60 个页面的上限）" in text
    assert "个疑似无限循环的网址未抓取（如 " in text
    with sessions() as session:
        crawl = session.scalar(select(Site.crawl).where(Site.unit == UNITS["soft404"]))
    assert crawl["traps"] > 0 and crawl["trap_kinds"].get("repeat") and crawl["pages_left"] > 0
    assert crawl["trap_examples"] and all(TrapGuard().reason(url) == REPEAT for url in crawl["trap_examples"])


def test_an_endless_calendar_is_followed_for_so_many_dates_only(hostile):
    sites, requests, _, sessions = hostile
    assert requests["calendar"] <= CALENDAR_VALUES + 5
    assert "个疑似无限循环的网址未抓取（如 " in reasons(sites["calendar"])
    with sessions() as session:
        crawl = session.scalar(select(Site.crawl).where(Site.unit == UNITS["calendar"]))
    assert crawl["trap_kinds"] == {"calendar": crawl["traps"]} and not crawl["timed_out"]


def test_a_site_past_its_time_budget_is_judged_not_interrupted(tmp_path):
    sites, requests, _, sessions = scan_counting(tmp_path, {"drip": drip}, {"max_minutes_per_site": 0.1})
    drip_site = sites["drip"]
    assert "检测用时达到每站 0.1 分钟的上限，其余页面和链接未检查" in reasons(drip_site)
    assert drip_site["verdict"] and drip_site["stats"]["pages"] >= 1
    with sessions() as session:
        assert session.scalar(select(Scan.status)) == "done"
        crawl = session.scalar(select(Site.crawl).where(Site.unit == UNITS["drip"]))
    assert crawl["timed_out"] and crawl["reason"] == "closespider_timeout"
    assert requests["drip"] < 100   # the drip goes on forever; the crawl stopped after ~6 s (~3 rounds in flight)
