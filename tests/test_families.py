"""CMS families read statically (crawler/families): sites in the real shapes of Hanweb JCMS (jpage
datastore + dataproxy.jsp by POST and GET), TRS WCM (createPageHTML pages linked nowhere else), JSON
lists (script variable, $.getJSON API, fetch of a .json file) and document.write blocks, served on
127.0.0.1 and scanned through the `sitecensus` command; then the same sites with the readers
switched off, whose columns must be "could not verify", never blank or stale."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import yaml
from sqlalchemy import select

from conftest import run_cli
from crawler.families import Page, docwrite, hanweb, jsonlist, read_page, trs
from sitecensus.demo import serve_demo_sites, write_demo_config
from sitecensus.demo.sites import ColumnSpec, SiteSpec, _fresh, hanweb_columns, trs_columns
from sitecensus.store import Column, Fetch, Site, open_store


def family_specs() -> list[SiteSpec]:
    small = [ColumnSpec("工作动态", "xwdt", _fresh(0, 1, 8)), ColumnSpec("通知公告", "tzgg", _fresh(200, 5, 6))]
    return [SiteSpec("hanweb", "新碶街道", "宁波市北仑区新碶街道办事处", hanweb_columns(), cms="hanweb", broken_links=True),
            SiteSpec("trs", "区投资合作局", "宁波市北仑区投资合作局", trs_columns(), cms="trs", broken_links=True),
            SiteSpec("json", "小港街道", "宁波市北仑区小港街道办事处", small + [ColumnSpec("政策文件", "zcwj", _fresh(1, 9, 5))],
                     cms="json", broken_links=True),
            SiteSpec("docwrite", "大碶街道", "宁波市北仑区大碶街道办事处", small + [ColumnSpec("统计数据", "tjsj")],
                     cms="docwrite", broken_links=True)]


class Scan:
    def __init__(self, urls, config, document, as_of):
        self.urls, self.config, self.document, self.today = urls, config, document, as_of.date()
        settings = yaml.safe_load((config / "settings.yaml").read_text(encoding="utf-8"))
        self.sessions = open_store(settings["store_url"])

    def site(self, key: str) -> dict:
        return next(s for s in self.document["sites"] if s["url"] == self.urls[key])

    def columns(self, key: str) -> dict[str, dict]:
        with self.sessions() as session:
            site_id = session.scalar(select(Site.id).where(Site.url == self.urls[key]))
            return {c.name: c.data for c in session.scalars(select(Column).where(Column.site_id == site_id))}

    def fetches(self, key: str, fragment: str) -> list[Fetch]:
        with self.sessions() as session:
            return session.scalars(select(Fetch).where(Fetch.url.startswith(self.urls[key]),
                                                       Fetch.url.contains(fragment))).all()

    def findings(self, key: str, code: str) -> list[dict]:
        return [f for f in self.site(key)["findings"] if f["code"] == code]

    def evidence_urls(self, key: str, code: str) -> set[str]:
        return {e["url"].removeprefix(self.urls[key].rstrip("/")) for f in self.findings(key, code) for e in f["evidence"]}

    def day(self, age: int) -> str:
        return (self.today - timedelta(days=age)).isoformat()


def _scan(tmp_path_factory, name: str, families: list[str] | None) -> Scan:
    base = tmp_path_factory.mktemp(name)
    as_of = datetime.now(ZoneInfo("Asia/Shanghai")).replace(second=0, microsecond=0)
    specs = family_specs()
    with serve_demo_sites(as_of.date(), specs) as urls:
        config = write_demo_config(base / "config", urls, as_of.date(), base / "out", specs)
        settings = yaml.safe_load((config / "settings.yaml").read_text(encoding="utf-8"))
        settings["crawl"]["render"] = {**settings["crawl"].get("render", {}), "enabled": False}  # static readers only
        if families is not None:
            settings["crawl"]["families"] = families
        (config / "settings.yaml").write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
        result = run_cli("scan", "--json", "--as-of", as_of.strftime("%Y-%m-%dT%H:%M"), config=config)
        assert result.returncode == 0, result.stderr
        return Scan(urls, config, json.loads(result.stdout), as_of)


@pytest.fixture(scope="module")
def read_on(tmp_path_factory) -> Scan:
    return _scan(tmp_path_factory, "families-on", None)


@pytest.fixture(scope="module")
def read_off(tmp_path_factory) -> Scan:
    return _scan(tmp_path_factory, "families-off", [])


def _facts(columns: dict, name: str) -> tuple:
    c = columns[name]
    return c["item_count"], c["newest_date"], c["blank"], c["unverified"]


# ---------------------------------------------------------------- readers switched on (the default)

def test_hanweb_records_embedded_and_from_dataproxy_by_post_and_get(read_on):
    columns = read_on.columns("hanweb")
    # 45 records embedded in the <datastore>, the rest (and a dead row) only from dataproxy.jsp
    assert _facts(columns, "工作动态") == (51, read_on.day(0), False, None)
    assert _facts(columns, "通知公告") == (12, read_on.day(2), False, None)
    assert _facts(columns, "政策文件") == (49, read_on.day(200), False, None)   # the GET column
    assert _facts(columns, "统计数据") == (0, None, True, None)                 # a jpage list with no records
    posted = read_on.fetches("hanweb", "dataproxy.jsp")
    assert {f.method for f in posted} == {"POST", "GET"}
    assert any("columnid=1231" in f.url and f.method == "GET" for f in posted)


def test_hanweb_findings(read_on):
    assert read_on.evidence_urls("hanweb", "D4") == {"/col/col1231/", "/col/col1232/"}
    broken = read_on.evidence_urls("hanweb", "D2")
    # both dead records sit in the second group of their list: only dataproxy.jsp shows them
    assert sorted(u.rsplit("/", 1)[0] for u in broken if "gone_" in u) == ["/col/col1229", "/col/col1231"]
    assert not read_on.findings("hanweb", "V3")


def test_trs_pages_only_the_pager_script_names(read_on):
    columns = read_on.columns("trs")
    assert _facts(columns, "工作动态") == (29, read_on.day(0), False, None)
    assert _facts(columns, "通知公告") == (26, read_on.day(200), False, None)
    assert _facts(columns, "政策文件") == (25, read_on.day(3), False, None)
    assert _facts(columns, "专题专栏") == (0, None, True, None)
    for path in ("/xwdt/gzdt/index_2.html", "/tzgg/index_2.html", "/zwgk/zcwj/index_3.html"):
        assert [f.status for f in read_on.fetches("trs", path)] == [200], path
    assert not read_on.fetches("trs", "/zwgk/zcwj/index_1.html")   # the container variant counts from 1
    broken = {u for u in read_on.evidence_urls("trs", "D2") if "gone_" in u}
    assert len(broken) == 3 and all(u.split("/gone_")[0] in ("/xwdt/gzdt", "/tzgg", "/zwgk/zcwj") for u in broken)
    assert read_on.evidence_urls("trs", "D4") == {"/tzgg/", "/ztzl/"}


def test_json_lists_from_variables_and_endpoints(read_on):
    columns = read_on.columns("json")
    assert _facts(columns, "工作动态") == (9, read_on.day(0), False, None)     # var listData = [...]
    assert _facts(columns, "通知公告") == (7, read_on.day(200), False, None)   # $.getJSON API
    assert _facts(columns, "政策文件") == (6, read_on.day(1), False, None)     # fetch('/data/….json')
    assert sum("gone_" in u for u in read_on.evidence_urls("json", "D2")) == 3
    assert read_on.evidence_urls("json", "D4") == {"/tzgg/"}


def test_document_write_blocks_are_part_of_the_page(read_on):
    columns = read_on.columns("docwrite")
    assert _facts(columns, "工作动态") == (9, read_on.day(0), False, None)
    assert _facts(columns, "通知公告") == (7, read_on.day(200), False, None)
    assert _facts(columns, "统计数据") == (0, None, True, None)
    assert sum("gone_" in u for u in read_on.evidence_urls("docwrite", "D2")) == 2
    assert read_on.evidence_urls("docwrite", "D4") == {"/tzgg/", "/tjsj/"}
    assert not read_on.findings("docwrite", "V2")   # the home blocks were read: fresh items on the home page
    assert read_on.site("docwrite")["verdict"] == "合格"


# ---------------------------------------------------------------- readers switched off

@pytest.mark.parametrize("key,reason", [("hanweb", hanweb.UNREAD), ("json", jsonlist.UNREAD),
                                        ("docwrite", docwrite.UNREAD)])
def test_switched_off_lists_are_unverified_never_blank_or_stale(read_off, key, reason):
    columns = read_off.columns(key)
    assert columns
    for name, column in columns.items():
        assert (column["item_count"], column["blank"], column["unverified"]) == (0, False, reason), name
    judged = {u for f in read_off.findings(key, "D4") for u in [e["url"] for e in f["evidence"]]}
    assert not judged and not read_off.findings(key, "V3")
    assert not any("gone_" in u for u in read_off.evidence_urls(key, "D2"))   # the records were not read
    # the judgement lists every such column as 无法核实 with the reason (sheet, JSON), never as a problem
    listed = {u["url"] for u in read_off.site(key)["unverified"] if u["reason"] == reason}
    assert {column["url"] for column in columns.values()} <= listed


def test_switched_off_lists_show_on_the_sheets_as_could_not_verify(read_off):
    sheets = "\n".join(p.read_text(encoding="utf-8") for p in (read_off.config.parent / "out" / "sheets").glob("*.html"))
    assert "无法核实的项目" in sheets and hanweb.UNREAD in sheets and "无法核实：" + jsonlist.UNREAD in sheets


def test_switched_off_trs_reads_the_first_page_only(read_off):
    columns = read_off.columns("trs")
    assert _facts(columns, "工作动态") == (10, read_off.day(0), False, None)
    assert columns["专题专栏"]["unverified"] == trs.UNREAD and not columns["专题专栏"]["blank"]
    assert not read_off.fetches("trs", "index_1.html")


# ---------------------------------------------------------------- readers on single pages (no crawl)

def _page(html: str, url: str = "http://127.0.0.1/col/col1/index.html") -> Page:
    return Page(url, html.encode("utf-8"), "text/html; charset=utf-8", date(2025, 11, 20))


@pytest.mark.parametrize("script,expected", [
    ('createPageHTML(4, 0, "index", "html");', ["index_1.html", "index_2.html", "index_3.html"]),
    ('var countPage = 3//共多少页\nvar currentPage = 0;\ncreatePageHTML(countPage, currentPage, "index", "html");',
     ["index_1.html", "index_2.html"]),
    ("createPageHTML('page_div', 3, 1, 'list', 'shtml', 40);", ["list_2.shtml", "list_3.shtml"]),
    ('createPageHTML(1, 0, "index", "html");', []),
])
def test_trs_pager_variants(script, expected):
    reading = trs.read(_page(f"<html><body><ul></ul><script>{script}</script></body></html>",
                             "http://127.0.0.1/tzgg/index.html"))
    assert [r.url.rsplit("/", 1)[1] for r in reading.requests] == expected


def test_hanweb_reader_names_the_next_group_and_its_form():
    records = "".join(f'<record><![CDATA[<li><a href="/art/2025/11/{d}/art_1_{d}.html">标题{d}号通知公告</a>'
                      f'<span>2025-11-{d:02d}</span></li>]]></record>' for d in range(1, 4))
    html = (f'<div id="9"><script type="text/xml"><datastore><recordset>{records}</recordset></datastore></script></div>'
            "<script>$('#9').jpage({perPage: 2, groupSize: 1, totalRecord: 9, proxyUrl: '/module/web/jpage/dataproxy.jsp',"
            " ajaxParam: {columnid: 1, unitid: '9', path: '/'}});</script>")
    reading = hanweb.read(_page(html))
    assert [i.date for g in reading.groups for i in g.items] == ["2025-11-01", "2025-11-02", "2025-11-03"]
    (request,) = reading.requests
    assert request.method == "POST" and request.form == {"columnid": "1", "unitid": "9", "path": "/"}
    assert request.url.endswith("/module/web/jpage/dataproxy.jsp?startrecord=4&endrecord=5&perpage=2")


def test_document_write_literals_only():
    script = ("document.write('<li><a href=\"/a.html\">甲</a>' +\n \"<span>2025-11-03</span></li>\");"
              "document.write('<li>' + title + '</li>');")
    assert docwrite.written_html(script.encode()) == '<li><a href="/a.html">甲</a><span>2025-11-03</span></li>'


def test_switched_off_family_leaves_a_reason_and_reads_nothing():
    page = _page('<html><body><script>createPageHTML(3, 0, "index", "html");</script></body></html>')
    readings, unread = read_page(page, enabled=set())
    assert readings == [] and unread == [{"reason": trs.UNREAD, "family": "trs"}]
