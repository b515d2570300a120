"""One HTML page in, its facts out: what every rule needs, parsed once (lxml) per page."""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from datetime import date

import lxml.html
from lxml import etree

from crawler.extract import readable
from crawler.extract.columns import (ItemGroup, column_key, extract_breadcrumb, extract_groups, extract_nav,
                                     extract_pagination, main_lists)
from crawler.extract.footer import extract_identifiers
from crawler.extract.hidden import hidden_offsite_links
from crawler.extract.links import Link, extract_links, one_page
from crawler.extract.notices import NoticeVocabulary, find_notice
from crawler.extract.published import find_published
from crawler.extract.text import decode_html, shows_placeholder
from crawler.extract.textscan import TextMatcher, find_personal_data

_BOILERPLATE = re.compile(r"nav|menu|header|head\b|top|footer|foot|bottom|copyright|position|crumb|banner", re.I)
GUIDE_MIN_LABELS = 4
_SKIP_TEXT = frozenset(("script", "style", "a", "noscript"))


@dataclass(frozen=True)
class ExtractOptions:
    placeholders: tuple[str, ...] = ("暂无信息", "暂无数据", "正在建设中", "栏目建设中", "敬请期待")
    notice: NoticeVocabulary = NoticeVocabulary()   # closure-notice words from the profile (empty: none found)
    min_list_items: int = 3
    matcher: TextMatcher | None = None   # V4 dictionaries and guide-element labels, one automaton
    max_links: int = 0                   # a page is read up to its Nth link (crawl.max_links_per_page); 0: whole


@dataclass
class PageFacts:
    url: str
    encoding: str
    title: str = ""
    kind: str = "other"              # home | list | article | empty | other
    column_name: str | None = None   # meta ColumnName or the breadcrumb's last name
    article_date: str | None = None  # 发布时间 / PubDate of an article page
    article_date_source: str | None = None  # which rule gave article_date (inspect shows it)
    placeholder: bool = False
    content_chars: int = 0           # visible text outside navigation, header and footer
    nav: list[tuple[str, str]] = field(default_factory=list)
    groups: list[ItemGroup] = field(default_factory=list)
    pagination: list[str] = field(default_factory=list)
    identifiers: dict = field(default_factory=dict)
    notice: dict | None = None
    text_chars: int = 0
    text_hits: list[dict] = field(default_factory=list)      # V4: wrong forms and banned words in context
    personal_data: list[dict] = field(default_factory=list)  # S2: masked ID-card and mobile numbers
    guide_labels: list[str] = field(default_factory=list)    # service-guide element labels present
    hidden_links: list[dict] = field(default_factory=list)   # S1: off-site links in hidden elements
    links: list[Link] = field(default_factory=list)
    links_unread: int = 0            # links after ExtractOptions.max_links: cut unread (reported unchecked)
    # Certainty (DESIGN "facts first"): what was read how, and what could not be read.
    family: str | None = None        # CMS family whose reader read this page's lists (crawler/families)
    list_of: str | None = None       # a data response (Hanweb dataproxy, JSON endpoint): the list page it feeds
    rendered: bool = False           # rendered by headless Chromium before extraction
    app_shell: bool = False          # a script application shell (<div id="app"> + scripts, no content)
    unread: list[dict] = field(default_factory=list)  # lists seen but not read: {"reason": 中文, "family": str|None}

    def to_dict(self) -> dict:
        """Everything but the links (stored as rows of their own). Built by hand: asdict() deep-copies."""
        return {"url": self.url, "encoding": self.encoding, "title": self.title, "kind": self.kind,
                "column_name": self.column_name, "article_date": self.article_date,
                "article_date_source": self.article_date_source, "placeholder": self.placeholder,
                "content_chars": self.content_chars, "nav": [list(pair) for pair in self.nav],
                "groups": [group.to_dict() for group in self.groups], "pagination": self.pagination,
                "identifiers": self.identifiers, "notice": self.notice, "text_chars": self.text_chars,
                "text_hits": self.text_hits, "personal_data": self.personal_data, "guide_labels": self.guide_labels,
                "hidden_links": self.hidden_links, "family": self.family, "list_of": self.list_of,
                "rendered": self.rendered, "app_shell": self.app_shell, "unread": self.unread,
                "links_unread": self.links_unread}


def _meta(tree, name: str) -> str | None:
    el = tree.find(f".//meta[@name='{name}']")
    return (el.get("content") or "").strip() or None if el is not None else None


def _article_date(tree, url: str, reference: date) -> tuple[str | None, str | None]:
    """The publication date the page shows and the rule that found it (precedence: extract/published.py)."""
    found = find_published(tree, url, reference)
    return (found.value.isoformat(), found.source) if found else (None, None)


def _content_text(body) -> list[str]:
    """Visible text outside links, navigation, header and footer (subtrees pruned, one walk)."""
    parts, stack = [], [body]
    if body.text and body.text.strip():
        parts.append(body.text.strip())
    while stack:
        node = stack.pop()
        for child in node:
            if child.tail and child.tail.strip():
                parts.append(child.tail.strip())
            if not isinstance(child.tag, str) or child.tag in _SKIP_TEXT:
                continue
            hint = (child.get("class") or "") + " " + (child.get("id") or "")
            if child.tag in ("header", "footer", "nav") or (hint != " " and _BOILERPLATE.search(hint)):
                continue
            if child.text and child.text.strip():
                parts.append(child.text.strip())
            stack.append(child)
    return parts


_PARSERS = threading.local()


def _html_parser(encoding: str | None = None):
    """libxml2 stops at 256 open elements and drops the rest of the page silently; real templates leave
    hundreds of list rows unclosed, so parse with huge_tree (a limit of 2048). One parser per thread and
    encoding: lxml parsers must not be shared between threads."""
    parsers = getattr(_PARSERS, "parsers", None)
    if parsers is None:
        parsers = _PARSERS.parsers = {}
    if encoding not in parsers:
        parser = etree.HTMLParser(encoding=encoding, huge_tree=True)
        parser.set_element_class_lookup(_HTML_CLASSES)
        parsers[encoding] = parser
    return parsers[encoding]


# lxml.html's own lookup is a Python method called for every element Python touches (~300 per page), to
# give forms and inputs classes of their own that nothing here uses; every element an HtmlElement (the same
# text_content() and friends) is looked up in C.
_HTML_CLASSES = etree.ElementDefaultClassLookup(element=lxml.html.HtmlElement, comment=lxml.html.HtmlComment,
                                                pi=lxml.html.HtmlProcessingInstruction, entity=lxml.html.HtmlEntity)


def _keep_after_stray_html_end(root) -> None:
    """libxml2 ends the document at a stray </html> (an included header often carries one) and puts
    whatever follows in a second <html> beside the root, which lxml never shows: the main content and
    the footer vanish. A browser keeps them in the body; move them there."""
    strays = [node for node in root.itersiblings() if node.tag == "html"]
    if not strays:
        return
    body = root.find("body")
    if body is None:
        body = etree.SubElement(root, "body")
    for stray in strays:
        for part in [stray, *stray.iterchildren("head", "body")]:
            if part.text and part.text.strip():
                _append_text(body, part.text)
            for child in list(part):
                if child.tag not in ("head", "body"):
                    body.append(child)  # the tail text travels with the element
    # The emptied second <html> stays beside the root (lxml cannot remove a root's sibling); nothing reads it.


def _append_text(parent, text: str) -> None:
    last = parent[-1] if len(parent) else None
    if last is None:
        parent.text = (parent.text or "") + text
    else:
        last.tail = (last.tail or "") + text


# Depths a too-deep page is flattened to before parsing again (libxml2's own limit with huge_tree: 2048).
FLATTEN_DEPTHS = (1024, 256)


def _too_deep(parser) -> bool:
    """libxml2 stopped at its depth limit: everything after that point of the page is missing."""
    return any(e.type_name == "ERR_RESOURCE_LIMIT" for e in parser.error_log)


def _parse_once(text: str):
    parser = _html_parser()
    try:
        return lxml.html.document_fromstring(text or "<html></html>", parser=parser), parser
    except (etree.ParserError, ValueError):
        parser = _html_parser("utf-8")
        return lxml.html.document_fromstring(text.encode("utf-8", "replace"), parser=parser), parser


def parse_text(text: str):
    """The page's tree, whole: a nesting bomb (50,000 <div>) is flattened and parsed again, so that the
    links, lists and footer after it are not lost."""
    tree, parser = _parse_once(text)
    for depth in FLATTEN_DEPTHS:
        if not _too_deep(parser):
            break
        tree, parser = _parse_once(readable.flatten(text, depth))
    _keep_after_stray_html_end(tree)
    return tree


def parse_tree(body: bytes, content_type: str | None):
    text, encoding = decode_html(body, content_type)
    return parse_text(text), encoding


def _drop_code(tree) -> None:
    for junk in tree.iter("script", "style", "noscript"):
        junk.text = None  # keep the element (script src is a link) but not its code as page text


def _cap_links(tree, limit: int) -> int:
    """Cut the page after its `limit`-th link: every reader of lists and links walks the whole tree, and a
    page of 100,000 links holds the scan's one parsing thread for seconds. Returns how many links were cut."""
    total = int(tree.xpath("count(descendant::a[@href])")) if limit else 0
    if total <= limit:
        return 0
    node = tree.xpath(f"descendant::a[@href][{int(limit)}]")[0]
    while node.getparent() is not None:   # drop everything that follows, level by level up to the root
        parent = node.getparent()
        for later in list(node.itersiblings()):
            parent.remove(later)
        node = parent
    return total - limit


def analyse_page(url: str, body: bytes, content_type: str | None, reference: date,
                 options: ExtractOptions, is_home: bool = False) -> PageFacts:
    with one_page():   # every reader of the page's links shares one normalization per href
        return _analyse(url, body, content_type, reference, options, is_home)


def _analyse(url: str, body: bytes, content_type: str | None, reference: date,
             options: ExtractOptions, is_home: bool) -> PageFacts:
    source, encoding = decode_html(body, content_type)
    facts = PageFacts(url=url, encoding=encoding)
    garbage = readable.not_a_page(body, source)
    if garbage:   # no tree, no links, no text: nothing on it is a fact about the site
        facts.unread = [readable.unread_entry(garbage)]
        facts.kind = "home" if is_home else "other"
        return facts
    tree = parse_text(source)
    facts.hidden_links = hidden_offsite_links(tree, url, encoding)  # needs the <style> rules
    if not is_home:  # before _drop_code: a date written by a script is shown to the reader
        facts.article_date, facts.article_date_source = _article_date(tree, url, reference)
    _drop_code(tree)
    title = tree.find(".//title")
    facts.title = " ".join((title.text_content() if title is not None else "").split())[:300]
    text = " ".join(tree.text_content().split())
    facts.text_chars = len(text)
    if options.matcher is not None:
        facts.text_hits, _ = options.matcher.scan(text)
    facts.personal_data = find_personal_data(text)
    facts.identifiers = extract_identifiers(text, tree)   # before the cap: the footer lies past it
    facts.links_unread = _cap_links(tree, options.max_links)
    facts.links = extract_links(tree, url, encoding)
    facts.groups = extract_groups(tree, url, encoding, reference, options.min_list_items)
    facts.column_name = _meta(tree, "ColumnName") or extract_breadcrumb(tree)
    facts.placeholder = shows_placeholder(tree, options.placeholders, text)
    body_el = tree.find(".//body")
    content = _content_text(body_el) if body_el is not None else []
    facts.content_chars = sum(map(len, content))
    facts.pagination = extract_pagination(tree, url, encoding, column_key(url))
    if is_home:
        facts.nav = extract_nav(tree, url, encoding)
        facts.notice = find_notice(tree, facts.content_chars, url, encoding, options.notice)
        listed = any(len(g.items) >= options.min_list_items for g in main_lists(facts.groups))
        if readable.error_page(facts.title, " ".join(content), text, listed):
            facts.unread.append(readable.unread_entry(readable.ERROR_HOME))
    facts.kind = _kind(facts, is_home, options.min_list_items)
    # A service guide: an article titled 指南, or one whose own content (not the footer) shows several labels.
    if facts.kind == "article" and options.matcher is not None:
        _, labels = options.matcher.scan(" ".join(content))
        if len(labels) >= GUIDE_MIN_LABELS or "指南" in facts.title:
            facts.guide_labels = sorted(labels)
    return facts


_SHOWN_DATE_SOURCES = ("发布时间标签", "来源行", "时间标签", "标题下日期")  # a byline a reader sees (published.py)
_ARTICLE_BODY_CHARS = 300   # text of its own beyond list rows: an article body
_ROW_TEXT_CHARS = 25        # non-link text a dated list row carries (date, source, 点击数)


def _kind(facts: PageFacts, is_home: bool, min_items: int) -> str:
    """home | list | article | empty | other. An article keeps its kind beside related-links boxes and menus:
    it has a body of its own text and a date line; a list page's text is its rows' dates."""
    if is_home:
        return "home"
    lists = main_lists(facts.groups)
    dated = sum(g.dated for g in lists)
    longest = max((g.dated for g in lists), default=0)
    body = facts.content_chars - _ROW_TEXT_CHARS * dated
    if facts.article_date and body >= _ARTICLE_BODY_CHARS:
        return "article"
    if longest >= min_items or facts.pagination or facts.unread or (longest and body < _ARTICLE_BODY_CHARS):
        return "list"
    if facts.article_date_source in _SHOWN_DATE_SOURCES:
        return "article"
    if any(len(g.items) >= min_items for g in lists):
        return "list"  # a list whose items show no dates (read as such, never as an article)
    if facts.article_date and body >= _ARTICLE_BODY_CHARS // 3:
        return "article"
    if facts.placeholder or facts.content_chars < 40:
        return "empty"
    return "other"
