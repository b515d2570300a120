"""Hanweb JCMS (大汉), Zhejiang's usual platform: jpage lists.

A column page (/col/col1229/index.html) carries its first records only inside
``<script type="text/xml"><datastore>…<recordset><record><![CDATA[<li>…</li>]]></record>…``; the jpage
script then asks ``/module/web/jpage/dataproxy.jsp?startrecord=46&endrecord=90&perpage=15`` for the
next group of records, by POST with the form the page names (columnid, unitid, webid, path …) or by
GET with them in the query (the ``<nextgroup>`` link). Each answer is XML: ``<totalrecord>`` and
more ``<record>`` entries. Read: the embedded records, then every group until totalrecord.
"""
from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from lxml import etree

from crawler.families import Page, Reading, Request
from crawler.families.fragments import html_items, js_object_after

NAME = "hanweb"
UNREAD = "列表由大汉 jpage 脚本加载，未能读取"
DEFAULT_PROXY = "/module/web/jpage/dataproxy.jsp"
DEFAULT_PER_PAGE, DEFAULT_GROUP = 15, 3
MAX_REQUESTS_PER_LIST = 200      # a runaway totalrecord cannot make a list endless
_RANGE = ("startrecord", "endrecord", "perpage")

_DATASTORE = re.compile(r"<datastore\b.*?</datastore>", re.S | re.I)
_JPAGE_CALL = re.compile(r"\.jpage\s*\(\s*", re.I)
_HREF = re.compile(r"""href\s*=\s*["']([^"']+)["']""", re.I)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)
_XML = etree.XMLParser(recover=True, encoding="utf-8", resolve_entities=False, no_network=True, huge_tree=True)


def detect(page: Page) -> bool:
    return b"<datastore" in page.body or b"dataproxy.jsp" in page.body


def _store(xml_text: str):
    return etree.fromstring(_XML_DECLARATION.sub("", xml_text).encode("utf-8"), _XML)


def _records(store) -> list[str]:
    return [record.text or "" for record in store.iter("record")] if store is not None else []


def _total(store) -> int | None:
    value = (store.findtext(".//totalrecord") or "").strip() if store is not None else ""
    return int(value) if value.isdigit() else None


def _jpage_options(text: str, after: int) -> dict:
    """The options object of the first `$(…).jpage({…})` call after the datastore."""
    call = _JPAGE_CALL.search(text, after)
    options = js_object_after(text, call.end()) if call else None
    return options if isinstance(options, dict) else {}


def _number(value, default: int) -> int:
    try:
        return int(value) if int(value) > 0 else default
    except (TypeError, ValueError):
        return default


def read(page: Page) -> Reading:
    text = page.text
    reading = Reading(NAME)
    stores = 0
    for match in _DATASTORE.finditer(text):
        store = _store(match.group(0))
        stores += store is not None and store.find(".//recordset") is not None
        records = _records(store)
        groups, links = html_items(records, page.url, page.encoding, page.reference, page.min_items)
        reading.groups += groups
        reading.links += links
        options = _jpage_options(text, match.end())
        first = _first_request(page.url, store, options, len(records))
        if first is not None:
            reading.requests.append(first)
    if not stores and not reading.requests:   # a jpage list named but no records to read
        reading.failed = UNREAD
    return reading


def _first_request(list_url: str, store, options: dict, embedded: int) -> Request | None:
    """The request for the group after the embedded records, or None when they are all there is."""
    named = options.get("totalRecord", options.get("totalrecord"))
    total = _number(named, 0) if named is not None else _total(store)
    nextgroup = store.findtext(".//nextgroup") if store is not None else None
    href = _HREF.search(nextgroup or "")
    href = href.group(1).replace("&amp;", "&") if href else None
    form = options.get("ajaxParam") or options.get("ajaxParams") or options.get("params")
    proxy = options.get("proxyUrl") or options.get("proxyurl") or href
    if proxy is None or (total is not None and total <= embedded):
        return None
    parts = urlsplit(urljoin(list_url, proxy))
    query = parse_qsl(parts.query, keep_blank_values=True)
    if href and not isinstance(form, dict):   # a GET: the <nextgroup> link names the column in its query
        query += parse_qsl(urlsplit(href).query, keep_blank_values=True)
    query = [(k, v) for k, v in query if k.lower() not in _RANGE]
    per = _number(options.get("perPage") or options.get("perpage"), DEFAULT_PER_PAGE)
    span = per * _number(options.get("groupSize") or options.get("groupsize"), DEFAULT_GROUP)
    state = {"endpoint": urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")), "query": query,
             "form": {str(k): _form_value(v) for k, v in form.items()} if isinstance(form, dict) else None,
             "per": per, "span": span, "total": total, "group": 2, "asked": 1}
    return _request(list_url, state, embedded + 1)


def _form_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _request(list_url: str, state: dict, start: int) -> Request:
    end = start + state["span"] - 1
    query = [(k, str(state["group"]) if k.lower() == "page" else v) for k, v in state["query"]]
    query += [("startrecord", str(start)), ("endrecord", str(end)), ("perpage", str(state["per"]))]
    url = f"{state['endpoint']}?{urlencode(query)}"
    method = "POST" if state["form"] is not None else "GET"
    return Request(url, NAME, "data", list_of=list_url, method=method, form=state["form"],
                   state={**state, "start": start, "end": end})


def read_data(page: Page, request: Request) -> Reading:
    """One dataproxy answer: its records, and the request for the next group while records remain."""
    state = request.state
    store = _store(page.text)
    records = _records(store)
    reading = Reading(NAME)
    reading.groups, reading.links = html_items(records, page.url, page.encoding, page.reference, page.min_items)
    total = _total(store) or state.get("total")
    if not records:
        if store is None or store.tag != "datastore":
            reading.failed = UNREAD   # not a dataproxy answer (an error page, a login wall)
        return reading
    following = state["end"] + 1
    if (total is None or following <= total) and state["asked"] < MAX_REQUESTS_PER_LIST:
        reading.requests.append(_request(request.list_of, {**state, "total": total, "group": state["group"] + 1,
                                                           "asked": state["asked"] + 1}, following))
    return reading
