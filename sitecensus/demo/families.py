"""Sample sites whose lists live in CMS scripts, in the shapes real district sites use
(crawler/families reads them): Hanweb JCMS jpage, TRS createPageHTML, JSON lists, document.write.

A SiteSpec with `cms` set is built here; everything else (articles, head, footer) is the ordinary
sample site's. Broken links sit where only a family reader finds them (a dataproxy group, a page
only the pager script names)."""
from __future__ import annotations

import json
from datetime import date
from html import escape

from sitecensus.demo.server import Reply
from sitecensus.demo.sites import ColumnSpec, _Writer

PROXY = "/module/web/jpage/dataproxy.jsp"
PER_PAGE, GROUP = 15, 3
_XML = "text/xml; charset=UTF-8"


class _FamilyWriter(_Writer):
    def broken(self) -> None:
        """The broken links of these sites sit inside their script lists (see broken_item)."""

    def broken_item(self, column: ColumnSpec, items: list, position: int) -> None:
        """A row whose article is gone (404), placed where only the family reader reaches it."""
        if items:
            _, _, day = items[min(position, len(items) - 1)]
            items.insert(min(position, len(items)), ("已删除的文章", f"/{column.path}/gone_{self.next_id}.html", day))

    def list_page(self, column: ColumnSpec, body: str, extra_head: str = "") -> str:
        return (self.head(f"{column.name}_{self.spec.site_name}", column.name) + extra_head + self.nav() +
                f'<div class="position">当前位置：<a href="/">首页</a> &gt; <a href="/{column.path}/">{escape(column.name)}</a></div>'
                f'<div class="column"><h2>{escape(column.name)}</h2>{body}</div>' + self.footer())

    @staticmethod
    def rows(items) -> str:
        return "".join(f'<li><a href="{p}" title="{escape(t)}" target="_blank">{escape(t)}</a><span>{d:%Y-%m-%d}</span></li>'
                       for t, p, d in items)


class HanwebWriter(_FamilyWriter):
    """大汉 JCMS: /col/colN/index.html carries the first 45 records in a <datastore>; jpage asks
    dataproxy.jsp for the rest, by POST with the page's ajaxParam form, or (columns whose index is
    2 mod 3) by GET with the parameters of the <nextgroup> link."""

    UNIT = "4567"

    def __init__(self, *args):
        super().__init__(*args)
        self.records: dict[str, list[str]] = {}
        self.files.handlers[PROXY] = self.dataproxy

    def item_path(self, column: ColumnSpec, day: date) -> str:
        self.next_id += 1
        return f"/art/{day.year}/{day.month}/{day.day}/art_{column_id(column)}_{self.next_id}.html"

    def column(self, column: ColumnSpec) -> list[tuple[str, str, date]]:
        items = self.items_of(column)
        shown = list(items)
        if self.spec.broken_links and len(shown) > PER_PAGE * GROUP:
            self.broken_item(column, shown, PER_PAGE * GROUP + 3)   # in the second group: dataproxy only
        cid = column_id(column)
        records = [f'<li><a href="{p}" title="{escape(t)}" target="_blank">{escape(t)}</a><span>{d:%Y-%m-%d}</span></li>'
                   for t, p, d in shown]
        self.records[cid] = records
        by_get = self.spec.columns.index(column) % 3 == 2
        params = f"appid=1&webid=1&path=/&columnid={cid}&unitid={self.UNIT}&webname=demo&permissiontype=0"
        embedded = "".join(f"<record><![CDATA[{r}]]></record>" for r in records[:PER_PAGE * GROUP])
        store = (f'<div id="{self.UNIT}"><script type="text/xml"><datastore><nextgroup><![CDATA[<a href="{PROXY}?page=1&{params}">'
                 f'</a>]]></nextgroup><recordset>{embedded}</recordset></datastore></script></div>')
        form = ("" if by_get else f"ajaxParam: {{col: 1, appid: 1, webid: 1, path: '/', columnid: {cid}, sourceContentType: 1, "
                                  f"unitid: '{self.UNIT}', webname: 'demo', permissiontype: 0}},")
        call = ('<script language="javascript" src="/module/jslib/jquery/jpage/jquery.page.min.js"></script>'
                f"<script type=\"text/javascript\">$(document).ready(function(){{ $('#{self.UNIT}').jpage({{"
                f"dataBefore: '<ul class=\"list\">', dataAfter: '</ul>', perPage: {PER_PAGE}, groupSize: {GROUP}, "
                f"totalRecord: {len(records)}, proxyUrl: '{PROXY}', {form} barPosition: 'bottom'}}); }});</script>")
        self.files.pages["/module/jslib/jquery/jpage/jquery.page.min.js"] = Reply(200, b"/* jpage */", "application/javascript")
        html = self.list_page(column, store + call)
        self.put(f"/{column.path}/index.html", html)
        self.put(f"/{column.path}/", html)
        return items

    def dataproxy(self, method: str, query: dict, form: dict) -> Reply:
        """Records startrecord..endrecord of the column named by columnid and unitid (POSTed or in the query)."""
        params = {**query, **form}
        records = self.records.get(params.get("columnid", ""))
        if records is None or params.get("unitid") != self.UNIT:
            body = "<datastore><totalrecord>0</totalrecord><recordset></recordset></datastore>"
            return Reply(200, ('<?xml version="1.0" encoding="UTF-8"?>' + body).encode(), _XML)
        start, end = int(query.get("startrecord", 1)), int(query.get("endrecord", PER_PAGE * GROUP))
        chunk = "".join(f"<record><![CDATA[{r}]]></record>" for r in records[start - 1:end])
        body = (f'<?xml version="1.0" encoding="UTF-8"?><datastore><totalrecord>{len(records)}</totalrecord>'
                f'<totalpage>{-(-len(records) // PER_PAGE)}</totalpage><recordset>{chunk}</recordset></datastore>')
        return Reply(200, body.encode(), _XML)


def column_id(column: ColumnSpec) -> str:
    return column.path.rsplit("col", 1)[-1] if "/col" in column.path else str(abs(hash(column.path)) % 10000)


class TrsWriter(_FamilyWriter):
    """TRS WCM: 10 rows per list page, the pager written by createPageHTML only (no page links).
    Column 0: createPageHTML(n, i, "index", "html"); column 1: the same with variables; column 2:
    the container variant createPageHTML('page_div', n, i+1, 'index', 'html', total), pages index_2 …"""

    def column(self, column: ColumnSpec) -> list[tuple[str, str, date]]:
        items = self.items_of(column)
        shown = list(items)
        if self.spec.broken_links and len(shown) > 20:
            self.broken_item(column, shown, 25)   # on the third page, linked from nowhere else
        pages = [shown[i:i + 10] for i in range(0, len(shown), 10)] or [[]]
        variant = self.spec.columns.index(column) % 3
        for number, chunk in enumerate(pages):
            if variant == 2:
                pager = f"createPageHTML('page_div', {len(pages)}, {number + 1}, 'index', 'html', {len(shown)});"
                name = "index.html" if number == 0 else f"index_{number + 1}.html"
            elif variant == 1:
                pager = (f"var countPage = {len(pages)}//共多少页\nvar currentPage = {number};//当前页\n"
                         'createPageHTML(countPage, currentPage, "index", "html");')
                name = "index.html" if number == 0 else f"index_{number}.html"
            else:
                pager = f'createPageHTML({len(pages)}, {number}, "index", "html");'
                name = "index.html" if number == 0 else f"index_{number}.html"
            body = f'<ul class="list">{self.rows(chunk)}</ul><div id="page_div" class="page"><script>{pager}</script></div>'
            html = self.list_page(column, body, '<script src="/js/page.js"></script>')
            self.put(f"/{column.path}/{name}", html)
            if number == 0:
                self.put(f"/{column.path}/", html)
        self.files.pages["/js/page.js"] = Reply(200, b"function createPageHTML(){}", "application/javascript")
        return items


class JsonWriter(_FamilyWriter):
    """Lists kept as JSON. Column 0: an array in a script variable; column 1: $.getJSON of an API
    answering {"code":0,"data":{"list":[…]}}; column 2: fetch() of a .json file."""

    def column(self, column: ColumnSpec) -> list[tuple[str, str, date]]:
        items = self.items_of(column)
        shown = list(items)
        if self.spec.broken_links:
            self.broken_item(column, shown, 2)
        rows = [{"title": t, "url": p, "date": f"{d:%Y-%m-%d}", "source": self.spec.unit} for t, p, d in shown]
        variant = self.spec.columns.index(column) % 3
        render = ("function show(rows){var h='';rows.forEach(function(r){h+='<li><a href=\"'+r.url+'\">'+r.title+"
                  "'</a><span>'+r.date+'</span></li>';});document.getElementById('list').innerHTML=h;}")
        if variant == 0:
            script = f"var listData = {json.dumps(rows, ensure_ascii=False)};\n{render}\nshow(listData);"
        elif variant == 1:
            api = f"/api/list?channel={self.spec.columns.index(column) + 10}&page=1"
            self.files.pages[api] = Reply(200, json.dumps({"code": 0, "data": {"total": len(rows), "list": rows}},
                                                          ensure_ascii=False).encode(), "application/json")
            script = f'{render}\n$.getJSON("{api}", function (d) {{ show(d.data.list); }});'
        else:
            data = f"/data/{column.path.replace('/', '_')}.json"
            self.files.pages[data] = Reply(200, json.dumps(rows, ensure_ascii=False).encode(), "application/json")
            script = f"{render}\nfetch('{data}').then(function (r) {{ return r.json(); }}).then(show);"
        html = self.list_page(column, f'<ul id="list" class="list"></ul><script>{script}</script>')
        self.put(f"/{column.path}/index.html", html)
        self.put(f"/{column.path}/", html)
        return items


class DocWriteWriter(_FamilyWriter):
    """Blocks written by included scripts: each list page and each home block is
    <div class="bd"><script src="/js/….js"></script></div>, the script document.write()s the rows."""

    def script(self, name: str, items) -> str:
        lines = ["document.write('<ul class=\"list\">');"]
        lines += [f"document.write('<li><a href=\"{p}\" title=\"{escape(t)}\">{escape(t)}</a>' +\n  '<span>{d:%Y-%m-%d}</span></li>');"
                  for t, p, d in items]
        lines.append("document.write('</ul>');")
        path = f"/js/{name}.js"
        self.files.pages[path] = Reply(200, "\n".join(lines).encode(), "application/javascript; charset=utf-8")
        return f'<script type="text/javascript" src="{path}"></script>'

    def column(self, column: ColumnSpec) -> list[tuple[str, str, date]]:
        items = self.items_of(column)
        shown = list(items)
        if self.spec.broken_links:
            self.broken_item(column, shown, 2)
        html = self.list_page(column, f'<div class="bd">{self.script(column.path.replace("/", "_"), shown)}</div>')
        self.put(f"/{column.path}/index.html", html)
        self.put(f"/{column.path}/", html)
        return items

    def home(self, blocks) -> None:
        parts = [self.head(self.spec.site_name), self.nav()]
        for number, (column, items) in enumerate(blocks):
            parts.append(f'<div class="block"><div class="hd"><h3>{escape(column.name)}</h3>'
                         f'<a class="more" href="/{column.path}/">更多&gt;&gt;</a></div>'
                         f'<div class="bd">{self.script(f"home_{number}", items)}</div></div>')
        parts.append(self.footer())
        self.put("/", "".join(parts))
        self.put("/index.html", "".join(parts))


WRITERS = {"hanweb": HanwebWriter, "trs": TrsWriter, "json": JsonWriter, "docwrite": DocWriteWriter}
