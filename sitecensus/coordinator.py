"""The scan's side of a crawl on workers: offer the sites that are not done yet in Redis (sitecensus/workqueue.py),
start the local workers (queue.workers, default one per core), give the sites of a worker that went silent to the
others, show progress, and tell the workers when the crawl is over or must stop. Workers on other machines join
through queue.redis_url (`sitecensus worker`)."""
from __future__ import annotations

import json
import logging
import pickle
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from redis.exceptions import RedisError
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from sitecensus.config import Config
from sitecensus.cores import local_processes
from sitecensus.store import Fetch, Page, Site, latest_scan_id
from sitecensus.workqueue import ScanQueue, connect, local_redis

log = logging.getLogger("sitecensus.scan")
POLL_SECONDS = 0.5
PAGES_EVERY_SECONDS = 2   # progress need not be finer


def largest_first(session: Session, scan_id: int, todo: dict[int, str]) -> list[int]:
    """The sites to crawl (id -> URL), those with the most pages in the last finished full scan first, a site that
    scan did not crawl before them all (its size unknown), equals in register order: a big site taken last kept a
    whole scan waiting for it alone while the other workers idled."""
    previous = latest_scan_id(session, before=scan_id)
    pages: dict[str, int] = {}
    if previous is not None:
        pages = dict(session.execute(select(Site.url, func.count(Page.id)).join(Page, Page.site_id == Site.id)
                                     .where(Site.scan_id == previous).group_by(Site.url)).all())
    return sorted(todo, key=lambda site_id: -pages.get(todo[site_id], float("inf")))


def finished_sites(session: Session, scan_id: int) -> set[int]:
    """Sites whose crawl ended in an earlier run of this scan (resumed): their spider closed for good."""
    rows = session.execute(select(Site.id, Site.crawl).where(Site.scan_id == scan_id, Site.url.is_not(None)))
    return {site_id for site_id, crawl in rows if crawl and crawl.get("reason") != "shutdown"}


class WorkersFailed(RuntimeError):
    pass


class LocalWorker:
    """A worker process of this machine; its stdin carries the config, then stays open: EOF = stop."""

    def __init__(self, config: Config, scan_id: int, redis_url: str):
        # its output goes to its log (out/logs/scan-N-worker-*.log), what it says before that to scan-N-workers.err:
        # never to the scan's own stdout and stderr, which a killed scan's reader must see closed at once
        logs = Path(config.settings.output_dir) / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        with open(logs / f"scan-{scan_id}-workers.err", "ab") as errors:
            self.process = subprocess.Popen([sys.executable, "-m", "sitecensus.worker", str(scan_id), redis_url,
                                             "--pipe"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=errors)
        pickle.dump(config, self.process.stdin)
        self.process.stdin.flush()

    @property
    def id(self) -> str:   # as the worker names itself (sitecensus.worker.worker_id)
        return f"{socket.gethostname()}-{self.process.pid}"

    def alive(self) -> bool:
        return self.process.poll() is None

    def release(self) -> None:
        try:
            self.process.stdin.close()
        except OSError:
            pass


class Coordinator:
    def __init__(self, sessions: sessionmaker[Session], config: Config, scan_id: int, profile: str, watch=None):
        self.sessions = sessions
        self.config = config
        self.scan_id = scan_id
        self.profile = profile
        self.watch = watch
        self.embedded = None if config.settings.queue.redis_url else local_redis()
        self.redis_url = config.settings.queue.redis_url or self.embedded.url
        self.queue = ScanQueue(connect(self.redis_url), scan_id)
        with sessions() as session:
            sites = session.scalars(select(Site).where(Site.scan_id == scan_id, Site.url.is_not(None)).order_by(Site.id)).all()
            self.urls = {s.id: s.url for s in sites}
            self.done_before = finished_sites(session, scan_id)
            self.resumed = session.scalar(select(Fetch.id).where(Fetch.scan_id == scan_id).limit(1)) is not None
        self.workers: list[LocalWorker] = []
        self.respawns = 0

    def crawl(self, stopping: threading.Event) -> bool:
        """Crawl every site not done yet; True when stopped before the end (the scan is interrupted)."""
        queue = self.queue
        try:
            queue.reset()
        except RedisError as exc:
            raise WorkersFailed(f"连接不上 Redis（{self.redis_url}）：{exc}；请检查 settings.yaml 的 queue.redis_url，"
                                "或删去它（只用本机时不需要 Redis）") from None
        if self.resumed:
            with self.sessions() as session:
                queue.seed_claims(session.execute(select(Fetch.url, Site.url).join(Site, Site.id == Fetch.site_id)
                                                  .where(Fetch.scan_id == self.scan_id)))
        queue.server.set(f"sitecensus:{self.scan_id}:meta", json.dumps({"profile": self.profile}))
        with self.sessions() as session:
            todo = largest_first(session, self.scan_id,
                                 {site_id: url for site_id, url in self.urls.items() if site_id not in self.done_before})
        for site_id in todo:
            queue.offer(site_id, self.urls[site_id])
        queue.open()
        count = min(local_processes(self.config), max(len(todo), 1))
        log.info("scan %s: %s sites to crawl (%s done before) on %s local worker(s), queue %s", self.scan_id, len(todo),
                 len(self.done_before), count, "embedded" if self.embedded else self.redis_url)
        if self.watch:
            self.watch.start(len(self.urls))
        try:
            self.workers = [LocalWorker(self.config, self.scan_id, self.redis_url) for _ in range(count)] if todo else []
            interrupted = self._wait(stopping)
            self._end_workers(interrupted)
            return interrupted
        finally:
            queue.close()
            for worker in self.workers:
                worker.release()
            if self.embedded:
                self.embedded.close()

    def _wait(self, stopping: threading.Event) -> bool:
        shown_done, shown_pages, counted = set(self.done_before), (0, 0, 0), 0.0
        for site_id in self.done_before:
            self._say_done(site_id)
        while True:
            if stopping.is_set():
                self.queue.ask_stop()
                return True
            done = self.queue.done_sites() | self.done_before
            for site_id in done - shown_done:
                self._say_done(site_id)
            shown_done = done
            if time.monotonic() - counted >= PAGES_EVERY_SECONDS:
                shown_pages, counted = self._show_pages(shown_pages), time.monotonic()
            if len(done) >= len(self.urls):
                self.queue.declare_over()
                return False
            self._recover()
            time.sleep(POLL_SECONDS)

    def _recover(self) -> None:
        """A local worker that died: its heartbeat goes at once; any worker silent for queue.worker_lost_seconds
        loses its sites to the others (resumed from the store). No worker left: start one more (bounded)."""
        for worker in self.workers:
            if not worker.alive():
                self.queue.server.delete(f"sitecensus:worker:{worker.id}")
        for site_id, who in self.queue.lost_sites().items():
            log.warning("worker %s stopped answering; %s goes to another worker and resumes from the store", who,
                        self.urls[site_id])
            self.queue.give_back(site_id, self.urls[site_id])
        self.workers = [w for w in self.workers if w.alive()]
        wanted = min(local_processes(self.config), self.queue.waiting())
        while len(self.workers) < wanted:
            if self.respawns >= 3 * local_processes(self.config):
                raise WorkersFailed(f"抓取进程反复异常退出（已重启 {self.respawns} 次），检测无法继续；"
                                    f"请查看日志 {Path(self.config.settings.output_dir) / 'logs'} 中的 scan-*-worker-*.log")
            self.respawns += 1
            log.warning("starting a worker in place of one that ended (%s so far)", self.respawns)
            self.workers.append(LocalWorker(self.config, self.scan_id, self.redis_url))

    def _end_workers(self, interrupted: bool) -> None:
        """Workers leave once told (over / stop); a stop gets crawl.stop_grace_seconds to save, then they go."""
        grace = self.config.settings.crawl.stop_grace_seconds + (5 if interrupted else 30)
        deadline = time.monotonic() + grace
        for worker in self.workers:
            try:
                worker.process.wait(max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                log.error("worker %s did not stop in time; killed", worker.process.pid)
                worker.process.kill()
                worker.process.wait()

    def _say_done(self, site_id: int) -> None:
        if self.watch:
            self.watch.site_done(self.urls[site_id])

    def _show_pages(self, shown: tuple[int, int, int]) -> tuple[int, int, int]:
        """Pages stored, link targets requested and those that failed, as the workers' batches reach the store."""
        if not self.watch:
            return shown
        pages, fetches, failed = self.queue.progress()
        for _ in range(pages - shown[0]):
            self.watch.page("", "")
        for _ in range(failed - shown[2]):
            self.watch.fetched("", "failed")
        for _ in range(fetches - shown[1] - (failed - shown[2])):
            self.watch.fetched("", "ok")
        return max(pages, shown[0]), max(fetches, shown[1]), max(failed, shown[2])
