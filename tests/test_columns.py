"""Columns, lists and page kinds on pages in the shapes real district sites print them: block titles above
their lists (not the first headline), tab bars, directories and 友情链接 that are not columns, hidden mobile
copies, dl/div/p rows, tile navigation, every page-2 address scheme, and articles beside related-links boxes."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import httpx
import pytest

from crawler.extract.columns import column_key, discover_columns
from crawler.extract.page import ExtractOptions, analyse_page
from sitecensus.config import load_config
from sitecensus.demo.server import DemoServer, Reply, SiteFiles
from sitecensus.inspect import inspect_page

REPO = Path(__file__).resolve().parents[1]
TODAY = date(2026, 11, 24)
HEAD = '<!DOCTYPE html><html><head><meta charset="utf-8"><title>{}</title></head><body>'
FOOT = '<div class="footer">主办：宁波市北仑区人民政府办公室 网站标识码：3302060001</div></body></html>'


def _analyse(html: str, url: str = "http://www.bl.gov.cn/col/col1/index.html", is_home: bool = False):
    return analyse_page(url, html.encode("utf-8"), "text/html; charset=utf-8", TODAY, ExtractOptions(), is_home=is_home)


def _rows(titles_dates, row="<li><a href='/art/2026/11/{n}/art_1_{n}.html'>{t}</a><span>{d}</span></li>"):
    return "".join(row.format(n=n, t=t, d=d) for n, (t, d) in enumerate(titles_dates, 1))


NEWS = [("区政府召开常务会议研究冬季安全生产", "2026-11-20"), ("北仑区开展森林防火专项检查活动", "2026-11-18"),
        ("区领导调研港口物流企业生产情况", "2026-11-12")]
# The first headline of the 工作动态 block mentions 通知: the block is still 工作动态.
WORK = [("区人社局召开关于做好年底就业工作的通知会", "2026-11-21"), ("北仑区举办2026年人才招聘会", "2026-11-15"),
        ("区市场监管局开展食品安全检查", "2026-11-02")]
NOTICES = [("关于2026年度北仑区政府信息公开工作的通知", "2026-10-30"), ("北仑区招聘社区工作者公告", "2026-10-11"),
           ("关于开展冬季消防安全检查的通告", "2026-09-28")]

HOME = (HEAD.format("北仑区人民政府") +
        '<div class="nav"><ul><li><a href="/">首页</a></li><li><a href="/col/col10/index.html">政务公开</a></li>'
        '<li><a href="/col/col11/index.html">政务服务</a></li><li><a href="/col/col12/index.html">互动交流</a></li></ul></div>'
        # the title bar above the list: <div class="hd"><h2>..</h2><a>更多</a></div><div class="bd"><ul>
        '<div class="box"><div class="hd"><h2>工作动态</h2><a href="/col/col20/index.html">更多&gt;&gt;</a></div>'
        '<div class="bd"><ul>' + _rows(WORK, "<li><h4><a href='/art/2026/11/{n}/art_2_{n}.html'>{t}</a></h4><span>{d}</span></li>") +
        '</ul></div></div>'
        # a tab bar over two panels: each panel is named by its own tab
        '<div class="tabbox"><div class="tab"><span class="on">要闻动态</span><span>通知公告</span></div>'
        '<div class="panels"><ul>' + _rows(NEWS) + '</ul><ul style="display:none">' +
        _rows(NOTICES, "<li><a href='/art/2026/10/{n}/art_3_{n}.html'>{t}</a><span>{d}</span></li>") + '</ul></div></div>'
        # the same news list again in a mobile-only copy
        '<div class="wap"><div class="title">要闻动态</div><ul>' + _rows(NEWS) + '</ul></div>'
        # a department directory and 友情链接 (undated unit names, other sites, a jump menu): not columns
        '<div class="box"><div class="title">部门网站</div><ul>'
        + "".join(f'<li><a href="/bm/{i}/">{name}</a></li>' for i, name in
                  enumerate(["区发展和改革局", "区教育局", "区财政局", "区人力资源和社会保障局", "区住房和城乡建设局"])) +
        '</ul></div><div class="box"><span class="tit">友情链接</span><ul>'
        + "".join(f'<li><a href="http://www.{h}.gov.cn/">{name}</a></li>' for h, name in
                  [("zj", "浙江省人民政府门户网站"), ("ningbo", "宁波市人民政府门户网站"), ("yz", "鄞州区人民政府门户网站")]) +
        '</ul><select onchange="window.open(this.value)"><option value="http://www.gov.cn/">中国政府网</option>'
        '<option value="http://www.zj.gov.cn/">浙江省政府</option></select></div>'
        # tile navigation: div > div > a with an icon and a name
        '<div class="grid">' + "".join(f'<div class="cell"><a href="/col/col{n}/index.html"><img src="/i/{n}.png">'
                                       f'<span>{name}</span></a></div>' for n, name in
                                       [(30, "信息公开"), (31, "办事服务"), (32, "政策文件"), (33, "人事信息")]) +
        '</div>' + FOOT)


def test_home_blocks_are_named_by_their_title_bar_and_tabs():
    facts = _analyse(HOME, "http://www.bl.gov.cn/", is_home=True)
    named = {g.heading: [i.date for i in g.items] for g in facts.groups}
    assert named == {"工作动态": ["2026-11-21", "2026-11-15", "2026-11-02"],
                     "要闻动态": ["2026-11-20", "2026-11-18", "2026-11-12"],
                     "通知公告": ["2026-10-30", "2026-10-11", "2026-09-28"]}
    work = next(g for g in facts.groups if g.heading == "工作动态")
    assert work.more_url == "http://www.bl.gov.cn/col/col20/index.html"


def test_tile_navigation_is_navigation():
    nav = dict(_analyse(HOME, "http://www.bl.gov.cn/", is_home=True).nav)
    assert {"政务公开", "政务服务", "信息公开", "办事服务", "政策文件", "人事信息"} <= set(nav)
    assert nav["办事服务"] == "http://www.bl.gov.cn/col/col31/index.html"


ROW_SHAPES = {
    "dl": '<div class="list"><dl>' + "".join(
        f'<dt><a href="/art/2026/11/{n}/art_5_{n}.html">{t}</a></dt><dd>{d}</dd>' for n, (t, d) in enumerate(NEWS, 1)) + '</dl></div>',
    "dl-per-row": '<div class="list">' + "".join(
        f'<dl><dt><a href="/art/2026/11/{n}/art_5_{n}.html">{t}</a></dt><dd>{d}</dd></dl>' for n, (t, d) in enumerate(NEWS, 1)) + '</div>',
    "div.item": '<div class="list">' + "".join(
        f'<div class="item"><a href="/art/2026/11/{n}/art_5_{n}.html">{t}</a><em>{d}</em></div>' for n, (t, d) in enumerate(NEWS, 1)) + '</div>',
    "p": '<div class="list">' + "".join(
        f'<p><a href="/art/2026/11/{n}/art_5_{n}.html">{t}</a><span>{d}</span></p>' for n, (t, d) in enumerate(NEWS, 1)) + '</div>',
    "a.box": '<ul class="list">' + "".join(
        f'<a class="box" href="/art/2026/11/{n}/art_5_{n}.html"><h3>{t}({d})</h3><p>{t}</p></a>' for n, (t, d) in enumerate(NEWS, 1)) + '</ul>',
    "script-link": '<ul class="list">' + "".join(
        f'<li><a href="javascript:void(0)" onclick="openInfo({n})">{t}</a><span>{d}</span></li>' for n, (t, d) in enumerate(NEWS, 1)) + '</ul>',
}


@pytest.mark.parametrize("shape", sorted(ROW_SHAPES))
def test_list_rows_of_every_shape_are_read_with_their_dates(shape):
    facts = _analyse(HEAD.format("工作动态") + '<div class="main"><div class="lm"><h2>工作动态</h2></div>'
                     + ROW_SHAPES[shape] + '</div>' + FOOT)
    assert len(facts.groups) == 1
    group = facts.groups[0]
    assert [i.date for i in group.items] == [d for _, d in NEWS]
    assert all(item.title.startswith(title) for item, (title, _) in zip(group.items, NEWS, strict=True))
    assert group.heading == "工作动态"
    assert facts.kind == "list"


def test_list_cut_into_several_uls_is_one_list_and_title_dates_do_not_win():
    rows = [(f"关于实施第{n}号政策的解读（自2027年1月1日起施行）", f"2026-10-{n:02d}") for n in range(10, 0, -1)]
    html = (HEAD.format("政策解读") + '<div class="main"><div class="title">政策解读</div>' +
            "".join("<ul>" + _rows(rows[i:i + 5], "<li><a href='/art/{n}.html'>{t}</a><span>日期：{d}</span></li>") + "</ul>"
                    for i in (0, 5)) + '</div>' + FOOT)
    groups = _analyse(html).groups
    assert len(groups) == 1 and len(groups[0].items) == 10
    assert max(i.date for i in groups[0].items) == "2026-10-10"


ARTICLE = (HEAD.format("北仑区召开冬季安全生产工作会议") +
           '<div class="nav"><ul>' + "".join(f'<li><a href="/col/col{n}/index.html">{t}</a></li>' for n, t in
                                             [(1, "首页"), (2, "政务公开"), (3, "政务服务"), (4, "互动交流")]) + '</ul></div>'
           '<div class="article"><h1>北仑区召开冬季安全生产工作会议</h1><div class="info">来源：区应急管理局　2026-11-20</div>'
           '<div class="content">' + "<p>" + "会议强调，各部门要压紧压实安全生产责任，" * 12 + "</p>" * 1 + '</div></div>'
           '<div class="related"><h3>相关新闻</h3><ul>' + _rows(NEWS) + '</ul></div>'
           '<div class="links"><h3>友情链接</h3><ul><li><a href="http://www.zj.gov.cn/">浙江省人民政府门户网站</a></li>'
           '<li><a href="http://www.ningbo.gov.cn/">宁波市人民政府门户网站</a></li>'
           '<li><a href="http://www.gov.cn/">中华人民共和国中央人民政府</a></li></ul></div>' + FOOT)


def test_an_article_with_related_links_and_menus_stays_an_article():
    assert _analyse(ARTICLE, "http://www.bl.gov.cn/art/2026/11/20/art_1_9.html").kind == "article"


def test_a_list_of_one_dated_item_is_a_list():
    html = (HEAD.format("监察大队") + '<div class="NewsList"><h1><span>通知公告</span></h1><ul>'
            '<li><a href="./201708/t20170808_1.html" title="关于开展人力资源市场专项检查的通知">关于开展人力资源市场专项检查的通知</a>'
            '<span>2017-08-08</span></li></ul></div>' + FOOT)
    assert _analyse(html).kind == "list"


@pytest.mark.parametrize("page, first", [
    ("http://www.bl.gov.cn/col/col123/index.html?uid=4567&pageNum=2", "http://www.bl.gov.cn/col/col123/index.html"),
    ("http://www.bl.gov.cn/list-1001-2.html", "http://www.bl.gov.cn/list-1001.html"),
    ("http://www.bl.gov.cn/xwdt/index_3.html", "http://www.bl.gov.cn/xwdt/index.html"),
    ("http://www.bl.gov.cn/xxgk/list_2.shtml", "http://www.bl.gov.cn/xxgk/list.shtml"),
    ("http://www.bl.gov.cn/tzgg/index_1.htm", "http://www.bl.gov.cn/tzgg/"),
    ("http://www.bl.gov.cn/news.aspx?cid=7&page=4", "http://www.bl.gov.cn/news.aspx?cid=7"),
    ("http://www.bl.gov.cn/info.jsp?cid=7&pageNum=4", "http://www.bl.gov.cn/info.jsp?cid=7"),
    ("http://www.bl.gov.cn/staticmores/003/003-3.html", "http://www.bl.gov.cn/staticmores/003/003-1.html"),
])
def test_page_two_of_every_scheme_folds_into_its_column(page, first):
    assert column_key(page) == column_key(first)


def test_different_columns_keep_different_keys():
    assert column_key("http://www.bl.gov.cn/list-1001.html") != column_key("http://www.bl.gov.cn/list-1002.html")
    assert column_key("http://www.bl.gov.cn/col/col1/index.html") != column_key("http://www.bl.gov.cn/col/col2/index.html")
    assert column_key("http://www.bl.gov.cn/202611/t20261120_1.html") != column_key("http://www.bl.gov.cn/202611/t20261120_2.html")


def _list_page(title: str, rows: str, pager: str = "") -> bytes:
    return (HEAD.format(title) + f'<div class="position">当前位置：<a href="/">首页</a> &gt; {title}</div>'
            f'<div class="lm"><h2>{title}</h2></div><ul class="list">{rows}</ul>{pager}' + FOOT).encode("utf-8")


@pytest.fixture(scope="module")
def site():
    """A small district site on loopback: the home page above, a Hanweb-style column paged by uid/pageNum,
    a list-N-M column, and the department directory page."""
    old = [("区政府召开第十次常务会议", "2026-09-01"), ("区领导检查防汛工作", "2026-08-20")]
    files = SiteFiles({
        "/": Reply(200, HOME.encode("utf-8")),
        "/col/col20/index.html": Reply(200, _list_page("工作动态", _rows(WORK, "<li><a href='/art/2026/11/{n}/art_2_{n}.html'>{t}</a><span>{d}</span></li>"),
                                                       '<a href="/col/col20/index.html?uid=88&pageNum=2">2</a>')),
        "/col/col20/index.html?uid=88&pageNum=2": Reply(200, _list_page("工作动态", _rows(old, "<li><a href='/art/2026/10/{n}/art_4_{n}.html'>{t}</a><span>{d}</span></li>"))),
        "/list-7-1.html": Reply(200, _list_page("公示公告", _rows(NOTICES), '<a href="/list-7-2.html">下一页</a>')),
        "/list-7-2.html": Reply(200, _list_page("公示公告", _rows(old, "<li><a href='/art/2026/10/{n}/art_6_{n}.html'>{t}</a><span>{d}</span></li>"))),
    })
    server = DemoServer()
    server.serve(files)
    yield server.base_url
    server.close()


def _facts(base: str, path: str, is_home: bool = False) -> dict:
    response = httpx.get(base + path.lstrip("/"))
    assert response.status_code == 200, path
    return analyse_page(str(response.url), response.content, response.headers["content-type"], TODAY,
                        ExtractOptions(), is_home=is_home).to_dict()


def test_columns_over_http_fold_their_pages_and_keep_their_names(site):
    home = _facts(site, "/", is_home=True)
    pages = [home] + [_facts(site, p) for p in ("/col/col20/index.html", "/col/col20/index.html?uid=88&pageNum=2",
                                                 "/list-7-1.html", "/list-7-2.html")]
    columns = {c.name: c for c in discover_columns(home, pages, min_items=3)}
    assert set(columns) == {"工作动态", "公示公告"}
    work = columns["工作动态"]
    assert (work.source, work.from_home, len(work.list_pages), work.item_count) == ("home-block", True, 2, 5)
    assert work.newest_date == "2026-11-21"
    notices = columns["公示公告"]
    assert (len(notices.list_pages), notices.item_count, notices.newest_date) == (2, 5, "2026-10-30")


def test_inspect_files_the_block_by_its_title_not_its_first_headline(site):
    facts = inspect_page(site, load_config(REPO / "config"))
    categories = {g["heading"]: g["category"] for g in facts["groups"]}
    assert categories["工作动态"] == "动态要闻"  # its first headline says 通知; the block is news
    assert categories["通知公告"] == "通知公告"
    assert "部门网站" not in categories and "友情链接" not in categories
