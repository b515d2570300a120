"""Downloader middlewares: the address guard (every request, redirects included, goes only where
crawler/guard.py lets it), the Referer header from the request's meta, Retry-After (a 429/503 that
says when to come back is retried once after that delay, up to SITECENSUS_RETRY_AFTER_MAX seconds;
otherwise the answer stands), Scrapy's redirects with the Referer from meta, and Scrapy's meta refresh only where
a page can hold one."""
from __future__ import annotations

import asyncio
from email.utils import parsedate_to_datetime
from datetime import datetime, timezone

from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware, RedirectMiddleware
from scrapy.http import HtmlResponse
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached

from crawler.guard import ip_of
from crawler.resolver import settings_map


def retry_after_seconds(value: bytes | str | None) -> float | None:
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


class RetryAfterMiddleware:
    def __init__(self, max_wait: float):
        self.max_wait = max_wait

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.settings.getfloat("SITECENSUS_RETRY_AFTER_MAX", 120))

    async def process_response(self, request, response, spider=None):
        if response.status not in (429, 503) or request.meta.get("retried_after"):
            return response
        wait = retry_after_seconds(response.headers.get("Retry-After"))
        if wait is None or wait > self.max_wait:
            return response
        await asyncio.sleep(wait)
        retry = request.replace(dont_filter=True)
        retry.meta["retried_after"] = True
        return retry


class RefererFromMeta:
    """The Referer header is set as a request leaves, from meta["referrer"] (the page that linked to it), not
    when the spider makes the request: a header costs a waiting request ~0.8 KB of its ~1.7 KB, and a site of
    5,000 pages has thousands of requests waiting in a worker."""

    def process_request(self, request, spider=None):
        referrer = request.meta.get("referrer")
        if referrer and b"Referer" not in request.headers:
            request.headers[b"Referer"] = referrer
        return None


class AddressGuardMiddleware:
    """Before anything leaves: an IP-literal host is checked here, a name through the reactor's resolver
    (crawler.resolver.HostsResolver: hosts map, DNS, then the guard; its answer is cached for the download
    that follows). A refused request fails with crawler.guard.AddressRefused, never reaching the network.
    A redirect is a new request and passes here again."""

    def __init__(self, hosts):
        self.hosts = hosts

    @classmethod
    def from_crawler(cls, crawler):
        return cls(settings_map(crawler.settings))

    async def process_request(self, request, spider=None):
        from twisted.internet import reactor
        host = urlparse_cached(request).hostname
        # the resolver's guard when it is ours: it has learnt where the registered sites live
        guard = getattr(reactor.resolver, "map", self.hosts).guard
        if not host or guard.trusted(host):
            return None
        if ip_of(host) is not None:
            guard.check(host, host)
            return None
        await maybe_deferred_to_future(reactor.resolve(host))
        return None


class _RefererFromMetaOnRedirects:
    """A redirect's next hop gets its Referer from meta like any request (RefererFromMeta, which runs for it
    too): Scrapy's RefererMiddleware, which its redirect middlewares look for, is off, and they warned so for
    every site of a scan, though nothing was missing. Only that look-up at engine start is left out."""

    @classmethod
    def from_crawler(cls, crawler):
        middleware = cls(crawler.settings)
        middleware.crawler = crawler
        return middleware


class RedirectKeepingReferrer(_RefererFromMetaOnRedirects, RedirectMiddleware):
    """Scrapy's RedirectMiddleware (HTTP 301/302/303/307/308)."""


class MetaRefreshWhereWritten(_RefererFromMetaOnRedirects, MetaRefreshMiddleware):
    """Scrapy's MetaRefreshMiddleware decodes every HTML body (response.text) to read its first 4,096
    characters, ~1.5 % of a worker's CPU, though few pages hold a refresh: it reads only a body whose first
    16 KB (4,096 characters in UTF-8 or GB18030) say "refresh" in any case. A UTF-16 body (its ASCII is not
    ASCII bytes) is read as before."""

    def process_response(self, request, response, spider=None):
        if isinstance(response, HtmlResponse) and request.method != "HEAD":   # what Scrapy's reads at all
            head = response.body[:16384]
            if b"refresh" not in head.lower() and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
                return response
        return super().process_response(request, response)
