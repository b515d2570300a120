"""Per-host politeness across worker processes, for hosts no worker owns.

A registered site is crawled by one worker at a time, so Scrapy's own download slot keeps its host's
concurrency and delay. Link targets on other hosts (www.gov.cn, linked by every site) are checked by
several workers at once: before such a download, this middleware takes one of the host's
CONCURRENT_REQUESTS_PER_DOMAIN slots in Redis, a redis-py Lock named
`sitecensus:<scan>:host:<host:port>:<i>`, waiting without blocking the reactor while all are taken; after
the answer (or the failure) the slot's lease is cut to DOWNLOAD_DELAY, so that Redis frees it then. Until the
answer the lease is the download timeout plus the delay and a margin, so a killed worker's slots free themselves.

Enabled by SITECENSUS_REDIS_URL and SITECENSUS_SCAN_ID (a worker's settings); the host:port of the scan's
registered sites (SITECENSUS_OWNED_NETLOCS) are exempt — by port too: two sites on one address are two hosts. Place it last before the download
(a high order number): its process_response must run before redirect and retry replace the request.
"""
from __future__ import annotations

import logging

from redis.exceptions import LockError, RedisError
from redis.lock import Lock
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future

from crawler.extract.links import netloc
from crawler.registry import connect, preload

log = logging.getLogger(__name__)
HELD = "sitecensus_host_slot"   # request.meta: (Lock, seconds to keep it after the answer)
LEASE_MARGIN_SECONDS = 30       # beyond the download timeout and the delay: a slot outlives no download


class SharedHostLimiter:
    def __init__(self, server, scan_id, per_host: int, delay: float, timeout: float, exempt: set[str],
                 slots: dict | None = None, poll: float = 0.05):
        self.server = server
        self.prefix = f"sitecensus:{scan_id}:host:"
        self.per_host = max(per_host, 1)
        self.delay = delay
        self.timeout = timeout
        self.exempt = exempt
        self.slots = slots or {}   # DOWNLOAD_SLOTS: a host's own concurrency and delay
        self.poll = poll
        self.redis_failed = False
        preload(server, Lock.LUA_EXTEND_SCRIPT)   # _keep_for's

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        url, scan_id = settings.get("SITECENSUS_REDIS_URL"), settings.get("SITECENSUS_SCAN_ID")
        if not url or scan_id in (None, ""):
            raise NotConfigured("no shared Redis: one process, Scrapy's own slots are the limit")
        return cls(connect(url), scan_id, settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN"),
                   settings.getfloat("DOWNLOAD_DELAY"), settings.getfloat("DOWNLOAD_TIMEOUT"),
                   {host.lower() for host in settings.getlist("SITECENSUS_OWNED_NETLOCS")},
                   settings.getdict("DOWNLOAD_SLOTS"), settings.getfloat("SITECENSUS_LIMITER_POLL_SECONDS", 0.05))

    async def process_request(self, request, spider=None):
        host = netloc(request.url)   # not meta's download_slot: a redirect keeps the first host's
        if host in self.exempt:   # a registered site: its one worker's own slot is the limit
            return None
        own = self.slots.get(host, {})
        delay = own.get("delay", self.delay)
        lease = request.meta.get("download_timeout", self.timeout) + delay + LEASE_MARGIN_SECONDS
        names = [f"{self.prefix}{host}:{i}" for i in range(max(own.get("concurrency", self.per_host), 1))]
        while True:
            try:
                lock = self._take(names, lease)
            except RedisError as exc:   # politeness is best effort; a finding must not depend on Redis
                if not self.redis_failed:
                    log.warning("shared host limiter: Redis unreachable (%s); hosts are limited per process", exc)
                    self.redis_failed = True
                return None
            if lock is not None:
                request.meta[HELD] = (lock, delay)
                return None
            await _sleep(self.poll)

    def _take(self, names: list[str], lease: float):
        for name in names:
            lock = self.server.lock(name, timeout=lease, blocking=False, thread_local=False)
            if lock.acquire(blocking=False):
                return lock
        return None

    def process_response(self, request, response, spider=None):
        self._done(request)
        return response

    def process_exception(self, request, exception, spider=None):
        self._done(request)
        return None

    def _done(self, request) -> None:
        held = request.meta.pop(HELD, None)
        if held is not None:
            lock, delay = held
            _keep_for(lock, delay)


def _keep_for(lock, seconds: float) -> None:
    """The slot stays taken `seconds` more, then Redis lets it go: no timer here, so a crawl that ends (or a
    worker that dies) right after its last answer leaves no slot taken past the host's delay."""
    try:
        lock.extend(max(seconds, 0.001), replace_ttl=True)
    except (LockError, RedisError):   # the lease ran out (someone may hold the slot now) or Redis is gone
        pass


async def _sleep(seconds: float) -> None:
    from twisted.internet import reactor
    from twisted.internet.task import deferLater
    await maybe_deferred_to_future(deferLater(reactor, seconds, lambda: None))
