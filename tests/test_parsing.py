"""Pages parsed the way a browser shows them: content after a stray </html>, hundreds of unclosed rows,
identifier variants as printed, placeholders only as phrases of their own, every kind of link."""
from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from crawler.extract.footer import extract_identifiers
from crawler.extract.page import ExtractOptions, analyse_page, parse_tree
from sitecensus.config import load_config
from sitecensus.demo.server import DemoServer, Reply, SiteFiles
from sitecensus.inspect import inspect_page

REPO = Path(__file__).resolve().parents[1]
TODAY = date(2026, 11, 24)
FOOTER = ('<div class="footer"><p>主办单位：宁波市北仑区人民政府办公室　联系电话：0574-86780000</p>'
          '<p>网站标识码：3302060001　<a href="https://beian.miit.gov.cn/">浙ICP备05001234号-1</a>　'
          '<a href="http://www.beian.gov.cn/">浙公网安备 33020602000123号</a></p></div>')


def _analyse(html: str, url: str = "http://www.bl.gov.cn/col/col1/index.html", **options) -> object:
    return analyse_page(url, html.encode("utf-8"), "text/html; charset=utf-8", TODAY, ExtractOptions(**options))


# A page assembled from server-side includes: the shared header file is a whole document of its own.
STRAY_END = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>工作动态</title></head><body>
<div class="header"><img src="/images/logo.png" alt="北仑区人民政府"></div>
</body>
</html>
<div class="main"><h2>工作动态</h2><ul class="list">
<li><a href="/art/2026/11/20/art_1_101.html">区政府召开常务会议研究部署冬季安全生产工作</a><span>2026-11-20</span></li>
<li><a href="/art/2026/11/18/art_1_102.html">北仑区开展森林防火专项检查</a><span>2026-11-18</span></li>
<li><a href="/art/2026/11/12/art_1_103.html">区领导调研港口物流企业复工情况</a><span>2026-11-12</span></li>
</ul></div>
""" + FOOTER + "</body></html>"


@pytest.mark.parametrize("stray", ["</body>\n</html>", "</html>", "</html><html>", "</HTML >"])
def test_content_after_a_stray_html_end_tag_is_kept(stray):
    facts = _analyse(STRAY_END.replace("</body>\n</html>", stray, 1))
    urls = {link.url for link in facts.links}
    assert "http://www.bl.gov.cn/art/2026/11/18/art_1_102.html" in urls
    assert facts.identifiers["site_code"] == "3302060001" and facts.identifiers["icp"] == "浙ICP备05001234号-1"
    assert facts.kind == "list" and facts.identifiers["sponsor"] == "宁波市北仑区人民政府办公室"
    assert "区政府召开常务会议" in " ".join(item.title for group in facts.groups for item in group.items)


def test_content_after_a_stray_end_tag_keeps_its_order():
    tree, _ = parse_tree(STRAY_END.encode("utf-8"), None)
    body = tree.find("body")
    assert [el.get("class") for el in body] == ["header", "main", "footer"]


def _unclosed_rows(rows: int) -> str:
    # A hand-edited template: every row opens a <div class="item"> and never closes it.
    items = "".join(f'<div class="item"><a href="/art/2026/{i % 12 + 1}/{i % 28 + 1}/art_{i}.html">第{i}条信息</a>'
                    f'<em>2026-{i % 12 + 1:02d}-{i % 28 + 1:02d}</em>\n' for i in range(rows))
    return ('<html><head><title>信息公开</title></head><body><div class="list">' + items
            + '<div class="page"><a href="index_2.html">下一页</a></div>' + FOOTER + "</body></html>")


def test_four_hundred_unclosed_rows_keep_every_link_and_the_footer():
    facts = _analyse(_unclosed_rows(400))
    articles = [link for link in facts.links if "/art/" in link.url]
    assert len(articles) == 400
    assert "http://www.bl.gov.cn/col/col1/index_2.html" in {link.url for link in facts.links}
    assert facts.identifiers["site_code"] == "3302060001" and facts.identifiers["psb"] == "浙公网安备 33020602000123号"


@pytest.mark.parametrize("footer, field, printed", [
    ("冀公网安备 13010502000417", "psb", "冀公网安备 13010502000417"),
    ("京公网安备:11010502003316", "psb", "京公网安备:11010502003316"),
    ("粤公网安备号44030502001128", "psb", "粤公网安备号44030502001128"),
    ("川公网安备&nbsp;51010602000931号", "psb", "川公网安备 51010602000931号"),
    ("网警备案号：45010602000385", "psb", "45010602000385"),
    ("蜀ICP备 12004517号", "icp", "蜀ICP备 12004517号"),
    ("蜀ICP备：18003362号", "icp", "蜀ICP备：18003362号"),
    ("鄂ICP备06002741", "icp", "鄂ICP备06002741"),
    ("京ICP备20011873号-1", "icp", "京ICP备20011873号-1"),
    ("黔ICP备12007716号-2", "icp", "黔ICP备12007716号-2"),
    ("ICP证：桂B2-20050317-5", "icp", "桂B2-20050317-5"),
    ("网站标识码3302060099", "site_code", "3302060099"),
    ("网站标识码：bm33000017", "site_code", "bm33000017"),
    ("政府网站标识码: 5100000038", "site_code", "5100000038"),
])
def test_identifier_variants_are_kept_as_printed(footer, field, printed):
    facts = _analyse(f"<html><body><div class='main'>正文</div><div class='foot'>版权所有 {footer}　"
                     f"技术支持：某某公司</div></body></html>")
    assert facts.identifiers[field] == printed


def test_no_identifier_is_read_from_lookalike_numbers():
    tree, _ = parse_tree("<html><body>网站标识码：33020600991 电话 0574-86780000</body></html>".encode(), None)
    identifiers = extract_identifiers(" ".join(tree.text_content().split()), tree)
    assert identifiers["site_code"] is None and identifiers["icp"] is None and identifiers["psb"] is None


WORDS = ("暂无信息", "暂无数据", "正在建设中", "栏目建设中", "建设中", "敬请期待")


@pytest.mark.parametrize("body, placeholder", [
    ("<p>在建设中华民族现代文明的进程中，我区持续推进文化惠民工程。</p>", False),
    ("<p>坚持在建设中保护、在保护中建设。</p>", False),
    ("<p>暂无数据统计口径调整说明</p>", False),
    ('<ul class="list"></ul><p class="nodata">暂无信息</p>', True),
    ("<div>本栏目正在建设中，敬请期待！</div>", True),
    ("<td>（建设中）</td>", True),
    ("<div><span>建设中</span></div>", True),
])
def test_placeholders_are_whole_phrases(body, placeholder):
    facts = _analyse(f"<html><head><title>专题</title></head><body>{body}</body></html>", placeholders=WORDS)
    assert facts.placeholder is placeholder


LINK_KINDS = """<html><head><meta charset="utf-8">
<meta http-equiv="Refresh" content="5; URL='/xxgk/index.html'">
<link rel="stylesheet" href="/css/main.css"><link rel="shortcut icon" href="/favicon.ico">
<link rel="apple-touch-icon" href="/images/touch-icon.png"><link rel="preload" href="/fonts/hei.woff2" as="font">
<link rel="dns-prefetch" href="//cdn.example-cdn.com"><link rel="preconnect" href="https://fonts.example-cdn.com">
<link rel="pingback" href="/xmlrpc.php"><link rel="canonical" href="/col/col1/index.html">
<title>视频新闻</title></head>
<body background="/images/body_bg.gif"><table background="/images/table_bg.jpg"><tr><td background="/images/td_bg.jpg">
<div class="banner" style="background: url(&quot;/images/banner.jpg&quot;) no-repeat;">专题</div>
<div class="icon" style="background-image:url(/images/icon.png)"></div>
<picture><source srcset="/images/photo-800.webp 800w, /images/photo-1600.webp 1600w" type="image/webp">
<img src="/images/photo.jpg" srcset="/images/photo@2x.jpg 2x" alt="会议现场"></picture>
<video src="/media/meeting.mp4" poster="/images/meeting-poster.jpg" controls>
<source src="/media/meeting.webm" type="video/webm"><track src="/media/meeting-zh.vtt" kind="subtitles"></video>
<audio src="/media/broadcast.mp3"></audio>
<object data="/media/intro.swf" type="application/x-shockwave-flash"></object>
<object data="/files/guide.pdf" type="application/pdf"></object>
<input type="image" src="/images/search.gif"><input type="text" src="/not-a-link.gif">
<a href="/art/2026/11/20/art_1_101.html">会议报道</a><a href="/files/notice.docx">附件</a>
</td></tr></table></body></html>"""


def test_every_kind_of_link_a_browser_fetches():
    facts = _analyse(LINK_KINDS, url="http://www.bl.gov.cn/sp/index.html")
    kinds = {link.url.removeprefix("http://www.bl.gov.cn"): link.kind for link in facts.links}
    assert kinds == {
        "/xxgk/index.html": "page", "/css/main.css": "style", "/favicon.ico": "image",
        "/images/touch-icon.png": "image", "/fonts/hei.woff2": "style", "/col/col1/index.html": "page",
        "/images/body_bg.gif": "image", "/images/table_bg.jpg": "image", "/images/td_bg.jpg": "image",
        "/images/banner.jpg": "image", "/images/icon.png": "image",
        "/images/photo-800.webp": "image", "/images/photo-1600.webp": "image", "/images/photo.jpg": "image",
        "/images/photo@2x.jpg": "image", "/media/meeting.mp4": "media", "/images/meeting-poster.jpg": "image",
        "/media/meeting.webm": "media", "/media/meeting-zh.vtt": "media", "/media/broadcast.mp3": "media",
        "/media/intro.swf": "media", "/files/guide.pdf": "attachment", "/images/search.gif": "image",
        "/art/2026/11/20/art_1_101.html": "page", "/files/notice.docx": "attachment",
    }
    hosts = {link.url.split("/")[2] for link in facts.links}
    assert hosts == {"www.bl.gov.cn"}  # no prefetch or preconnect host, no pingback endpoint


def test_links_from_a_refresh_without_url_label_and_a_comma_in_srcset():
    facts = _analyse('<html><head><meta http-equiv="refresh" content="0;http://www.bl.gov.cn/new/">'
                     '<meta http-equiv="refresh" content="30"></head><body>'
                     '<img srcset="/a.jpg, /b.jpg 2x,/c,d.jpg 3x"></body></html>')
    assert [link.url for link in facts.links] == ["http://www.bl.gov.cn/new/", "http://www.bl.gov.cn/a.jpg",
                                                   "http://www.bl.gov.cn/b.jpg", "http://www.bl.gov.cn/c,d.jpg"]
    assert Counter(link.tag for link in facts.links) == {"meta": 1, "img": 3}


@pytest.fixture(scope="module")
def config():
    return load_config(REPO / "config")


def test_inspect_over_http_keeps_the_footer_after_a_stray_end_tag(config):
    server = DemoServer()
    server.serve(SiteFiles({"/col/col1/index.html": Reply(200, STRAY_END.encode("utf-8"))}))
    try:
        facts = inspect_page(server.base_url + "col/col1/index.html", config)
    finally:
        server.close()
    assert facts["identifiers"]["site_code"] == "3302060001"
    assert facts["identifiers"]["psb"] == "浙公网安备 33020602000123号"
    assert facts["kind"] == "list"
