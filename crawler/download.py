"""The HTTP download handlers (DOWNLOAD_HANDLERS): Scrapy's aiohttp handler, resolving through the reactor's
resolver (crawler.resolver.HostsResolver: hosts map, DNS cache, address guard), and, when rendering is on,
scrapy-playwright's handler for the requests a browser must make.

Why not Scrapy's default (Twisted's HTTP client): its response parser is pure Python and was ~17 % of a
worker's CPU on the shared bench; aiohttp parses in C (llhttp, lenient about headers as browsers are). Every
failure keeps the name the spider's error table reads (crawler/spiders/site.py `_ERRORS`): a refused or
timed-out connection, a lost one, a cut body, a body past the size cap.
"""
from __future__ import annotations

import socket
import ssl
from contextlib import asynccontextmanager
from typing import ClassVar

import aiohttp
from aiohttp.abc import AbstractResolver
from scrapy.core.downloader.handlers._aiohttp import AiohttpDownloadHandler, _ClientResponse
from scrapy.core.downloader.handlers._base_streaming import BaseStreamingDownloadHandler
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.ssl import _make_ssl_context
from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler
from twisted.internet.error import DNSLookupError

LEGACY_SERVER_CONNECT = getattr(ssl, "OP_LEGACY_SERVER_CONNECT", 0x4)   # OpenSSL's value; named in Python 3.12+
# Twisted's client took header lines up to 16 KB (a long Set-Cookie or Location); aiohttp's default is 8 KB
MAX_HEADER_LINE = 16384


class ReactorResolver(AbstractResolver):
    """aiohttp's name resolution by the reactor's resolver: the one AddressGuardMiddleware asked before the
    request left (so the cached answer, never a second DNS answer the guard did not see). An IP-literal host
    never comes here (aiohttp connects to it directly; the middleware checked it)."""

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET) -> list:
        from twisted.internet import reactor
        try:
            address = await maybe_deferred_to_future(reactor.resolve(host))
        except DNSLookupError as exc:   # aiohttp reports an OSError as a DNS failure (CannotResolveHostError)
            raise socket.gaierror(socket.EAI_NONAME, str(exc)) from exc
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [{"hostname": host, "host": address, "port": port, "family": family, "proto": 0,
                 "flags": socket.AI_NUMERICHOST}]

    async def close(self) -> None:
        pass


class HttpDownloadHandler(AiohttpDownloadHandler):
    """Scrapy's AiohttpDownloadHandler, changed: the session is made at the first request (aiohttp needs a
    running event loop; a site's crawler may be made before the reactor runs); no per-host connection limit of
    its own (Scrapy's download slots and crawler.limiter.SharedHostLimiter are the per-host limits: a second
    limit would make a request wait inside its download timeout, our queue counted as the site's slowness);
    the URL is sent as Scrapy holds it (already percent-encoded), not re-normalised by yarl; names resolve as
    above; header lines and TLS renegotiation as lenient as Twisted's client."""

    # Scrapy 2.19 marks it experimental and logs so for every crawler (one per site); tests/test_hostile.py holds
    # it to hangs, resets, cut bodies, size caps and huge headers, tests/test_download.py to the changes above.
    experimental: ClassVar[bool] = False

    def __init__(self, crawler):
        BaseStreamingDownloadHandler.__init__(self, crawler)   # not the parent's: it makes the session at once
        self._ssl_context = _make_ssl_context(crawler.settings)
        # as Scrapy's Twisted client: old servers without secure renegotiation (RFC 5746) are still read
        self._ssl_context.options |= LEGACY_SERVER_CONNECT
        self._session: aiohttp.ClientSession | None = None

    def _new_session(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(local_addr=self._bind_address, limit=self._pool_size_total,
                                         limit_per_host=0, resolver=ReactorResolver(), use_dns_cache=False)
        return aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar(),
                                     auto_decompress=False, response_class=_ClientResponse,
                                     skip_auto_headers=("Accept", "Accept-Encoding", "Content-Type", "User-Agent"),
                                     max_line_size=MAX_HEADER_LINE, max_field_size=MAX_HEADER_LINE)

    @asynccontextmanager
    async def _make_request(self, request, timeout):
        if self._session is None:
            self._session = self._new_session()
        request.meta["verbatim_url"] = True
        async with super()._make_request(request, timeout) as response:
            yield response

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


class BrowserDownloadHandler(ScrapyPlaywrightDownloadHandler):
    """With rendering on: scrapy-playwright's handler for meta["playwright"] requests, the rest as above."""

    def __init__(self, crawler):
        super().__init__(crawler)
        self.http = HttpDownloadHandler(crawler)

    async def download_request(self, request):
        if request.meta.get("playwright"):
            return await super().download_request(request)
        return await self.http.download_request(request)

    async def close(self) -> None:
        await self.http.close()
        await super().close()
