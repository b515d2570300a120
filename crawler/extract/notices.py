"""Closure-and-migration notices (关停/迁移公告) on a home page.

Real notices are worded many ways (本网站已停止更新 / 本站将于…永久下线 / 网站内容已整合至…), so one phrase
is not enough; news that merely mentions 关停 or 迁移 (a factory closed, a company moved) must not count.
A notice is therefore an element whose own text has
  1. a closure word (关停, 停止更新, 迁移至, 整合至, …: config) and
  2. a word naming the website itself (本网站, 本站, 网站, 门户, …: config),
is not a list item or a link (headlines are), and is prominent: a short page dominated by it, a
banner/modal/popup/marquee/red-text box, a heading, or one of the first blocks of the page.
The links inside the notice (or right next to it) say where the content went.
"""
from __future__ import annotations

import re

from crawler.extract.links import normalize

_PROMINENT = re.compile(r"closure|alert|modal|popup|banner|tanchuang|marquee|guanting|qianyi|bulletin|notice|tips?\b",
                        re.I)
_BLOCKS = ("div", "p", "td", "section", "marquee", "h1", "h2", "h3", "center", "span", "strong", "font", "b")
_RED = re.compile(r"color\s*:\s*(red|#f00\b|#ff0000|#c00\b|#cc0000|#e00|#d00)", re.I)
_EARLY_BLOCKS = 12   # a notice among the first blocks of the body is prominent (a top banner)


def _headline(el, own: str) -> bool:
    """A list item, a link, or a box whose text is mostly link text: a headline, not a notice."""
    if el.tag == "a" or any(a.tag in ("li", "a", "dd") for a in el.iterancestors()):
        return True
    linked = sum(len("".join(a.text_content().split())) for a in el.iter("a"))
    return linked >= 0.8 * len(own.replace(" ", ""))


def find_notice(tree, text_chars: int, keywords: list[str], max_page_chars: int, base_url: str, encoding: str,
                site_words: tuple[str, ...] = ("本网站", "本站", "网站", "门户")) -> dict | None:
    """{'text', 'links', 'prominent'} of the smallest prominent element carrying a closure notice, or None."""
    best = None
    for position, el in enumerate(tree.iter(*_BLOCKS)):
        own = " ".join(el.text_content().split())
        if not own or len(own) > 400:
            continue
        if not any(word in own for word in keywords) or not any(word in own for word in site_words):
            continue
        if _headline(el, own):
            continue
        if not _prominent(el, position, text_chars, max_page_chars):
            continue
        if best is None or len(own) < len(best[1]):
            best = (el, own)
    if best is None:
        return None
    el, own = best
    return {"text": own[:300], "links": _links(el, own, base_url, encoding), "prominent": True}


def _prominent(el, position: int, text_chars: int, max_page_chars: int) -> bool:
    hint = " ".join(filter(None, (el.get("class"), el.get("id"))))
    style = el.get("style") or ""
    for ancestor in el.iterancestors():
        hint += " " + " ".join(filter(None, (ancestor.get("class"), ancestor.get("id"))))
        style += ";" + (ancestor.get("style") or "") if ancestor.tag != "body" else ""
    return (text_chars <= max_page_chars or bool(_PROMINENT.search(hint)) or bool(_RED.search(style))
            or el.tag in ("marquee", "h1", "h2", "center") or position < _EARLY_BLOCKS)


def _links(el, own: str, base_url: str, encoding: str) -> list[str]:
    scope, parent = el, el.getparent()
    if (parent is not None and parent.tag not in ("body", "html") and not any(True for _ in el.iter("a"))
            and len(parent.text_content()) < len(own) + 100):
        scope = parent  # the link sits next to the notice text, inside the same small box
    links = []
    for a in scope.iter("a"):
        url = normalize(base_url, a.get("href") or "", encoding)
        if url and url not in links:
            links.append(url)
    return links
