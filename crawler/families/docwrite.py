"""Blocks written by included scripts: ``<div class="tzgg"><script src="/js/tzgg.js"></script></div>``
whose script is ``document.write('<li><a href=…>…</a><span>2025-11-03</span></li>')``.

A candidate is a same-host script that is the first thing inside a container (or follows a block
heading), where a list would stand; scripts at the end of the body (statistics, common.js) are not
asked for. Each candidate is loaded once per site (it doubles as the link check of the script), and
the HTML its literal ``document.write`` calls produce is put where the script stood, so the page is
read as a browser shows it. Writes built from variables are not guessed.
"""
from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import chompjs

from crawler.extract.text import decode_html
from crawler.families import Page, Reading, Request

NAME = "docwrite"
UNREAD = "列表由脚本 document.write 写入，未能读取"
NOT_LOADED = "列表由脚本 document.write 写入，脚本未能读取"
MAX_INCLUDES_PER_PAGE = 8

# A script element right after a container's opening tag or a block heading (bytes: cheap detection).
_CANDIDATE_BYTES = re.compile(
    rb"(?:<(?:div|ul|ol|td|dd|li|span|p|section|article|tbody|dl)\b[^>]*>|</h[1-6]>|</strong>)\s*"
    rb"<script\b[^>]*?\bsrc\s*=", re.I)
_CANDIDATE = re.compile(
    r"(?:<(?:div|ul|ol|td|dd|li|span|p|section|article|tbody|dl)\b[^>]*>|</h[1-6]>|</strong>)\s*"
    r"(<script\b[^>]*?\bsrc\s*=\s*[\"']?([^\"'\s>]+)[^>]*>\s*</script\s*>)", re.I)
_WRITE = re.compile(r"document\s*\.\s*write(?:ln)?\s*\(")
_STRING = re.compile(r"""'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*\"""")
_SPACE = re.compile(r"\s*")


def detect(page: Page) -> bool:
    return b"<script" in page.body and _CANDIDATE_BYTES.search(page.body) is not None


def candidates(page: Page) -> list[tuple[str, str]]:
    """(script element as written, absolute script URL) of each same-host candidate."""
    host = urlsplit(page.url).netloc
    found = []
    for match in _CANDIDATE.finditer(page.text):
        url = urljoin(page.url, match.group(2))
        if urlsplit(url).netloc == host and len(found) < MAX_INCLUDES_PER_PAGE:
            found.append((match.group(1), url))
    return found


def read(page: Page) -> Reading:
    reading = Reading(NAME)
    wanted = candidates(page)
    missing = sorted({url for _, url in wanted if url not in page.includes})
    if missing:
        reading.requests = [Request(url, NAME, "include", list_of=page.url) for url in missing]
        return reading
    text, changed = page.text, False
    for element, url in wanted:
        script = page.includes.get(url)
        if script is None:
            reading.failed = NOT_LOADED
            continue
        html = written_html(script)
        if html:
            text = text.replace(element, html, 1)
            changed = True
    if changed:
        reading.body = text.encode(page.encoding, errors="xmlcharrefreplace")
    return reading


def _literal(raw: str) -> str:
    return chompjs.parse_js_object(f"[{raw}]")[0]


def _call_text(code: str, pos: int) -> str | None:
    """The argument of one write call when it is string literals joined by +, else None."""
    parts = []
    while True:
        pos = _SPACE.match(code, pos).end()
        string = _STRING.match(code, pos)
        if not string:
            return None
        try:
            parts.append(_literal(string.group(0)))
        except (ValueError, TypeError, IndexError):
            return None
        pos = _SPACE.match(code, string.end()).end()
        if code.startswith("+", pos):
            pos += 1
            continue
        return "".join(parts) if code.startswith(")", pos) else None


def written_html(script: bytes) -> str:
    """What the script's literal document.write calls put on the page."""
    if b"document" not in script or b"write" not in script:
        return ""
    code, _ = decode_html(script, None)
    written = (_call_text(code, call.end()) for call in _WRITE.finditer(code))
    return "".join(part for part in written if part)
