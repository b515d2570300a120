"""Consolidation rules on pages in the shapes of real district sites, served on 127.0.0.1 and scanned
through the `sitecensus` command: a closing site whose notice is a heading with the portal link in the
paragraph after it (J1 and J2 silent), a closing site whose busy home page only carries news about
关停/迁移 (J1 fires), and retained portal pages judged on their column entries, not on headlines."""
from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import yaml

from conftest import run_cli
from sitecensus.demo import write_demo_config
from sitecensus.demo.server import DemoServer, Reply, SiteFiles

NOTICE_UNIT, NEWS_UNIT, ENTRY_WRONG_UNIT, HEADLINE_WRONG_UNIT = "区统计局", "区审计局", "区商务局", "区文广新闻出版局（体育局）"


def page(title: str, body: str) -> Reply:
    return Reply(200, f'<html><head><meta charset="utf-8"><title>{title}</title></head><body>{body}</body></html>'.encode())


def busy_home(name: str, today, inner: str) -> str:
    """A link-dense unit home page: navigation, headline blocks with dates, related sites, footer."""
    nav = "".join(f'<li><a href="/col{i}/">栏目{i}</a></li>' for i in range(10))
    blocks = "".join(
        f'<div class="box"><div class="hd"><h3>{column}</h3><a class="more" href="/{path}/">更多</a></div><ul>'
        + "".join(f'<li><a href="/{path}/{i}.html">{column}第{i}条信息的标题</a><span>{today:%Y-%m}-{i + 1:02d}</span></li>'
                  for i in range(6)) + "</ul></div>" for column, path in (("工作动态", "gzdt"), ("通知公告", "tzgg")))
    return (f'<div class="header"><h1>宁波市北仑区{name}</h1></div><div class="nav"><ul>{nav}</ul></div>{inner}{blocks}'
            f'<div class="footer">主办单位：宁波市北仑区{name} 浙ICP备05012345号-1</div>')


def retained(name: str, nav: list[tuple[str, str]], news: list[tuple[str, str]], blocks: list[tuple[str, str]]) -> Reply:
    """A unit's retained page on the portal: entry navigation, a news list, titled blocks with a 更多 link."""
    menu = "".join(f'<li><a href="{href}">{text}</a></li>' for text, href in nav)
    headlines = "".join(f'<li><a href="{href}">{text}</a><span>2026-11-{i + 10}</span></li>' for i, (text, href) in enumerate(news))
    titled = "".join(f'<div class="box"><div class="hd"><h3>{title}</h3><a class="more" href="{more}">更多</a></div><ul>'
                     + "".join(f'<li><a href="/art/{abs(hash(title)) % 97}{i}.html">{title}信息第{i}条标题</a>'
                               f'<span>2026-11-0{i + 1}</span></li>' for i in range(4)) + "</ul></div>"
                     for title, more in blocks)
    return page(f"{name}_北仑之窗", f'<h1>{name}</h1><ul class="bm-nav">{menu}</ul>'
                                    f'<div class="news"><h3>部门动态</h3><ul>{headlines}</ul></div>{titled}')


@pytest.fixture(scope="module")
def scan(tmp_path_factory):
    base = tmp_path_factory.mktemp("consolidation")
    as_of = datetime.now(ZoneInfo("Asia/Shanghai")).replace(second=0, microsecond=0)
    today = as_of.date()
    servers = {key: DemoServer() for key in ("portal", "platform", "notice", "news")}
    urls = {key: server.base_url for key, server in servers.items()}
    portal, platform = urls["portal"], urls["platform"]
    bsfw = f"{platform}bl/bsfw/"
    servers["platform"].serve(SiteFiles(fallback=page("浙江政务服务网", "浙江政务服务网")))
    servers["portal"].serve(SiteFiles(pages={
        "/": page("北仑之窗", "<h1>北仑之窗</h1>"),
        # The 办事服务 entry stays on the portal (wrong); a headline links a platform article; 信息公开 is a block.
        "/bm/sw/": retained(ENTRY_WRONG_UNIT, [("首页", "/"), ("办事服务", "/bsfw/sw/"), ("互动交流", f"{platform}bl/hd/")],
                            [("浙江政务服务网上线北仑区办事服务新功能", f"{platform}news/1.html"),
                             ("区商务局召开外贸企业座谈会", "/art/sw1.html"), ("区商务局开展消费季活动", "/art/sw2.html")],
                            [("政府信息公开", "/xxgk/sw/")]),
        # Entries are right; a headline about 办事服务 links a portal article, which is no entry.
        "/bm/wg/": retained(HEADLINE_WRONG_UNIT, [("首页", "/"), ("办事服务", bsfw), ("互动交流", f"{platform}bl/hd/")],
                            [("区政务服务中心优化办事服务流程提升群众满意度", "/art/wg1.html"),
                             ("区文广局举办文化惠民演出", "/art/wg2.html"), ("区文广局开展全民阅读活动", "/art/wg3.html")],
                            [("政府信息公开", f"{platform}xxgk/wg/")]),
    }, fallback=page("北仑之窗", "北仑之窗")))
    notice = (f'<div class="gg"><h2>关于本网站关停的公告</h2><p>根据区政府统一部署，本网站将于{today:%Y年%m月}底关停。</p>'
              f'<p>网站内容已迁移至“北仑之窗”门户网站：<a href="{portal}">{portal}</a></p></div>')
    news = (f'<div class="news-top"><h4><a href="/gzdt/0.html">区政府办部署部门网站整合工作</a></h4>'
            f'<p>会议要求各部门网站年底前关停，网站内容迁移至 www.bl.gov.cn 。</p></div>'
            f'<div class="yw"><p>{today.month}月{today.day}日，区政府办发布公告：部门网站年底前关停。</p></div>')
    servers["notice"].serve(SiteFiles(pages={"/": page(NOTICE_UNIT, busy_home(NOTICE_UNIT, today, notice))},
                                      fallback=page(NOTICE_UNIT, "正文")))
    servers["news"].serve(SiteFiles(pages={"/": page(NEWS_UNIT, busy_home(NEWS_UNIT, today, news))},
                                    fallback=page(NEWS_UNIT, "正文")))
    try:
        config = write_demo_config(base / "config", {"portal": portal, "external": platform}, today, base / "out", [])
        settings = yaml.safe_load((config / "settings.yaml").read_text(encoding="utf-8"))
        settings["platforms"] = {"disclosure": [platform.split("/")[2]], "service": [platform.split("/")[2]]}
        (config / "settings.yaml").write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
        register = yaml.safe_load((config / "units.yaml").read_text(encoding="utf-8"))
        closing = {"participates": True, "closure_month": f"{today:%Y-%m}", "keep_portal_page": False}
        plans = {NOTICE_UNIT: ([urls["notice"]], closing), NEWS_UNIT: ([urls["news"]], closing),
                 ENTRY_WRONG_UNIT: ([], {**closing, "keep_portal_page": True, "portal_page_url": f"{portal}bm/sw/"}),
                 HEADLINE_WRONG_UNIT: ([], {**closing, "keep_portal_page": True, "portal_page_url": f"{portal}bm/wg/"})}
        assert set(plans) <= {unit["name"] for unit in register["units"]}
        for unit in register["units"]:
            if unit["name"] in plans:
                unit["urls"], plan = plans[unit["name"]]
                unit["consolidation"] = {**unit["consolidation"], **plan}
        (config / "units.yaml").write_text(yaml.safe_dump(register, allow_unicode=True), encoding="utf-8")
        result = run_cli("scan", "--json", "--as-of", as_of.strftime("%Y-%m-%dT%H:%M"), config=config)
        assert result.returncode == 0, result.stderr
        yield urls, json.loads(result.stdout)["sites"]
    finally:
        for server in servers.values():
            server.close()


def site(sites, unit: str, role: str = "site") -> dict:
    return next(s for s in sites if s["unit"] == unit and s.get("role", "site") == role)


def codes(entry: dict) -> list[str]:
    return sorted(f["code"] for f in entry["findings"] if f["code"].startswith("J"))


def test_a_heading_notice_with_the_portal_link_below_it_satisfies_j1_and_j2(scan):
    _, sites = scan
    noticed = site(sites, NOTICE_UNIT)
    assert "J1" not in codes(noticed) and "J2" not in codes(noticed), noticed["findings"]
    assert "首页有关停公告" in noticed["consolidation"]["seen"] and "关于本网站关停的公告" in noticed["consolidation"]["seen"]


def test_news_about_closures_on_a_busy_home_page_is_no_notice(scan):
    _, sites = scan
    news = site(sites, NEWS_UNIT)
    assert "J1" in codes(news) and "J2" not in codes(news)
    assert news["consolidation"]["seen"] == "仍在运行，首页无关停公告"


def test_j6_fires_on_the_wrong_entry_not_silenced_by_a_platform_headline(scan):
    urls, sites = scan
    page_ = site(sites, ENTRY_WRONG_UNIT, "portal_page")
    j6 = [f for f in page_["findings"] if f["code"] == "J6"]
    assert [f["evidence"][0]["url"] for f in j6] == [urls["portal"] + "bsfw/sw/"]
    assert "办事服务" in j6[0]["title"]
    # the 政府信息公开 block's 更多 link is its entry: on the portal, so J5 fires on it
    j5 = [f for f in page_["findings"] if f["code"] == "J5"]
    assert [f["evidence"][0]["url"] for f in j5] == [urls["portal"] + "xxgk/sw/"]


def test_a_headline_that_mentions_a_service_is_no_entry(scan):
    _, sites = scan
    page_ = site(sites, HEADLINE_WRONG_UNIT, "portal_page")
    assert codes(page_) == [], page_["findings"]
