"""The publication date of an article page, and the rule that found it.

The date that counts is the one shown to the reader (the census judges what a visitor sees), so
visible labelled dates come first; metas and URLs follow, because CMSs often fill them with the time
the page was regenerated. The first rule that finds a date wins, in this order:

1. ``发布时间标签``  a publication label in the visible text (发布时间, 发布日期, 信息发布时间, 发表于,
   发文日期, 公开日期, 录入时间 ...) followed by a date, also when a script right after the label writes
   the date (TRS templates: ``发布时间：<script>var pubdata='2017年11月07日'; document.write(...)``).
2. ``来源行``  a short line (the byline) holding a date and a byline word: 来源, 作者, 编辑, 阅读, 点击 ...
3. ``时间标签``  a bare 时间 / 日期 label (not the end of a longer word: 办公时间, 活动日期 and their
   like are never labels), or 更新时间.
4. ``标题下日期``  a short line among the first lines under the article's headline holding a date.
5. ``日期元素``  an element named for a date (id or class pubdate, time, riqi ...) holding only a date,
   unless the page lists dated links (then it is more likely an item's).
6. ``meta:<name>``  publication metas in a fixed order (PubDate, article:published_time, datePublished ...).
7. ``网址``  a date in the article's address (TRS t20251103_1.html, Hanweb /art/2025/11/3/, /2025-11-03/).
8. ``htmldate``  the htmldate library's markup readers (metas, JSON-LD, <abbr>, date-classed elements, <time>), only
   when all of the above find nothing and the page is not a list of dated links; never after the check time.

Rules 1-4 are first tried on the article's head (the lines right under the headline, the line that
shows the page <title> or its longest part), then rules 1-3 on the whole page, so that a comment's or
sidebar's 发表时间 does not beat the byline. Within one rule the first match in document order wins: an
earlier 办公时间 or sidebar date never hides the 发布时间 after it, because every label is looked at,
not only the first one. Text hidden with
``display:none`` and the code of scripts and styles are not visible text.
"""
from __future__ import annotations

import logging
import re
from copy import deepcopy
from dataclasses import dataclass
from datetime import date

from lxml import etree

from crawler.extract.dates import date_from_url, dates_in

_PUBLISH_LABEL = re.compile(r"(?:信息)?(?:发布|发表|发文|公布|公开|刊发|发稿|上传|录入|首发)(?:时间|日期|于)")
# a bare 时间/日期 (no CJK character before it) or 更新/修改 + 时间/日期; the look-behind after the first character
# lets re jump between the four first characters (dates.py)
_TIME_LABEL = re.compile(r"时(?<![\u4e00-\u9fff]时)间|日(?<![\u4e00-\u9fff]日)期|(?:更新|修改)(?:时间|日期)")
# Byline fields (来源：, 作者：, 阅读次数, 点击 12 次, 【字体：大 中 小】) and "posted by X at" (由X张贴 @,
# 由X于<date>发表); as fields, so that 工作者 or 阳光阅读 in a headline are not bylines.
_BYLINE_WORDS = re.compile(r"(?:来源|作者|编辑|稿源|出处|供稿|撰稿|字号|字体)\s*[:：\[【]"
                           r"|(?:浏览|阅读|点击|访问)(?:次数|量|数|\s*[:：]|\s*\d)|张贴|发帖|发贴|由\S{1,12}?于\s*\d")
_LABEL_GAP = " \t\n:：[]【】()（）|｜>"   # what may stand between a label and its date
BYLINE_MAX_CHARS = 120         # a byline is a line, not a paragraph
ARTICLE_HEAD_CHARS = 300       # how much text under the headline is the article's head (byline)
UNDER_HEADLINE_LINE_CHARS = 80
DATE_ELEMENT_MAX_CHARS = 25
LIST_MIN_DATED_LINES = 3       # dated link lines that make a list of items
_INLINE = frozenset("a abbr b bdi bdo big cite code data dfn em font i img input kbd label mark nobr q s samp "
                    "select small span strike strong sub sup time tt u var wbr".split())
_INVISIBLE = frozenset(("head", "title", "script", "style", "noscript", "template", "textarea"))
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_DATE_NAME = re.compile(r"date|time|riqi|shijian", re.I)
_TITLE_SEPARATORS = re.compile(r"[_|｜»«]+|--+|-(?=[^-]*$)|——|::")
_STRING_LITERAL = re.compile(r"""(['"])([^'"\n]{6,40})\1""")
# Publication metas, most specific first; keys are matched without case or surrounding spaces.
META_NAMES = ("pubdate", "publishdate", "publish_date", "publishtime", "firstpublishedtime",
              "article:published_time", "og:release_date", "og:published_time", "datepublished",
              "dc.date.issued", "dcterms.issued", "dc.date", "weibo: article:create_at", "og:time",
              "apub:time", "sailthru.date", "parsely-pub-date", "publication_date", "date")
_META_ATTRIBUTES = ("name", "property", "itemprop", "http-equiv")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Published:
    value: date
    source: str   # the rule that found it (Chinese or meta:<name>, shown by inspect)


def find_published(tree, url: str, reference: date, use_htmldate: bool = True) -> Published | None:
    """The publication date of the page in `tree` (scripts not yet stripped), or None if it shows none."""
    lines, headline = visible_lines(tree)
    head = _article_head(lines, headline)
    shown = _from_lines(head) or _under_headline(head) or _from_lines(lines)
    if shown:
        return shown
    # On a page that lists dated links, a date element or htmldate's pick is more likely an item's date.
    listing = _shows_dated_list(lines)
    return ((None if listing else _date_element(tree))
            or _from_metas(tree)
            or _from_url(url)
            or (_from_htmldate(tree, reference) if use_htmldate and not listing else None))


def _from_lines(lines: list[Line]) -> Published | None:
    """Rules 1-3 on some visible lines."""
    text = "\n".join(lines)
    return (_after_label(text, _PUBLISH_LABEL, "发布时间标签") or _in_byline(lines)
            or _after_label(text, _TIME_LABEL, "时间标签"))


def _article_head(lines: list[str], headline: int | None) -> list[str]:
    """The lines right under the headline, where the byline sits (before any comment or sidebar)."""
    if headline is None:
        return []
    head, seen = [], 0
    for line in lines[headline + 1:]:
        head.append(line)
        seen += len(line)
        if seen > ARTICLE_HEAD_CHARS:
            break
    return head


def _after_label(text: str, label: re.Pattern, source: str) -> Published | None:
    for match in label.finditer(text):
        window = text[match.end(): match.end() + 40]
        rest = window.lstrip(_LABEL_GAP)
        found = dates_in(rest[:30])
        if found and found[0][0] == 0:
            return Published(found[0][1].value, source)
    return None


def _in_byline(lines: list[str]) -> Published | None:
    for line in lines:
        if len(line) <= BYLINE_MAX_CHARS and _BYLINE_WORDS.search(line):
            found = dates_in(line)
            if found:
                return Published(found[0][1].value, "来源行")
    return None


def _under_headline(head: list[str]) -> Published | None:
    """The first short line under the headline that holds a date (a byline without words); not when
    the lines under the headline are a list of dated items."""
    if _shows_dated_list(head):
        return None
    for line in head:
        found = dates_in(line)
        if found:
            return Published(found[0][1].value, "标题下日期") if len(line) <= UNDER_HEADLINE_LINE_CHARS else None
    return None


def _shows_dated_list(lines: list[Line]) -> bool:
    """Lines that are a list of dated items: a link's title with a date on its line or the next."""
    items = sum(1 for index, line in enumerate(lines)
                if dates_in(line) and (line.linked or (index and lines[index - 1].linked)))
    return items >= LIST_MIN_DATED_LINES


def _date_element(tree) -> Published | None:
    """A visible element named for a date (id or class pubdate, time, riqi ...) that holds only a date."""
    for element in tree.iter(etree.Element):
        hint = (element.get("id") or "") + " " + (element.get("class") or "")
        if len(hint) > 1 and _DATE_NAME.search(hint) and not _hidden(element):
            text = " ".join(element.text_content().split())
            found = dates_in(text) if len(text) <= DATE_ELEMENT_MAX_CHARS else []
            if found and found[0][0] == 0:
                return Published(found[0][1].value, "日期元素")
    return None


def _from_metas(tree) -> Published | None:
    contents = {}
    for meta in tree.iter("meta"):
        content = (meta.get("content") or "").strip()
        for attribute in _META_ATTRIBUTES:
            key = (meta.get(attribute) or "").strip().lower()
            if key and content:
                contents.setdefault(key, content)
    for name in META_NAMES:
        found = dates_in(contents.get(name, ""))
        if found:
            return Published(found[0][1].value, f"meta:{name}")
    return None


def _from_url(url: str) -> Published | None:
    found = date_from_url(url)
    return Published(found, "网址") if found else None


def _from_htmldate(tree, reference: date) -> Published | None:
    """htmldate's markup readers only: the metas, JSON-LD, <abbr>, date-classed and <time> elements it knows. Its regex
    passes over the raw HTML and the free text are left out: they take a list item's date, a comment's
    page-generation time or a script's timestamp for the page's, none of which the page shows as its date."""
    from htmldate.core import (date_candidates, examine_abbr_elements, examine_elements, examine_header,
                               examine_time_elements)
    from htmldate.extractors import discard_unwanted, json_search
    from htmldate.settings import CLEANING_LIST
    from htmldate.utils import Extractor, clean_html
    from htmldate.validators import get_max_date, get_min_date

    def dated_elements(tree, options):  # elements whose class or id says date or time, on a pruned copy
        return examine_elements(date_candidates(discard_unwanted(clean_html(deepcopy(tree), CLEANING_LIST)), False),
                                options)

    options = Extractor(False, get_max_date(reference.isoformat()), get_min_date(None), True, "%Y-%m-%d")
    for reader in (examine_header, json_search, examine_abbr_elements, dated_elements, examine_time_elements):
        try:
            found = reader(tree, options)
        except Exception as error:  # noqa: BLE001 - a library failure means "no date found", never a crashed page
            log.debug("htmldate %s failed: %s", reader.__name__, error)
            continue
        if found:
            return Published(date.fromisoformat(found), "htmldate")
    return None


class Line(str):
    """One visible line; `linked` when some of its text is a link's (a list item's title)."""
    linked = False


def visible_lines(tree) -> tuple[list[Line], int | None]:
    """The page's visible text as lines (block elements and <br> break lines), and the index of the
    headline's line (None if no line is the headline). Script code is not text, except the dates a
    script writes into the page with document.write."""
    body = tree.find(".//body")
    lines: list[Line] = []
    current: list[str] = []   # only non-empty pieces: an empty line ends cheaply (most block boundaries)
    links_open, linked, first_h1_end = 0, False, None

    def end_line():
        nonlocal linked
        if current:
            line = Line(" ".join("".join(current).split()))
            if line:
                line.linked = linked
                lines.append(line)
            current.clear()
        linked = False

    walker = etree.iterwalk(body if body is not None else tree, events=("start", "end"))
    for event, element in walker:
        tag = element.tag if isinstance(element.tag, str) else None
        if event == "start":
            if tag is None or tag in _INVISIBLE or _hidden(element):
                if tag == "script":
                    written = _script_written_date(element.text or "")
                    if written:
                        current.append(written)
                walker.skip_subtree()
                continue
            if tag not in _INLINE:
                end_line()
            if tag == "a":
                links_open += 1
            text = element.text
            if text and text.strip():
                current.append(text)
                linked = linked or links_open > 0
            continue
        if tag is not None and tag not in _INLINE and tag not in _INVISIBLE:
            end_line()
            if tag == "h1" and first_h1_end is None:
                first_h1_end = len(lines) - 1
        elif tag == "a" and not _hidden(element):
            links_open -= 1
        tail = element.tail
        if tail:
            current.append(tail)
    end_line()
    return lines, _headline(tree, lines, first_h1_end)


def _hidden(element) -> bool:
    style = element.get("style")
    return element.get("hidden") is not None or bool(style and _HIDDEN_STYLE.search(style))


def _script_written_date(code: str) -> str:
    """A date a script writes into the page: a date string literal in code that calls document.write."""
    if "document.write" not in code:
        return ""
    for match in _STRING_LITERAL.finditer(code):
        if dates_in(match.group(2)):
            return f" {match.group(2)} "
    return ""


def _headline(tree, lines: list[str], first_h1: int | None) -> int | None:
    """The line that shows the article's headline: the first line that is the page <title> or one of
    its parts ("headline_column_site"), longest part first; else the first <h1>."""
    title_element = tree.find(".//title")
    title = _squash(title_element.text_content()) if title_element is not None else ""
    parts = sorted((part for part in _TITLE_SEPARATORS.split(title) if len(part) >= 4), key=len, reverse=True)
    squashed = [_squash(line) for line in lines]
    for wanted in dict.fromkeys([title, *parts]):
        for index, line in enumerate(squashed):
            if line.startswith(wanted) and len(line) <= len(wanted) + 8:
                return index
    return first_h1


def _squash(text: str) -> str:
    return "".join(text.split())
