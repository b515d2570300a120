"""The crawler over real HTTP on 127.0.0.1: link checking, encodings, hostile pages, what is recorded."""
from sqlalchemy import func, select

from sitecensus.store import Link


def test_link_outcomes(world):
    cases = {
        "/uploads/P020261101.doc": ("broken", "http_404"),
        "/error.html": ("broken", "http_500"),
        "/slow.html": ("broken", "timeout"),
        "/moved.html": ("broken", "http_404"),
        "/images/missing-banner.png": ("broken", "http_404"),
    }
    for path, (outcome, error) in cases.items():
        fetch = world.fetch("broken", path)
        assert fetch is not None, path
        assert (fetch.outcome, fetch.error) == (outcome, error), path


def test_redirect_chain_is_followed_and_recorded(world):
    fetch = world.fetch("broken", "/old/index.html")
    assert fetch.outcome == "ok" and fetch.status == 200
    assert [hop[1] for hop in fetch.redirects] == [301, 302]
    assert fetch.final_url.endswith("/tzgg/")
    moved = world.fetch("broken", "/moved.html")
    assert moved.redirects and moved.redirects[0][1] == 301 and moved.final_url.endswith("/gone.html")


def test_forbidden_and_refused_targets(world):
    external = world.urls["external"] + "blocked/"
    with world.sessions()() as session:
        from sitecensus.store import Fetch
        blocked = session.scalar(select(Fetch).where(Fetch.url == external))
    assert blocked.outcome == "unverifiable" and blocked.status == 403   # 403: could not verify, not broken
    broken_urls = {e["url"] for f in world.findings("broken", "D2") for e in f["evidence"]}
    assert external not in broken_urls
    assert any(e["detail"].startswith("无法连接") for f in world.findings("broken", "D2") for e in f["evidence"])


def test_each_target_checked_once_per_scan(world):
    with world.sessions()() as session:
        from sitecensus.store import Fetch
        duplicates = session.execute(select(Fetch.url, func.count()).group_by(Fetch.scan_id, Fetch.url)
                                     .having(func.count() > 1)).all()
    assert duplicates == []


def test_gbk_site_titles_come_out_right(world):
    pages = world.pages("gbk")
    assert pages and all(p.facts["encoding"] == "gb18030" for p in pages)
    home = next(p for p in pages if p.is_home)
    assert home.title == "宁波市北仑区民政局"
    assert any("新碶" in p.title for p in pages)  # 碶 is outside GB2312: the page was read as GB18030
    titles = {p.title for p in pages}
    assert "通知公告_宁波市北仑区民政局" in titles
    assert not any("\ufffd" in t for t in titles)


def test_pages_record_what_the_issue_asks(world):
    pages = world.pages("healthy")
    article = next(p for p in pages if p.kind == "article")
    assert article.status == 200 and article.bytes > 1000 and article.content_type == "text/html"
    assert article.depth >= 1 and article.referrer and article.fetched_at and article.title
    with world.sessions()() as session:
        kinds = dict(session.execute(select(Link.kind, func.count()).where(Link.site_id == pages[0].site_id)
                                     .group_by(Link.kind)).all())
    assert {"page", "image", "attachment", "style"} <= set(kinds)


def test_hostile_pages_do_not_stop_the_scan(world):
    loop = world.fetch("nasty", "/loop/a.html")
    assert loop.outcome == "broken" and loop.error == "redirect_loop"
    huge = world.fetch("nasty", "/huge.html")
    assert huge.outcome == "unverifiable" and huge.error == "too_large"
    broken_html = world.fetch("nasty", "/broken.html")
    assert broken_html.outcome == "ok"
    assert any(p.title == "残缺页面" for p in world.pages("nasty"))
    assert world.site("nasty")["verdict"] in ("合格", "不合格")


def test_columns_found_with_dates(world):
    columns = {c["name"]: c for c in _columns(world, "healthy")}
    assert {"工作动态", "部门动态", "通知公告", "政策文件", "人事信息", "办事指南"} <= set(columns)
    gzdt = columns["工作动态"]
    assert gzdt["item_count"] == 12 and gzdt["dated_count"] == 12 and gzdt["from_home"]
    assert len(gzdt["list_pages"]) >= 2  # index.html and index_1.html are one column
    blank = {c["name"]: c for c in _columns(world, "blank")}
    assert blank["统计数据"]["blank"] and blank["统计分析"]["placeholder"] and not blank["工作动态"]["blank"]


def _columns(world, key):
    from sitecensus.store import Column, Site
    with world.sessions()() as session:
        site_id = session.scalar(select(Site.id).where(Site.url == world.urls[key]))
        return [c.data for c in session.scalars(select(Column).where(Column.site_id == site_id))]


def test_retry_after_is_honoured(world):
    busy = world.fetch("nasty", "/busy.html")
    assert busy.outcome == "ok" and busy.status == 200   # 429 + Retry-After: 1 once, then served


def test_anti_bot_page_is_could_not_verify(world):
    waf = world.fetch("nasty", "/waf.html")
    assert (waf.outcome, waf.error) == ("unverifiable", "blocked")


def test_pinned_column_overrides_discovery(world):
    pinned = next(c for c in _columns(world, "nasty") if c["source"] == "pinned")
    assert pinned["name"] == "异常页面栏目" and pinned["category"] == "通知公告"
    d4 = next(f for f in world.findings("nasty", "D4") if "异常页面栏目" in f["title"])
    assert "异常页面栏目（通知公告）" in d4["evidence"][0]["detail"]  # its own name would classify as 'other'


def test_home_page_that_blocks_us_is_could_not_verify(world):
    site = world.site("blocked")
    assert site["verdict"] == "无法检测" and site["score"] is None and not site["vetoed"]
    home = world.fetch("blocked", "/")
    assert (home.outcome, home.status) == ("unverifiable", 403)


def test_unreachable_home_page_is_judged_by_its_probes(world):
    home = world.fetch("down", "/")
    assert (home.outcome, home.error) == ("broken", "connect")
    assert world.site("down")["verdict"] == "无法检测"   # 3 probes cannot prove it down: that takes a week


def test_waf_answers_are_recognised_in_gbk_and_utf8():
    from types import SimpleNamespace

    from crawler.spiders.site import _blocked
    answer = "<html><body>网站防火墙：您的访问被阻断</body></html>"
    for encoding in ("utf-8", "gbk"):
        assert _blocked(SimpleNamespace(status=200, body=answer.encode(encoding)))
    assert not _blocked(SimpleNamespace(status=200, body="<p>通知公告</p>".encode("gbk")))
    assert not _blocked(SimpleNamespace(status=403, body=answer.encode("utf-8")))   # a 403 is judged as such
