"""Name resolution with a hosts map (settings.yaml `crawl.hosts`) and the address guard
(crawler/guard.py), for the crawler, the probes, the second tries and the TLS check alike.

`hosts` answers listed names without asking DNS (a site before its DNS cut-over, or test hosts on
127.0.0.1); with `resolve_only_listed` every other name fails as a DNS error without a packet
leaving the machine — how the demo and the tests simulate a deregistered domain. Whatever answered,
the guard then decides whether the address may be connected to.
"""
from __future__ import annotations

import asyncio
import socket
from typing import Iterable
from urllib.parse import urlsplit

from scrapy.resolver import CachingThreadedResolver
from twisted.internet import defer
from twisted.internet.error import DNSLookupError

from crawler.guard import AddressGuard, ip_of


class HostsMap:
    def __init__(self, hosts: dict[str, str] | None = None, only_listed: bool = False,
                 guard: AddressGuard | None = None):
        self.hosts = {name.lower(): ip for name, ip in (hosts or {}).items()}
        self.only_listed = only_listed
        self.guard = guard or AddressGuard((), self.hosts, (), only_listed)

    @classmethod
    def of(cls, crawl, site_urls: Iterable[str] = ()) -> HostsMap:
        """The map and guard of the crawl settings, for a scan of the registered sites `site_urls`."""
        return cls(crawl.hosts, crawl.resolve_only_listed,
                   AddressGuard(url_hosts(site_urls), crawl.hosts, crawl.private_networks_allowed, crawl.resolve_only_listed))

    def trusting(self, urls: Iterable[str]) -> HostsMap:
        """The same map whose guard also trusts the hosts of `urls` (the sites a probe round starts from)."""
        return HostsMap(self.hosts, self.only_listed, self.guard.trusting(url_hosts(urls)))

    def lookup(self, name: str) -> str | None:
        """The mapped address, None to ask DNS; raises socket.gaierror for a name that must not resolve."""
        name = name.lower().rstrip(".")
        if name in self.hosts:
            return self.hosts[name]
        if self.only_listed and not _is_ip(name):
            raise socket.gaierror(socket.EAI_NONAME, f"{name} is not in crawl.hosts (resolve_only_listed)")
        return None

    async def resolves(self, name: str) -> bool:
        """Does the name resolve (the mapped answer, or DNS)?"""
        try:
            if self.lookup(name):
                return True
            await asyncio.get_running_loop().getaddrinfo(name, None)
            return True
        except (socket.gaierror, UnicodeError, OSError):
            return False

    def address(self, name: str) -> str:
        """Where to connect for `name` (raises socket.gaierror when it must not resolve)."""
        return self.lookup(name) or name

    async def connect_address(self, name: str) -> str:
        """The address to connect to for `name`, the mapped one or the system resolver's, once the guard
        let it pass (raises socket.gaierror, or crawler.guard.AddressRefused)."""
        address = self._known(name)
        if address is None:
            found = await asyncio.get_running_loop().getaddrinfo(name, None, type=socket.SOCK_STREAM)
            address = found[0][4][0]
        self.guard.check(name, address)
        return address

    def connect_address_sync(self, name: str) -> str:
        """connect_address for synchronous clients (`sitecensus inspect`)."""
        address = self._known(name) or socket.getaddrinfo(name, None, type=socket.SOCK_STREAM)[0][4][0]
        self.guard.check(name, address)
        return address

    def _known(self, name: str) -> str | None:
        """The address without asking DNS: the mapped one, or the name itself when it is an address."""
        return self.lookup(name) or (name if ip_of(name) is not None else None)


def url_hosts(urls: Iterable[str]) -> list[str]:
    return [host for host in (urlsplit(url).hostname for url in urls) if host]


def settings_map(settings) -> HostsMap:
    """The hosts map and guard that sitecensus.scan.scrapy_settings put into Scrapy's settings."""
    hosts = settings.getdict("SITECENSUS_HOSTS")
    only_listed = settings.getbool("SITECENSUS_RESOLVE_ONLY_LISTED")
    return HostsMap(hosts, only_listed, AddressGuard(settings.getlist("SITECENSUS_ALLOWED_HOSTS"), hosts,
                                                     settings.getlist("SITECENSUS_PRIVATE_NETWORKS_ALLOWED"), only_listed))


def _is_ip(name: str) -> bool:
    try:
        socket.inet_pton(socket.AF_INET6 if ":" in name else socket.AF_INET, name)
        return True
    except OSError:
        return False


class HostsResolver(CachingThreadedResolver):
    """Scrapy's resolver (TWISTED_DNS_RESOLVER) with the hosts map in front and the guard behind: a name
    that resolves to a refused address fails with crawler.guard.PrivateAddress (reactor.resolve passes it
    on as it is, which is how crawler.middlewares.AddressGuardMiddleware tells it from a DNS failure)."""

    @classmethod
    def from_crawler(cls, crawler, reactor):
        resolver = super().from_crawler(crawler, reactor)
        resolver.map = settings_map(crawler.settings)
        return resolver

    def getHostByName(self, name, timeout=()):  # noqa: N802 - Twisted's interface
        try:
            mapped = self.map.lookup(name)
        except socket.gaierror as exc:
            return defer.fail(DNSLookupError(str(exc)))
        found = defer.succeed(mapped) if mapped else super().getHostByName(name, timeout)
        return found.addCallback(self._checked, name)

    def _checked(self, address: str, name: str) -> str:
        self.map.guard.check(name, address)
        return address
