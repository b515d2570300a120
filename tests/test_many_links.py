"""A page of 100,000 links is read whole and in order, each distinct href normalized once per page (the
scan's one parsing thread must not be held for seconds: benchmarks/bench_extract_links.py measures it);
past crawl.max_links_per_page the page is cut and the links left are counted. The fast join of plain
hrefs gives exactly what urljoin + safe_url_string give."""
import random
from datetime import date

import pytest

from crawler.extract import links as L
from crawler.extract.page import ExtractOptions, analyse_page
from scoring.snapshot import CrawlBudget

BASE = "http://www.example-district.gov.cn/zwgk/index.html"
COUNT = 100_000
FOOTER = ('<div class="footer">网站标识码：3302060001 主办单位：某某区人民政府办公室'
          '<a href="http://bszs.conac.cn/sitename?id=1"><img src="/images/red.png" alt="党政机关"></a></div>')


def href(i: int) -> str:
    """Every shape a list carries: root-relative, ./relative, absolute, query, fragment, Chinese, %-escaped."""
    return ("/zwgk/202611/t20261126_{i}.html", "./202611/t20261126_{i}.html", "http://WWW.Example-District.gov.cn/a/{i}.html",
            "/module/download/downfile.jsp?classid=0&filename={i}.pdf", "{i}.html#top", "/附件/{i}.doc",
            "/files/%E6%96%87{i}.pdf", "../up/{i}.html")[i % 8].format(i=i)


def expected(i: int) -> str:
    return ("http://www.example-district.gov.cn/zwgk/202611/t20261126_{i}.html",
            "http://www.example-district.gov.cn/zwgk/202611/t20261126_{i}.html",
            "http://www.example-district.gov.cn/a/{i}.html",
            "http://www.example-district.gov.cn/module/download/downfile.jsp?classid=0&filename={i}.pdf",
            "http://www.example-district.gov.cn/zwgk/{i}.html",
            "http://www.example-district.gov.cn/%E9%99%84%E4%BB%B6/{i}.doc",
            "http://www.example-district.gov.cn/files/%E6%96%87{i}.pdf",
            "http://www.example-district.gov.cn/up/{i}.html")[i % 8].format(i=i)


@pytest.fixture(scope="module")
def page() -> bytes:
    rows = "".join(f'<li><a href="{href(i)}">第{i}号公告</a><span>2026-11-{1 + i % 25:02d}</span></li>'
                   for i in range(COUNT))
    return (f'<html><head><meta charset="utf-8"><title>全部信息</title></head><body><h1>全部信息</h1>'
            f'<ul class="list">{rows}</ul>{FOOTER}</body></html>').encode()


def analyse(body: bytes, max_links: int = 0):
    return analyse_page(BASE, body, "text/html; charset=utf-8", date(2026, 11, 26), ExtractOptions(max_links=max_links))


def test_every_distinct_link_of_a_100000_link_page_is_found_once_in_order(page):
    facts = analyse(page)
    anchors = [link.url for link in facts.links if link.tag == "a"]
    assert anchors == [expected(i) for i in range(COUNT)] + ["http://bszs.conac.cn/sitename?id=1"]
    assert facts.links_unread == 0
    assert [link.text for link in facts.links[:2]] == ["第0号公告", "第1号公告"]
    items = [item for group in facts.groups for item in group.items]
    assert [item.url for item in items[:COUNT]] == [expected(i) for i in range(COUNT)]
    assert items[7].date == "2026-11-08"


def test_a_page_past_the_cap_is_read_up_to_its_last_allowed_link(page):
    facts = analyse(page, max_links=20_000)
    assert [link.url for link in facts.links if link.tag == "a"] == [expected(i) for i in range(20_000)]
    assert facts.links_unread == COUNT + 1 - 20_000   # the footer's badge link too
    assert sum(len(group.items) for group in facts.groups) == 20_000
    # the page's text is read whole: its footer (past the cap) still shows the identifiers
    assert facts.identifiers["site_code"] == "3302060001" and facts.identifiers["badge"]
    assert facts.to_dict()["links_unread"] == COUNT + 1 - 20_000


def test_a_page_within_the_cap_is_not_cut():
    body = f'<html><body><a href="/a.html">甲</a><a href="/b.html">乙</a>{FOOTER}</body></html>'.encode()
    facts = analyse(body, max_links=3)
    assert facts.links_unread == 0 and len([link for link in facts.links if link.tag == "a"]) == 3
    assert analyse(body, max_links=2).links_unread == 1


def test_the_unread_links_are_reported_with_the_cap():
    left = CrawlBudget.of({"links_unread": 80_000, "page_link_cap": 20_000}).left()
    assert ("链接是否有效", None, "80000 个链接未读取、未检查（页面链接超出每页 20000 个的上限）") in left
    assert CrawlBudget.of({"checks_left": 0, "links_unread": 0}).left() == []


def test_a_port_past_65535_is_no_link_and_no_crash():
    body = '<html><body><a href="http://h.gov.cn:99999/x">坏</a><a href="/ok.html">好</a></body></html>'.encode()
    assert [link.url for link in analyse(body).links] == ["http://www.example-district.gov.cn/ok.html"]


BASES = ["http://www.x.gov.cn/", "http://www.x.gov.cn", "https://WWW.X.gov.cn:443/a/b/c.html", "http://h/a//b/./c/../d.html",
         "http://h/a/b.html?x=1&y=2", "http://h/%E6%96%87/b.html", "http://h/文件/b.html", "http://h:8080/a/b/",
         "http://user:pw@h/a/b", "http://h/..", "http://h/a/b/.", "http://h/a?q=/x/y", "http://h/;p/a;q", "http://例子.中国/a/",
         "http://h/a b/c.html", "ftp://h/a/", "http://[::1]:8/a/b", "http://h/a%zz/b.html"]
PIECES = ["a", "x.html", ".", "..", "", "~u", "-", "_", "t20231105_123.html", ".pdf", "a.b", "文", "%20", "%4", ";p", ":", "Z9"]


def random_href(rng: random.Random) -> str:
    path = "/".join(rng.choice(PIECES) for _ in range(rng.randint(0, 5)))
    start = rng.choice(["/", "./", "././", "", "", "http://", "https://", "HTTP://", "//"])
    if start.endswith("://") or start == "//":
        start += rng.choice(["h", "H.gov.cn", "h:80", "h:99999", "a-b.c", "h:", "xn--fiq"]) + rng.choice(["", "/"])
    query = rng.choice(["", "", "?", "?a=1", "?a=1&b=2", "?a=中", "?=&", "?a=%41", "?a=1;b"])
    return start + path + query + rng.choice(["", "", "#", "#x?y"])


def reference(base: str, href: str, encoding: str):
    try:
        return L._normalize.__wrapped__(base, href, encoding)   # urljoin + safe_url_string, uncached
    except ValueError:
        return "error"


def test_plain_hrefs_join_exactly_as_urljoin_and_safe_url_string_do():
    rng = random.Random(11)
    joined = 0
    for _ in range(30_000):
        base, href, encoding = rng.choice(BASES), random_href(rng), rng.choice(["utf-8", "gb18030", "utf-16", "latin-1"])
        for anchor in (base, base[: base.rfind("/") + 1]):
            fast = L._plain_join(anchor, href, encoding)
            if fast is not None:
                joined += 1
                assert fast == reference(anchor, href, encoding), (anchor, href, encoding)
    assert joined > 3_000   # the shapes above do reach the fast join


def test_normalize_within_a_page_gives_what_it_gives_outside():
    hrefs = [random_href(random.Random(n)) for n in range(2_000)]
    outside = [L.normalize(BASE, h, "gbk") for h in hrefs]
    with L.one_page():
        assert [L.normalize(BASE, h, "gbk") for h in hrefs + hrefs] == outside + outside
        assert L.page_cached("key", lambda: [1]) is L.page_cached("key", lambda: [2])
    assert L.page_cached("key", lambda: [2]) == [2]   # outside a page nothing is kept


def test_normalize_joins_every_href_to_its_page_as_urljoin_does():
    rng = random.Random(12)
    for _ in range(5_000):
        base, href, encoding = rng.choice(BASES), random_href(rng), rng.choice(["utf-8", "gbk"])
        expected = reference(base, href, encoding)
        if expected != "error" and href.strip() and not href.strip().lower().startswith(L._SKIP_SCHEMES):
            assert L.normalize(base, href, encoding) == expected, (base, href, encoding)


def test_an_absolute_href_is_normalized_once_whatever_page_it_is_on():
    href = "http://127.0.0.9:19000/pucha.kaipuyun.cn/exposure/jiucuo.html?site_code=3302060001&url=http%3A%2F%2Fx"
    L._normalize.cache_clear()
    got = {L.normalize(f"http://127.0.0.1:8080/col/{n}/index.html", href, "utf-8") for n in range(50)}
    assert got == {reference(BASE, href, "utf-8")} and L._normalize.cache_info().misses == 1


def test_netloc_reads_the_host_part_as_urlsplit_does():
    from urllib.parse import urlsplit
    rng = random.Random(5)
    parts = ["http://", "https://", "HTTP://", "ftp://", "", "h", "H.gov.CN", ":80", "[::1]", "u:p@", "/", "?", "#", "\t",
             " ", "例", ":", "%41"]
    for _ in range(20_000):
        url = "".join(rng.choice(parts) for _ in range(rng.randint(1, 6)))
        try:
            wanted = urlsplit(url).netloc.lower()
        except ValueError:
            with pytest.raises(ValueError):
                L.netloc(url)
            continue
        assert L.netloc(url) == wanted, url
