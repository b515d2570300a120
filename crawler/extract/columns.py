"""Columns (栏目): dated item lists on a page, navigation, breadcrumbs, and discovery across a site.

A list item is an <li>/<tr>/<dd> holding a link and, usually, a date (TRS, Hanweb and most CMSs
print `<li><a title=..>..</a><span>2017-08-01</span></li>`). Items sharing a parent form a group;
a group with dates, or a long run of article-like links, is a list. A column is the set of list
pages under one URL key (index.html, index_1.html, ?pageNum=2 ... are one column).
"""
from __future__ import annotations

import posixpath
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import date
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from crawler.extract.dates import _FULL, date_from_url, find_full_dates, parse_date
from crawler.extract.links import normalize, page_cached, text_of

_ITEM_TAGS = ("li", "tr", "dd")
_DATE_CELLS = ("span", "td", "em", "i", "font", "b", "p", "div", "small", "time", "label")
_PAGE_PARAMS = {"page", "pagenum", "pageindex", "pageno", "p", "pn", "startrecord", "endrecord", "perpage", "cur",
                "uid"}  # Hanweb: /col/col12/index.html?uid=3456&pageNum=2 is page 2 of col12
_PAGED_NAME = re.compile(r"^((?:list|more|column|channel|lm|news)[-_]\d+)[-_]\d+\.(s?html?|jsp|aspx?|php)$", re.I)
_NUMBERED_PAGE = re.compile(r"^(\d+)-\d+\.s?html?$")  # 天工: staticmores/003/003-2.html
_INDEX_NAME = re.compile(r"^(index|default|list)(_\d+)?\.(s?html?|jsp|aspx?|php)$", re.I)
_MORE = re.compile(r"更多|more|>>|》|»", re.I)
_NAV_HINT = re.compile(r"nav|menu|daohang|dh\b|lanmu", re.I)
_CRUMB_HINT = re.compile(r"position|crumb|location|dqwz|curpos|weizhi|path", re.I)
_CRUMB_TEXT = re.compile(r"^\s*(当前位置|您的位置|您现在的位置|所在位置|当前的位置)")
_UNDATED_TITLE_CHARS = 8
_MAX_ROW_LINKS = 3        # a row holds one item: its title link, maybe a tag link and an image link
_MAX_TAB_LINKS = 12       # a tab bar links each tab (and 更多); more links is a list, not a title bar
_TITLE_CHARS = 20         # a block title or tab name is short; longer text is content
_NAV_LABEL_CHARS = 12     # a menu entry or a tile is a column name, not a headline
_NAV_MIN_LINKS = 4
_TITLE_LOOKBACK = 3       # title bars sit right above their list
_CJK = re.compile(r"[\u4e00-\u9fff]")
_MOBILE_ONLY = frozenset(("mobile", "wap", "m-show", "mshow", "show-m", "visible-xs", "visible-sm", "hidden-lg",
                          "hidden-md", "d-lg-none", "d-md-none", "m-only", "phone-only"))
_DIRECTORY_HEADING = re.compile(r"友情链接|相关链接|网站链接|链接|部门网站|部门|机构|乡镇|街道|网站群|站群")
_ARTICLE_URL = re.compile(r"[/_]t20\d{6}_\d+|/art/20\d\d/|/(contents?|detail|article|art)[/_]|post_\d+|"
                          r"[?&](id|articleid|newsid|infoid)=", re.I)
_SIDE_BOX = re.compile(r"相关|推荐|热点|热门|排行|猜你|延伸|上一篇|下一篇|阅读")
_UNIT_NAME = re.compile(r"(局|委|办|委员会|办公室|政府|街道|乡|镇|中心|法院|检察院|公司|网)$")


ANSWERED = ("已回复", "已答复", "已办结", "已处理", "已反馈")
PENDING = ("未回复", "未答复", "待回复", "办理中", "处理中", "未办结", "受理中", "待处理")


@dataclass(slots=True)
class Item:
    title: str
    url: str
    date: str | None = None          # ISO date shown in the list (for messages: when submitted)
    year_inferred: bool = False
    status: str | None = None        # consultation lists: answered | pending
    reply_date: str | None = None    # consultation lists: a second date in the row


@dataclass(slots=True)
class ItemGroup:
    items: list[Item]
    heading: str | None = None
    more_url: str | None = None      # the block's 更多 link: the column this group belongs to

    @property
    def dated(self) -> int:
        return sum(1 for item in self.items if item.date)

    def to_dict(self) -> dict:
        return {"heading": self.heading, "more_url": self.more_url,
                "items": [{"title": i.title, "url": i.url, "date": i.date, "year_inferred": i.year_inferred,
                           "status": i.status, "reply_date": i.reply_date} for i in self.items]}


def _text(el) -> str:
    return " ".join(text_of(el).split())


_PENDING = re.compile("|".join(PENDING))
_ANSWERED = re.compile("|".join(ANSWERED))


def _status(text: str) -> str | None:
    if _PENDING.search(text):
        return "pending"
    if _ANSWERED.search(text):
        return "answered"
    return None


def _reply_date(text: str) -> str | None:
    shown = _FULL.finditer(text)
    if next(shown, None) is None or next(shown, None) is None:
        return None   # most rows show one date: no second one to read
    dates = find_full_dates(text)
    return dates[1].value.isoformat() if len(dates) >= 2 else None


def _item_date(container, anchor_text: str, reference: date, text: str | None = None):
    text = text_of(container) if text is None else text
    # a date printed beside the title wins over one inside it (…2021年1月1日起施行 日期：2020-12-02)
    found = _FULL.search(text.replace(anchor_text, " ") if anchor_text else text) or _FULL.search(text)
    if found:
        return parse_date(found.group(0))
    if not len(container) and container.tag not in _DATE_CELLS:
        return None   # most rows are a bare link: nothing to iterate (lxml builds a tag matcher per iter call)
    for cell in container.iter(*_DATE_CELLS):
        text = (cell.text or "").strip()
        if 3 <= len(text) <= 12:
            short = parse_date(text, reference)
            if short:
                return short
    return None


def _title_labels(el, counts: dict) -> list[str]:
    """The names a title bar shows: one (通知公告) or several for a tab bar; [] if el is not a title bar."""
    if counts.get(el, 0) > _MAX_TAB_LINKS or _is_breadcrumb(el):
        return []
    if any(_ARTICLE_URL.search(a.get("href") or "") for a in el.iter("a")):
        return []  # a headline (its link opens an article), not the block's title
    labels = []
    for piece in el.itertext():
        piece = " ".join(piece.split()).strip("·•|｜【】[]：: ")
        if not piece or _MORE.search(piece) or not _CJK.search(piece):
            continue  # 更多, English subtitles (News information), separators
        if len(piece) > _TITLE_CHARS:
            return []  # a sentence: content, not a title
        labels.append(piece)
    return labels


def _panel_index(list_parent, block, header, labels: list[str]) -> int:
    """Which tab a list is: the position of its panel among as many panels as the tab bar has names."""
    peers = [s for s in header.itersiblings() if s.tag == block.tag]
    if len(peers) == len(labels) and block in peers:
        return peers.index(block)
    el = list_parent
    while el is not None and el is not block:
        parent = el.getparent()
        peers = [s for s in parent if s.tag == el.tag] if parent is not None else []
        if len(peers) == len(labels):
            return peers.index(el)
        el = parent
    return 0


def _more_link(el, base_url: str, encoding: str) -> str | None:
    for a in el.iter("a"):
        label = _text(a)
        if a.get("href") and len(label) <= 8 and _MORE.search(label):
            return normalize(base_url, a.get("href"), encoding)
    return None


def _title_bar(parent, counts: dict):
    """(names, title bar, the ancestor of the list it sits above) for the title bar ABOVE a list (h3, div.title,
    span.tit, a tab bar), never a headline inside it. Walks up at most four levels, past sibling lists."""
    node = parent
    for _ in range(4):
        if node.getparent() is None or node.getparent().tag == "body":
            break
        for sibling in list(node.itersiblings(preceding=True))[:_TITLE_LOOKBACK]:
            if isinstance(sibling.tag, str) and sibling.tag not in ("script", "style"):
                labels = _title_labels(sibling, counts)
                if labels:
                    return labels, sibling, node
        node = node.getparent()
    return [], None, None


def _block_of(parent, counts: dict, base_url: str, encoding: str) -> tuple[str | None, str | None]:
    """Title (for a tab bar: the tab of this panel) and 更多 link of the block a list sits in."""
    labels, bar, node = _title_bar(parent, counts)
    if not labels:
        return None, None
    name = labels[_panel_index(parent, node, bar, labels)] if len(labels) > 1 else labels[0]
    more = _more_link(bar, base_url, encoding)
    after = node.getnext()
    if more is None and after is not None and counts.get(after, 0) <= 1:
        more = _more_link(after, base_url, encoding)  # 更多>> printed below the list
    return name[:40], more


def _is_mobile_copy(el) -> bool:
    """A copy of the page's content shown only on phones (it repeats the desktop lists)."""
    classes, ident = el.get("class"), el.get("id")
    if not classes and not ident:
        return False   # most elements: no tokens to read
    tokens = set((classes or "").lower().split()) | {(ident or "").lower()}
    return bool(tokens & _MOBILE_ONLY) or any(t.startswith(("mobile", "wap-")) for t in tokens)


def _counted_anchors(tree) -> tuple[list, dict]:
    """Anchors outside mobile-only copies, and how many of them each element holds (one walk per anchor).
    Computed once per page (lists and navigation both read it); callers must not change them."""
    return page_cached(("counted_anchors", tree), lambda: _count_anchors(tree))


def _count_anchors(tree) -> tuple[list, Counter]:
    counts: Counter = Counter()
    mobile: dict = {}   # element -> it or an ancestor is a mobile-only copy
    anchors = []
    for a in tree.iter("a"):
        if a.get("href") is None:
            continue
        chain = list(a.iterancestors())
        if chain and _in_mobile_copy(chain, mobile):
            continue
        anchors.append(a)
        counts[a] += 1
        counts.update(chain)
    return anchors, counts


def _in_mobile_copy(chain: list, mobile: dict) -> bool:
    """Whether any element of an anchor's ancestor chain is a mobile-only copy; known chains end the walk."""
    walked = []
    for el in chain:
        known = mobile.get(el)
        if known is not None:
            break
        walked.append(el)
        if _is_mobile_copy(el):
            known = True
            break
    else:
        known = False
    for el in walked:   # every element walked below the answer shares it
        mobile[el] = known
    return known


def _row_of(anchor, counts: dict):
    """The element that holds one list item: its <li>/<tr>/<dd>/<dt>, else the largest element around
    the link that holds no other item (a div.item, a <p>, a <dl>, a tile, or the link itself)."""
    row = anchor
    for el in anchor.iterancestors():
        if counts[el] > _MAX_ROW_LINKS or el.tag in ("body", "html"):
            break
        if el.tag in _ITEM_TAGS:
            row = el
            break
    while True:
        parent = row.getparent()
        if parent is None or parent.tag in ("body", "html") or counts[parent] != counts[row]:
            return row
        row = parent


def _title_of(anchor) -> str:
    title = anchor.get("title")
    if title and title.strip():
        return title.strip()
    heading = next(anchor.iter("h1", "h2", "h3", "h4", "h5", "h6"), None) if len(anchor) else None
    return _text(heading if heading is not None else anchor).strip()


def _row_date(row, title: str, counts: dict, reference: date, row_text: str):
    """The row's date; for a row without one, the text right after it (<dt>…</dt><dd>date</dd>, <a/> date)."""
    found = _item_date(row, title, reference, row_text)
    if found:
        return found
    after = row.getnext()
    tail = (row.tail or "").strip()
    if tail:
        return parse_date(tail[:40], reference)
    if after is not None and isinstance(after.tag, str) and not counts.get(after) and row.tag not in ("li", "tr"):
        return _item_date(after, title, reference)
    return None


def _item_of(row, anchors: list, base_url: str, encoding: str, reference: date, counts: dict, position: int):
    """One list item, titled by the row's longest link; a dated row whose link is a script call stays an item
    (its date was seen) and points at the list page itself."""
    if len(anchors) == 1:
        title, anchor = _title_of(anchors[0]), anchors[0]
    else:
        title, anchor = max(((_title_of(a), a) for a in anchors), key=lambda pair: len(pair[0]))
    if len(title) < 2:
        return None
    row_text = text_of(row)
    found = _row_date(row, title, counts, reference, row_text)
    url = normalize(base_url, anchor.get("href"), encoding)
    if url is None:
        if not found:
            return None
        url = f"{base_url.split('#')[0]}#item-{position}"
    when = found.value if found else None
    inferred = bool(found and found.year_inferred)
    if inferred:
        from_url = date_from_url(url)  # t20251110_1.html settles the year of a bare "11-10"
        if from_url and (from_url.month, from_url.day) == (when.month, when.day):
            when, inferred = from_url, False
    return Item(title=title[:200], url=url, date=when.isoformat() if when else None, year_inferred=inferred,
                status=_status(row_text), reply_date=_reply_date(row_text))


def _is_directory(items: list[Item], heading: str | None, base_url: str) -> bool:
    """An undated link list of units or other sites (部门、乡镇街道、友情链接): navigation, not a column."""
    if any(i.date for i in items):
        return False
    if heading and _DIRECTORY_HEADING.search(heading):
        return True
    host = urlsplit(base_url).netloc
    units = sum(1 for i in items if _UNIT_NAME.search(i.title))
    offsite = sum(1 for i in items if urlsplit(i.url).netloc != host)
    return 2 * max(units, offsite) >= len(items)


def _join_split_lists(by_parent: dict, counts: dict) -> dict:
    """Rows cut into several sibling <ul>/<table> of the same class, with nothing but spacing between
    (templates that close the list every five rows), are one list; under a tab bar they are its panels."""
    joined: dict = {}
    head = last = None
    for parent, items in by_parent.items():
        if last is not None and _adjacent(last, parent, counts) and len(_title_bar(head, counts)[0]) <= 1:
            joined[head].extend(items)
        else:
            joined[parent] = list(items)
            head = parent
        last = parent
    return joined


def _adjacent(previous, parent, counts: dict) -> bool:
    if previous.getparent() is not parent.getparent() or (previous.tag, previous.get("class")) != (parent.tag, parent.get("class")):
        return False
    for between in previous.itersiblings():
        if between is parent:
            return True
        if isinstance(between.tag, str) and (counts.get(between) or _text(between)):
            return False
    return False


def extract_groups(tree, base_url: str, encoding: str, reference: date, min_items: int) -> list[ItemGroup]:
    anchors, counts = _counted_anchors(tree)
    rows: dict = {}
    for anchor in anchors:
        rows.setdefault(_row_of(anchor, counts), []).append(anchor)
    by_parent: dict = {}
    for position, (row, row_anchors) in enumerate(rows.items()):
        item = _item_of(row, row_anchors, base_url, encoding, reference, counts, position)
        if item is not None:
            by_parent.setdefault(row.getparent(), []).append(item)
    groups, seen_lists = [], set()
    for parent, items in _join_split_lists(by_parent, counts).items():
        urls = frozenset(i.url for i in items)
        dated = sum(1 for i in items if i.date)
        article_like = len(items) >= min_items and sum(len(i.title) for i in items) / len(items) >= _UNDATED_TITLE_CHARS
        if not (dated or article_like) or any(urls <= seen for seen in seen_lists):
            continue  # a list repeated (hidden mobile / print copy, a teaser of the next block) is not a column
        heading, more = _block_of(parent, counts, base_url, encoding)
        if _is_directory(items, heading, base_url):
            continue
        seen_lists.add(urls)
        groups.append(ItemGroup(items=items, heading=heading, more_url=more))
    return groups


def main_lists(groups: list[ItemGroup]) -> list[ItemGroup]:
    """The lists that can make a page a list page: not an article's side boxes (相关阅读, 热点推荐, 排行)."""
    return [g for g in groups if not (g.heading and _SIDE_BOX.search(g.heading))]


def _link_label(a) -> str:
    img = next(a.iter("img"), None)
    return _text(a) or (a.get("title") or "").strip() or ((img.get("alt") or "").strip() if img is not None else "")


def _short_link_runs(tree, base_url: str, encoding: str):
    """Runs of sibling rows that each hold a short link: menu bars, and tile grids (div > div > a, icon tiles)."""
    anchors, counts = _counted_anchors(tree)
    runs: dict = {}
    for a in anchors:
        runs.setdefault(_row_of(a, counts).getparent(), []).append(a)
    for parent, members in runs.items():
        labelled = ((label, a) for a in members if 2 <= len(label := _link_label(a)) <= _NAV_LABEL_CHARS)
        links = [(label, url) for label, a in labelled if (url := normalize(base_url, a.get("href"), encoding))]
        if len(links) >= _NAV_MIN_LINKS:
            yield parent, links


def extract_nav(tree, base_url: str, encoding: str) -> list[tuple[str, str]]:
    """Navigation links: the element whose class/id says nav/menu (else the first run of short links), and
    tile grids of the site's own columns (icon entries to 信息公开, 办事服务 ...)."""
    host = urlsplit(base_url).netloc
    found = []
    for el in tree.iter("div", "ul", "nav", "table", "td"):
        hint = (el.get("class") or "") + " " + (el.get("id") or "")
        if el.tag == "nav" or _NAV_HINT.search(hint):
            links = [(_link_label(a), url) for a in el.iter("a")
                     if (url := normalize(base_url, a.get("href") or "", encoding))
                     and 1 <= len(_link_label(a)) <= _NAV_LABEL_CHARS]
            found = found or links
            if sum(1 for _, url in links if urlsplit(url).netloc == host) >= _NAV_MIN_LINKS - 1:
                found = links  # the site's own menu, not a top bar of 切换手机版 and partner sites
                break
    for parent, links in _short_link_runs(tree, base_url, encoding):
        if not found:
            found = links
        elif parent.tag not in ("ul", "ol", "tbody", "table", "tr"):
            found.extend((label, url) for label, url in links if urlsplit(url).netloc == host)
    seen, unique = set(), []
    for text, url in found:
        if url not in seen:
            seen.add(url)
            unique.append((text, url))
    return unique


def _is_breadcrumb(el, text: str | None = None) -> bool:
    hint = (el.get("class") or "") + " " + (el.get("id") or "")
    return bool(_CRUMB_HINT.search(hint) or _CRUMB_TEXT.match(_text(el) if text is None else text))


def extract_breadcrumb(tree) -> str | None:
    """The last name in 当前位置：首页 > 通知公告 (the current column)."""
    for el in tree.iter("div", "p", "span", "td", "nav", "ol", "ul"):
        text = _text(el)
        if len(text) < 120 and _is_breadcrumb(el, text):
            parts = [p.strip() for p in re.split(r"[>›»/＞]|&gt;", text) if p.strip()]
            if len(parts) >= 2:
                return parts[-1][:40]
    return None


def extract_pagination(tree, base_url: str, encoding: str, key: str) -> list[str]:
    """Links to further pages of the same list (same column key)."""
    pages = []
    for a in tree.iter("a"):
        text = _text(a)
        if text.isdigit() or text in ("下一页", "上一页", "尾页", "末页", "首页", "下页", "上页"):
            url = normalize(base_url, a.get("href") or "", encoding)
            if url and column_key(url) == key and url not in pages:
                pages.append(url)
    return pages


def column_key(url: str) -> str:
    """One key for every page of one list: strips index_N.html and paging parameters."""
    parts = urlsplit(url)
    path = parts.path
    name = posixpath.basename(path)
    folder = posixpath.basename(posixpath.dirname(path))
    paged = _PAGED_NAME.match(name)
    numbered = _NUMBERED_PAGE.match(name)
    if _INDEX_NAME.match(name) or (numbered and numbered.group(1) == folder):
        path = path[: len(path) - len(name)]  # index_2.html; 003/003-3.html
    elif paged:
        path = path[: len(path) - len(name)] + f"{paged.group(1)}.{paged.group(2)}"  # list-1001-2.html
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                       if k.lower() not in _PAGE_PARAMS])
    return urlunsplit((parts.scheme, parts.netloc, path or "/", query, ""))


# ---------------------------------------------------------------- discovery across a site

@dataclass
class Column:
    url: str
    name: str
    source: str                      # nav | home-block | list | pinned
    from_home: bool
    list_pages: list[str] = field(default_factory=list)
    item_count: int = 0
    dated_count: int = 0
    newest_date: str | None = None
    blank: bool = False
    placeholder: bool = False
    crawled: bool = True
    category: str | None = None       # only for pinned columns; otherwise the profile decides
    unverified: str | None = None     # why the list could not be read (never judged blank or stale then)
    items: list[dict] = field(default_factory=list)  # {title, url, date, date_source}

    def to_dict(self) -> dict:
        return asdict(self)


def discover_columns(home: dict | None, pages: list[dict], min_items: int,
                     pinned: list[dict] | None = None, max_items: int = 200) -> list[Column]:
    """Columns of one site from its stored page facts (dicts as PageFacts.to_dict() writes them).

    home: the home page facts; pages: every crawled HTML page; pinned: [{url, category, name}] from
    units.yaml, which override discovery for their URL.
    """
    by_key: dict[str, list[dict]] = {}
    article_dates: dict[str, str] = {}
    for page in pages:
        # a data response (Hanweb dataproxy, a JSON endpoint) belongs to the list page that named it
        by_key.setdefault(column_key(page.get("list_of") or page["url"]), []).append(page)
        if page.get("article_date"):
            article_dates[page["url"]] = page["article_date"]

    candidates: dict[str, tuple[str, str, bool]] = {}  # key -> (name, source, from_home)
    home_key = column_key(home["url"]) if home else None
    if home:
        for text, url in home.get("nav", []):
            key = column_key(url)
            if key != home_key and key in by_key and text not in ("首页", "网站首页", "返回首页"):
                candidates.setdefault(key, (text, "nav", True))
        for group in home.get("groups", []):
            if group.get("more_url"):
                key = column_key(group["more_url"])
                if key != home_key and key in by_key:
                    candidates.setdefault(key, (group.get("heading") or "", "home-block", True))
    for key, key_pages in by_key.items():
        if key == home_key or key in candidates:
            continue
        if any(_list_size(p) >= min_items for p in key_pages):
            candidates[key] = ("", "list", False)

    pinned_by_key = {column_key(p["url"]): p for p in pinned or []}
    for key, spec in pinned_by_key.items():
        candidates[key] = (spec.get("name") or "", "pinned", candidates.get(key, ("", "", False))[2])

    columns = []
    for key, (name, source, from_home) in candidates.items():
        key_pages = by_key.get(key, [])
        column = _build(key, name, source, from_home, key_pages, article_dates, max_items)
        if key in pinned_by_key:
            column.category = pinned_by_key[key]["category"]
        columns.append(column)
    return columns


def _list_size(page: dict) -> int:
    return max((len(g["items"]) for g in page.get("groups", []) if _dated(g)), default=0)


def _dated(group: dict) -> int:
    return sum(1 for item in group["items"] if item.get("date"))


def _build(key, name, source, from_home, key_pages, article_dates, max_items) -> Column:
    first = min(key_pages, key=lambda p: (p.get("depth", 0), len(p["url"]))) if key_pages else None
    name = name or (first and (first.get("column_name") or first.get("title"))) or key
    column = Column(url=first["url"] if first else key, name=name, source=source, from_home=from_home,
                    list_pages=[p["url"] for p in key_pages], crawled=bool(key_pages))
    seen: dict[str, dict] = {}
    for page in key_pages:
        for group in page.get("groups", []):
            for item in group["items"]:
                if item["url"] in seen or item["url"] == page["url"]:
                    continue
                when, origin = item.get("date"), "list"
                if not when and item["url"] in article_dates:
                    when, origin = article_dates[item["url"]], "article"
                if not when:
                    from_url = date_from_url(item["url"])
                    when, origin = (from_url.isoformat(), "url") if from_url else (None, None)
                seen[item["url"]] = {"title": item["title"], "url": item["url"], "date": when, "date_source": origin,
                                     "status": item.get("status"), "reply_date": item.get("reply_date")}
        column.placeholder = column.placeholder or bool(page.get("placeholder"))
    items = sorted(seen.values(), key=lambda i: i["date"] or "", reverse=True)
    column.item_count = len(items)
    column.dated_count = sum(1 for i in items if i["date"])
    column.newest_date = items[0]["date"] if items and items[0]["date"] else None
    column.items = items[:max_items]
    if column.item_count == 0:
        column.unverified = _unread_reason(key_pages)
    thin = bool(first) and all(p.get("content_chars", 0) < 40 for p in key_pages)
    column.blank = (column.crawled and column.item_count == 0 and not column.unverified
                    and (column.placeholder or thin))
    return column


def _unread_reason(key_pages: list[dict]) -> str | None:
    """Why a column with no items read could not be verified: a list the extractor saw but could not read."""
    for page in key_pages:
        if page.get("app_shell"):
            return "页面由脚本生成（单页应用），内容未能读取"
        for entry in page.get("unread") or []:
            return entry.get("reason") or "列表未能读取"
    return None
