"""The scan's "check each link target once" registry: which site checks which link target.

`ScanRegistry` holds it in memory for the spiders of one process; `RedisScanRegistry` holds it in a
Redis hash (url -> site key, HSETNX) so that the workers of one scan share it. A site may claim again
what it claimed before (a site resumed after its worker died checks what it had claimed), never what
another site claimed. Spiders keep their own set of what they asked about, so each URL costs them
at most one question; the Redis registry also remembers every answer (one round trip per page's new
targets per process).

A target on a host that only one site of the scan was given with (its own pages, images, attachments: nearly
all of a site's targets) is that site's without asking: every other spider leaves that host to it. Only the
targets on shared hosts (the portal, www.gov.cn, a host two units share) go through the registry.
"""
from __future__ import annotations

import sys
from collections import Counter

from crawler.extract.links import netloc


def sole_hosts(site_urls: list[str]) -> dict[str, str]:
    """host -> the site (its URL, the spiders' site key) for each host only one of `site_urls` is on."""
    counts = Counter(netloc(url) for url in site_urls)
    return {netloc(url): url for url in site_urls if counts[netloc(url)] == 1}


class ScanRegistry:
    """In memory, shared by the spiders of one process."""

    def __init__(self, site_netlocs: set[str] | None = None, destination_netlocs: set[str] | None = None,
                 sole_hosts: dict[str, str] | None = None):
        self.owners: dict = {}   # link target (its _key) -> the site key that checks it
        self.sole_hosts = sole_hosts or {}   # see sole_hosts(): decided without asking
        self.site_netlocs = site_netlocs or set()
        # Where closed sites send visitors (the district portal): a home page redirected there is
        # recorded as migrated, and the destination is not crawled as if it were the unit's site.
        self.destination_netlocs = destination_netlocs or set()

    @classmethod
    def for_sites(cls, site_urls: list[str], portal_pages: set[str] = frozenset(),
                  destinations: set[str] = frozenset(), **where) -> "ScanRegistry":
        """The registry of a scan of `site_urls` (the spiders' site keys): the hosts the scan crawls (not those of
        its pages retained on the portal: the portal's host is the portal site's), those closed sites send visitors
        to, the hosts one site alone is on. `where`: the Redis registry's `server` and `scan_id`."""
        return cls(site_netlocs={netloc(url) for url in site_urls if url not in portal_pages},
                   destination_netlocs=set(destinations), sole_hosts=sole_hosts(site_urls), **where)

    def claim(self, url: str, site_key: str) -> bool:
        """True when `site_key` should check `url`: nobody had claimed it, or this same site had."""
        return self.claim_many([url], site_key)[0]

    def claim_many(self, urls: list[str], site_key: str) -> list[bool]:
        """claim() of each URL, in order."""
        sole = self.sole_hosts
        return [sole[host] == site_key if (host := netloc(url)) in sole
                else self.owners.setdefault(self._key(url), site_key) == site_key for url in urls]

    def claimed_elsewhere(self, url: str, site_key: str) -> bool:
        """Known (without asking anyone) to be checked by another site."""
        owner = self.sole_hosts.get(netloc(url)) or self.owners.get(self._key(url))
        return owner is not None and owner != site_key

    _key = staticmethod(str)   # how `owners` is keyed: the URL itself


class RedisScanRegistry(ScanRegistry):
    """The same registry in Redis, for every worker of scan `scan_id`; `owners` caches the answers, keyed by the
    URL's 64-bit hash: a worker's memory holds no URL strings for them."""

    def __init__(self, server, scan_id: int | str, site_netlocs: set[str] | None = None,
                 destination_netlocs: set[str] | None = None, sole_hosts: dict[str, str] | None = None):
        super().__init__(site_netlocs, destination_netlocs, sole_hosts)
        self.server = server
        self.key = claims_key(scan_id)
        self._claim = server.register_script(_CLAIM)
        preload(server, _CLAIM)

    _key = staticmethod(hash)   # the cache's keys: 64-bit hashes, as crawler/urlset.py

    def claim_many(self, urls: list[str], site_key: str) -> list[bool]:
        """One round trip for the URLs whose answer is not remembered (a page's new link targets at once)."""
        keys = [self._key(url) for url in urls]
        sole = self.sole_hosts
        known = {key: sole[host] if (host := netloc(url)) in sole else self.owners.get(key)
                 for url, key in zip(urls, keys)}
        asked = [url for url, key in zip(urls, keys) if known[key] is None]
        if asked:
            owners = self._claim(keys=[self.key], args=[site_key, *asked])
            # the owner is one of a few dozen site keys: one shared string, not one per answer
            answers = {self._key(url): sys.intern(_text(owner)) for url, owner in zip(asked, owners)}
            known.update(answers)
            if len(self.owners) + len(answers) > ANSWERS_KEPT:
                self.owners.clear()   # Redis keeps every claim: a forgotten answer costs a round trip, not a check
            self.owners.update(answers)
        return [known[key] == site_key for key in keys]


# Answers a worker remembers: a worker's memory stays flat over a scan of any size (47 x 5,000 pages: ~60,000
# claims per worker). What they save is a round trip for a target another site of this worker claimed first
# (shared links: the portal, www.gov.cn), which recur and are soon asked again; a spider never asks twice.
ANSWERS_KEPT = 10_000

# HSETNX that answers the owner, whoever set it, for each URL (ARGV[2:]) claimed by the site ARGV[1]: one round
# trip (a pipeline of HSETNX and HGET costs fakeredis's TCP server ~45 ms, one command per poll of its socket).
_CLAIM = ("local owners = {} "
          "for i = 2, #ARGV do "
          "  local owner = redis.call('HGET', KEYS[1], ARGV[i]) "
          "  if not owner then redis.call('HSET', KEYS[1], ARGV[i], ARGV[1]); owner = ARGV[1] end "
          "  owners[#owners + 1] = owner "
          "end "
          "return owners")


def claims_key(scan_id: int | str) -> str:
    return f"sitecensus:{scan_id}:claimed"


def connect(redis_url: str, decode_responses: bool = False):
    """A Redis client as scrapy-redis makes it (its scheduler and queues share the server); the scan's queue
    (sitecensus/workqueue.py) reads its answers as text."""
    from scrapy_redis.connection import get_redis
    return get_redis(url=redis_url, decode_responses=decode_responses)


def preload(server, *scripts: str) -> None:
    """Load Lua scripts before their first EVALSHA: fakeredis's TCP server drops the connection after a NOSCRIPT
    answer (fakeredis-py issue 432), and redis-py's reload then fails on it now and then."""
    for script in scripts:
        server.script_load(script)


def _text(value) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else value
