"""Evidence screenshots: for each finding that points at a page, a picture of that page taken by headless
Chromium, with the element carrying the problem outlined in red and scrolled into view (the link to a
broken target, the lists whose items are stale, the sentence with a wrong phrase, the notice).

Taken once per scan, after the crawl and the judging, at the scan's first report: one browser for the
whole step, a few pages at once, at most `sheets.screenshots.max_per_scan` pictures, each page within
`timeout_seconds`. A page that fails or times out gets no picture and a log line; nothing here can change
or hold up a verdict. The pictures and an index (fingerprint -> file) live in
`<output_dir>/screenshots/scan-N/`, so every later report of the scan (report, rescore, recheck) finds
them without opening a browser again.

The browser goes only where the crawler may: the same crawl.hosts map and resolve_only_listed rules
(Chromium's --host-resolver-rules, crawler/render.py) and the same address guard on every request.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from crawler.guard import host_name, ip_of
from crawler.render import LAUNCH_ARGS, host_resolver_rules, settle
from crawler.resolver import HostsMap
from reports.browser_thread import in_thread
from reports.sheet import SEVERITY_ORDER
from sitecensus.stages import stage

log = logging.getLogger("sitecensus.screenshots")

INDEX = "index.json"
VIEWPORT = {"width": 1280, "height": 900}
LAUNCH_TIMEOUT_MS = 30_000
# Findings about the site as a whole (availability, domain name, HTTPS, deregistration): no page shows them.
SITE_LEVEL = frozenset({"V1", "D1", "G2", "G4", "J4"})
RANK = {severity: i for i, severity in enumerate(SEVERITY_ORDER)}
LIST_CODES = frozenset({"V2", "V3", "D3", "D4"})   # stale columns: outline the dated lists
FOOTER_CODES = frozenset({"G1", "G3"})             # identifiers missing or wrong: outline the footer
_QUOTED = re.compile(r"“([^“”]{4,})")
_MASKS = re.compile(r"\*+|…+|\.{3,}")


@dataclass(frozen=True)
class Shot:
    """One picture to take: the page, and how to find the element to outline."""

    fingerprint: str
    page: str
    mode: str                    # link | lists | text | footer | page
    target: str | None = None    # link: the address the outlined <a> points to
    snippets: tuple[str, ...] = ()   # text: pieces of text to look for, best first


@dataclass(frozen=True)
class Screenshot:
    path: Path
    outlined: bool      # the element carrying the problem was found and framed in red


def folder(out_dir: Path, scan_id: int) -> Path:
    return Path(out_dir) / "screenshots" / f"scan-{scan_id}"


# ------------------------------------------------------------------ what to take

def _snippets(evidence: dict, finding: dict) -> tuple[str, ...]:
    """Text that locates the problem on its page: quoted words first, then the longest unmasked pieces."""
    detail = evidence.get("detail") or ""
    quoted = _QUOTED.findall(detail) + _QUOTED.findall(finding.get("title") or "")
    context = detail.split("：", 1)[1] if "：" in detail else detail
    pieces = sorted((p.strip() for p in _MASKS.split(context)), key=len, reverse=True)
    return tuple(dict.fromkeys([*quoted, *(p for p in pieces if len(p) >= 6)]))


def shot_of(finding: dict) -> Shot | None:
    """The picture a finding gets, or None when it points at no page."""
    if finding["code"] in SITE_LEVEL:
        return None
    for evidence in finding.get("evidence") or []:
        url, source = evidence.get("url"), evidence.get("source")
        if source and url:          # a link on a page: a broken link, an attachment, a hidden link, a list entry
            return Shot(finding["fingerprint"], source, "link", target=url)
        if url and urlsplit(url).scheme in ("http", "https"):
            if finding["code"] in LIST_CODES:
                return Shot(finding["fingerprint"], url, "lists")
            if finding["code"] in FOOTER_CODES:
                return Shot(finding["fingerprint"], url, "footer")
            snippets = _snippets(evidence, finding)
            return Shot(finding["fingerprint"], url, "text" if snippets else "page", snippets=snippets)
    return None


def plan(document: dict, limit: int) -> list[Shot]:
    """Up to `limit` shots, vetoes first, then deductions and the rest, in the document's order."""
    findings = [f for site in document["sites"] for f in site["findings"] if not f.get("silenced")]
    findings.sort(key=lambda f: RANK.get(f["severity"], len(RANK)))
    shots = {}
    for finding in findings:
        shot = shot_of(finding)
        if shot and shot.fingerprint not in shots:
            shots[shot.fingerprint] = shot
    return list(shots.values())[:limit]


# ------------------------------------------------------------------ taking them

# Outline the element that carries the problem, scroll it into view; true when one was found.
_HIGHLIGHT = r"""([mode, target, snippets]) => {
  document.querySelectorAll('[data-sitecensus-mark]').forEach(e => {   // the page's previous shot
    e.style.removeProperty('outline'); e.style.removeProperty('outline-offset'); e.removeAttribute('data-sitecensus-mark'); });
  const mark = (el) => {
    while (el && el.parentElement && el.getBoundingClientRect().width === 0) el = el.parentElement;  // hidden link
    if (!el || el === document.body || el === document.documentElement) return false;
    el.style.setProperty('outline', '4px solid #e00000', 'important');
    el.style.setProperty('outline-offset', '2px', 'important');
    el.setAttribute('data-sitecensus-mark', '');
    return el;
  };
  const show = (els) => { const found = els.map(mark).filter(Boolean);
    if (found.length) found[0].scrollIntoView({block: 'center', inline: 'nearest'}); return found.length > 0; };
  const bare = (u) => (u || '').split('#')[0].replace(/\/$/, '');
  if (mode === 'link') {
    const want = bare(target);
    const els = [...document.querySelectorAll('a[href], area[href], img[src], iframe[src]')]
      .filter(e => bare(e.href || e.src) === want || (() => { try { return bare(decodeURI(e.href || e.src)) === bare(decodeURI(target)); } catch (x) { return false; } })());
    return show(els.slice(0, 3));
  }
  if (mode === 'lists') {
    const dated = /(?<!\d)(0?[1-9]|1[0-2])\s*[-/.月]\s*(0?[1-9]|[12]\d|3[01])(?!\d)/;   // 2026-10-17, 10-17, 10月17日
    const lists = [...document.querySelectorAll('ul, ol, tbody, dl, div, table, section')].filter(el =>
      [...el.children].filter(c => dated.test(c.textContent)).length >= 2);
    return show(lists.filter(el => !lists.some(o => o !== el && el.contains(o))));
  }
  if (mode === 'footer') {
    const tagged = [...document.querySelectorAll('footer, #footer, .footer, [id*="foot" i], [class*="foot" i]')];
    if (tagged.length) return show([tagged[tagged.length - 1]]);
    const words = ['网站标识码', '主办单位', '版权所有', '备案'];
    const blocks = [...document.body.querySelectorAll('div, p, table, section')]
      .filter(el => words.some(w => el.textContent.includes(w)));
    const smallest = blocks.filter(el => !blocks.some(o => o !== el && el.contains(o)));
    return show(smallest.slice(-4));   // the last lines that carry identifiers: the footer
  }
  if (mode === 'text') {
    const squeeze = (s) => (s || '').replace(/\s+/g, '');
    for (const snippet of snippets) {
      const want = squeeze(snippet);
      if (!want || !squeeze(document.body.textContent).includes(want)) continue;
      let el = document.body, next = el;
      while (next) { el = next; next = [...el.children].find(c => squeeze(c.textContent).includes(want)); }
      return show([el]);
    }
  }
  return false;
}"""


@dataclass(frozen=True)
class Browser:
    """How the browser is started and where it may go."""

    executable_path: str
    timeout_seconds: float
    concurrency: int
    hosts: dict[str, str]
    only_listed: bool
    guard: object


def _allowed(guard, hosts: dict[str, str], url: str) -> bool:
    """The address guard on a request the page makes (IP literals and mapped names; other names are
    resolved by Chromium under --host-resolver-rules)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return parts.scheme in ("data", "blob", "about")
    host = host_name(parts.hostname or "")
    address = host if ip_of(host) is not None else hosts.get(host)
    return address is None or guard.allows(host, address)


async def _take_page(context, page_url: str, shots: list[Shot], target: Path, browser: Browser) -> dict[str, dict]:
    """Open one page and picture each of its shots; {fingerprint: {page, file, outlined} or {page, error}}."""
    results: dict[str, dict] = {}
    timeout = browser.timeout_seconds * 1000
    page = await context.new_page()
    try:
        await page.goto(page_url, wait_until="load", timeout=timeout)
        await settle(page, min(timeout, 3000))   # a page that keeps polling is pictured as it stands
        for shot in shots:
            found = await page.evaluate(_HIGHLIGHT, [shot.mode, shot.target, list(shot.snippets)])
            name = f"{shot.fingerprint}.png"
            await page.screenshot(path=str(target / name), timeout=timeout)
            results[shot.fingerprint] = {"page": page_url, "file": name, "outlined": bool(found)}
            log.debug("screenshot %s of %s (element %s)", name, page_url, "outlined" if found else "not found")
    except Exception as exc:  # noqa: BLE001 - no picture, never a failed scan
        reason = str(exc).splitlines()[0][:200]
        log.info("截图失败：%s（%s）", page_url, reason)
        for shot in shots:
            results.setdefault(shot.fingerprint, {"page": page_url, "error": reason})
    finally:
        await page.close()
    return results


async def _take_all(shots: list[Shot], target: Path, browser: Browser) -> dict[str, dict]:
    from playwright.async_api import async_playwright

    by_page: dict[str, list[Shot]] = {}
    for shot in shots:
        by_page.setdefault(shot.page, []).append(shot)
    args = list(LAUNCH_ARGS)
    rules = host_resolver_rules(browser.hosts, browser.only_listed)
    if rules:
        args.append(f"--host-resolver-rules={rules}")
    results: dict[str, dict] = {}
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=browser.executable_path, headless=True,
                                                    args=args, timeout=LAUNCH_TIMEOUT_MS)
        try:
            context = await chromium.new_context(viewport=VIEWPORT, ignore_https_errors=True,
                                                  service_workers="block")

            async def route(r):
                await (r.continue_() if _allowed(browser.guard, browser.hosts, r.request.url) else r.abort())
            await context.route("**/*", route)
            gate = asyncio.Semaphore(browser.concurrency)

            async def one(page_url: str, page_shots: list[Shot]) -> None:
                async with gate:
                    results.update(await _take_page(context, page_url, page_shots, target, browser))
            await asyncio.gather(*(one(url, page_shots) for url, page_shots in by_page.items()))
        finally:
            await chromium.close()
    return results


def take(shots: list[Shot], target: Path, browser: Browser) -> dict[str, dict]:
    """Picture every shot into `target`; {fingerprint: {page, file, outlined} or {page, error}}. Never raises."""
    target.mkdir(parents=True, exist_ok=True)
    if not shots:
        return {}
    try:
        return in_thread(_take_all(shots, target, browser))
    except Exception as exc:  # noqa: BLE001 - no browser: no pictures, the reports go on
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        log.warning("无法启动浏览器截图（%s），本次问题单不附截图；请检查 crawl.render.executable_path", reason)
        return {shot.fingerprint: {"page": shot.page, "error": reason} for shot in shots}


# ------------------------------------------------------------------ what the reports use

def _read_index(directory: Path) -> dict[str, dict] | None:
    try:
        return json.loads((directory / INDEX).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


@stage("证据截图")
def evidence_screenshots(config, document: dict, out_dir: Path, big_pages: set[str] = frozenset()) -> dict[str, Screenshot]:
    """{fingerprint: picture} for the document's scan: taken at its first report, read from the index after.
    Pages in `big_pages` (over sheets.screenshots.max_page_bytes) get none."""
    options = config.settings.sheets.screenshots
    directory = folder(out_dir, document["scan"]["id"])
    index = _read_index(directory)
    if index is None:
        if not options.enabled:
            return {}
        crawl = config.settings.crawl
        hosts_map = HostsMap.of(crawl, [s["url"] for s in document["sites"] if s.get("url")])
        browser = Browser(crawl.render.executable_path, options.timeout_seconds, options.concurrency,
                          dict(crawl.hosts), crawl.resolve_only_listed, hosts_map.guard)
        planned = plan(document, options.max_per_scan)
        shots = [shot for shot in planned if shot.page not in big_pages]
        started = time.monotonic()
        index = take(shots, directory, browser)
        index.update({shot.fingerprint: {"page": shot.page, "error": "页面过大，未截图"}
                      for shot in planned if shot.page in big_pages})
        directory.mkdir(parents=True, exist_ok=True)
        (directory / INDEX).write_text(json.dumps(index, ensure_ascii=False, indent=1), encoding="utf-8")
        taken = sum(1 for entry in index.values() if entry.get("file"))
        log.info("证据截图：%d 张（计划 %d 张，失败或页面过大 %d 张），用时 %.0f 秒", taken, len(planned), len(planned) - taken,
                 time.monotonic() - started)
        prune(directory.parent, options.keep_scans)
    return {fp: Screenshot(directory / entry["file"], entry.get("outlined", False)) for fp, entry in index.items()
            if entry.get("file") and (directory / entry["file"]).is_file()}


def prune(root: Path, keep: int) -> None:
    """Keep the pictures of the newest `keep` scans (and audits): a weekly scan adds some 10 MB."""
    folders = sorted((d for d in root.glob("scan-*") if d.is_dir() and d.name[5:].isdigit()),
                     key=lambda d: int(d.name[5:]))
    for old in folders[:-keep] if keep else folders:
        shutil.rmtree(old, ignore_errors=True)


def attach(sheet: dict, screenshots: dict[str, Screenshot] | None, sheet_dir: Path) -> dict:
    """Give each problem of a sheet its picture: `screenshot` (a link relative to the sheet's folder, for the
    HTML sheet), `screenshot_file` (for the Word sheet) and `screenshot_outlined` (the problem is framed in
    red). Walks the sheet whatever its nesting."""
    if not screenshots:
        return sheet

    def walk(node) -> None:
        if isinstance(node, dict):
            shot = screenshots.get(node.get("fingerprint")) if "evidence" in node else None
            if shot is not None:
                node["screenshot"] = Path(os.path.relpath(shot.path, sheet_dir)).as_posix()
                node["screenshot_file"] = str(shot.path)
                node["screenshot_outlined"] = shot.outlined
            for value in node.values():
                walk(value)
        elif isinstance(node, (list, tuple)):
            for value in node:
                walk(value)
    walk(sheet)
    return sheet
