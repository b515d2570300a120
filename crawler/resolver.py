"""Name resolution with a hosts map (settings.yaml `crawl.hosts`), for the crawler, the probes and
the TLS check alike.

`hosts` answers listed names without asking DNS (a site before its DNS cut-over, or test hosts on
127.0.0.1); with `resolve_only_listed` every other name fails as a DNS error without a packet
leaving the machine — how the demo and the tests simulate a deregistered domain.
"""
from __future__ import annotations

import asyncio
import socket

from scrapy.resolver import CachingThreadedResolver
from twisted.internet import defer
from twisted.internet.error import DNSLookupError


class HostsMap:
    def __init__(self, hosts: dict[str, str] | None = None, only_listed: bool = False):
        self.hosts = {name.lower(): ip for name, ip in (hosts or {}).items()}
        self.only_listed = only_listed

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


def _is_ip(name: str) -> bool:
    try:
        socket.inet_pton(socket.AF_INET6 if ":" in name else socket.AF_INET, name)
        return True
    except OSError:
        return False


class HostsResolver(CachingThreadedResolver):
    """Scrapy's resolver (DNS_RESOLVER) with the hosts map in front."""

    @classmethod
    def from_crawler(cls, crawler, reactor):
        resolver = super().from_crawler(crawler, reactor)
        resolver.map = HostsMap(crawler.settings.getdict("SITECENSUS_HOSTS"),
                                crawler.settings.getbool("SITECENSUS_RESOLVE_ONLY_LISTED"))
        return resolver

    def getHostByName(self, name, timeout=()):  # noqa: N802 - Twisted's interface
        try:
            mapped = self.map.lookup(name)
        except socket.gaierror as exc:
            return defer.fail(DNSLookupError(str(exc)))
        return defer.succeed(mapped) if mapped else super().getHostByName(name, timeout)
