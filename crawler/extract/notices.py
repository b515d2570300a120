"""Closure-and-migration notices (关停/迁移公告) on a home page.

A notice is an element whose own text carries the configured words and is either prominent (a
banner/modal/notice element, or the top of a short page) — news text that merely mentions 迁移 in a
long article list is not a notice. The links inside the notice say where the content went.
"""
from __future__ import annotations

import re

from crawler.extract.links import normalize

_PROMINENT = re.compile(r"closure|alert|modal|popup|banner|tanchuang|marquee|guanting|qianyi|bulletin", re.I)
_BLOCKS = ("div", "p", "td", "section", "marquee", "h1", "h2", "h3", "center", "span", "strong")


def find_notice(tree, text_chars: int, keywords: list[str], max_page_chars: int,
                base_url: str, encoding: str) -> dict | None:
    """{'text', 'links', 'prominent'} of the smallest element carrying a closure notice, or None."""
    best = None
    for el in tree.iter(*_BLOCKS):
        own = " ".join(el.text_content().split())
        if not own or len(own) > 400 or not any(word in own for word in keywords):
            continue
        if any(a.tag in ("li", "a") for a in el.iterancestors()):
            continue  # a news headline that mentions 关停 is not a notice
        if best is None or len(own) < len(best[1]):
            best = (el, own)
    if best is None:
        return None
    el, own = best
    hint = " ".join(filter(None, (el.get("class"), el.get("id"), el.get("style"))))
    ancestors_hint = " ".join(" ".join(filter(None, (a.get("class"), a.get("id")))) for a in el.iterancestors())
    prominent = (text_chars <= max_page_chars or bool(_PROMINENT.search(hint + " " + ancestors_hint))
                 or el.tag in ("marquee", "h1", "h2", "center") or "color:red" in hint.replace(" ", "").lower())
    if not prominent:
        return None
    scope, parent = el, el.getparent()
    if parent is not None and not any(True for _ in el.iter("a")) and len(parent.text_content()) < len(own) + 100:
        scope = parent  # the link sits next to the notice text, inside the same small box
    links = []
    for a in scope.iter("a"):
        url = normalize(base_url, a.get("href") or "", encoding)
        if url and url not in links:
            links.append(url)
    return {"text": own[:300], "links": links, "prominent": True}
