"""S1 暗链: links to other hosts inside elements hidden by inline style or by a simple <style> rule
(display:none, visibility:hidden, off-screen position, zero size, font-size 0, text coloured like
its background). Hidden drop-down menus pointing at other .gov.cn platforms are not 暗链. Only .class, #id and tag selectors of <style> blocks are understood: hijackers'
link farms use exactly those."""
from __future__ import annotations

import re

from crawler.extract.links import netloc, normalize

_HIDING = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0(?![.\d])|"
    r"(?:left|top|text-indent|margin-left|margin-top)\s*:\s*-\d{3,}|"
    r"(?<![-\w])(?:height|width)\s*:\s*0(?:px)?\s*(?:;|$)")
_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
_COLOR = re.compile(r"(?<![-\w])color\s*:\s*([#\w]+)")
_BACKGROUND = re.compile(r"background(?:-color)?\s*:\s*([#\w]+)")


def _hides(style: str) -> bool:
    style = style.lower()
    if _HIDING.search(style):
        return True
    color, background = _COLOR.search(style), _BACKGROUND.search(style)
    return bool(color and background and color.group(1) == background.group(1))


def hidden_selectors(tree) -> tuple[set[str], set[str], set[str]]:
    classes, ids, tags = set(), set(), set()
    for style in tree.iter("style"):
        for selectors, body in _RULE.findall(style.text_content() if style.text is None else style.text):
            if not _hides(body):
                continue
            for selector in selectors.split(","):
                selector = selector.strip()
                if re.fullmatch(r"\.[\w-]+", selector):
                    classes.add(selector[1:])
                elif re.fullmatch(r"#[\w-]+", selector):
                    ids.add(selector[1:])
                elif re.fullmatch(r"[a-z]+", selector):
                    tags.add(selector)
    return classes, ids, tags


def _candidates(tree, classes: set[str], ids: set[str], tags: set[str]) -> list:
    """The elements that can be hidden, in document order: only attributes and hiding tags make them so
    (selected in C; a page may hold 300,000 elements), an id or a class only where a <style> rule hides one."""
    tests = ["@style", "@hidden"] + [f"self::{tag}" for tag in sorted(tags)]
    if ids:
        tests.append("@id")
    if classes:
        tests.append("@class")
    return tree.xpath(f"descendant-or-self::*[{' or '.join(tests)}]")


def hidden_offsite_links(tree, base_url: str, encoding: str) -> list[dict]:
    classes, ids, tags = hidden_selectors(tree)
    own = netloc(base_url)
    found, seen = [], set()
    for el in _candidates(tree, classes, ids, tags):
        style = el.get("style") or ""
        hidden = (style and _hides(style)) or el.get("hidden") is not None or el.tag in tags \
            or (el.get("id") or "") in ids or bool(classes & set((el.get("class") or "").split()))
        if not hidden:
            continue
        for a in el.iter("a"):
            url = normalize(base_url, a.get("href") or "", encoding)
            host = netloc(url or "")
            if url and host != own and not host.split(":")[0].endswith(".gov.cn") and url not in seen:
                seen.add(url)
                found.append({"url": url, "text": " ".join(a.text_content().split())[:60],
                              "why": (style or f"<style> {el.get('class') or el.get('id') or el.tag}")[:80]})
    return found
