"""Article publication dates on pages in the layouts real government and news sites use, served over
HTTP on 127.0.0.1: each layout asserts the date found and the rule that found it (precedence in
crawler/extract/published.py)."""
from __future__ import annotations

from datetime import date

import httpx
import pytest
from rich.console import Console

from crawler.extract.page import ExtractOptions, analyse_page
from sitecensus.config import load_config
from sitecensus.demo.server import DemoServer, Reply, SiteFiles
from tests.conftest import REPO

REFERENCE = date(2025, 11, 24)
HEADER = ('<div class="top"><span>今天是：2025年11月24日 星期一</span><a href="/">首页</a><a href="/xxgk/">信息公开</a></div>'
          '<div class="nav"><a href="/xwdt/">新闻动态</a><a href="/tzgg/">通知公告</a><a href="/hdjl/">互动交流</a></div>')
FOOTER = ('<div class="footer"><p>主办：宁波市北仑区人民政府办公室 地址：北仑区新大路1000号</p>'
          '<p>网站标识码：3302060001 浙ICP备05012345号 浙公网安备 33020602000101号</p></div>')


def page(title: str, body: str, head: str = "", site: str = "北仑区人民政府") -> str:
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}_{site}</title>{head}</head>'
            f"<body>{HEADER}{body}{FOOTER}</body></html>")


ARTICLE_TEXT = ("<p>为进一步做好冬季安全生产工作，区应急管理局于11月1日召开专题会议，部署有关工作。会议要求各街道、"
                "各部门压实责任，加强隐患排查整治，确保全区安全形势平稳。</p>"
                "<p>会议强调，要坚持问题导向，聚焦重点行业领域，扎实开展安全生产大检查。</p>")

# path -> (html, expected date, expected source); each a layout seen on real sites, written here.
LAYOUTS = {
    # An earlier bare 日期 line and 办公时间 sit before the 发布时间 (the old first-match bug).
    "/earlier-labels.html": (page("关于冬季安全生产工作的通知", (
        '<div class="side"><p>日期：2025-10-08</p><p>办公时间：周一至周五 8:30-17:00</p></div>'
        '<div class="article"><h1>关于冬季安全生产工作的通知</h1>'
        '<div class="info">发布时间：2025-11-03 10:19 &nbsp; 来源：区应急管理局 &nbsp; 浏览次数：<span>12</span></div>'
        f"{ARTICLE_TEXT}</div>")), "2025-11-03", "发布时间标签"),
    # The date beside 来源, no label (two <small> on one line).
    "/source-then-date.html": (page("全区福彩公益金使用情况公告", (
        '<div class="box"><h4>全区福彩公益金使用情况公告</h4>'
        '<small>来源：<span> 区民政局 </span></small> <small>&nbsp;&nbsp;2025-11-03&#32;15:00</small>'
        f"{ARTICLE_TEXT}</div>")), "2025-11-03", "来源行"),
    # 作者 and 时间 on the byline line under a title in a <div>.
    "/author-byline.html": (page("省检查组到我区督导春季造林工作", (
        '<div class="z1"><font face="黑体">省检查组到我区督导春季造林工作</font></div>'
        '<div class="z2">作者：王明 &nbsp; 时间：2025-11-03 17:07</div>'
        f'<div class="z3">{ARTICLE_TEXT}</div>')), "2025-11-03", "来源行"),
    # 时间 with spaces around the colon, source in another span of the same line would make it a byline:
    # here the line holds the label alone.
    "/time-label.html": (page("未来五年法治社会建设图解", (
        '<h3 class="zw-title">未来五年法治社会建设图解</h3><div class="zw-info"><span class="time">时间 : 2025-11-03 10:53:31</span>'
        '</div><div class="share">分享到：</div>'
        f"{ARTICLE_TEXT}")), "2025-11-03", "时间标签"),
    # A date span under the title (id="pubTime"), then a summary table with earlier dates.
    "/pubtime-span.html": (page("区公路养护中心安防工程成交公告", (
        '<div class="vF_detail_header"><h2 class="tc">区公路养护中心安防工程成交公告</h2>'
        '<p class="tc"><span id="pubTime">2025年11月03日 17:35</span> <span id="sourceName"></span></p></div>'
        '<table><tr><td class="title">招标公告日期</td><td>2025年10月20日</td>'
        '<td class="title">成交日期</td><td>2025年10月31日</td></tr></table>'
        f"{ARTICLE_TEXT}")), "2025-11-03", "标题下日期"),
    # 【时间：2025年11月3日 21:15】 bracketed Chinese-form label in a byline with 来源.
    "/bracket-label.html": (page("关于开展2026年度社区志愿服务评选的通知", (
        '<div class="article-title"><h2>关于开展2026年度社区志愿服务评选的通知</h2>'
        '<div class="article-info"> 【时间：2025年11月3日 21:15】 【来源：区社科联】 【字体：大 中 小】</div></div>'
        f"{ARTICLE_TEXT}<p>申报截止时间为2026年2月25日。</p>")), "2025-11-03", "来源行"),
    # Label glued to the next field: 【信息发布时间：2025-11-03阅读次数：】.
    "/glued-label.html": (page("交易主体从业人员考核结果公示", (
        '<h1>交易主体从业人员考核结果公示</h1><p class="info-sources">【信息发布时间：2025-11-03阅读次数：'
        '<span id="infoViewCount"></span>】</p>'
        f"{ARTICLE_TEXT}<table><tr><td>2025/10/12</td><td>2025/10/19</td></tr></table>")), "2025-11-03", "发布时间标签"),
    # The date written by a script right after the label (TRS templates); the static text shows none.
    "/script-written.html": (page("关于公开招聘工作人员的公告", (
        "<h2>关于公开招聘工作人员的公告</h2><div class=\"toolbar\"> 发布时间： <script type=\"text/javascript\">"
        "var pubdata='2025年11月03日'; if(pubdata!=''){ document.write(pubdata); }</script> 点击数："
        "<script>document.write(Math.round(Math.random()*100))</script></div>"
        f"{ARTICLE_TEXT}<p>笔试时间：2025年12月6日。</p>")), "2025-11-03", "发布时间标签"),
    # Information-disclosure table: the label in one cell, the date in the next.
    "/disclosure-table.html": (page("北仑区2025年第三季度财政收支情况", (
        '<table class="xxgk"><tr><td>索引号：</td><td>11330206002931234X/2025-01234</td>'
        '<td>成文日期：</td><td>2025-10-30</td></tr><tr><td>发布机构：</td><td>区财政局</td>'
        '<td>发布日期：</td><td>2025-11-03</td></tr></table>'
        f"<h1>北仑区2025年第三季度财政收支情况</h1>{ARTICLE_TEXT}")), "2025-11-03", "发布时间标签"),
    # A visible label beats a meta holding the page's regeneration time.
    "/meta-disagrees.html": (page("教育系统科技工作会议召开", (
        '<h1>教育系统科技工作会议召开</h1><p><span>发布时间：2025-11-03 17:16</span> <span>来源：区教育局</span></p>'
        f"{ARTICLE_TEXT}"), head='<meta name="PubDate" content="2025-11-07 17:24:46">'), "2025-11-03", "发布时间标签"),
    # A hidden mobile copy with another date comes first in the source; what is seen is the visible one.
    "/hidden-copy.html": (page("区政府召开常务会议", (
        '<div class="mobile" style="display: none"><p>发布时间：2024-01-01</p></div>'
        f'<h1>区政府召开常务会议</h1><p>发布时间：2025-11-03</p>{ARTICLE_TEXT}')), "2025-11-03", "发布时间标签"),
    # E-paper layout: the issue date in an element named for it, above the headline; no label.
    "/paper-date.html": (page("厕所革命改善农村人居环境", (
        '<div class="cb-text"><span id="paperdate">2025年11月03日</span> <span>第02版：要闻</span></div>'
        f"<h1>厕所革命改善农村人居环境</h1>{ARTICLE_TEXT}")), "2025-11-03", "日期元素"),
    # Metas only (no visible date): the article's own publication meta.
    "/metas-only.html": (page("男孩写纸条求助引来民警", f"<h1>男孩写纸条求助引来民警</h1>{ARTICLE_TEXT}", head=(
        '<meta property="article:author" content="网易">'
        '<meta property="article:published_time" content="2025-11-03T16:19:28+08:00">')),
        "2025-11-03", "meta:article:published_time"),
    "/meta-name-spaces.html": (page("返乡青年创办农产品合作社", f"<h1>返乡青年创办农产品合作社</h1>{ARTICLE_TEXT}",
                                    head='<meta name="og:time " content="2025-11-03 18:13:22">'),
                               "2025-11-03", "meta:og:time"),
    # English template: US-style date under the headline, and an ASP default M/D/YYYY after a label.
    "/english.html": (page("District launches winter safety campaign", (
        '<h1>District launches winter safety campaign</h1><div class="meta">Nov 3, 2025</div>'
        "<p>The district government launched a campaign on winter safety on Monday.</p>"), site="Beilun"),
        "2025-11-03", "标题下日期"),
    "/asp-us-date.html": (page("我区召开经济形势分析会", (
        '<h1>我区召开经济形势分析会</h1><div><font>作者： &nbsp;来源： &nbsp;发布日期： 11/3/2025 9:23:57 PM</font></div>'
        f"{ARTICLE_TEXT}")), "2025-11-03", "发布时间标签"),
    # No visible date and no meta: the Hanweb article address carries it.
    "/art/2025/11/3/art_1229_60353.html": (page("区委理论学习中心组开展专题学习",
                                                f"<h1>区委理论学习中心组开展专题学习</h1>{ARTICLE_TEXT}"),
                                           "2025-11-03", "网址"),
    # JSON-LD only: our rules find nothing, htmldate reads the structured data.
    "/json-ld.html": (page("我区举办招聘会", f"<h1>我区举办招聘会</h1>{ARTICLE_TEXT}", head=(
        '<script type="application/ld+json">{"@context": "https://schema.org", "@type": "NewsArticle", '
        '"headline": "我区举办招聘会", "datePublished": "2025-11-03T08:00:00+08:00"}</script>')),
        "2025-11-03", "htmldate"),
    # A label after the check time is kept as shown (S4 reports forged future dates).
    "/future.html": (page("关于元旦放假安排的通知", f"<h1>关于元旦放假安排的通知</h1><p>发布时间：2026-01-05</p>{ARTICLE_TEXT}"),
                     "2026-01-05", "发布时间标签"),
}

# Pages that show no publication date of their own: no article date, so their kind is not changed.
UNDATED = {
    "/jgzn.html": page("机构职能", (
        "<h1>机构职能</h1><p>区政府办公室是区政府的办事机构，负责区政府日常工作。</p>"
        "<p>办公时间：周一至周五 上午8:30-12:00 下午14:00-17:30</p><p>联系电话：0574-86781234</p>")),
    "/zt/index.html": page("冬季安全专题", (
        '<h1>冬季安全专题</h1><div class="block"><h3>工作动态</h3><ul>'
        '<li><a href="/zt/1.html">全区开展消防安全检查</a><p class="gdtime">2025-11-20</p></li>'
        '<li><a href="/zt/2.html">应急管理局部署冬季安全工作</a><p class="gdtime">2025-11-18</p></li>'
        '<li><a href="/zt/3.html">街道开展燃气安全宣传</a><p class="gdtime">2025-11-15</p></li>'
        '<li><a href="/zt/4.html">企业安全培训会召开</a><p class="gdtime">2025-11-10</p></li></ul></div>')),
}
GBK_PAGE = page("关于开展冬季送温暖活动的通知", (
    "<h1>关于开展冬季送温暖活动的通知</h1><div>发布日期：2025年11月3日　来源：区总工会</div>"
    "<p>各基层工会：为关心困难职工生活，区总工会决定开展冬季送温暖活动，请碶头、霞浦等街道工会认真组织。</p>"
    )).replace('charset="utf-8"', 'charset="gbk"')


@pytest.fixture(scope="module")
def site():
    server = DemoServer()
    pages = {path: Reply(body=html.encode("utf-8")) for path, (html, _, _) in LAYOUTS.items()}
    pages |= {path: Reply(body=html.encode("utf-8")) for path, html in UNDATED.items()}
    pages["/gbk.html"] = Reply(body=GBK_PAGE.encode("gbk"), content_type="text/html; charset=gbk")
    server.serve(SiteFiles(pages))
    yield server.base_url.rstrip("/")
    server.close()


def fetch_facts(url: str):
    response = httpx.get(url, timeout=10)
    assert response.status_code == 200
    return analyse_page(str(response.url), response.content, response.headers.get("content-type"), REFERENCE,
                        ExtractOptions())


@pytest.mark.parametrize("path", LAYOUTS)
def test_layout_gives_date_and_source(site, path):
    _, expected, source = LAYOUTS[path]
    facts = fetch_facts(site + path)
    assert (facts.article_date, facts.article_date_source) == (expected, source)
    assert facts.to_dict()["article_date_source"] == source


def test_gbk_page(site):
    facts = fetch_facts(site + "/gbk.html")
    assert facts.encoding == "gb18030"
    assert (facts.article_date, facts.article_date_source) == ("2025-11-03", "发布时间标签")


@pytest.mark.parametrize("path", UNDATED)
def test_pages_without_a_publication_date_get_none(site, path):
    facts = fetch_facts(site + path)
    assert facts.article_date is None and facts.article_date_source is None
    assert facts.kind != "article"


def test_home_page_has_no_article_date(site):
    response = httpx.get(site + "/earlier-labels.html", timeout=10)
    facts = analyse_page(str(response.url), response.content, None, REFERENCE, ExtractOptions(), is_home=True)
    assert facts.article_date is None


def test_inspect_prints_the_rule_that_gave_the_date(site):
    from sitecensus.inspect import inspect_page, show

    facts = inspect_page(site + "/source-then-date.html", load_config(REPO / "config"))
    console = Console(record=True, width=200)
    show(facts, console)
    assert facts["article_date_source"] == "来源行"
    assert "发布日期 2025-11-03（来源行）" in console.export_text()
