"""Home-page availability probes (V1/D1) with httpx: all sites at once, one request per host, a hard
total timeout per probe (the census counts a probe as failed when the page has not opened in 15 s).

Every request of these clients — redirects included, since httpx sends each hop through the transport —
goes through `GuardedTransport`: the hosts map and resolver rules of the crawl, then the address guard
(crawler/guard.py). A probe, a TLS check or a second try never asks DNS for a name the crawl would not."""
from __future__ import annotations

import asyncio
import socket
import ssl
import time
import warnings
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cache

import httpx
from cryptography import x509

from crawler.guard import AddressRefused, ip_of
from crawler.resolver import HostsMap


BLOCKED_STATUS = frozenset((401, 403, 407, 412, 429, 451))


@dataclass
class ProbeResult:
    url: str
    at: datetime
    ok: bool
    status: int | None = None
    error: str | None = None        # dns | connect | tls | tls_obsolete | timeout | http_<status> | blocked_<status> | empty
    #                                 | private_address | not_listed (refused by the address guard: nothing sent)
    elapsed_ms: int | None = None
    bytes: int = 0
    content_type: str | None = None
    final_url: str | None = None
    body: bytes | None = None       # kept only when asked for, and only for HTML (a second try's page is read)


# A server that offers only SSL 3 / TLS 1.0 / 1.1: current browsers (and our clients) refuse the handshake, and
# OpenSSL says so in these words. The site is then unreachable for its visitors too, for this one reason.
OBSOLETE_TLS = ("protocol_version", "unsupported_protocol", "unsupported protocol")
# What ssl.SSLSocket.version() answers for the versions current browsers no longer speak.
OBSOLETE_PROTOCOLS = frozenset(("SSLv2", "SSLv3", "TLSv1", "TLSv1.1"))


def obsolete_tls(text: str) -> bool:
    """Whether an error's text is OpenSSL refusing the server's protocol version."""
    text = text.lower()
    return any(mark in text for mark in OBSOLETE_TLS)


def error_class(exc: Exception) -> str:
    text = f"{type(exc).__name__} {exc}".lower()
    if isinstance(exc, AddressRefused):
        return exc.error
    if isinstance(exc, (asyncio.TimeoutError, httpx.TimeoutException)):
        return "timeout"
    if isinstance(exc, socket.gaierror):
        return "dns"
    if "name or service not known" in text or "nodename nor servname" in text or "getaddrinfo" in text \
            or "name resolution" in text or "no address associated" in text:
        return "dns"
    if "ssl" in text or "certificate" in text:
        return "tls_obsolete" if obsolete_tls(text) else "tls"
    if isinstance(exc, httpx.TooManyRedirects):
        return "redirect_loop"
    return "connect"


class GuardedTransport(httpx.AsyncBaseTransport):
    """Connects every request to the address the hosts map, the resolver rules and the guard give for its
    host; the Host header and the TLS server name (SNI) stay the URL's. Keep-alive must stay off: a pooled
    connection is keyed by address, and must not carry another name's request."""

    def __init__(self, hosts: HostsMap, **transport):
        self.hosts = hosts
        self.inner = httpx.AsyncHTTPTransport(**transport)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        address = await self.hosts.connect_address(request.url.host)   # gaierror, AddressRefused: nothing is sent
        return await self.inner.handle_async_request(_routed(request, address))

    async def aclose(self) -> None:
        await self.inner.aclose()


class GuardedSyncTransport(httpx.BaseTransport):
    """GuardedTransport for synchronous clients (`sitecensus inspect`)."""

    def __init__(self, hosts: HostsMap, **transport):
        self.hosts = hosts
        self.inner = httpx.HTTPTransport(**transport)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self.inner.handle_request(_routed(request, self.hosts.connect_address_sync(request.url.host)))

    def close(self) -> None:
        self.inner.close()


def _routed(request: httpx.Request, address: str) -> httpx.Request:
    """The request sent to `address`, its Host header and TLS server name still the URL's host."""
    host = request.url.host
    if ip_of(address) == ip_of(host):
        return request
    extensions = dict(request.extensions)
    if request.url.scheme == "https":
        extensions["sni_hostname"] = request.url.raw_host.decode("ascii")   # an IDN as the certificate has it
    return httpx.Request(request.method, request.url.copy_with(host=address), headers=request.headers,
                         stream=request.stream, extensions=extensions)   # headers keep Host: the name


def guarded_client(urls: list[str], timeout: float, user_agent: str, connections: int,
                   hosts: HostsMap | None) -> httpx.AsyncClient:
    """A client whose requests all pass the guard; the hosts of `urls` (registered sites, or targets the
    crawl already let through) are trusted, every other host a redirect leads to is checked."""
    transport = GuardedTransport((hosts or HostsMap()).trusting(urls), verify=False,
                                 limits=httpx.Limits(max_connections=connections, max_keepalive_connections=0))
    return httpx.AsyncClient(transport=transport, follow_redirects=True, headers={"User-Agent": user_agent},
                             timeout=httpx.Timeout(timeout))


PROBE_MAX_BYTES = 2 * 1024 * 1024   # enough to know the home page opens; a 50 MB page is not read to the end


async def _get(client: httpx.AsyncClient, url: str, keep_html: int = 0) -> tuple[httpx.Response, int, bytes | None, bool]:
    """The answer, the bytes read (up to PROBE_MAX_BYTES) and, with `keep_html` (a byte limit), an HTML body
    read whole up to that limit, and whether that HTML body went past it."""
    async with client.stream("GET", url) as response:
        kept = [] if keep_html and "html" in response.headers.get("content-type", "html") else None
        limit = keep_html + 1 if kept is not None else PROBE_MAX_BYTES
        size = 0
        async for chunk in (response.aiter_raw() if kept is None else response.aiter_bytes()):
            size += len(chunk)
            if kept is not None:
                kept.append(chunk)
            if size >= limit:
                break
        if kept is None:
            return response, size, None, False
        return response, size, b"".join(kept) if size <= keep_html else None, size > keep_html


async def probe(client: httpx.AsyncClient, url: str, timeout: float, keep_html: int = 0) -> ProbeResult:
    """One probe with a `guarded_client`: the home page must answer with a non-empty page within `timeout`
    seconds in total (name lookup, connection, redirects and body included). `keep_html` (bytes): an HTML
    answer is read whole and kept in the result, or is `too_large` past that many bytes (an endless stream
    must not pass as a page that opened)."""
    started = time.monotonic()
    at = datetime.now(timezone.utc)
    try:
        response, size, body, overflow = await asyncio.wait_for(_get(client, url, keep_html), timeout)
    except Exception as exc:  # noqa: BLE001 - every failure is a failed probe, classified
        return ProbeResult(url, at, False, error=error_class(exc), elapsed_ms=int((time.monotonic() - started) * 1000))
    elapsed = int((time.monotonic() - started) * 1000)
    if response.status_code in BLOCKED_STATUS:  # the site refuses us, which says nothing of its availability
        return ProbeResult(url, at, False, response.status_code, f"blocked_{response.status_code}", elapsed, size)
    if response.status_code >= 400:
        return ProbeResult(url, at, False, response.status_code, f"http_{response.status_code}", elapsed, size)
    if size == 0:
        return ProbeResult(url, at, False, response.status_code, "empty", elapsed, size)
    if overflow:
        return ProbeResult(url, at, False, response.status_code, "too_large", elapsed, size)
    return ProbeResult(url, at, True, response.status_code, None, elapsed, size,
                       response.headers.get("content-type"), str(response.url), body)


async def probe_round(urls: list[str], timeout: float, user_agent: str,
                      hosts: HostsMap | None = None) -> list[ProbeResult]:
    """One probe of every URL: all hosts at once, one request per host at a time (so a round of
    sites on distinct hosts takes one timeout at most). Results come in the order of `urls`."""
    by_host: dict[str, list[str]] = {}
    for url in urls:
        by_host.setdefault(httpx.URL(url).netloc.decode("ascii").lower(), []).append(url)
    async with guarded_client(urls, timeout, user_agent, max(10, len(by_host)), hosts) as client:
        async def one_host(host_urls: list[str]) -> list[ProbeResult]:
            return [await probe(client, url, timeout) for url in host_urls]

        done = await asyncio.gather(*(one_host(group) for group in by_host.values()))
    results = {r.url: r for group in done for r in group}
    return [results[url] for url in urls]


async def probe_rounds(urls: list[str], rounds: int, spacing: float, timeout: float,
                       user_agent: str, hosts: HostsMap | None = None, stop=None, on_round=None) -> list[ProbeResult]:
    """`rounds` rounds `spacing` seconds apart, each handed to `on_round` as soon as it is taken. Once `stop`
    (an Event) is set no new round starts: the rounds already taken are returned (an interrupted scan keeps them)."""
    results: list[ProbeResult] = []
    for index in range(rounds):
        if await _stopped_within(stop, spacing if index else 0):
            break
        taken = await probe_round(urls, timeout, user_agent, hosts)
        results += taken
        if on_round is not None:
            on_round(taken)
    return results


async def _stopped_within(stop, seconds: float) -> bool:
    """Wait `seconds`, waking early when `stop` is set; True if it is set."""
    deadline = time.monotonic() + seconds
    while stop is None or not stop.is_set():
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        await asyncio.sleep(min(left, 0.2))
    return True


async def tls_status(url: str, timeout: float, hosts: HostsMap | None = None) -> dict:
    """HTTPS facts for G4: is there HTTPS at all, is the certificate trusted, made out to this host name,
    when does it expire.

    The certificate is read without verification and in any protocol version the server still speaks (to
    describe even a bad one, on a server that offers only TLS 1.0/1.1: `obsolete_protocol`), then a verified
    handshake says whether browsers would trust it (not asked of an obsolete server: no browser gets that far).
    """
    parts = httpx.URL(url)
    host = parts.host
    port = parts.port or 443 if parts.scheme == "https" else 443
    result: dict = {"scheme": parts.scheme, "host": host, "port": port, "https": False, "resolves": False}
    try:
        address = await (hosts or HostsMap()).trusting([url]).connect_address(host)
    except (socket.gaierror, UnicodeError, OSError):
        return result
    result["resolves"] = True
    reader = writer = None
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(address, port, ssl=_tls_context(verify=False),
                                                                        server_hostname=host), timeout)
        secured = writer.get_extra_info("ssl_object")
        der, protocol = secured.getpeercert(binary_form=True), secured.version()
    except (OSError, asyncio.TimeoutError, ssl.SSLError) as exc:
        result["error"] = f"{type(exc).__name__}: {exc}"[:200]
        if obsolete_tls(result["error"]):
            result["obsolete_protocol"] = True   # HTTPS is there, in a version no current browser accepts
        return result
    finally:
        if writer is not None:
            writer.close()
    cert = x509.load_der_x509_certificate(der)
    names = certificate_names(cert)
    result.update(https=True, not_after=cert.not_valid_after_utc.isoformat(),
                  issuer=cert.issuer.rfc4514_string()[:200], subject=cert.subject.rfc4514_string()[:200],
                  cert_names=names[:10], name_matches=name_matches(parts.raw_host.decode("ascii"), names),
                  protocol=protocol)
    if protocol in OBSOLETE_PROTOCOLS:
        result["obsolete_protocol"] = True
        return result
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(address, port, ssl=_tls_context(verify=True),
                                                                   server_hostname=host), timeout)
        writer.close()
        result["trusted"] = True
    except (OSError, asyncio.TimeoutError, ssl.SSLError) as exc:
        result["trusted"], result["trust_error"] = False, f"{getattr(exc, 'verify_message', '') or exc}"[:200]
    return result


@cache
def _tls_context(verify: bool) -> ssl.SSLContext:
    """One context of each kind per process, shared by every handshake: making one loads the system's CA
    certificates (~30 ms of CPU; it was half of a scan's probe process, two per site). The verifying one is a
    browser's; the reading one also speaks TLS 1.0/1.1 with old ciphers (OpenSSL's security level 0), to read the
    certificate of a server that offers nothing newer: it only ever reads the certificate."""
    context = ssl.create_default_context()
    if not verify:
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)   # asking for TLS 1.0 on purpose
            context.minimum_version = ssl.TLSVersion.TLSv1
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
    return context


def certificate_names(cert: x509.Certificate) -> list[str]:
    """The names a certificate is made out to: its subjectAltName entries, else its subject's CN."""
    try:
        alt = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return [str(a.value) for a in cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)]
    return alt.get_values_for_type(x509.DNSName) + [str(ip) for ip in alt.get_values_for_type(x509.IPAddress)]


def name_matches(host: str, names: list[str]) -> bool:
    """Is `host` (ASCII form) one of `names`, a wildcard covering one leftmost label included (RFC 6125)?"""
    host = host.lower().rstrip(".")
    if ip_of(host) is not None:
        return any(ip_of(name) == ip_of(host) for name in names)
    for name in (n.lower().rstrip(".") for n in names):
        if name == host or (name.startswith("*.") and host.partition(".")[2] == name[2:] and "." in name[2:]):
            return True
    return False


async def tls_round(urls: list[str], timeout: float, hosts: HostsMap | None = None) -> dict[str, dict]:
    results = await asyncio.gather(*(tls_status(url, timeout, hosts) for url in urls))
    return dict(zip(urls, results))
