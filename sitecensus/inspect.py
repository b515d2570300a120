"""`sitecensus inspect URL`: what the crawler extracts from one page, so a user can see why a rule fired."""
from __future__ import annotations

from collections import Counter
from dataclasses import asdict

import httpx
from rich.console import Console
from rich.table import Table

from crawler.extract.page import analyse_page
from sitecensus.config import Config
from sitecensus.scan import extract_options, parse_as_of


def inspect_page(url: str, config: Config) -> dict:
    crawl = config.settings.crawl
    try:
        response = httpx.get(url, follow_redirects=True, timeout=crawl.download_timeout_seconds,
                             headers={"User-Agent": crawl.user_agent})
    except httpx.HTTPError as exc:
        raise ValueError(f"无法打开 {url}：{type(exc).__name__} {exc}") from None
    today = parse_as_of(None, config.settings.timezone).date()
    is_home = httpx.URL(url).path in ("", "/", "/index.html", "/index.htm", "/index.shtml")
    facts = analyse_page(str(response.url), response.content, response.headers.get("content-type"), today,
                         extract_options(config.profile(), config.dictionaries), is_home=is_home)
    profile = config.profile()
    data = facts.to_dict()
    data["status"] = response.status_code
    data["redirects"] = [[str(r.url), r.status_code] for r in response.history]
    data["links"] = [asdict(link) for link in facts.links]
    data["link_kinds"] = dict(Counter(link.kind for link in facts.links))
    for group in data["groups"]:
        group["category"] = profile.category_of(group.get("heading") or facts.column_name or "")
    return data


def _published(facts: dict) -> str:
    """The article date and the rule that found it (crawler/extract/published.py), e.g. 2025-11-03（来源行）."""
    if not facts["article_date"]:
        return "—"
    return f"{facts['article_date']}（{facts.get('article_date_source') or '来源不明'}）"


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
