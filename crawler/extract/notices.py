"""Closure-and-migration notices (关停/迁移公告) on a home page.

Real notices are worded many ways (本网站已停止更新 / 本站将于…永久下线 / 网站内容已迁移至…), and real
portal home pages are full of news that mentions 关停 or 迁移 (a factory closed, a meeting on site
consolidation). So a notice must pass three tests, each on facts of the page:

1. Wording (the words are profile configuration, `NoticeVocabulary`): a closure word (关停, 停止更新 …) or
   a migration word (迁移至, 整合至 …), not only a maintenance or feature word (系统升级, 网站改版,
   留言功能 … — a temporary outage, not a closure, unless content moves), no news marker (本网讯, 记者 …),
   and it speaks of the site itself: a self word (本网站, 本站 …), or a site word (网站, 域名 …) together
   with a notice label (公告, 提示 …) or a destination (a written address, a link to another host);
   content moving to a destination needs no site word at all.
2. Not news: not a headline (link, list item, link-dominated box), not a news lead (11月20日，…), and not
   inside a news item (a box that also holds a headline link of this site or a list date, or one of
   several repeated item boxes).
3. Prominent: a short page dominated by it, a banner/modal/popup/marquee/red box, a heading, or one of
   the first blocks of the page.

Its evidence is the whole notice: the box it sits in, or — when what matched is a heading (`<h2>`, a
bold 【网站关停公告】 label) — the heading and the paragraphs that follow it, with their links.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from crawler.extract.links import netloc, normalize


@dataclass(frozen=True)
class NoticeVocabulary:
    """The words a notice is recognised by (config/criteria/*.yaml, consolidation.notice); empty: none found."""

    closure: tuple[str, ...] = ()      # the site stops: 关停, 停止更新, 永久封停, 关站 …
    migration: tuple[str, ...] = ()    # its content moves: 迁移至, 整合至, 搬迁到 …
    self_site: tuple[str, ...] = ()    # the page speaks of itself: 本网站, 本站 …
    site: tuple[str, ...] = ()         # a website in general: 网站, 门户, 域名 …
    labels: tuple[str, ...] = ()       # a notice says it is one: 公告, 提示 …
    maintenance: tuple[str, ...] = ()  # temporary or feature-level: 系统升级, 网站改版, 留言功能 …
    news: tuple[str, ...] = ()         # a news text: 本网讯, 记者 …
    max_page_chars: int = 600          # a home page shorter than this is dominated by its notice


_PROMINENT = re.compile(r"closure|alert|modal|popup|banner|tanchuang|marquee|guanting|qianyi|bulletin|notice|tips?\b",
                        re.I)
_BLOCKS = ("div", "p", "td", "section", "marquee", "h1", "h2", "h3", "h4", "dt", "center", "span", "strong", "font",
           "b")
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6", "dt")
_INLINE = ("span", "strong", "font", "b", "em", "i", "u")
_RED = re.compile(r"color\s*:\s*(red|#f00\b|#ff0000|#c00\b|#cc0000|#e00|#d00)", re.I)
_EARLY_BLOCKS = 12      # a notice among the first blocks of the body is prominent (a top banner)
_MAX_CANDIDATE = 600    # longer texts are articles or whole pages, not a notice element
_BOX_EXTRA = 300        # a notice's box holds at most this much text besides the notice
_BOX_LINKS = 5          # … and at most this many links (more: navigation, a list)
_HEADING_CHARS = 40     # a text this short with a notice label is a heading (网站关停公告)
_BODY_CHARS = 600       # the body kept after a heading
_TEXT_CHARS = 500       # the notice text kept as evidence
_HEADLINE_CHARS = 8     # a link text this long is a headline
_ADDRESS = re.compile(r"https?://|www\.|\b[a-z0-9-]+(\.[a-z0-9-]+)*\.(gov\.cn|com\.cn|org\.cn|cn|com|net|org)\b", re.I)
_NEWS_LEAD = re.compile(r"^[\[【(（]?\s*(\d{4}\s*年\s*)?\d{1,2}\s*月\s*\d{1,2}\s*日\s*[，,电讯]")
_LIST_DATE = re.compile(r"^[\[【(（]?\s*(\d{4}[-/.])?\d{1,2}[-/.]\d{1,2}(\s+\d{1,2}:\d{2})?\s*[\]】)）]?$")
_TRAILING_DATE = re.compile(r"[\[【(（]?\s*\d{4}[-/.]\d{1,2}[-/.]\d{1,2}\s*[\]】)）]?$")


def _has(text: str, words: tuple[str, ...]) -> bool:
    return any(word in text for word in words)


def closure_wording(text: str, words: NoticeVocabulary, destination: bool = False) -> bool:
    """The text announces that a website closes or that its content moved (see the module doc, test 1)."""
    moves = _has(text, words.migration)
    if not moves and (not _has(text, words.closure) or _has(text, words.maintenance)):
        return False
    if _has(text, words.news):
        return False
    if _has(text, words.self_site):
        return True
    if _has(text, words.site) and (_has(text, words.labels) or destination):
        return True
    return moves and destination


def find_notice(tree, text_chars: int, base_url: str, encoding: str, words: NoticeVocabulary) -> dict | None:
    """{'text', 'heading', 'links', 'prominent'} of the most specific closure notice on the page, or None."""
    host = netloc(base_url)
    best = None
    for position, el in enumerate(tree.iter(*_BLOCKS)):
        own = _text(el)
        if not own or len(own) > _MAX_CANDIDATE or (best is not None and len(own) >= len(best[1])):
            continue
        destination = bool(_ADDRESS.search(own)) or any(netloc(url) != host for url in _links([el], base_url, encoding))
        if not closure_wording(own, words, destination) or _headline(el, own):
            continue
        if _news(el, own, host, base_url, encoding, words) or not _prominent(el, position, text_chars, words):
            continue
        best = (el, own)
    if best is None:
        return None
    heading, scope = _scope(best[0], words)
    text = " ".join(" ".join(part.split()) for el in scope for part in el.itertext() if part.strip())
    return {"text": text[:_TEXT_CHARS], "heading": heading, "links": _links(scope, base_url, encoding),
            "prominent": True}


def _text(el) -> str:
    return " ".join(el.text_content().split())


def _headline(el, own: str) -> bool:
    """A list item, a link, or a box whose text is mostly link text: a headline, not a notice."""
    if el.tag == "a" or any(a.tag in ("li", "a", "dd") for a in el.iterancestors()):
        return True
    linked = sum(len("".join(a.text_content().split())) for a in el.iter("a"))
    return linked >= 0.8 * len(own.replace(" ", ""))


def _box(el, own: str):
    """The small box around an element: its largest ancestor with little more text and few links."""
    box = el
    for ancestor in el.iterancestors():
        if ancestor.tag in ("body", "html") or len(_text(ancestor)) > len(own) + _BOX_EXTRA:
            break
        if sum(1 for _ in ancestor.iter("a")) > _BOX_LINKS:
            break
        box = ancestor
    return box


def _news(el, own: str, host: str, base_url: str, encoding: str, words: NoticeVocabulary) -> bool:
    """A news lead or summary: dated, next to a headline of this site, or one of several item boxes."""
    if _NEWS_LEAD.match(own) or _TRAILING_DATE.search(own):
        return True
    box = _box(el, own)
    inside = set(el.iter())
    opening = _text(box)
    for node in box.iter():
        if not isinstance(node.tag, str) or (node in inside and node.tag != "a"):
            continue
        text = _text(node)
        if node not in inside and _LIST_DATE.match(text):
            return True   # a list date beside the text: a dated item
        if node.tag == "a" and (node not in inside or opening.startswith(text)) and _site_headline(
                node, text, host, base_url, encoding, words):
            return True   # the headline of the item this text summarises
    # one of a list's items, or the list itself
    return (any(_repeated(node) for node in (el, *el.iterancestors()) if box in (node, *node.iterancestors()))
            or any(_repeated(child) for child in el))


def _site_headline(a, text: str, host: str, base_url: str, encoding: str, words: NoticeVocabulary) -> bool:
    """A link to an article of this site with a headline's length, which is not itself a notice's title."""
    if len(text.replace(" ", "")) < _HEADLINE_CHARS or closure_wording(text, words):
        return False
    url = normalize(base_url, a.get("href") or "", encoding)
    return bool(url) and netloc(url) == host


def _repeated(node) -> bool:
    """One of three or more alike sibling boxes (same tag and class), each small and linked: a list of items."""
    parent, cls = node.getparent(), node.get("class")
    if parent is None or (not cls and node.tag not in ("tr", "dl", "li")):
        return False
    alike = [s for s in parent if s.tag == node.tag and s.get("class") == cls
             and len(_text(s)) <= _BOX_EXTRA and s.find(".//a") is not None]
    return len(alike) >= 3


def _prominent(el, position: int, text_chars: int, words: NoticeVocabulary) -> bool:
    hint = " ".join(filter(None, (el.get("class"), el.get("id"))))
    style = el.get("style") or ""
    for ancestor in el.iterancestors():
        hint += " " + " ".join(filter(None, (ancestor.get("class"), ancestor.get("id"))))
        style += ";" + (ancestor.get("style") or "") if ancestor.tag != "body" else ""
    return (text_chars <= words.max_page_chars or bool(_PROMINENT.search(hint)) or bool(_RED.search(style))
            or el.tag in ("marquee", "h1", "h2", "center") or position < _EARLY_BLOCKS
            or (el.tag in _HEADINGS + ("b", "strong") and _has(_text(el), words.labels)))  # 【网站关停公告】


def _scope(el, words: NoticeVocabulary) -> tuple[str | None, list]:
    """(heading, elements) of the whole notice: the heading and the blocks after it, or the notice's box."""
    own = _text(el)
    # A bold label inside a paragraph (<p><b>【网站关停公告】</b>本网站…</p>): the paragraph is the unit.
    while el.tag in _INLINE and el.getparent() is not None and el.getparent().tag not in ("body", "html"):
        el = el.getparent()
    text = _text(el)
    if el.tag in _HEADINGS or (len(text) <= _HEADING_CHARS and (_has(text, words.labels) or text.startswith("【"))):
        return own, [el] + _body_after(el)
    return None, [_box(el, text)]


def _body_after(heading) -> list:
    """The blocks that follow a heading (or the wrapper holding only the heading), up to the next heading."""
    node = heading
    for _ in range(3):   # <div class="title"><h2>…</h2></div><div class="content">…</div>
        if node.getnext() is not None or node.getparent() is None or node.getparent().tag in ("body", "html"):
            break
        node = node.getparent()
    body, chars = [], 0
    for sibling in node.itersiblings():
        if not isinstance(sibling.tag, str) or sibling.tag in _HEADINGS:
            break
        text = _text(sibling)
        links = sibling.findall(".//a") + ([sibling] if sibling.tag == "a" else [])
        if len(links) > _BOX_LINKS or chars + len(text) > _BODY_CHARS:
            break   # a list or navigation, or more than a notice says
        body.append(sibling)
        chars += len(text)
    return body


def _links(scope: list, base_url: str, encoding: str) -> list[str]:
    links = []
    for el in scope:
        for a in el.iter("a"):
            url = normalize(base_url, a.get("href") or "", encoding)
            if url and url not in links:
                links.append(url)
    return links
