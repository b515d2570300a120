"""Pages nobody can read are never judged: binary bytes served as HTML and a home page that is an error
page served with status 200 (a soft 404) are stored as unread with the reason, and the site is 无法检测
without V2/D3/D5–D7. A nesting bomb (50,000 <div>) does not hide the links and lists after it."""
from __future__ import annotations

import gzip
import json
import random
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import yaml

from conftest import run_cli
from crawler.extract import readable
from crawler.extract.page import ExtractOptions, analyse_page
from scoring.certainty import home_unread_reason
from scoring.score import judge
from scoring.snapshot import Home, SiteSnapshot
from sitecensus.demo import write_demo_config
from sitecensus.demo.server import DemoServer, Reply, SiteFiles
from tests.test_scoring import AS_OF, CENSUS, TODAY, codes, column

URL = "http://www.bl.gov.cn/"
NEWS = "".join(f'<li><a href="/art/2026/11/{20 - i}/art_{i}.html">{title}</a><span>2026-11-{20 - i}</span></li>'
               for i, title in enumerate(["区政府召开常务会议研究部署冬季安全生产工作", "北仑区开展森林防火专项检查",
                                          "区数据局修复政务网站404错误页面问题", "区领导调研港口物流企业复工情况"]))
HOME = (f'<html><head><meta charset="utf-8"><title>宁波市北仑区人民政府</title></head><body>'
        f'<div class="nav"><a href="/xwdt/">新闻动态</a><a href="/tzgg/">通知公告</a></div>'
        f'<div class="main"><h2>新闻动态</h2><ul>{NEWS}</ul></div>'
        f'<div class="footer">主办单位：宁波市北仑区人民政府办公室</div></body></html>')
NOT_FOUND = ('<html><head><meta charset="utf-8"><title>404 页面不存在</title></head><body>'
             '<div class="box"><p>抱歉，您访问的页面不存在或已被删除！</p><a href="/">返回首页</a></div></body></html>')


def analyse(body: bytes, is_home: bool = True, ctype: str = "text/html", url: str = URL):
    return analyse_page(url, body, ctype, TODAY, ExtractOptions(), is_home=is_home)


def whole_page_reasons(facts) -> list[str]:
    return [e["reason"] for e in facts.unread if e.get("whole_page")]


def png() -> bytes:
    return b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + random.Random(1).randbytes(4000)


def random_bytes() -> bytes:
    body = random.Random(7).randbytes(20_000)
    assert readable._magic(body[:16]) is None   # caught by its bytes, not by a magic number
    return body


BINARY = {"png": png, "random": random_bytes, "gzip": lambda: gzip.compress(HOME.encode("utf-8") * 20)}


# ------------------------------------------------------------------ extraction


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("is_home", [True, False])
def test_binary_bytes_served_as_html_are_no_page(name, is_home):
    facts = analyse(BINARY[name](), is_home=is_home, ctype="text/html; charset=utf-8")
    assert whole_page_reasons(facts) and whole_page_reasons(facts)[0].startswith("内容不是可读的网页")
    assert not facts.links and not facts.groups and not facts.nav and not facts.text_hits and facts.title == ""
    assert facts.kind == ("home" if is_home else "other")


def test_the_reason_names_what_the_bytes_are():
    assert whole_page_reasons(analyse(png())) == ["内容不是可读的网页（PNG 图片）"]
    assert whole_page_reasons(analyse(random_bytes())) == ["内容不是可读的网页（二进制数据或乱码）"]


@pytest.mark.parametrize("ctype", ["text/html", "text/html; charset=gbk", "text/html; charset=utf-8"])
def test_gbk_text_is_not_garbage(ctype):
    body = HOME.replace('charset="utf-8"', 'charset="gbk"').encode("gbk")
    facts = analyse(body, ctype=ctype)
    assert facts.unread == [] and facts.title == "宁波市北仑区人民政府"
    assert any("森林防火" in item.title for group in facts.groups for item in group.items)


def test_utf16_text_with_a_bom_is_not_garbage():
    facts = analyse("\ufeff".encode("utf-16-le") + HOME.encode("utf-16-le"))
    assert facts.unread == [] and facts.title == "宁波市北仑区人民政府"


def test_a_normal_home_page_mentioning_404_in_a_news_title_is_no_error_page():
    facts = analyse(HOME.encode("utf-8"))
    assert facts.unread == [] and facts.kind == "home" and len(facts.links) >= 6


def test_a_small_navigation_home_with_a_room_404_is_no_error_page():
    body = ('<html><head><title>宁波市北仑区档案馆</title></head><body><div class="nav"><a href="/a/">馆藏介绍</a>'
            '<a href="/b/">查档指南</a></div><p>查档地址：行政中心 404 室，电话 0574-86784040。</p></body></html>')
    assert analyse(body.encode("utf-8")).unread == []


@pytest.mark.parametrize("page", [
    NOT_FOUND,
    NOT_FOUND.replace("404 页面不存在", "宁波市北仑区人民政府"),   # the message alone says so
    NOT_FOUND.replace('<div class="box">', '<div class="header"><a href="/">首页</a><a href="/xwdt/">新闻动态</a></div>'
                                          '<div class="box">'),      # the site's template around it
    ("<html><head><title>404 Not Found</title></head><body><center><h1>404 Not Found</h1></center><hr>"
     "<center>nginx</center></body></html>"),
])
def test_an_error_page_at_home_is_unread(page):
    facts = analyse(page.encode("utf-8"))
    assert whole_page_reasons(facts) == [readable.ERROR_HOME]


def test_an_error_page_elsewhere_is_left_to_the_page_rules():
    assert analyse(NOT_FOUND.encode("utf-8"), is_home=False, url=URL + "xwdt/a.html").unread == []


@pytest.mark.parametrize("depth", [3_000, 50_000])
@pytest.mark.parametrize("closed", [True, False])
def test_links_and_lists_after_a_nesting_bomb_are_found(depth, closed):
    bomb = "<div>" * depth + "深处" + ("</div>" * depth if closed else "")
    body = HOME.replace('<div class="main">', bomb + '<div class="main">').encode("utf-8")
    facts = analyse(body, is_home=False, url=URL + "xwdt/index.html")
    urls = {link.url for link in facts.links}
    assert URL + "art/2026/11/17/art_3.html" in urls and URL + "tzgg/" in urls
    assert len([item for group in facts.groups for item in group.items]) == 4
    assert facts.kind == "list" and facts.identifiers["sponsor"] == "宁波市北仑区人民政府办公室"


def test_flatten_keeps_text_and_url_carriers():
    text = "<div>" * 10 + '<span><a href="/x">x</a><iframe src="/f"></iframe>正文</span>' + "</div>" * 10
    flat = readable.flatten(text, 3)
    assert flat.count("<div>") == 3 and flat.count("</div>") == 3
    assert '<a href="/x">x</a>' in flat and '<iframe src="/f"></iframe>' in flat and "正文" in flat


# ------------------------------------------------------------------ scoring


def unread_home(reason: str, rendered: bool = False) -> SiteSnapshot:
    home = Home(url=URL, final_url=URL, status=200, outcome="ok", error=None, rendered=rendered,
                unread=[readable.unread_entry(reason)])
    return SiteSnapshot(unit="区测试局", url=URL, as_of=AS_OF, home=home, columns=[])


def test_a_home_that_was_no_page_stays_unread_after_rendering():
    assert home_unread_reason(unread_home(readable.ERROR_HOME, rendered=True)) == readable.ERROR_HOME


@pytest.mark.parametrize("reason", [readable.ERROR_HOME, "内容不是可读的网页（PNG 图片）"])
def test_a_site_whose_home_was_no_page_is_unchecked_with_the_reason(reason):
    result = judge(unread_home(reason), CENSUS)
    assert result.verdict == "无法检测" and reason in result.note
    assert not {"V2", "D3", "D5", "D6", "D7"} & set(codes(result))


def test_no_update_finding_from_a_home_where_nothing_was_read():
    home = Home(url=URL, final_url=URL, status=200, outcome="ok", error=None)
    snap = SiteSnapshot(unit="区测试局", url=URL, as_of=AS_OF, home=home, columns=[])
    result = judge(snap, CENSUS)
    assert not {"V2", "D3"} & set(codes(result))
    assert [u["reason"] for u in result.unverified] == ["首页及其链接的二级栏目中未读到任何信息条目"]   # said, not silent
    # second-level columns read and stale: V2 stands on what was seen
    snap.columns = [column("工作动态", 60), column("通知公告", 90)]
    assert "V2" in codes(judge(snap, CENSUS))


# ------------------------------------------------------------------ a real scan


UNITS = {"binary": "区发改局", "soft404": "区科技局"}


@pytest.fixture(scope="module")
def scanned(tmp_path_factory):
    base = tmp_path_factory.mktemp("unreadable")
    as_of = datetime.now(ZoneInfo("Asia/Shanghai")).replace(second=0, microsecond=0)
    servers = {key: DemoServer() for key in ("portal", *UNITS)}
    servers["portal"].serve(SiteFiles(fallback=Reply(200, "<html><body>北仑之窗</body></html>".encode())))
    servers["binary"].serve(SiteFiles(pages={"/": Reply(200, png(), "text/html; charset=utf-8")}))
    soft = NOT_FOUND.replace('<a href="/">返回首页</a>', '<a href="/">返回首页</a><a href="/xwdt/">新闻动态</a>')
    servers["soft404"].serve(SiteFiles(fallback=Reply(200, soft.encode("utf-8"))))
    try:
        urls = {key: server.base_url for key, server in servers.items()}
        config = write_demo_config(base / "config", {"portal": urls["portal"], "external": urls["portal"]},
                                   as_of.date(), base / "out", [])
        settings = yaml.safe_load((config / "settings.yaml").read_text(encoding="utf-8"))
        settings["probes"].update(per_scan=1)
        (config / "settings.yaml").write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
        register = yaml.safe_load((config / "units.yaml").read_text(encoding="utf-8"))
        for unit in register["units"]:
            for key, name in UNITS.items():
                if unit["name"] == name:
                    unit["urls"] = [urls[key]]
        (config / "units.yaml").write_text(yaml.safe_dump(register, allow_unicode=True), encoding="utf-8")
        result = run_cli("scan", "--json", "--as-of", as_of.strftime("%Y-%m-%dT%H:%M"), config=config)
        assert result.returncode == 0, result.stderr
        sites = json.loads(result.stdout)["sites"]
        yield {key: next(s for s in sites if s["unit"] == name) for key, name in UNITS.items()}
    finally:
        for server in servers.values():
            server.close()


@pytest.mark.parametrize("key, reason", [("binary", "内容不是可读的网页（PNG 图片）"), ("soft404", readable.ERROR_HOME)])
def test_a_site_nobody_can_read_is_unchecked_without_content_findings(scanned, key, reason):
    site = scanned[key]
    assert site["verdict"] == "无法检测" and site["score"] is None
    assert not {"V2", "D3", "D5", "D6", "D7"} & {f["code"] for f in site["findings"]}
    assert any(u["reason"] == reason and "V2" in u["what"] for u in site["unverified"])   # the reason, in the JSON
