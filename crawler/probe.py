"""Home-page availability probes (V1/D1) with httpx: all sites at once, one request per host, a hard
total timeout per probe (the census counts a probe as failed when the page has not opened in 15 s)."""
from __future__ import annotations

import asyncio
import socket
import ssl
import time
from dataclasses import dataclass
from datetime import datetime, timezone

import httpx
from cryptography import x509

from crawler.resolver import HostsMap


BLOCKED_STATUS = frozenset((401, 403, 407, 412, 429, 451))


@dataclass
class ProbeResult:
    url: str
    at: datetime
    ok: bool
    status: int | None = None
    error: str | None = None        # dns | connect | tls | timeout | http_<status> | blocked_<status> | empty
    elapsed_ms: int | None = None
    bytes: int = 0


def _error_class(exc: Exception) -> str:
    text = f"{type(exc).__name__} {exc}".lower()
    if isinstance(exc, (asyncio.TimeoutError, httpx.TimeoutException)):
        return "timeout"
    if "name or service not known" in text or "nodename nor servname" in text or "getaddrinfo" in text \
            or "name resolution" in text or "no address associated" in text:
        return "dns"
    if "ssl" in text or "certificate" in text:
        return "tls"
    if isinstance(exc, httpx.TooManyRedirects):
        return "redirect_loop"
    return "connect"


def _mapped(url: str, hosts: HostsMap) -> tuple[str, dict]:
    """The URL to request and the headers, with the hosts map applied (raises socket.gaierror)."""
    parsed = httpx.URL(url)
    address = hosts.address(parsed.host)
    if address == parsed.host:
        return url, {}
    return str(parsed.copy_with(host=address)), {"Host": parsed.netloc.decode("ascii")}


PROBE_MAX_BYTES = 2 * 1024 * 1024   # enough to know the home page opens; a 50 MB page is not read to the end


async def _get(client: httpx.AsyncClient, target: str, headers: dict) -> tuple[httpx.Response, int]:
    async with client.stream("GET", target, headers=headers) as response:
        size = 0
        async for chunk in response.aiter_raw():
            size += len(chunk)
            if size >= PROBE_MAX_BYTES:
                break
        return response, size


async def probe(client: httpx.AsyncClient, url: str, timeout: float, hosts: HostsMap | None = None) -> ProbeResult:
    """One probe: the home page must answer with a non-empty page within `timeout` seconds in total
    (name lookup, connection, redirects and body included)."""
    started = time.monotonic()
    at = datetime.now(timezone.utc)
    try:
        target, headers = _mapped(url, hosts or HostsMap())
    except socket.gaierror:
        return ProbeResult(url, at, False, error="dns", elapsed_ms=0)
    try:
        response, size = await asyncio.wait_for(_get(client, target, headers), timeout)
    except Exception as exc:  # noqa: BLE001 - every failure is a failed probe, classified
        return ProbeResult(url, at, False, error=_error_class(exc), elapsed_ms=int((time.monotonic() - started) * 1000))
    elapsed = int((time.monotonic() - started) * 1000)
    if response.status_code in BLOCKED_STATUS:  # the site refuses us, which says nothing of its availability
        return ProbeResult(url, at, False, response.status_code, f"blocked_{response.status_code}", elapsed, size)
    if response.status_code >= 400:
        return ProbeResult(url, at, False, response.status_code, f"http_{response.status_code}", elapsed, size)
    if size == 0:
        return ProbeResult(url, at, False, response.status_code, "empty", elapsed, size)
    return ProbeResult(url, at, True, response.status_code, None, elapsed, size)


async def probe_round(urls: list[str], timeout: float, user_agent: str,
                      hosts: HostsMap | None = None) -> list[ProbeResult]:
    """One probe of every URL: all hosts at once, one request per host at a time (so a round of
    sites on distinct hosts takes one timeout at most). Results come in the order of `urls`."""
    by_host: dict[str, list[str]] = {}
    for url in urls:
        by_host.setdefault(httpx.URL(url).netloc.decode("ascii").lower(), []).append(url)
    limits = httpx.Limits(max_connections=max(10, len(by_host)), max_keepalive_connections=0)
    async with httpx.AsyncClient(follow_redirects=True, headers={"User-Agent": user_agent}, limits=limits,
                                 timeout=httpx.Timeout(timeout), verify=False) as client:
        async def one_host(host_urls: list[str]) -> list[ProbeResult]:
            return [await probe(client, url, timeout, hosts) for url in host_urls]

        done = await asyncio.gather(*(one_host(group) for group in by_host.values()))
    results = {r.url: r for group in done for r in group}
    return [results[url] for url in urls]


async def probe_rounds(urls: list[str], rounds: int, spacing: float, timeout: float,
                       user_agent: str, hosts: HostsMap | None = None, stop=None) -> list[ProbeResult]:
    """`rounds` rounds `spacing` seconds apart. Once `stop` (a threading.Event) is set no new round
    starts: the rounds already taken are returned (an interrupted scan keeps them)."""
    results: list[ProbeResult] = []
    for index in range(rounds):
        if await _stopped_within(stop, spacing if index else 0):
            break
        results += await probe_round(urls, timeout, user_agent, hosts)
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
    """HTTPS facts for G4: is there HTTPS at all, is the certificate trusted, when does it expire.

    The certificate is read without verification (to describe even a bad one), then a verified
    handshake says whether browsers would trust it.
    """
    parts = httpx.URL(url)
    host = parts.host
    port = parts.port or 443 if parts.scheme == "https" else 443
    hosts = hosts or HostsMap()
    result: dict = {"scheme": parts.scheme, "host": host, "port": port, "https": False,
                    "resolves": await hosts.resolves(host)}
    if not result["resolves"]:
        return result
    address = hosts.address(host)
    reader = writer = None
    try:
        loose = ssl.create_default_context()
        loose.check_hostname, loose.verify_mode = False, ssl.CERT_NONE
        reader, writer = await asyncio.wait_for(asyncio.open_connection(address, port, ssl=loose, server_hostname=host),
                                                timeout)
        der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
    except (OSError, asyncio.TimeoutError, ssl.SSLError) as exc:
        result["error"] = f"{type(exc).__name__}: {exc}"[:200]
        return result
    finally:
        if writer is not None:
            writer.close()
    cert = x509.load_der_x509_certificate(der)
    result.update(https=True, not_after=cert.not_valid_after_utc.isoformat(),
                  issuer=cert.issuer.rfc4514_string()[:200], subject=cert.subject.rfc4514_string()[:200])
    try:
        strict = ssl.create_default_context()
        _, writer = await asyncio.wait_for(asyncio.open_connection(address, port, ssl=strict, server_hostname=host), timeout)
        writer.close()
        result["trusted"] = True
    except (OSError, asyncio.TimeoutError, ssl.SSLError) as exc:
        result["trusted"], result["trust_error"] = False, f"{getattr(exc, 'verify_message', '') or exc}"[:200]
    return result


async def tls_round(urls: list[str], timeout: float, hosts: HostsMap | None = None) -> dict[str, dict]:
    results = await asyncio.gather(*(tls_status(url, timeout, hosts) for url in urls))
    return dict(zip(urls, results))
