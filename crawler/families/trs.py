"""TRS WCM: list pages beyond the first exist only through the pager script.

``createPageHTML(countPage, currentPage, "index", "html")`` writes the pager: pages index.html,
index_1.html … index_{n-1}.html (currentPage counts from 0). The variant that names its container,
``createPageHTML('page_div', countPage, currentPage, 'index', 'html', recordCount)``, counts from 1:
index.html, index_2.html … index_n.html. The arguments may be variables (``var countPage = 5``).
The pages are generated and crawled as ordinary list pages of the column.
"""
from __future__ import annotations

import re
from urllib.parse import urljoin

from crawler.families import Page, Reading, Request

NAME = "trs"
UNREAD = "列表后续页由 TRS createPageHTML 脚本生成，未能读取"
MAX_PAGES_PER_LIST = 500

_CALL = re.compile(r"createPageHTML\s*\(([^()]*)\)")
_IDENTIFIER = re.compile(r"^[A-Za-z_$][\w$]*$")


def detect(page: Page) -> bool:
    return b"createPageHTML" in page.body


def _variable(text: str, name: str, before: int):
    """The last `name = value` assignment before the call (`var countPage = 5//共多少页`)."""
    found = None
    for match in re.finditer(rf"\b{re.escape(name)}\s*=\s*([^;,\n/]+)", text[:before]):
        found = match.group(1).strip()
    return _literal(found) if found is not None else None


def _literal(raw: str):
    raw = raw.strip()
    if raw[:1] in "'\"" and raw[-1:] == raw[:1]:
        return raw[1:-1]
    try:
        return int(raw)
    except ValueError:
        return None


def _arguments(text: str, call) -> list:
    values = []
    for raw in call.group(1).split(","):
        raw = raw.strip()
        values.append(_variable(text, raw, call.start()) if _IDENTIFIER.match(raw) else _literal(raw))
    return values


def pages_of(count: int, current: int, name: str, ext: str, one_based: bool) -> list[str]:
    if one_based:
        return [f"{name}_{k}.{ext}" for k in range(2, count + 1) if k != current]
    return [f"{name}_{k}.{ext}" for k in range(1, count) if k != current]


def read(page: Page) -> Reading:
    text = page.text
    reading = Reading(NAME)
    seen = set()
    for call in _CALL.finditer(text):
        if text[max(0, call.start() - 9): call.start()].rstrip().endswith("function"):
            continue  # the pager's own definition, not a call
        args = _arguments(text, call)
        one_based = bool(args) and isinstance(args[0], str) and not str(args[0]).isdigit()
        if one_based:
            args = args[1:]   # the container id
        if len(args) < 4 or not isinstance(args[0], int) or not isinstance(args[1], int):
            reading.failed = UNREAD
            continue
        count, current, name, ext = min(args[0], MAX_PAGES_PER_LIST), args[1], str(args[2]), str(args[3])
        for path in pages_of(count, current, name, ext, one_based):
            url = urljoin(page.url, path)
            if url not in seen:
                seen.add(url)
                reading.requests.append(Request(url, NAME, "page", list_of=page.url))
    return reading

