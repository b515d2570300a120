"""Lists kept as JSON: an array in a script variable (``var listData = [{"title":…,"url":…,"date":…}]``)
or an endpoint the page names (``$.getJSON("/api/list?channel=12&page=1")``, ``fetch('/data/news.json')``).
Variables are read from the page itself; each endpoint on the site's host is asked once (GET) and
its answer read as a data page of this list page."""
from __future__ import annotations

import json
import re
from urllib.parse import urljoin, urlsplit

from crawler.families import Page, Reading, Request
from crawler.families.fragments import js_objects, json_items, record_lists

NAME = "json"
UNREAD = "列表由脚本从 JSON 数据加载，未能读取"
_MARKS = (b"[{", b"getJSON", b"fetch(", b"$.ajax", b"$.get(", b"axios.get(")
_SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.S | re.I)
_CALL_URL = re.compile(r"""(?:\$\.getJSON|\$\.get|\bfetch|axios\.get)\s*\(\s*(['"`])([^'"`]+)\1""")
_AJAX_URL = re.compile(r"""\$\.ajax\s*\(\s*\{[^}]*?\burl\s*:\s*(['"])([^'"]+)\1""", re.S)
_JSONP = re.compile(r"^[\w$.]+\s*\((.*)\)\s*;?\s*$", re.S)


def detect(page: Page) -> bool:
    return any(mark in page.body for mark in _MARKS)


def _inline_scripts(text: str):
    for match in _SCRIPT.finditer(text):
        attributes, code = match.group(1).lower(), match.group(2)
        if "src=" not in attributes and "text/xml" not in attributes and code.strip():
            yield code


def read(page: Page) -> Reading:
    reading = Reading(NAME)
    host = urlsplit(page.url).netloc
    seen: set[str] = set()
    for code in _inline_scripts(page.text):
        if "[{" in code:
            for value in js_objects(code):
                for records in record_lists(value):
                    _add(reading, records, page, page.url)
        for pattern in (_CALL_URL, _AJAX_URL):
            for match in pattern.finditer(code):
                url = urljoin(page.url, match.group(2).strip())
                if urlsplit(url).netloc == host and url not in seen and url != page.url:
                    seen.add(url)
                    reading.requests.append(Request(url, NAME, "data", list_of=page.url))
    return reading


def _add(reading: Reading, records: list[dict], page: Page, base_url: str) -> None:
    group, links = json_items(records, base_url, page.encoding, page.reference)
    if group.items:
        reading.groups.append(group)
        reading.links += links


def _document(text: str):
    text = text.strip().lstrip("\ufeff")
    try:
        return json.loads(text)
    except ValueError:
        wrapped = _JSONP.match(text)   # JSONP: callback({...})
        if wrapped:
            try:
                return json.loads(wrapped.group(1))
            except ValueError:
                return None
    return None


def read_data(page: Page, request: Request) -> Reading:
    reading = Reading(NAME)
    document = _document(page.text)
    lists = list(record_lists(document)) if document is not None else []
    if not lists:
        reading.failed = UNREAD
        return reading
    # item links are relative to the list page that shows them, not to the endpoint
    _add(reading, max(lists, key=len), page, request.list_of or page.url)
    return reading

