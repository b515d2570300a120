"""A real browser only where it is needed (crawler/render.py): pages built by script are rendered by
Debian's Chromium through scrapy-playwright, within a per-site budget; without it they are "could not
verify", never blank; static pages never start the browser. Every site here is served on 127.0.0.1."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from sqlalchemy import select

from crawler.extract.page import ExtractOptions, analyse_page
from crawler.render import host_resolver_rules, needs_browser, script_built
from sitecensus.demo import serve_demo_sites, write_demo_config
from sitecensus.demo.server import DemoServer, Reply, SiteFiles
from sitecensus.demo.sites import SiteSpec, demo_specs
from sitecensus.store import Column, Page, Site, open_store
from tests.conftest import run_cli

CHROMIUM = Path("/usr/bin/chromium")
needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium 未安装（CI 的 .ci/run 会安装）")

# ------------------------------------------------------------------ the cheap test, on pages we wrote

APP_SHELL = ('<!DOCTYPE html><html><head><meta charset="utf-8"><title>x</title>'
             '<link href="/css/app.css" rel="stylesheet"></head><body><noscript>请启用 JavaScript</noscript>'
             '<div id="app"></div><script src="/js/chunk-vendors.js"></script><script src="/js/app.js"></script>'
             '</body></html>').encode()
REACT_ROOT = b"<html><body><DIV ID='root'></DIV><script type=module src=/assets/index.js></script></body></html>"
XHR_LIST = ("<html><head><meta charset='utf-8'><title>通知公告</title></head><body><div class='nav'><a href='/'>首页</a></div>"
            "<div class='main'><h2>通知公告</h2><ul class='news_list' id='newsList'>\n  <!-- 由脚本填充 -->\n</ul></div>"
            "<script>$.ajax({url: '/api/list', success: function (d) { /* ... */ }});</script></body></html>").encode()
STATIC_LIST = ("<html><head><meta charset='utf-8'><title>通知公告</title></head><body><ul class='list'>"
               + "".join(f"<li><a href='/a{i}.html'>关于开展第{i}项工作的通知</a><span>2026-0{i}-01</span></li>" for i in range(1, 6))
               + "</ul><script src='/js/jquery.js'></script><script>$('.x').load('/x');</script></body></html>").encode()
EMPTY_MENU = ("<html><body><ul class='sub-nav-list'></ul><div id='app-banner'>banner</div>"
              "<script>fetch('/api/menu')</script><p>正文</p></body></html>").encode()
WIDGET_ON_FULL_PAGE = ("<html><head><meta charset='utf-8'></head><body><div id='app'></div><script src='/w.js'></script>"
                       "<div class='article'><h1>标题</h1><div class='info'>发布时间：2026-05-01</div><p>"
                       + "正文内容。" * 80 + "</p></div></body></html>").encode()


@pytest.mark.parametrize("body, shape", [
    (APP_SHELL, "app_shell"), (REACT_ROOT, "app_shell"), (XHR_LIST, "script_list"),
    (STATIC_LIST, None), (EMPTY_MENU, None), (b"<html><body><ul id='list'></ul></body></html>", None),
])
def test_cheap_test_finds_script_built_pages(body, shape):
    assert script_built(body) == shape


def _facts(body: bytes, url: str = "http://127.0.0.1/x.html"):
    return analyse_page(url, body, "text/html", date(2026, 6, 1), ExtractOptions())


def test_static_content_overrules_the_cheap_test():
    """A widget mount on a page whose content is there, or a family reader that claimed the page: no browser."""
    assert script_built(WIDGET_ON_FULL_PAGE) == "app_shell"
    assert needs_browser(WIDGET_ON_FULL_PAGE, _facts(WIDGET_ON_FULL_PAGE)) is None
    assert needs_browser(APP_SHELL, _facts(APP_SHELL)) == "app_shell"
    claimed = _facts(XHR_LIST)
    assert needs_browser(XHR_LIST, claimed) == "script_list"
    claimed.family = "jsonlist"
    assert needs_browser(XHR_LIST, claimed) is None


def test_chromium_resolves_names_like_the_crawler():
    assert host_resolver_rules({}, False) is None
    rules = host_resolver_rules({"www.example.gov.cn": "127.0.0.1"}, True)
    assert rules.startswith("MAP www.example.gov.cn 127.0.0.1, MAP * ~NOTFOUND") and "EXCLUDE 127.0.0.1" in rules


# ------------------------------------------------------------------ scans over loopback, with Chromium

SITE_NAME = "宁波市北仑区公共资源交易中心"
LIST_UNIT = "区公共资源交易中心（招投标中心）"


def ajax_list_site(today: date, lists: int) -> SiteFiles:
    """A static home page (nav + one dated block) whose column pages are frames with an empty
    `<ul id="list">` that an XMLHttpRequest fills from a JSON endpoint (column k: newest item k*3 days old)."""
    pages: dict[str, Reply] = {}
    footer = '<div class="footer">主办单位：宁波市北仑区公共资源交易中心　网站标识码：3302060099　浙ICP备05012345号-9</div>'
    nav = "".join(f'<li><a href="/col{k}/index.html">栏目{k}</a></li>' for k in range(lists))
    head = f'<html><head><meta charset="utf-8"><title>{{}}</title></head><body><div class="nav"><ul><li><a href="/">首页</a></li>{nav}</ul></div>'
    news = "".join(f'<li><a href="/news/{i}.html">交易公告第{i}号</a><span>{today - timedelta(days=i):%Y-%m-%d}</span></li>'
                   for i in range(5))
    pages["/"] = Reply(200, (head.format(SITE_NAME) + f'<div class="block"><h3>交易公告</h3><ul>{news}</ul></div>'
                             + footer + "</body></html>").encode())
    for i in range(5):
        pages[f"/news/{i}.html"] = Reply(200, (head.format("交易公告") + f'<div class="article"><h1>交易公告第{i}号</h1>'
                                               f'<div class="info">发布时间：{today - timedelta(days=i):%Y-%m-%d}</div>'
                                               f'<p>{"公告正文。" * 30}</p></div>{footer}</body></html>').encode())
    for k in range(lists):
        rows = [{"title": f"栏目{k}的第{j}条信息", "url": f"/col{k}/art{j}.html",
                 "date": f"{today - timedelta(days=k * 3 + j * 7):%Y-%m-%d}"} for j in range(6)]
        pages[f"/api/col{k}.json"] = Reply(200, json.dumps(rows, ensure_ascii=False).encode(), "application/json")
        script = ("<script>var x = new XMLHttpRequest(); x.open('GET', '/api/col%d.json'); x.onload = function () {"
                  " JSON.parse(x.responseText).forEach(function (r) { var li = document.createElement('li');"
                  " li.innerHTML = '<a href=\"' + r.url + '\">' + r.title + '</a><span>' + r.date + '</span>';"
                  " document.getElementById('list').appendChild(li); }); }; x.send();</script>") % k
        pages[f"/col{k}/index.html"] = Reply(200, (head.format(f"栏目{k}") + f'<div class="main"><h2>栏目{k}</h2>'
                                                   f'<ul id="list" class="list"></ul></div>{script}{footer}</body></html>').encode())
    return SiteFiles(pages=pages, fallback=Reply(200, f"<html><body>{'正文' * 40}</body></html>".encode()))


def _scan(tmp: Path, keys: list[str], *, render: dict, lists: int = 0) -> dict:
    """Serve the chosen demo sites (and the XHR-list site when `lists`), scan them with `crawl.render`."""
    as_of = datetime.now(ZoneInfo("Asia/Shanghai")).replace(second=0, microsecond=0)
    specs = [s for s in demo_specs() if s.key in keys]
    extra = DemoServer() if lists else None
    try:
        with serve_demo_sites(as_of.date(), specs) as urls:
            if extra:
                extra.serve(ajax_list_site(as_of.date(), lists))
                urls = {**urls, "ajax": extra.base_url}
                specs = specs + [SiteSpec("ajax", LIST_UNIT, SITE_NAME, [])]
            config = write_demo_config(tmp / "config", urls, as_of.date(), tmp / "out", specs)
            settings = yaml.safe_load((config / "settings.yaml").read_text(encoding="utf-8"))
            settings["crawl"]["render"].update(render)
            settings["probes"].update(per_scan=1)
            (config / "settings.yaml").write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
            result = run_cli("scan", "--json", "--as-of", as_of.strftime("%Y-%m-%dT%H:%M"), config=config)
    finally:
        if extra:
            extra.close()
    assert result.returncode in (0, 1), result.stderr
    logs = [p.read_text(encoding="utf-8", errors="replace") for p in (tmp / "out" / "logs").glob("scan-*.log")]
    return {"urls": urls, "document": json.loads(result.stdout), "sessions": open_store(settings["store_url"]),
            "log": "".join(logs), "logs": logs, "as_of": as_of, "stderr": result.stderr}


def _site_rows(scan: dict, key: str):
    with scan["sessions"]() as session:
        site = session.scalar(select(Site).where(Site.url == scan["urls"][key]))
        pages = {p.url: p.facts for p in session.scalars(select(Page).where(Page.site_id == site.id))}
        columns = {c.url: c.data for c in session.scalars(select(Column).where(Column.site_id == site.id))}
    return pages, columns


def _stats(scan: dict, key: str) -> dict:
    return next(s for s in scan["document"]["sites"] if s["url"] == scan["urls"][key])["stats"]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """Rendering on, 4 pages per site: the app-shell demo site (4 pages to render), the XHR-list site
    with 5 list pages (N + 1 = 5 candidates, N = 4 rendered) and a static demo site."""
    return _scan(tmp_path_factory.mktemp("rendered"), ["spa", "healthy"], lists=5,
                 render={"enabled": True, "max_pages_per_site": 4, "timeout_seconds": 15})


@pytest.fixture(scope="module")
def unrendered(tmp_path_factory):
    return _scan(tmp_path_factory.mktemp("unrendered"), ["spa"], lists=2, render={"enabled": False})


@needs_chromium
def test_app_shell_site_is_read_through_the_browser(rendered):
    pages, columns = _site_rows(rendered, "spa")
    base, today = rendered["urls"]["spa"], rendered["as_of"].date()
    home = pages[base]
    assert home["rendered"] and not home["app_shell"] and not home["unread"]
    assert home["identifiers"], "the footer the script wrote was read"
    newest = {c["name"]: c["newest_date"] for c in columns.values()}
    assert newest["工作动态"] == f"{today:%Y-%m-%d}"
    assert newest["通知公告"] == f"{today - timedelta(days=4):%Y-%m-%d}"
    assert newest["政策文件"] == f"{today - timedelta(days=200):%Y-%m-%d}"
    by_name = {c["name"]: c for c in columns.values()}
    assert by_name["工作动态"]["item_count"] == 9 and by_name["通知公告"]["item_count"] == 6
    assert not any(c["blank"] or c["unverified"] for c in columns.values())
    assert all(pages[u]["rendered"] for u in pages if "/xwdt/" in u and u.endswith("/"))
    assert _stats(rendered, "spa")["rendered"] == 4


@needs_chromium
def test_budget_of_rendered_pages_is_honoured(rendered):
    pages, columns = _site_rows(rendered, "ajax")
    lists = {u: f for u, f in pages.items() if "/col" in u and u.endswith("index.html")}
    assert len(lists) == 5
    done = [u for u, f in lists.items() if f["rendered"]]
    over = [u for u, f in lists.items() if not f["rendered"]]
    assert len(done) == 4 and len(over) == 1
    assert "上限 4 页" in pages[over[0]]["unread"][0]["reason"] and pages[over[0]]["unread"][0]["family"] == "browser"
    today = rendered["as_of"].date()
    for url in done:
        k = int(url.split("/col")[1].split("/")[0])
        assert columns[url]["newest_date"] == f"{today - timedelta(days=k * 3):%Y-%m-%d}"
        assert columns[url]["item_count"] == 6
    assert columns[over[0]]["unverified"] and not columns[over[0]]["blank"]
    assert _stats(rendered, "ajax")["rendered"] == 4


@needs_chromium
def test_static_site_is_never_rendered_and_one_browser_serves_the_scan(rendered):
    pages, _ = _site_rows(rendered, "healthy")
    assert pages and not any(f["rendered"] or f["unread"] for f in pages.values())
    assert _stats(rendered, "healthy")["rendered"] == 0
    launches = [log.count("launching /usr/bin/chromium") for log in rendered["logs"]]
    assert sum(launches) >= 1 and max(launches) == 1   # one browser per worker process, shared by its sites
    assert "(8 rendered by the browser)" in rendered["log"]   # spa 4 + XHR-list site 4, in the scan's log line


def test_without_rendering_the_lists_are_could_not_verify(unrendered):
    pages, columns = _site_rows(unrendered, "spa")
    home = pages[unrendered["urls"]["spa"]]
    assert home["app_shell"] and not home["rendered"]
    assert home["unread"] == [{"reason": "页面内容由脚本生成，未能渲染（已关闭浏览器渲染）", "family": "browser"}]
    assert not any(c["blank"] for c in columns.values())
    pages, columns = _site_rows(unrendered, "ajax")
    lists = [c for c in columns.values() if "/col" in c["url"]]
    assert len(lists) == 2
    assert all(c["unverified"] and not c["blank"] and c["item_count"] == 0 for c in lists)
    assert "launching" not in unrendered["log"]
    assert _stats(unrendered, "ajax")["rendered"] == 0


@needs_chromium
def test_static_scan_never_starts_the_browser(tmp_path):
    scan = _scan(tmp_path, ["healthy", "gbk"], render={"enabled": True})
    assert _stats(scan, "healthy")["pages"] > 20
    assert "launching" not in scan["log"] and "Launching browser" not in scan["log"]


@needs_chromium
def test_a_page_the_browser_cannot_render_says_why(tmp_path):
    scan = _scan(tmp_path, ["spa"], render={"enabled": True, "executable_path": str(tmp_path / "no-chromium")})
    pages, columns = _site_rows(scan, "spa")
    home = pages[scan["urls"]["spa"]]
    assert home["app_shell"] and not home["rendered"]
    assert "浏览器" in home["unread"][0]["reason"] and "未能渲染" in home["unread"][0]["reason"]
