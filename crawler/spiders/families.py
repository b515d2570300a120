"""The SiteSpider's side of the CMS families (crawler/families): ask the registry about each page,
merge what the readers read into the page's facts, and make their further requests politely.

Requests a family makes go through the spider's own limits: the same download slot as the page
(per-host concurrency and delay), the site's page budget (max_pages), and each URL once.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import scrapy

from crawler import families
from crawler.extract.links import netloc
from crawler.extract.page import PageFacts
from crawler.items import PageItem


@dataclass
class FamilyPass:
    """What the registry made of one page before it is analysed."""

    readings: list[families.Reading] = field(default_factory=list)
    unread: list[dict] = field(default_factory=list)
    body: bytes | None = None              # the page with script output written in
    pending: list[families.Request] = field(default_factory=list)   # includes still to load


class FamilyCrawling:
    """Mixed into SiteSpider. Needs: crawl_claimed, parsed, done_before, _claim_check, registry, max_pages,
    reference, options, site_key, _request, _fetch, _follow, on_error, parse_page."""

    def _setup_families(self, settings) -> None:
        self.families_enabled = frozenset(settings.getlist("SITECENSUS_FAMILIES", list(families.ALL)))
        self.includes: dict[str, bytes | None] = {}     # script URL -> body (None: could not be loaded)
        self.include_waiters: dict[str, list] = {}      # script URL -> pages waiting for it
        self.includes_missing: dict[str, set[str]] = {}  # page URL -> script URLs it still waits for

    def _family_page(self, url: str, body: bytes, ctype: str | None) -> families.Page:
        return families.Page(url, body, ctype, self.reference, self.options.min_list_items)

    def _families_of(self, response, ctype: str | None) -> FamilyPass:
        page = self._family_page(response.url, response.body, ctype)
        page.includes = self.includes
        readings, unread = families.read_page(page, self.families_enabled)
        result = FamilyPass(readings=readings, unread=unread)
        for reading in readings:
            result.pending += [r for r in reading.requests if r.kind == "include"]
            result.body = reading.body or result.body
        return result

    def _wait_for_includes(self, response, pending: list[families.Request]):
        """Load the scripts whose output belongs to this page; the page is read when all are in."""
        self.parsed.discard(response.url)
        self.includes_missing[response.url] = {request.url for request in pending}
        for request in pending:
            waiting = self.include_waiters.setdefault(request.url, [])
            waiting.append(response)
            if len(waiting) == 1:   # the first page to need it asks for it
                first_check = self._claim_check(request.url)
                yield scrapy.Request(request.url, callback=self.on_include, errback=self.on_include_error,
                                     dont_filter=True, headers={"Referer": response.url},
                                     meta={"download_slot": netloc(request.url), "first_url": request.url,
                                           "referrer": response.url, "report_fetch": first_check,
                                           "download_maxsize": 2_000_000})

    def on_include(self, response):
        if response.meta.get("report_fetch"):
            yield self._fetch(response)   # it is also the link check of the script
        ok = response.status == 200
        yield from self._include_done(response.meta["first_url"], response.body if ok else None)

    def on_include_error(self, failure):
        if failure.request.meta.get("report_fetch"):
            yield from self.on_error(failure)
        yield from self._include_done(failure.request.meta["first_url"], None)

    def _include_done(self, url: str, body: bytes | None):
        self.includes[url] = body
        for page in self.include_waiters.pop(url, []):
            missing = self.includes_missing.get(page.url, set())
            missing.discard(url)
            if not missing and page.url not in self.parsed:
                self.includes_missing.pop(page.url, None)
                yield from self.parse_page(page)

    def _merge_families(self, facts: PageFacts, result: FamilyPass) -> None:
        families.merge_readings(facts, result.readings, result.unread, self.options.min_list_items)

    def _family_requests(self, result: FamilyPass, list_url: str, depth: int):
        for reading in result.readings:
            yield from self._ask(reading.requests, list_url, depth)

    def _ask(self, requests: list[families.Request], referrer: str, depth: int):
        for request in requests:
            claim = _claim(request)
            if request.kind == "include" or claim in self.crawl_claimed:
                continue
            if netloc(request.url) not in self.netlocs or len(self.crawl_claimed) >= self.max_pages:
                continue
            self.crawl_claimed.add(claim)
            if request.method != "POST" and request.url in self.done_before:
                continue   # fetched before the site was resumed (a POST's form is not stored: asked again)
            if request.kind == "page":   # a list page only a script names: crawled like any other
                yield self._request(request.url, self.parse_page, depth, referrer)
                continue
            yield scrapy.FormRequest(
                request.url, method=request.method, formdata=request.form if request.method == "POST" else None,
                callback=self.on_family_data, errback=self.on_family_data_error, dont_filter=True,
                headers={"Referer": request.list_of or referrer, "X-Requested-With": "XMLHttpRequest"},
                meta={"download_slot": netloc(request.url), "depth": depth, "referrer": referrer,
                      "first_url": request.url, "family_request": request})

    def on_family_data(self, response):
        """A data answer (dataproxy page, JSON endpoint): stored as a page of the list it feeds."""
        request: families.Request = response.meta["family_request"]
        fetch = self._fetch(response)
        ctype = (response.headers.get("Content-Type") or b"").decode("latin-1").split(";")[0].strip() or None
        if fetch.outcome == "ok":
            reading = families.read_data(self._family_page(response.url, response.body, ctype), request)
        else:
            reading = families.not_read(request.family)
        facts = self._data_facts(response.url, request, reading)
        depth = response.meta.get("depth", 0)
        yield PageItem(fetch=fetch, depth=depth, referrer=response.meta.get("referrer"), is_home=False,
                       facts=facts.to_dict(), links=[(l.url, l.tag, l.kind, l.text) for l in facts.links])
        yield from self._follow(facts, response.url, depth)
        yield from self._ask(reading.requests, request.list_of or response.url, depth)

    def on_family_data_error(self, failure):
        """No answer at all: the list page's column gets the reason (an empty data page carrying it)."""
        request: families.Request = failure.request.meta["family_request"]
        reading = families.not_read(request.family)
        facts = self._data_facts(failure.request.url, request, reading)
        for fetch in self.on_error(failure):
            yield PageItem(fetch=fetch, depth=failure.request.meta.get("depth", 0),
                           referrer=failure.request.meta.get("referrer"), is_home=False, facts=facts.to_dict())

    def _data_facts(self, url: str, request: families.Request, reading: families.Reading) -> PageFacts:
        facts = PageFacts(url=url, encoding="utf-8", title="", kind="list" if reading.items else "other",
                          groups=reading.groups, links=_unique(reading.links), family=request.family,
                          list_of=request.list_of)
        if reading.failed:
            facts.unread = [families.unread_entry(request.family, reading.failed)]
        return facts


def _claim(request: families.Request) -> str:
    """One request once: a POST is told apart by its form (jpage posts every column to the same URL)."""
    if request.method == "POST" and request.form:
        return request.url + " " + "&".join(f"{k}={v}" for k, v in sorted(request.form.items()))
    return request.url


def _unique(links):
    seen, out = set(), []
    for link in links:
        if link.url not in seen:
            seen.add(link.url)
            out.append(link)
    return out
