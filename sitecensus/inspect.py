"""`sitecensus inspect URL`: what the crawler extracts from one page, so a user can see why a rule fired."""
from __future__ import annotations

from collections import Counter
from dataclasses import asdict

import httpx
from rich.console import Console
from rich.table import Table

from crawler import families, render
from crawler.extract.page import analyse_page
from crawler.guard import AddressRefused
from crawler.probe import GuardedSyncTransport, error_class
from crawler.resolver import HostsMap
from scoring.links import failure_label
from sitecensus.config import Config
from sitecensus.scan import extract_options, parse_as_of


FAILED = (httpx.HTTPError, OSError, AddressRefused)   # OSError: a name the resolver rules refuse (socket.gaierror)
MAX_DATA_REQUESTS = 5   # inspect shows the first further record pages; a scan reads every one
MAX_INCLUDES = 10


def inspect_page(url: str, config: Config) -> dict:
    crawl = config.settings.crawl
    headers = {"User-Agent": crawl.user_agent}
    # as a scan would: the hosts map, the resolver rules and the address guard on every request (the page
    # asked for is trusted: the user named it)
    registered = [u for unit in config.units for u in unit.urls]
    transport = GuardedSyncTransport(HostsMap.of(crawl, registered).trusting([url]))
    with httpx.Client(transport=transport, follow_redirects=True, timeout=crawl.download_timeout_seconds,
                      headers=headers) as client:
        try:
            response = client.get(url)
        except FAILED as exc:
            raise ValueError(f"无法打开 {url}：{failure_label(error_class(exc), None)}") from None
        today = parse_as_of(None, config.settings.timezone).date()
        is_home = httpx.URL(url).path in ("", "/", "/index.html", "/index.htm", "/index.shtml")
        options = extract_options(config.profile(), config.dictionaries)
        ctype = response.headers.get("content-type")
        page = families.Page(str(response.url), response.content, ctype, today, options.min_list_items)
        page.includes = _includes(client, page)
        readings, unread = families.read_page(page, set(crawl.families))
        body = next((r.body for r in readings if r.body), None) or response.content
        facts = analyse_page(str(response.url), body, ctype, today, options, is_home=is_home)
        further = [r for reading in readings for r in reading.requests]
        data = [_read_data(client, request, today, options.min_list_items)
                for request in [r for r in further if r.kind == "data"
                                and httpx.URL(r.url).host == response.url.host][:MAX_DATA_REQUESTS]]   # as a scan: own host only
        families.merge_readings(facts, readings + data, unread, options.min_list_items)
    profile = config.profile()
    result = facts.to_dict()
    result["status"] = response.status_code
    result["redirects"] = [[str(r.url), r.status_code] for r in response.history]
    result["links"] = [asdict(link) for link in facts.links]
    result["link_kinds"] = dict(Counter(link.kind for link in facts.links))
    result["script_pages"] = [r.url for r in further if r.kind == "page"]
    result["data_requests"] = {"total": sum(1 for r in further if r.kind == "data"), "read": len(data)}
    result["needs_browser"] = render.needs_browser(response.content, facts) if not facts.family else None
    for group in result["groups"]:
        group["category"] = profile.category_of(group.get("heading") or facts.column_name or "")
    return result


def _includes(client: httpx.Client, page: families.Page) -> dict[str, bytes | None]:
    """Scripts whose document.write output belongs to the page (crawler/families/docwrite.py)."""
    if not families.docwrite.detect(page):
        return {}
    loaded: dict[str, bytes | None] = {}
    for _, script in families.docwrite.candidates(page)[:MAX_INCLUDES]:
        try:
            answer = client.get(script)
            loaded[script] = answer.content if answer.status_code == 200 else None
        except FAILED:
            loaded[script] = None
    return loaded


def _read_data(client: httpx.Client, request: families.Request, today, min_items: int) -> families.Reading:
    """One data answer of a family (a Hanweb dataproxy page, a JSON endpoint), read as a scan reads it."""
    try:
        answer = client.request(request.method, request.url,
                                data=request.form if request.method == "POST" else None,
                                headers={"X-Requested-With": "XMLHttpRequest"})
    except FAILED:
        return families.not_read(request.family)
    if answer.status_code != 200:
        return families.not_read(request.family)
    page = families.Page(str(answer.url), answer.content, answer.headers.get("content-type"), today, min_items)
    return families.read_data(page, request)


def _published(facts: dict) -> str:
    """The article date and the rule that found it (crawler/extract/published.py), e.g. 2025-11-03（来源行）."""
    if not facts["article_date"]:
        return "—"
    return f"{facts['article_date']}（{facts.get('article_date_source') or '来源不明'}）"


_FAMILY_NAMES = {"hanweb": "大汉 JCMS（jpage 数据）", "trs": "TRS WCM（脚本分页）", "json": "脚本中的 JSON 列表",
                 "docwrite": "document.write 写入的区块", "browser": "浏览器渲染"}


def _show_reading(facts: dict, console: Console) -> None:
    """How the lists were read (a CMS family reader), and what a scan could not read or would render."""
    if facts.get("family"):
        console.print(f"列表读取方式：{_FAMILY_NAMES.get(facts['family'], facts['family'])}", highlight=False)
    requests = facts.get("data_requests") or {}
    if requests.get("total"):
        console.print(f"后续数据页：{requests['total']} 个（此处读取前 {requests['read']} 个，检测时全部读取）", highlight=False)
    if facts.get("script_pages"):
        console.print(f"脚本生成的分页：{len(facts['script_pages'])} 页（检测时逐页抓取）", highlight=False)
    if facts.get("needs_browser"):
        console.print("此页面内容由脚本生成：检测时将用浏览器渲染后再读取（crawl.render）", highlight=False)
    for entry in facts.get("unread") or []:
        console.print(f"[yellow]无法核实：{entry['reason']}[/]", highlight=False)


def show(facts: dict, console: Console) -> None:
    console.print(f"[bold]{facts['title']}[/]  {facts['url']}", highlight=False)
    console.print(f"HTTP {facts['status']}，编码 {facts['encoding']}，页面类型 {facts['kind']}，"
                  f"栏目名 {facts['column_name'] or '—'}，发布日期 {_published(facts)}，"
                  f"正文字数 {facts['content_chars']}，占位文字 {'有' if facts['placeholder'] else '无'}", highlight=False)
    if facts["redirects"]:
        console.print("跳转：" + " → ".join(f"{u} ({s})" for u, s in facts["redirects"]), highlight=False)
    ids = facts["identifiers"]
    console.print(f"页脚标识：网站标识码 {ids.get('site_code') or '无'}（meta {ids.get('meta_site_code') or '无'}），"
                  f"ICP {ids.get('icp') or '无'}，公安备案 {ids.get('psb') or '无'}", highlight=False)
    notice = facts.get("notice")
    console.print("关停公告：" + (f"“{notice['text']}” 链接 {', '.join(notice['links']) or '无'}" if notice else "未发现"),
                  highlight=False)
    if facts["nav"]:
        console.print("导航：" + "  ".join(text for text, _ in facts["nav"]), highlight=False)
    _show_reading(facts, console)
    for group in facts["groups"]:
        table = Table(title=f"信息列表：{group.get('heading') or '（无标题）'} · 分类 {group['category']}"
                            + (f" · 更多 {group['more_url']}" if group.get("more_url") else ""))
        table.add_column("日期")
        table.add_column("标题")
        table.add_column("链接")
        for item in group["items"][:15]:
            table.add_row((item["date"] or "无日期") + (" (年份推断)" if item["year_inferred"] else ""),
                          item["title"], item["url"])
        console.print(table)
    console.print("链接：" + "，".join(f"{k} {v}" for k, v in facts["link_kinds"].items()), highlight=False)
