"""Shared by the family readers: list items and links out of an HTML fragment or JSON records,
through the same extractors the crawler uses for ordinary pages."""
from __future__ import annotations

import re
from datetime import date

import chompjs
import lxml.html

from crawler.extract.columns import Item, ItemGroup, extract_groups
from crawler.extract.dates import parse_date
from crawler.extract.links import Link, extract_links, kind_of, normalize

_ROW_TAG = re.compile(r"^\s*<\s*(tr|li|dd|dt)\b", re.I)
_WRAPPERS = {"tr": ("<table>", "</table>"), "li": ("<ul>", "</ul>"), "dd": ("<dl>", "</dl>"), "dt": ("<dl>", "</dl>")}


def html_items(fragments: list[str], base_url: str, encoding: str, reference: date,
               min_items: int) -> tuple[list[ItemGroup], list[Link]]:
    """Rows such as Hanweb records (`<li><a/><span>date</span></li>`) read as one list, with their links."""
    html = "".join(fragments).strip()
    if not html:
        return [], []
    first = _ROW_TAG.match(html)
    before, after = _WRAPPERS.get(first.group(1).lower(), ("", "")) if first else ("", "")
    tree = lxml.html.document_fromstring(f"<html><body><div>{before}{html}{after}</div></body></html>")
    groups = extract_groups(tree, base_url, encoding, reference, min_items)
    if not groups:  # a short list (one or two records) still holds items: read every linked row
        groups = extract_groups(tree, base_url, encoding, reference, 1)
    return groups, extract_links(tree, base_url, encoding)


# Field names real JSON lists use (lower-cased), most specific first.
_TITLE_KEYS = ("title", "doctitle", "biaoti", "name", "subject", "text", "t")
_URL_KEYS = ("url", "link", "href", "docpuburl", "docurl", "path", "pageurl", "articleurl")
_DATE_KEYS = ("date", "pubdate", "publishdate", "publishtime", "releasedate", "docreltime", "pubtime",
              "createtime", "createdate", "time", "fbrq", "fbsj", "ctime")


def _field(record: dict, keys: tuple[str, ...]):
    lowered = {str(k).lower(): v for k, v in record.items()}
    for key in keys:
        value = lowered.get(key)
        if value not in (None, ""):
            return value
    return None


def is_record_list(value) -> bool:
    """A JSON list of news records: dicts with a title and a link."""
    return (isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)
            and sum(1 for v in value if _field(v, _TITLE_KEYS) and _field(v, _URL_KEYS)) * 2 >= len(value))


def record_lists(value, depth: int = 0):
    """Every record list inside a JSON document ({"data": {"list": [...]}} and the like)."""
    if depth > 6:
        return
    if is_record_list(value):
        yield value
    elif isinstance(value, dict):
        for child in value.values():
            yield from record_lists(child, depth + 1)
    elif isinstance(value, list):
        for child in value[:50]:
            if isinstance(child, (dict, list)):
                yield from record_lists(child, depth + 1)


def json_items(records: list[dict], base_url: str, encoding: str, reference: date) -> tuple[ItemGroup, list[Link]]:
    items, links = [], []
    for record in records:
        title, href = _field(record, _TITLE_KEYS), _field(record, _URL_KEYS)
        url = normalize(base_url, str(href), encoding) if href else None
        if not title or url is None:
            continue
        when = _field(record, _DATE_KEYS)
        found = parse_date(str(when), reference) if when is not None else None
        title = " ".join(str(title).split())[:200]
        items.append(Item(title=title, url=url, date=found.value.isoformat() if found else None,
                          year_inferred=bool(found and found.year_inferred)))
        links.append(Link(url, "a", kind_of(url), title))
    return ItemGroup(items=items), links


def js_objects(script: str):
    """Object and array literals in a script (unquoted keys, single quotes: JavaScript, not JSON)."""
    try:
        yield from chompjs.parse_js_objects(script, unicode_escape=False, omitempty=True)
    except (ValueError, TypeError):
        return


def js_object_after(text: str, start: int):
    """The first object literal from `start` on, or None."""
    try:
        return chompjs.parse_js_object(text[start:])
    except (ValueError, TypeError):
        return None
