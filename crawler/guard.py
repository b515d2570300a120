"""Where a request may go: the one address guard for the crawler, the probes, the second tries and the browser.

A crawled page must not be able to point the scanner at the office's own network or at a cloud
metadata service. A request to host H at address A may leave when A is a public address, when H is a
registered site's host or a name the office mapped itself (`crawl.hosts`), when a registered site lives
at A, or when A lies in a network listed in `crawl.private_networks_allowed`. Private, loopback,
link-local, unspecified, multicast and reserved addresses are refused otherwise; with
`resolve_only_listed`, so is an IP literal that is neither a registered site's nor a mapped address.
"""
from __future__ import annotations

import ipaddress
import re
import socket
from typing import Iterable

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressRefused(Exception):
    """A request the guard did not let leave; `error` is the fact recorded for it."""

    error = "refused"


class PrivateAddress(AddressRefused):
    error = "private_address"


class UnlistedAddress(AddressRefused):
    error = "not_listed"


def host_name(host: str) -> str:
    """A host as the guard compares it: lower case, no IPv6 brackets, no trailing dot."""
    return host.strip().strip("[]").rstrip(".").lower()


_NUMBER_PART = re.compile(r"(0x[0-9a-f]*|[0-9]+)", re.IGNORECASE)


def ip_of(text: str) -> Address | None:
    """The address written in `text` (an IPv4-mapped IPv6 address as its IPv4 one), None for a name.
    Browsers and the C resolver also read the old numeric forms (0x0a000001, 012.0.0.1, 10.1) as IPv4
    addresses: so does this, or such a link would pass as a name."""
    name = host_name(text)
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        parts = name.split(".")
        if not 1 <= len(parts) <= 4 or not all(_NUMBER_PART.fullmatch(p) for p in parts):
            return None
        try:
            address = ipaddress.ip_address(socket.inet_aton(name))
        except OSError:
            return None
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


class AddressGuard:
    def __init__(self, site_hosts: Iterable[str] = (), hosts: dict[str, str] | None = None,
                 private_networks: Iterable[str] = (), only_listed: bool = False):
        hosts = {host_name(name): address for name, address in (hosts or {}).items()}
        self.trusted_hosts = {host_name(h) for h in site_hosts} | set(hosts)
        # where registered sites live: their IP literals, and every address the office mapped
        literals = (ip_of(h) for h in [*self.trusted_hosts, *hosts.values()])
        self.site_addresses = {a for a in literals if a is not None}
        self.networks = [ipaddress.ip_network(cidr, strict=False) for cidr in private_networks]
        self.only_listed = only_listed

    def trusting(self, site_hosts: Iterable[str]) -> AddressGuard:
        """This guard with more registered hosts (the sites a probe round or a second try starts from)."""
        site_hosts = list(site_hosts)
        guard = AddressGuard.__new__(AddressGuard)
        guard.__dict__.update(self.__dict__)
        guard.trusted_hosts = self.trusted_hosts | {host_name(h) for h in site_hosts}
        guard.site_addresses = self.site_addresses | {a for a in map(ip_of, site_hosts) if a is not None}
        return guard

    def trusted(self, host: str) -> bool:
        """A registered site's host or a mapped name: allowed whatever its address."""
        return host_name(host) in self.trusted_hosts

    def check(self, host: str, address: str) -> None:
        """Raise AddressRefused unless a request to `host`, connecting to `address`, may be sent."""
        ip = ip_of(address)
        if self.trusted(host):
            if ip is not None:   # a registered site lives there: its other names (www., a redirect's) may go too
                self.site_addresses.add(ip)
            return
        if ip is None:
            raise PrivateAddress(f"{host}: {address} is no address")
        if ip in self.site_addresses:
            return
        public = ip.is_global and not ip.is_multicast
        if not public and not any(ip in network for network in self.networks):
            raise PrivateAddress(f"{host} ({address}) is a private, loopback, link-local or reserved address")
        if self.only_listed and ip_of(host) is not None:
            raise UnlistedAddress(f"{host} is neither a registered site's address nor in crawl.hosts (resolve_only_listed)")

    def allows(self, host: str, address: str) -> bool:
        try:
            self.check(host, address)
            return True
        except AddressRefused:
            return False
