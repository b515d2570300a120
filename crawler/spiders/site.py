"""SiteSpider: crawl one government site within its host, check every link target once.

Pages of the site are crawled and parsed; every other target (images, attachments, styles, scripts,
external pages, pages past the limits) is checked with HEAD, then GET when HEAD fails, and never
parsed. De-duplication is the spider's own (the scheduler's dupefilter is off), because Scrapy would
otherwise silently drop a redirect to an already seen URL and the link that led there would have
no result.
"""
from __future__ import annotations

import sys
from dataclasses import replace
from datetime import date, datetime, timezone

import scrapy
from scrapy import signals
from scrapy.exceptions import StopDownload

from crawler.extract.links import netloc
from crawler.extract.page import ExtractOptions, analyse_page
from crawler.items import FetchItem, PageItem
from crawler.probe import obsolete_tls
from crawler.registry import ScanRegistry
from crawler.spiders.families import FamilyCrawling
from crawler.traps import TrapGuard
from crawler.urlset import UrlTable
from crawler import render

_HTML_TYPES = ("text/html", "application/xhtml")
_UNVERIFIABLE_STATUS = {401, 403, 407, 412, 429, 451}
_BROKEN_STATUS = {404, 410}
_RENDER_KEEPS_META = ("download_slot", "depth", "referrer", "is_home", "check_only", "first_url", "redirect_urls",
                      "redirect_reasons")
# Signatures of WAF / anti-bot answers that arrive with status 200.
_BLOCK_MARKS = ("安全狗", "您的访问被阻断", "访问被拦截", "请开启JavaScript", "请启用JavaScript", "人机验证",
                "滑动验证", "创宇盾", "yunsuo_session", "_waf_", "Access Denied", "Request Rejected")
# ... as bytes in the encodings Chinese sites serve (UTF-8, GBK/GB18030): searched without decoding the page twice
_BLOCK_BYTES = tuple({mark.encode(encoding) for mark in _BLOCK_MARKS for encoding in ("utf-8", "gb18030")})
_ERRORS = (  # exception class name -> (error, outcome); obsolete TLS and redirect loops are read first (on_error)
    # refused by the address guard (crawler/guard.py): never requested, so nothing is known of the target
    (("PrivateAddress",), "private_address", "unverifiable"),
    (("UnlistedAddress",), "not_listed", "unverifiable"),
    (("CannotResolveHost", "DNSLookup"), "dns", "broken"),
    (("Timeout", "TimedOut"), "timeout", "broken"),
    (("ConnectionRefused", "ConnectError", "ConnectionLost", "ConnectionDone", "ResponseNeverReceived",
      "DownloadFailed", "ResponseFailed", "NoRoute", "ResponseDataLoss"), "connect", "broken"),   # DataLoss: body cut short
    (("SSL", "TLS", "Certificate"), "tls", "broken"),
    (("DownloadCancelled", "DOWNLOAD_MAXSIZE"), "too_large", "unverifiable"),   # a body, or its gzip inflated, past the cap
)


def outcome_of(status: int | None) -> str:
    if status is None:
        return "unverifiable"
    if status in _BROKEN_STATUS or status >= 500:
        return "broken"
    if status >= 400:
        return "unverifiable"
    return "ok"


class SiteSpider(FamilyCrawling, scrapy.Spider):
    name = "site"
    custom_settings: dict = {}

    def __init__(self, url: str, site_key: str | None = None, reference_date: str | None = None,
                 options: ExtractOptions | None = None, sink=None, registry: ScanRegistry | None = None,
                 max_depth: int | None = None, also: list[str] | None = None, resume=None, **kwargs):
        super().__init__(**kwargs)
        self.start_url = url
        self.site_key = site_key or url
        self.netlocs = {netloc(url)}
        self.reference = date.fromisoformat(reference_date) if reference_date else date.today()
        self.options = options or ExtractOptions()
        self.sink = sink
        self.registry = registry or ScanRegistry({netloc(url)})
        # URL sets as hashes in one table (crawler/urlset.py): what a spider remembers grows with its site
        urls = UrlTable()
        self.crawl_claimed = urls.new_set()
        self.checked = urls.new_set()   # link targets this spider asked the registry about: never twice
        self.parsed = urls.new_set()
        self.resume = resume              # sitecensus.resume.SiteResume: what the store holds of this site
        self.done_before = urls.new_set(resume.fetched if resume else ())   # requested before: never again
        self.depth_override = max_depth  # a retained portal page: that page and its links only
        self.also = [u for u in (also or []) if netloc(u) in self.netlocs and u != url]   # a re-check's pages
        # Budget counters (reported when the spider closes): distinct URLs, so a link on every page counts once
        self.link_checks = 0
        self.pages_left = urls.new_set()     # internal pages not crawled: the page budget was spent
        self.checks_left = urls.new_set()    # targets not checked: the link-check budget was spent
        self.links_unread = 0                 # links past the per-page cap, summed over pages (never normalized)
        self.trapped: dict[str, str] = {}     # url -> trap kind (crawler/traps.py), never requested

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.max_pages = crawler.settings.getint("SITECENSUS_MAX_PAGES", 5000)
        spider.max_depth = (spider.depth_override if spider.depth_override is not None
                            else crawler.settings.getint("SITECENSUS_MAX_DEPTH", 8))
        spider.check_external = crawler.settings.getbool("SITECENSUS_CHECK_EXTERNAL", True)
        spider.max_link_checks = crawler.settings.getint("SITECENSUS_MAX_LINK_CHECKS", 5000)
        spider.options = replace(spider.options, max_links=crawler.settings.getint("SITECENSUS_MAX_LINKS_PER_PAGE", 20000))
        spider.minutes_budget = crawler.settings.getfloat("CLOSESPIDER_TIMEOUT") / 60
        spider.traps = TrapGuard(*crawler.settings.getlist("SITECENSUS_TRAPS", [2000, 3, 50]))
        crawler.signals.connect(spider._stop_check_downloads, signal=signals.headers_received)
        spider._setup_render(crawler.settings)
        spider._setup_families(crawler.settings)
        return spider

    def _setup_render(self, settings) -> None:
        """crawl.render as crawler/render.py put it into the settings; `rendered` counts against the budget."""
        self.render_enabled = settings.getbool("SITECENSUS_RENDER_ENABLED", False)
        self.render_budget = settings.getint("SITECENSUS_RENDER_MAX_PAGES", 0)
        self.render_timeout = settings.getfloat("SITECENSUS_RENDER_TIMEOUT", 20)
        self.rendered = 0

    def closed(self, reason: str) -> None:
        # "shutdown" means SIGINT/SIGTERM stopped the crawl: the sink marks the scan interrupted
        if self.sink is not None:
            self.sink.spider_closed(self.site_key, reason)
            self.sink.crawl_report(self.site_key, self.budget_report(reason))

    def budget_report(self, reason: str) -> dict:
        """What the site's budgets left undone (stored as Site.crawl; scoring/certainty.py words it)."""
        kinds: dict[str, int] = {}
        for kind in self.trapped.values():
            kinds[kind] = kinds.get(kind, 0) + 1
        return {"reason": reason, "timed_out": reason == "closespider_timeout", "minutes_budget": self.minutes_budget,
                "pages_left": len(self.pages_left), "page_budget": self.max_pages,
                "link_checks": self.link_checks, "checks_left": len(self.checks_left),
                "check_budget": self.max_link_checks, "links_unread": self.links_unread,
                "page_link_cap": self.options.max_links, "traps": len(self.trapped), "trap_kinds": kinds,
                "trap_examples": list(self.trapped)[:3]}

    def _stop_check_downloads(self, headers, body_length, request, spider):
        if request.meta.get("check_only"):
            raise StopDownload(fail=False)  # a link check needs the status, not the body

    async def start(self):
        self.crawl_claimed.add(self.start_url)
        if self.start_url not in self.done_before:
            yield self._request(self.start_url, self.parse_page, depth=0, referrer=None, is_home=True)
        for url in self.also:
            if url not in self.crawl_claimed:
                self.crawl_claimed.add(url)
                if url not in self.done_before:
                    yield self._request(url, self.parse_page, depth=0, referrer=None)
        if self.resume is not None:
            for request in self._replay(self.resume):
                yield request

    def _replay(self, resume):
        """Take the site up where the store left it: follow the stored pages' stored links again, in depth
        order, so that the frontier, the claims and the budget counters are what they were; `_follow`
        requests nothing that was requested before (done_before). Not replayed: the requests CMS families
        (crawler/families) made from a stored page, since its body is not stored; a list page or data
        answer they had not fetched yet is not crawled in the resumed run."""
        if resume.home_final_url:
            self._adopt_home_host(netloc(resume.home_final_url))
        self.parsed.update(page.url for page in resume.pages)
        for page in resume.pages:
            if page.is_home and not resume.home_ok:
                continue   # a home page that failed or was blocked: its links were never followed
            yield from self._follow(page, page.url, page.depth)
        resume.pages = []   # replayed (~70 MB for 5,000 pages of 100 links): only `fetched` is needed from now on

    def _adopt_home_host(self, final_host: str) -> None:
        if final_host not in self.netlocs and final_host not in self.registry.destination_netlocs:
            self.netlocs.add(final_host)  # http -> https, bare -> www, or the site's new address

    def _claim_check(self, url: str) -> bool:
        """A link target outside _follow (a family's script): True when this spider should report its fetch."""
        if url in self.checked:
            return False
        self.checked.add(url)
        return self.registry.claim(url, self.site_key) and url not in self.done_before

    # ------------------------------------------------------------ requests

    def _request(self, url, callback, depth, referrer, is_home=False, method="GET", check_only=False):
        # Lean: thousands wait in the scheduler for a big site (crawler/frontier.py keeps them as tuples). The
        # Referer header is set as the request leaves (crawler.middlewares.RefererFromMeta); flags only when true;
        # the host name is one shared string, not one per request.
        meta = {"download_slot": sys.intern(netloc(url)), "depth": depth, "referrer": referrer, "first_url": url}
        if is_home:
            meta["is_home"] = True
        if check_only:
            meta["check_only"] = True
        return scrapy.Request(url, method=method, callback=callback, errback=self.on_error, dont_filter=True, meta=meta)

    def _follow(self, facts, response_url: str, depth: int):
        """Crawl the site's pages, check every other target once, within the site's budgets; trap URLs
        are never requested, nor what this site requested before it was resumed. `facts` needs `links`
        (url, kind) and `links_unread`: a page's facts, or a stored page (sitecensus/resume.py). Each link
        costs a few set lookups; links past the page's cap were never read. The page's new check targets are
        claimed in the registry at once (one round trip to a shared registry), their requests kept in link order."""
        self.links_unread += facts.links_unread
        checked, elsewhere, site = self.checked, self.registry.claimed_elsewhere, self.site_key
        out: list = []                           # the requests, in link order; a check's waits for its claim
        claims: list[tuple[int, str]] = []       # (its place in `out`, the target)
        for link in facts.links:
            url = link.url
            if url in self.crawl_claimed or url in self.trapped or (
                    link.kind != "page" and (url in checked or url in self.checks_left or elsewhere(url, site))):
                continue   # seen: a page's own links repeat on every page
            here = netloc(url)
            internal = here in self.netlocs
            if not internal and (here in self.registry.site_netlocs or not self.check_external):
                continue  # another spider of this scan crawls that site
            crawlable = internal and link.kind == "page" and depth + 1 <= self.max_depth
            if not crawlable and (url in checked or elsewhere(url, site)):
                continue
            trap = self.traps.reason(url)
            if trap:
                self.trapped[url] = trap
                continue
            if crawlable:
                if len(self.crawl_claimed) < self.max_pages:
                    self.crawl_claimed.add(url)
                    if url not in self.done_before:
                        out.append(self._request(url, self.parse_page, depth + 1, response_url))
                    continue
                self.pages_left.add(url)   # past the page budget: checked as a link target instead
                if url in checked or elsewhere(url, site):
                    continue
            if self.link_checks + len(claims) >= self.max_link_checks:   # as if every claim pending were won
                self.checks_left.add(url)
                continue
            checked.add(url)
            claims.append((len(out), url))
            out.append(None)
        for (place, url), mine in zip(claims, self.registry.claim_many([url for _, url in claims], site)):
            if not mine:
                continue   # another site claimed it first (another worker's, unknown here until asked)
            self.link_checks += 1
            if url not in self.done_before:
                out[place] = self._request(url, self.on_checked, depth + 1, response_url, method="HEAD",
                                           check_only=True)
        yield from (request for request in out if request is not None)

    # ------------------------------------------------------------ responses

    def _fetch(self, response, outcome: str | None = None, error: str | None = None) -> FetchItem:
        meta = response.meta
        hops = list(zip(meta.get("redirect_urls", []), meta.get("redirect_reasons", [])))
        status = response.status
        if outcome is None:
            outcome = outcome_of(status)
            error = None if outcome == "ok" else f"http_{status}"
        return FetchItem(site=self.site_key, url=meta.get("first_url", response.url), method=response.request.method,
                         status=status, outcome=outcome, error=error, final_url=response.url,
                         redirects=[[u, r] for u, r in hops], content_type=_ctype(response),
                         bytes=len(response.body), elapsed_ms=_ms(meta.get("download_latency")),
                         fetched_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))

    def parse_page(self, response):
        meta = response.meta
        is_home = meta.get("is_home", False)
        final_host = netloc(response.url)
        if is_home:
            self._adopt_home_host(final_host)
        ctype = _ctype(response) or ""
        is_html = (not ctype or ctype.startswith(_HTML_TYPES)) and response.request.method == "GET"
        if not is_html or final_host not in self.netlocs or response.url in self.parsed:
            yield self._fetch(response)
            return
        # an app shell's <noscript>请启用JavaScript</noscript> is no firewall: the browser reads it (crawler/render.py)
        blocked = _blocked(response) and not (response.meta.get("playwright")
                                              or render.script_built(response.body) == "app_shell")
        fetch = self._fetch(response, "unverifiable", "blocked") if blocked else self._fetch(response)
        if fetch.outcome != "ok" and not is_home:
            yield fetch
            return
        self.parsed.add(response.url)
        found = self._families_of(response, ctype)   # CMS families: lists only scripts carry
        if found.pending:
            yield from self._wait_for_includes(response, found.pending)
            return
        facts = analyse_page(response.url, found.body or response.body, ctype, self.reference, self.options, is_home)
        self._merge_families(facts, found)
        rendering = self._render_or_explain(response, fetch, facts)
        if rendering is not None:
            yield rendering   # the rendered page is analysed and stored instead of this one
            return
        yield from self._page_out(response, fetch, facts)
        yield from self._family_requests(found, response.url, meta.get("depth", 0))

    def _page_out(self, response, fetch: FetchItem, facts):
        meta = response.meta
        yield PageItem(fetch=fetch, depth=meta.get("depth", 0), referrer=meta.get("referrer"),
                       is_home=meta.get("is_home", False), facts=facts.to_dict(),
                       links=[(l.url, l.tag, l.kind, l.text) for l in facts.links])
        if fetch.outcome == "ok":
            yield from self._follow(facts, response.url, meta.get("depth", 0))

    # ------------------------------------------------------------ pages built by script (crawler/render.py)

    def _render_or_explain(self, response, fetch: FetchItem, facts):
        """A request to render this page in the browser, or None to store its facts as they are (saying
        what could not be read when the page needs a browser it did not get)."""
        if response.meta.get("playwright"):
            facts.rendered = True
            if render.needs_browser(response.body, facts):
                render.mark_unread(facts, response.meta["render_shape"], render.STILL_EMPTY)
            return None
        shape = render.needs_browser(response.body, facts)
        if shape is None:
            return None
        if not self.render_enabled:
            render.mark_unread(facts, shape, render.OFF)
            return None
        if self.rendered >= self.render_budget:
            render.mark_unread(facts, shape, render.OVER_BUDGET.format(limit=self.render_budget))
            return None
        self.rendered += 1
        self.parsed.discard(response.url)
        kept = {k: v for k, v in response.meta.items() if k in _RENDER_KEEPS_META}   # where it came from, how it got here
        meta = {**kept, **render.render_meta(self.render_timeout, shape), "static_page": (response, fetch, facts)}
        return response.request.replace(url=response.url, meta=meta, callback=self.parse_page,
                                        errback=self.on_render_error)

    def on_render_error(self, failure):
        """The browser failed or timed out: keep the static facts, with the reason they are incomplete."""
        meta = failure.request.meta
        response, fetch, facts = meta["static_page"]
        render.mark_unread(facts, meta["render_shape"], render.failure_reason(failure))
        self.parsed.add(response.url)
        yield from self._page_out(response, fetch, facts)

    def on_checked(self, response):
        request = response.request
        if request.method == "HEAD" and response.status >= 400:
            retry = self._request(response.meta["first_url"], self.on_checked, response.meta["depth"],
                                  response.meta["referrer"], check_only=True)
            yield retry  # many servers answer HEAD wrongly; GET decides
            return
        yield self._fetch(response)

    def on_error(self, failure):
        request = failure.request
        names = " ".join(cls.__name__ for cls in type(failure.value).__mro__) + " " + str(failure.value)
        error, outcome = "failed", "unverifiable"
        if "max redirections" in names:
            error, outcome = "redirect_loop", "broken"
        elif obsolete_tls(names):   # Scrapy wraps the failed handshake as a refused connection: before "connect"
            error, outcome = "tls_obsolete", "broken"
        else:
            for marks, err, out in _ERRORS:
                if any(mark in names for mark in marks):
                    error, outcome = err, out
                    break
        meta = request.meta
        hops = list(zip(meta.get("redirect_urls", []), meta.get("redirect_reasons", [])))
        yield FetchItem(site=self.site_key, url=meta.get("first_url", request.url), method=request.method,
                        status=None, outcome=outcome, error=error, final_url=request.url,
                        redirects=[[u, r] for u, r in hops],
                        fetched_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))


def _ctype(response) -> str | None:
    value = response.headers.get("Content-Type")
    return value.decode("latin-1").split(";")[0].strip().lower() if value else None


def _ms(seconds) -> int | None:
    return int(seconds * 1000) if seconds is not None else None


def _blocked(response) -> bool:
    if response.status != 200 or len(response.body) > 20000:
        return False
    body = response.body
    return any(mark in body for mark in _BLOCK_BYTES)

