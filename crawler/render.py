"""A real browser only where it is needed: the ONE place that decides which pages need headless
Chromium, and how it is driven.

Deciding. Every crawled page passes `script_built(body)` first: two byte-level regular expressions,
no tree walk, so the 17,000 static pages of a census cost nothing. A page it flags is confirmed on
its static facts (`needs_browser`): an app shell (an empty mount point such as `<div id="app"></div>`
plus script bundles) whose static text is next to nothing, or a list container left empty for a script
that fetches its data (XHR, fetch, $.ajax) — unless a CMS family reader (crawler/families) already
claimed the page: it reads that shape statically, politely and exactly.

Rendering. scrapy-playwright's download handler drives Debian's own Chromium (`executable_path`, no
downloaded browser). Scrapy runs one crawler per site, and each crawler gets its own handler; the
`SharedBrowserProvider` below gives them all ONE browser, started on the first page that needs it
(a scan of static sites never starts Playwright's driver or Chromium) and closed when the last
handler closes. Each site still gets its own browser context (cookies stay per site), one page at a
time, within the site's budget of rendered pages (counted by the spider).
"""
from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from crawler.guard import host_name, ip_of

log = logging.getLogger("sitecensus.render")

BROWSER_FAMILY = "browser"   # the `family` of unread entries that only a browser could have read

# The test runs on the page's bytes lower-cased (ASCII only, one fast copy), so every pattern below is
# case-sensitive and starts with a literal that the regular-expression engine can skip to.
# An empty mount point of a single-page application (Vue, React, Angular, Nuxt, Next).
_MOUNT = re.compile(
    rb" id\s*=\s*[\"']?(?:app|root|__nuxt|__next|main-app|application)[\"'\s>][^<>]*>\s*</(?:div|main|section)\s*>")
_ANGULAR_ROOT = re.compile(rb"<app-root\b[^<>]*>\s*</app-root\s*>")
# A list container left empty (comments aside); its id or class value is checked after the match.
_EMPTY_CONTAINER = re.compile(
    rb"<(?:ul|ol|tbody|dl|div|table)\b[^<>]*?\b(?:id|class)\s*=\s*[\"']?([^\"'<>]*)[^<>]*>"
    rb"(?:\s|<!--(?:(?!-->).)*-->)*</(?:ul|ol|tbody|dl|div|table)\s*>", re.S)
_LISTISH = re.compile(rb"list|news|item|article|data|content|xxgk|gkml")
_MENU = re.compile(rb"nav|menu|select|drop|tab_title|login")
_BUNDLE = b"<script"
# Code that loads data after the page has arrived (plain substrings: far faster than one alternation).
_LOADS_DATA = (b"xmlhttprequest", b"$.ajax", b"$.get", b"$.post", b"fetch(", b"axios", b".load(")
APP_SHELL_MAX_CHARS = 200    # static content an app shell may show (a title, a <noscript> line)


def script_built(body: bytes) -> str | None:
    """The cheap test: "app_shell", "script_list" or None. Bytes only, before any parsing."""
    low = body.lower()
    if _BUNDLE not in low:
        return None
    if _MOUNT.search(low) or (b"<app-root" in low and _ANGULAR_ROOT.search(low)):
        return "app_shell"
    if any(token in low for token in _LOADS_DATA):
        for match in _EMPTY_CONTAINER.finditer(low):
            name = match.group(1)
            if _LISTISH.search(name) and not _MENU.search(name):
                return "script_list"
    return None


def needs_browser(body: bytes, facts) -> str | None:
    """The shape that only a browser can read ("app_shell" | "script_list"), confirmed on the static facts."""
    shape = script_built(body)
    if shape is None or facts.family or any(e.get("family") not in (None, BROWSER_FAMILY) for e in facts.unread):
        return None   # a CMS family reader claimed the page: it reads (or explains) it without a browser
    if shape == "app_shell" and (facts.content_chars > APP_SHELL_MAX_CHARS or facts.groups):
        return None   # a server-built page with a script widget mounted somewhere: the content is there
    if shape == "script_list" and facts.kind == "article":
        return None   # an article's own text is there; an empty side box (related news) is not worth a browser
    return shape


def mark_unread(facts, shape: str, cause: str) -> None:
    """The page needs a browser but was not rendered (or rendered without content): say so, with why."""
    facts.app_shell = facts.app_shell or shape == "app_shell"
    facts.unread.append({"reason": f"页面内容由脚本生成，未能渲染（{cause}）", "family": BROWSER_FAMILY})


# Reasons shown to the operator (Chinese, as everything a user reads).
OFF = "已关闭浏览器渲染"
OVER_BUDGET = "超出每站渲染页数上限 {limit} 页"
FAILED = "浏览器渲染失败：{error}"
STILL_EMPTY = "渲染后仍未见内容"


def failure_reason(failure) -> str:
    text = f"{type(failure.value).__name__}: {failure.value}"
    if "Timeout" in text:
        return "渲染超时"
    if "Executable doesn't exist" in text or ("executable" in text.lower() and "launch" in text.lower()):
        return "浏览器无法启动，请检查 crawl.render.executable_path"
    return FAILED.format(error=text.splitlines()[0][:120])


# ------------------------------------------------------------------ Scrapy settings and requests

LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]
_SKIPPED_RESOURCES = frozenset({"image", "media", "font"})   # not needed to build the page's text and links


@dataclass(frozen=True)
class RenderOptions:
    enabled: bool = True
    max_pages: int = 20
    timeout_seconds: float = 20
    executable_path: str = "/usr/bin/chromium"


def host_resolver_rules(hosts: dict[str, str], only_listed: bool) -> str | None:
    """crawl.hosts / resolve_only_listed for Chromium's own name resolution (it does not use Scrapy's)."""
    rules = [f"MAP {name} {address}" for name, address in hosts.items()]
    if only_listed:
        # every other name fails unasked; addresses (127.0.0.1 and the mapped ones) are no names
        loopback = {"127.0.0.1", "localhost", "[::1]"}
        rules += ["MAP * ~NOTFOUND"] + [f"EXCLUDE {a}" for a in sorted(loopback | set(hosts.values()))]
    return ", ".join(rules) or None


def scrapy_settings(options: RenderOptions, hosts: dict[str, str] | None = None,
                    only_listed: bool = False, guard=None) -> dict:
    """Settings that enable rendering (empty when it is off: no handler, no browser, nothing imported)."""
    if not options.enabled:
        return {"SITECENSUS_RENDER_ENABLED": False}
    args = list(LAUNCH_ARGS)
    rules = host_resolver_rules(hosts or {}, only_listed)
    if rules:
        args.append(f"--host-resolver-rules={rules}")
    handler = "crawler.download.BrowserDownloadHandler"
    return {
        "SITECENSUS_RENDER_ENABLED": True,
        "SITECENSUS_RENDER_MAX_PAGES": options.max_pages,
        "SITECENSUS_RENDER_TIMEOUT": options.timeout_seconds,
        # Requests without meta["playwright"] go through the HTTP handler of crawler/download.py, as before.
        "DOWNLOAD_HANDLERS": {"http": handler, "https": handler},
        "PLAYWRIGHT_BROWSER_PROVIDER": "crawler.render.SharedBrowserProvider",
        "PLAYWRIGHT_BROWSER_TYPE": "chromium",
        "PLAYWRIGHT_LAUNCH_OPTIONS": {"executable_path": options.executable_path, "headless": True, "args": args,
                                      "timeout": options.timeout_seconds * 1000},
        "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": options.timeout_seconds * 1000,
        "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": 1,
        "PLAYWRIGHT_ABORT_REQUEST": BrowserRequestFilter(guard, hosts or {}) if guard else "crawler.render.skip_resource",
    }


def skip_resource(request) -> bool:
    return request.resource_type in _SKIPPED_RESOURCES


class BrowserRequestFilter:
    """PLAYWRIGHT_ABORT_REQUEST: resources not needed, and what the address guard (crawler/guard.py)
    refuses to a page's scripts as to the crawler: an IP-literal host, or a name crawl.hosts maps to a
    refused address (other names Chromium resolves itself, under the --host-resolver-rules above)."""

    def __init__(self, guard, hosts: dict[str, str]):
        self.guard = guard
        self.hosts = {host_name(name): address for name, address in hosts.items()}

    def __call__(self, request) -> bool:
        if skip_resource(request):
            return True
        host = host_name(urlsplit(request.url).hostname or "")
        address = host if ip_of(host) is not None else self.hosts.get(host)
        return address is not None and not self.guard.allows(host, address)


async def settle(page, timeout_ms: float) -> None:
    """After "load", give the page's scripts time to fetch their data and build the lists."""
    try:
        await page.wait_for_load_state("networkidle", timeout=timeout_ms)
    except Exception:  # noqa: BLE001 - a page that keeps polling is read as it stands
        log.debug("network not idle after %s ms: %s", timeout_ms, page.url)


def render_meta(timeout_seconds: float, shape: str) -> dict:
    """What a request needs to be rendered (added to the static request's meta)."""
    from scrapy_playwright.page import PageMethod
    return {"playwright": True, "render_shape": shape,
            "playwright_page_goto_kwargs": {"wait_until": "load", "timeout": timeout_seconds * 1000},
            "playwright_page_methods": [PageMethod(settle, min(timeout_seconds, 5) * 1000)],
            "download_timeout": timeout_seconds * 2}


# ------------------------------------------------------------------ one browser for every crawler

class _Shared:
    """The process's browser, its users counted; bound to the asyncio loop it was started on."""

    lock: asyncio.Lock | None = None
    loop = None
    manager = None
    playwright = None
    browser = None
    users = 0


class _BrowserHandle:
    """What one handler sees as "the browser": everything delegates, but close() only lets go of it."""

    def __init__(self, browser):
        self._browser = browser
        self._closed = False

    def __getattr__(self, name):
        return getattr(self._browser, name)

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            await _release()


async def _release() -> None:
    async with _lock():
        _Shared.users -= 1
        if _Shared.users > 0:
            return
        browser, playwright = _Shared.browser, _Shared.playwright
        _Shared.browser = _Shared.playwright = _Shared.manager = None
        if browser is not None:
            try:
                await browser.close()
            except Exception:  # noqa: BLE001 - already gone (crashed): nothing to close
                pass
        if playwright is not None:
            await playwright.stop()
        log.info("browser closed")


def _lock() -> asyncio.Lock:
    loop = asyncio.get_running_loop()
    if _Shared.loop is not loop:   # a new event loop (another process run, a test): start afresh
        _Shared.lock, _Shared.loop = asyncio.Lock(), loop
        _Shared.manager = _Shared.playwright = _Shared.browser = None
        _Shared.users = 0
    return _Shared.lock


class SharedBrowserProvider:
    """scrapy-playwright's PLAYWRIGHT_BROWSER_PROVIDER: nothing at engine start, one browser on first use."""

    def __init__(self, config) -> None:
        self.config = config

    async def start(self) -> None:
        """Called when each crawler's engine starts: deliberately nothing (the browser starts lazily)."""

    async def launch_browser(self):
        from playwright.async_api import async_playwright
        async with _lock():
            if _Shared.browser is None or not _Shared.browser.is_connected():
                if _Shared.playwright is None:
                    _Shared.manager = async_playwright()
                    _Shared.playwright = await _Shared.manager.start()
                browser_type = getattr(_Shared.playwright, self.config.browser_type_name)
                log.info("launching %s", self.config.launch_options.get("executable_path"))
                _Shared.browser = await browser_type.launch(**self.config.launch_options)
            _Shared.users += 1
            return _BrowserHandle(_Shared.browser)

    async def launch_persistent_context(self, context_kwargs: dict):
        from scrapy.exceptions import NotSupported
        raise NotSupported("sitecensus renders in ordinary browser contexts only")

    async def close(self) -> None:
        """The handle given out closes itself (the handler calls browser.close() first)."""


def browser_running() -> bool:
    """Is the shared browser up (tests: a static scan must never start it)."""
    return _Shared.browser is not None
