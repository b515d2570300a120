"""A worker: crawls sites of one scan that it takes from Redis (sitecensus/workqueue.py), in one Scrapy process,
one crawler per site and at most `queue.sites_per_worker` sites at once, storing what it fetches the way the
single-process crawl does (StoreSink). A site is crawled by one worker at a time, so its host's concurrency and
delay hold for the whole scan; hosts that are nobody's site (link targets such as www.gov.cn) share a limiter in
Redis (crawler/limiter.py), and each link target is checked once per scan (crawler/registry.py).

    python -m sitecensus.worker SCAN_ID REDIS_URL   started by `sitecensus scan` (stdin a pipe: EOF = stop)
    sitecensus worker                                 on any machine: waits for scans in queue.redis_url
"""
from __future__ import annotations

import json
import logging
import os
import pickle
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from scrapy.exceptions import DontCloseSpider
from scrapy.utils.defer import deferred_from_coro
from scrapy_redis.spiders import RedisSpider
from sqlalchemy import select, update

from sitecensus.config import Config, load_config
from sitecensus.store import Scan, Site, open_store
from sitecensus.workqueue import ScanQueue, connect, die_with_parent, open_scans

log = logging.getLogger("sitecensus.worker")
TICK_SECONDS = 0.5


class SiteFeeder(RedisSpider):
    """scrapy-redis reads the scan's waiting sites (its start-URL list); each one becomes a crawler of its own
    in this process. The feeder itself requests nothing and stays open until the scan's crawl is over."""

    name = "sitecensus-feeder"

    def __init__(self, worker: Worker, **kwargs):
        super().__init__(**kwargs)
        self.worker = worker
        self.redis_key = worker.queue.sites_key
        self.redis_batch_size = 1   # one site at a time: the worker takes another while it has room

    def make_request_from_data(self, data):
        self.worker.start_site(json.loads(data))
        return []

    def spider_idle(self):
        if not self.worker.finished():
            raise DontCloseSpider


class Worker:
    def __init__(self, config: Config, scan_id: int, redis_url: str, worker_id: str, parent_pipe: bool = False):
        from crawler.registry import RedisScanRegistry
        from sitecensus.scan import PORTAL_DEPTH, extract_options

        self.config = config
        self.id = worker_id
        self.queue = ScanQueue(connect(redis_url), scan_id)
        self.sessions = open_store(config.settings.store_url)
        meta = json.loads(self.queue.server.get(f"sitecensus:{scan_id}:meta") or "{}")
        with self.sessions() as session:
            scan = session.get(Scan, scan_id)
            if scan is None:
                raise LookupError(f"存储中没有第 {scan_id} 次检测（store_url 是否与发起检测的机器相同？）")
            sites = session.scalars(select(Site).where(Site.scan_id == scan_id, Site.url.is_not(None)).order_by(Site.id)).all()
        self.as_of = scan.as_of
        self.site_ids = {s.url: s.id for s in sites}
        self.depth = {s.url: {"portal_page": 0, "portal": PORTAL_DEPTH}.get(s.role) for s in sites}
        profile = config.profile(meta.get("profile"))
        self.options = extract_options(profile, config.dictionaries)
        self.registry = RedisScanRegistry.for_sites(
            [s.url for s in sites], {s.url for s in sites if s.role == "portal_page"}, {config.settings.portal.host},
            server=self.queue.server, scan_id=scan_id)
        self.redis_url = redis_url
        self.capacity = config.settings.queue.sites_per_worker
        self.active: set[int] = set()
        self.stopping = threading.Event()
        self.parent_pipe = parent_pipe
        self.ticked_at = time.monotonic()   # the reactor's last tick: the heartbeat thread beats while it is recent
        self.ended = threading.Event()

    # --- the reactor's side
    def run(self, log_file: Path | None) -> int:
        from crawler.extract.links import netloc

        from sitecensus.scan import WorkerSink, _stop_on_signals, crawler_process, frozen_heap, scrapy_settings

        settings = scrapy_settings(self.config, log_file, sites=self.capacity, site_urls=list(self.site_ids))
        settings.set("REDIS_URL", self.redis_url, priority="cmdline")
        settings.set("SITECENSUS_REDIS_URL", self.redis_url, priority="cmdline")
        settings.set("SITECENSUS_SCAN_ID", self.queue.scan_id, priority="cmdline")
        settings.set("SITECENSUS_OWNED_NETLOCS", sorted({netloc(url) for url in self.site_ids}), priority="cmdline")
        # hosts nobody owns (link targets every site has) get their per-host slots from Redis: last before the download
        settings.set("DOWNLOADER_MIDDLEWARES", {**settings.getdict("DOWNLOADER_MIDDLEWARES"),
                                                "crawler.limiter.SharedHostLimiter": 950}, priority="cmdline")
        self.process = crawler_process(settings)
        self.sink = WorkerSink(self.sessions, self.queue.scan_id, self.site_ids, self.queue, self.id,
                               self._hold_downloads)
        self.feeder_crawler = self.process.create_crawler(SiteFeeder)
        self.process.crawl(self.feeder_crawler, worker=self)   # installs the asyncio reactor: import it only now
        from twisted.internet import reactor, task
        _stop_on_signals(self.process, self.sink, self.stopping, self.config.settings.crawl.stop_grace_seconds)
        if self.parent_pipe:
            threading.Thread(target=self._watch_parent, name="parent", daemon=True).start()
        self.queue.heartbeat(self.id, self.config.settings.queue.worker_lost_seconds)
        threading.Thread(target=self._beat, name="heartbeat", daemon=True).start()
        ticker = task.LoopingCall(self.tick)
        reactor.callWhenRunning(ticker.start, TICK_SECONDS)
        with frozen_heap():
            self.process.start(install_signal_handlers=False)
        self.ended.set()
        self.sink.close()
        log.info("worker %s: %s pages, %s fetches, %.1f CPU s, peak RSS %.0f MB", self.id, self.sink.pages,
                 self.sink.fetches, time.process_time(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        return 0

    def _beat(self) -> None:
        """The heartbeat, from a thread of its own: a reactor held up by the store (a slow disk's sync, another
        writer's lock: SQLite waits up to 30 s) is alive and its sites stay its own; beaten from the reactor, it went
        silent and the scan gave its sites to the other worker while it went on storing them (pages stored twice).
        A reactor that has not ticked for queue.worker_stall_seconds is stuck: the beat stops, its sites go."""
        queue = self.config.settings.queue
        while not self.ended.wait(TICK_SECONDS):
            if time.monotonic() - self.ticked_at < queue.worker_stall_seconds:
                try:
                    self.queue.heartbeat(self.id, queue.worker_lost_seconds)
                except Exception:  # noqa: BLE001 - Redis gone: the next tick finds it out and stops the worker
                    pass

    def tick(self) -> None:
        self.ticked_at = time.monotonic()
        try:
            if not self.stopping.is_set() and (self.sink.fenced or not self.queue.alive(self.id)):
                self._fence()   # taken for lost, or its store gave up on it (WorkerSink)
                return
            if not self.stopping.is_set() and self.queue.stop_asked():
                self.stop()
            if self.stopping.is_set():
                return
            if self.finished():
                deferred_from_coro(self.feeder_crawler.stop_async())
                return
            # One site per tick: workers started together share a small scan (taking up to `capacity` at once, the
            # first one took all 10 sites of a 10-site scan and the other idled); 16 sites are running after 8 s.
            # LLEN first: scrapy-redis pops through a pipeline, which the embedded fakeredis answers slowly (~45 ms)
            if len(self.active) < self.capacity and self.queue.waiting():
                self.feeder_crawler.spider.schedule_next_requests()
        except Exception as exc:  # noqa: BLE001 - Redis gone (the scan's process ended): stop, keep what is stored
            log.error("worker %s: lost the scan's queue (%s); stopping", self.id, exc)
            self.stop()

    def _hold_downloads(self, hold: bool) -> None:
        """The store is behind (WorkerSink.BEHIND): the sites' engines start no new request until it catches up.
        Called from either thread; done in the reactor's, in the order asked."""
        from twisted.internet import reactor

        def apply() -> None:
            for crawler in self.process.crawlers:
                engine = crawler.engine
                if engine is None:
                    continue
                if hold:
                    engine.pause()
                else:
                    engine.unpause()
                    slot = getattr(engine, "_slot", None)   # go on now, not at the engine's next 5-second heartbeat
                    if slot is not None:
                        slot.nextcall.schedule()
        reactor.callFromThread(apply)

    def _fence(self) -> None:
        """Taken for lost (frozen or cut off from Redis past queue.worker_lost_seconds, stuck past
        worker_stall_seconds), or its store gave up on it: the other workers resume its sites from the store, so it
        stores nothing more and stops."""
        log.error("worker %s: stopping without storing more; its sites go to other workers", self.id)
        self.sink.fence()
        self.stop()

    def finished(self) -> bool:
        return not self.active and (self.stopping.is_set() or self.queue.is_over())

    def stop(self) -> None:
        """Stop every crawl gracefully: spiders close with reason 'shutdown', their sites stay unfinished; after
        crawl.stop_grace_seconds the reactor stops whatever is still closing (what was stored stays)."""
        from twisted.internet import reactor
        if not self.stopping.is_set():
            self.stopping.set()
            self.sink.interrupted = True
            self.process.stop()
            reactor.callLater(self.config.settings.crawl.stop_grace_seconds,
                              lambda: reactor.running and reactor.stop())

    def _watch_parent(self) -> None:
        from twisted.internet import reactor
        while os.read(0, 4096):   # unbuffered: EOF when the scan that started us ends or is killed
            pass
        reactor.callFromThread(self.stop)

    def start_site(self, task: dict) -> None:
        from crawler.spiders.site import SiteSpider
        from sitecensus.resume import load_resume

        url, site_id = task["url"], task["meta"]["site_id"]
        if self.stopping.is_set():   # popped while stopping: back to the list for the resumed scan
            self.queue.offer(site_id, url)
            return
        self.queue.take(site_id, self.id)
        with self.sessions.begin() as session:   # named first, then read: what a predecessor stores after is refused
            session.execute(update(Site).where(Site.id == site_id).values(worker=self.id))
        with self.sessions() as session:
            resume = load_resume(session, site_id)
        self.active.add(site_id)
        log.info("worker %s takes %s%s", self.id, url, " (resumed from the store)" if resume else "")
        done = self.process.crawl(SiteSpider, url=url, site_key=url, reference_date=self.as_of.date().isoformat(),
                                  options=self.options, sink=self.sink, registry=self.registry,
                                  max_depth=self.depth[url], resume=resume)
        done.addBoth(self._site_ended, site_id, url)

    def _site_ended(self, result, site_id: int, url: str):
        self.active.discard(site_id)
        if hasattr(result, "getTraceback"):   # the crawler failed: what was stored stands, the site counts as done
            log.error("worker %s: crawl of %s failed: %s", self.id, url, result.getTraceback())
            self.sink.site_failed(url)


def worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


def run_one_scan(config: Config, scan_id: int, redis_url: str, parent_pipe: bool) -> int:
    out = Path(config.settings.output_dir)
    me = worker_id()
    log_file = out / "logs" / f"scan-{scan_id}-worker-{me}.log"
    return Worker(config, scan_id, redis_url, me, parent_pipe).run(log_file)


def serve(config: Config, say=print) -> None:
    """`sitecensus worker`: wait for open scans in queue.redis_url and crawl them, one child process per scan
    (a Scrapy reactor runs once per process), until SIGINT/SIGTERM. The stop is a flag the loop checks, not a
    KeyboardInterrupt: one raised somewhere inside a Redis call or a subprocess wait was not always seen (a worker
    started by hand then ignored Ctrl-C after a scan, in a loaded test run)."""
    from sitecensus.stopflag import SignalEvent

    stop = SignalEvent()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    url = config.settings.queue.redis_url
    server = connect(url)
    server.ping()
    say(f"工作进程已启动（{worker_id()}），等待检测任务：{url}")
    served: set[int] = set()
    while not stop.is_set():
        waiting = set(open_scans(server))
        served &= waiting   # a scan stopped and resumed later opens again
        for scan_id in sorted(waiting - served):
            if stop.is_set():
                break
            served.add(scan_id)
            say(f"参与第 {scan_id} 次检测")
            code = _take_part(scan_id, url, config, stop)
            say(f"第 {scan_id} 次检测：本机的工作已结束（退出码 {code}）")
        stop.wait(2)


def _take_part(scan_id: int, url: str, config: Config, stop) -> int:
    """Crawl scan `scan_id` in a child process; a stop ends it at once (its sites go to the other workers)."""
    child = subprocess.Popen([sys.executable, "-m", "sitecensus.worker", str(scan_id), url],
                             env=dict(os.environ, SITECENSUS_CONFIG=str(config.directory)))
    while child.poll() is None:
        if stop.wait(0.5):
            child.kill()
    return child.wait()


def main(argv: list[str]) -> int:
    """A local worker (--pipe) reads the scan's Config from stdin, then holds stdin open until the scan ends;
    one started by `sitecensus worker` reads the config folder (SITECENSUS_CONFIG)."""
    scan_id, redis_url, piped = int(argv[0]), argv[1], "--pipe" in argv
    if piped:
        die_with_parent()
        config = pickle.load(sys.stdin.buffer)
    else:
        config = load_config(os.environ.get("SITECENSUS_CONFIG"))
    return run_one_scan(config, scan_id, redis_url, parent_pipe=piped)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
