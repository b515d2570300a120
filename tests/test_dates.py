"""Date parsing: a table of strings as Chinese government CMSs print them."""
from datetime import date

import pytest

from crawler.extract.dates import date_from_url, parse_date

REFERENCE = date(2026, 11, 24)


@pytest.mark.parametrize("text, expected, inferred", [
    ("2017-08-01", date(2017, 8, 1), False),
    ("2017/8/1", date(2017, 8, 1), False),
    ("2017.08.01", date(2017, 8, 1), False),
    ("2017年8月1日", date(2017, 8, 1), False),
    ("2017年08月01日 10:19:30", date(2017, 8, 1), False),
    ("发布时间：2017-08-01 10:19", date(2017, 8, 1), False),
    ("发布日期:2017-8-1", date(2017, 8, 1), False),
    ("[2025-10-29]", date(2025, 10, 29), False),
    ("（2024-06-06）", date(2024, 6, 6), False),
    ("2017 - 08 - 01", date(2017, 8, 1), False),
    ("[08-01]", date(2026, 8, 1), True),
    ("08-01", date(2026, 8, 1), True),
    ("11/30", date(2025, 11, 30), True),         # after the reference date: last year
    ("（11月30日）", date(2025, 11, 30), True),
    ("11-24", date(2026, 11, 24), True),         # the reference day itself is this year
])
def test_dates_parse(text, expected, inferred):
    found = parse_date(text, REFERENCE)
    assert found is not None and found.value == expected and found.year_inferred is inferred


@pytest.mark.parametrize("text", ["3.5万元", "2026-13-01", "2017-02-30", "第12-3号", "电话 86780223", "2017"])
def test_not_dates(text):
    assert parse_date(text, REFERENCE) is None


def test_short_form_needs_a_reference_year():
    assert parse_date("[08-01]") is None


@pytest.mark.parametrize("url, expected", [
    ("http://x.gov.cn/tzgg/201708/t20170801_123.html", date(2017, 8, 1)),
    ("http://x.gov.cn/art/2017/8/1/art_1229_60353.html", date(2017, 8, 1)),
    ("http://x.gov.cn/news/2017-08-01/12.html", date(2017, 8, 1)),
    ("http://x.gov.cn/news/201708/01/12.html", date(2017, 8, 1)),
    ("http://x.gov.cn/col/col1229/index.html", None),
    ("http://x.gov.cn/tzgg/201713/t20171301_1.html", None),
])
def test_dates_from_urls(url, expected):
    assert date_from_url(url) == expected


def test_bare_month_day_takes_its_year_from_the_article_url():
    import lxml.html

    from crawler.extract.columns import extract_groups
    html = ('<ul><li><a href="/tzgg/202511/t20251110_1.html">旧通知</a><span>11-10</span></li>'
            '<li><a href="/tzgg/202611/t20261120_2.html">新通知</a><span>11-20</span></li>'
            '<li><a href="/tzgg/x.html">无日期链接</a><span>11-21</span></li></ul>')
    tree = lxml.html.document_fromstring(html)
    items = extract_groups(tree, "http://x.gov.cn/", "utf-8", REFERENCE, 3)[0].items
    assert [(i.date, i.year_inferred) for i in items] == [
        ("2025-11-10", False), ("2026-11-20", False), ("2026-11-21", True)]


@pytest.mark.parametrize("text, expected", [
    ("Nov 3, 2025", date(2025, 11, 3)),
    ("November 3rd, 2025 10:56 am", date(2025, 11, 3)),
    ("Sept. 30, 2024", date(2024, 9, 30)),
    ("3 November 2025", date(2025, 11, 3)),
    ("发布于Nov 3, 2025", date(2025, 11, 3)),
    ("发布日期： 11/3/2025 9:23:57 PM", date(2025, 11, 3)),   # ASP default: month first
    ("2025年11月3日", date(2025, 11, 3)),
])
def test_dates_in_reads_chinese_and_english_forms(text, expected):
    from crawler.extract.dates import dates_in
    assert [found.value for _, found in dates_in(text)] == [expected]


@pytest.mark.parametrize("text", ["版本 1.2/3/2025x", "May we help", "13/45/2025", "3/4/20251"])
def test_dates_in_ignores_what_is_not_a_date(text):
    from crawler.extract.dates import dates_in
    assert dates_in(text) == []


def test_fast_patterns_match_as_their_plain_forms():
    """dates.py leads each pattern with its first character and puts the look-behind after it (for speed): the same
    matches as the plain forms, look-behind first, on random text around dates."""
    import random
    import re

    from crawler.extract import dates

    month, year = dates._MONTH, dates._YEAR
    plain = [re.compile(r"(?<!\d)((?:19|20)\d{2})\s*([-/.年])\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})(?!\d)\s*日?"
                        r"(?:\s*(\d{1,2})[:：](\d{2})(?:[:：]\d{2})?)?"),
             re.compile(rf"(?<![a-z]){month}\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+{year}", re.I),
             re.compile(rf"(?<!\d)(\d{{1,2}})(?:st|nd|rd|th)?\s+{month},?\s+{year}", re.I),
             re.compile(rf"(?<![\d/.\-])(\d{{1,2}})/(\d{{1,2}})/{year}(?![/\-])")]
    fast = [dates._FULL, *(pattern for pattern, _ in dates._ENGLISH_FORMS)]
    rnd = random.Random(7)
    alphabet = "0123456789 -/.年月日:：aNovMAYjan,st"
    seeds = ["2017-08-01", "2017年8月1日 12:30", "3/11/2025", "Nov 3, 2025", "21st Jan. 1999", "x3 May 2020"]
    for _ in range(20_000):
        text = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 20)))
        cut = rnd.randint(0, len(text))
        text = text[:cut] + rnd.choice(seeds) + text[cut:]
        for slow, quick in zip(plain, fast):
            assert [(m.span(), m.groups()) for m in slow.finditer(text)] == \
                [(m.span(), m.groups()) for m in quick.finditer(text)], text
