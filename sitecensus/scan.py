"""The scan pipeline: register the sites, crawl them all at once (Scrapy), probe their home pages
meanwhile (httpx), store every fact, then find each site's columns. Judging comes after (judging.py).

Scrapy's reactor can run once per process: one `run_scan` per process (the CLI, a child process of
the service). Facts are written in batches from the reactor thread, so nothing is held in memory
per page beyond the current batch.
"""
from __future__ import annotations

import gc
import ipaddress
import logging
import os
import queue as stdqueue
import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import fields
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable, Protocol
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from crawler.extract.columns import discover_columns
from crawler.extract.links import netloc
from crawler.extract.notices import NoticeVocabulary
from crawler.extract.page import ExtractOptions
from crawler.extract.textscan import Entry, TextMatcher
from crawler.items import FetchItem, PageItem
from crawler.render import RenderOptions, scrapy_settings as render_settings
from crawler.resolver import HostsMap, url_hosts
from scoring.profile import Profile
from scoring.snapshot import CrawlBudget
from sitecensus.config import Config, Dictionaries, Unit
from sitecensus.cores import local_processes, on_cores
from sitecensus.availability import save_probes
from sitecensus.probing import start_probes
from sitecensus.second_tries import second_try_failures
from sitecensus import stopflag
from sitecensus.lock import pid_alive
from sitecensus.stages import stage
from sitecensus.store import Column, Fetch, Judgement, Link, Page, Scan, Site

log = logging.getLogger("sitecensus.scan")
PORTAL_DEPTH = 1   # the portal is crawled only to its home page's links, looking for unregistered sites
FETCH_FIELDS = [f.name for f in fields(FetchItem) if f.name != "site"]


def parse_as_of(text: str | None, timezone: str) -> datetime:
    """--as-of YYYY-MM-DD[THH:MM] in the office's time zone; default now."""
    tz = ZoneInfo(timezone)
    if not text:
        return datetime.now(tz).replace(microsecond=0)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"--as-of 应写成 YYYY-MM-DD 或 YYYY-MM-DDTHH:MM, 实际为 {text!r}") from None
    if len(text) == 10:
        value = value.replace(hour=23, minute=59, second=59)
    return value if value.tzinfo else value.replace(tzinfo=tz)


def text_matcher(profile: Profile, dictionaries: Dictionaries) -> TextMatcher:
    entries = [Entry("wrong_form", w.wrong, w.correct) for w in dictionaries.wrong_forms]
    entries += [Entry("banned", word) for word in dictionaries.banned_words]
    entries += [Entry("guide", label) for labels in profile.services.guide_elements.values() for label in labels]
    return TextMatcher(entries)


def extract_options(profile: Profile, dictionaries: Dictionaries) -> ExtractOptions:
    return ExtractOptions(placeholders=tuple(profile.column_update.placeholders),
                          notice=NoticeVocabulary(**{key: tuple(value) if isinstance(value, list) else value
                                                     for key, value in profile.consolidation.notice.model_dump().items()}),
                          min_list_items=profile.column_update.min_list_items,
                          matcher=text_matcher(profile, dictionaries))


# Downloaded responses waiting for the one parsing thread, across all sites of a scan. Scrapy bounds the
# backlog per crawler (5 MB each by default); with one crawler per site, 47 sites let ~20 s of parsing pile
# up, the reactor stops reading sockets meanwhile, and healthy pages time out — our overload, not theirs.
PARSE_BACKLOG_BYTES = 4_000_000
MIN_SITE_BACKLOG_BYTES = 64_000


# Never 0: with a zero delay, Scrapy (2.19, asyncio reactor) starts every queued request of a slot at once,
# before any counts as transferring, so the slot's concurrency would not hold (Downloader._process_queue).
# A millisecond keeps it; also for `per_host_delay_seconds: 0`.
UNTHROTTLED_DELAY = MIN_DELAY = 0.001


def unthrottled_slots(crawl, site_urls: list[str]) -> dict[str, dict]:
    """Scrapy DOWNLOAD_SLOTS for the sites whose address (an IP literal, or its crawl.hosts entry) lies in
    crawl.unthrottled_networks: no delay and more requests at once. The spider keys slots by host:port."""
    networks = [ipaddress.ip_network(n, strict=False) for n in crawl.unthrottled_networks]
    hosts = {name.lower(): address for name, address in crawl.hosts.items()}
    slots = {}
    for url in site_urls:
        host = (urlsplit(url).hostname or "").lower()
        try:
            address = ipaddress.ip_address(hosts.get(host, host))
        except ValueError:   # a name the office did not map: its address is not ours to assume
            continue
        if any(address in network for network in networks):
            slots[netloc(url)] = {"concurrency": crawl.unthrottled_concurrency, "delay": UNTHROTTLED_DELAY}
    return slots


CRAWL_GC_THRESHOLD = (10_000, 10, 10)   # young, middle, old generation (Python's: 700, 10, 10)


@contextmanager
def frozen_heap():
    """Around a crawl: what exists before it (modules, config, the store's mappers: ~150,000 objects) is set aside
    from the cycle collector. A crawl's requests and responses live for seconds, outlive the young generations and
    trigger a full collection every second or so, each walking every object: 16 % of a worker's CPU at 47 x 400 in
    full collections, 4 % with the heap frozen (measured with gc.callbacks), the same peak memory.
    The young generation is collected every CRAWL_GC_THRESHOLD allocations instead of 700: a page's parse makes
    thousands of short-lived objects (element proxies, rows), most of them freed by their references before a
    collection would walk them. At 47 x 400 a worker's collections of all generations took 6.5 s of its 55 CPU s with
    the heap frozen and Python's thresholds, ~2 s with these, the same peak memory (154 MB). The older generations
    keep Python's ratios (10, 10): with 20 and 50 the garbage that reaches them waited 5x longer and a worker of the
    47 x 5,000 bench peaked at 192 MB, not 185."""
    gc.collect()
    gc.freeze()
    thresholds = gc.get_threshold()
    gc.set_threshold(*CRAWL_GC_THRESHOLD)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def scrapy_settings(config: Config, log_file: Path | None, sites: int = 1, site_urls: list[str] | None = None):
    """crawler/settings.py (the Scrapy project's settings) with the operator's politeness and limits on top;
    `site_urls`, the scan's registered sites, are where the address guard (crawler/guard.py) always lets go."""
    from scrapy.settings import Settings

    crawl = config.settings.crawl
    hosts = HostsMap.of(crawl, site_urls or [])
    overrides = {
        "USER_AGENT": crawl.user_agent,
        "ROBOTSTXT_OBEY": crawl.obey_robots_txt,
        "CONCURRENT_REQUESTS": crawl.total_concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": crawl.per_host_concurrency,
        "DOWNLOAD_DELAY": max(crawl.per_host_delay_seconds, MIN_DELAY),
        "DOWNLOAD_TIMEOUT": crawl.download_timeout_seconds,
        "DOWNLOAD_MAXSIZE": crawl.max_response_bytes,
        "RETRY_TIMES": crawl.retries,
        "SITECENSUS_RETRY_AFTER_MAX": crawl.retry_after_max_seconds,
        "SITECENSUS_MAX_PAGES": crawl.max_pages_per_site,
        "SITECENSUS_MAX_LINK_CHECKS": crawl.max_link_checks_per_site,
        "SITECENSUS_MAX_LINKS_PER_PAGE": crawl.max_links_per_page,
        "CLOSESPIDER_TIMEOUT": crawl.max_minutes_per_site * 60,   # per crawler, i.e. per site (one crawler each)
        "SITECENSUS_TRAPS": [crawl.trap_max_url_chars, crawl.trap_max_segment_repeats, crawl.trap_max_calendar_values],
        "SITECENSUS_MAX_DEPTH": crawl.max_depth,
        "SITECENSUS_CHECK_EXTERNAL": crawl.check_external_links,
        "SITECENSUS_HOSTS": crawl.hosts,
        "SITECENSUS_RESOLVE_ONLY_LISTED": crawl.resolve_only_listed,
        "SITECENSUS_ALLOWED_HOSTS": sorted(url_hosts(site_urls or [])),
        "SITECENSUS_PRIVATE_NETWORKS_ALLOWED": list(crawl.private_networks_allowed),
        "SITECENSUS_FAMILIES": list(crawl.families),
        "SCRAPER_SLOT_MAX_ACTIVE_SIZE": max(MIN_SITE_BACKLOG_BYTES, PARSE_BACKLOG_BYTES // max(sites, 1)),
        "LOG_LEVEL": "INFO",
        "LOG_INSTALL_ROOT_HANDLER": bool(log_file),
    }
    overrides["DOWNLOAD_SLOTS"] = unthrottled_slots(crawl, site_urls or [])
    # Scrapy's check for `return` in generator callbacks misses its cache for bound methods and re-reads and
    # re-parses the callback's source on every response: ~2 ms of the one parsing thread per page
    overrides["WARN_ON_GENERATOR_RETURN_VALUE"] = False
    if log_file:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        overrides["LOG_FILE"] = str(log_file)
    overrides.update(render_settings(RenderOptions(crawl.render.enabled, crawl.render.max_pages_per_site,
                                                   crawl.render.timeout_seconds, crawl.render.executable_path),
                                     crawl.hosts, crawl.resolve_only_listed, hosts.guard))
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.update(overrides, priority="cmdline")
    return settings


def crawler_process(settings):
    """Scrapy's CrawlerProcess, its own log built only at the level it writes: Scrapy sets its logger to DEBUG and
    lets the handler drop what is below LOG_LEVEL, so that each debug line of Scrapy (two or three per request)
    was made into a record first: ~2 % of a worker's CPU."""
    from scrapy.crawler import CrawlerProcess  # imported late: installs the reactor

    process = CrawlerProcess(settings)
    logging.getLogger("scrapy").setLevel(settings.get("LOG_LEVEL"))
    return process


class ScanWatch(Protocol):
    """What a progress display hears of a crawl (called in the reactor thread)."""

    def start(self, sites: int) -> None: ...
    def page(self, site: str, url: str) -> None: ...
    def fetched(self, site: str, outcome: str) -> None: ...   # every page and link target requested
    def site_done(self, site: str) -> None: ...


class StoreSink:
    """Receives the spiders' items (in the reactor thread) and writes them in batches."""

    BATCH = 500
    EVERY_SECONDS = 2   # also write a slow site's few pages soon: progress is visible and survives a crash

    def __init__(self, sessions: sessionmaker[Session], scan_id: int, site_ids: dict[str, int],
                 watch: ScanWatch | None = None):
        self.sessions = sessions
        self.scan_id = scan_id
        self.site_ids = site_ids
        self.watch = watch
        if watch:
            watch.start(len(site_ids))
        self.rows: dict[type, list[dict]] = {Fetch: [], Page: []}
        self.link_rows: list[tuple] = []   # (site_id, source, target, tag, kind, text): see _insert_links
        self.pending = 0
        self.flushed_at = time.monotonic()
        self.interrupted = False
        self.pages = 0
        self.fetches = 0

    def spider_closed(self, site: str, reason: str) -> None:
        if reason == "shutdown":   # Scrapy's reason when SIGINT/SIGTERM stopped the crawl
            self.interrupted = True
        if self.watch:
            self.watch.site_done(site)

    def crawl_report(self, site: str, report: dict) -> None:
        """What a site's budgets left undone (SiteSpider.budget_report), stored on the site when its spider closes."""
        self.flush()
        with self.sessions.begin() as session:
            self._store_report(session, site, report)

    def _store_report(self, session: Session, site: str, report: dict) -> None:
        session.execute(update(Site).where(Site.id == self.site_ids[site]).values(crawl=report))
        left = CrawlBudget.of(report).left()
        if left:
            log.info("%s：%s", site, "；".join(reason for _, _, reason in left))

    def accept(self, item) -> None:
        if isinstance(item, PageItem):
            self._page(item)
        elif isinstance(item, FetchItem):
            self._fetch(item)
        if self.pending >= self.BATCH or time.monotonic() - self.flushed_at >= self.EVERY_SECONDS:
            self.flush()

    def _fetch(self, item: FetchItem) -> None:
        row = {name: getattr(item, name) for name in FETCH_FIELDS}
        row["site_id"] = self.site_ids[item.site]
        row["scan_id"] = self.scan_id
        self.rows[Fetch].append(row)
        self.pending += 1
        self.fetches += 1
        if self.watch:
            self.watch.fetched(item.site, item.outcome)

    def _page(self, item: PageItem) -> None:
        self._fetch(item.fetch)
        fetch = item.fetch
        site_id = self.site_ids[fetch.site]
        url = fetch.final_url or fetch.url
        self.rows[Page].append({"site_id": site_id, "url": url, "status": fetch.status, "fetched_at": fetch.fetched_at,
                                "bytes": fetch.bytes, "content_type": fetch.content_type, "title": item.facts["title"],
                                "depth": item.depth, "referrer": item.referrer, "kind": item.facts["kind"],
                                "is_home": item.is_home, "facts": item.facts})
        self.link_rows.extend((site_id, url, t, tag, kind, text) for t, tag, kind, text in item.links)
        self.pending += 1 + len(item.links) // 20
        self.pages += 1
        if self.watch:
            self.watch.page(fetch.site, url)

    def flush(self) -> None:
        # Core inserts (executemany) of plain rows: the ORM's bulk path re-checks every row against the mapper
        # and cost a third of the flush; the rows are complete, the columns' defaults apply the same way.
        with self.sessions.begin() as session:
            self._insert(session, self._take())

    def _take(self) -> tuple[dict, list]:
        """The rows gathered since the last flush, handed over (the sink gathers the next ones in new lists)."""
        rows, links = self.rows, self.link_rows
        self.rows, self.link_rows = {model: [] for model in rows}, []
        self.pending = 0
        self.flushed_at = time.monotonic()
        return rows, links

    @staticmethod
    def _insert(session: Session, batch: tuple[dict, list]) -> None:
        rows, links = batch
        for model, model_rows in rows.items():
            if model_rows:
                session.execute(model.__table__.insert(), model_rows)
        if links:
            _insert_links(session, links)


_LINK_COLUMNS = ("site_id", "source", "target", "tag", "kind", "text")


def _insert_links(session: Session, rows: list[tuple]) -> None:
    """A page's links as plain tuples straight to the driver's executemany: nine rows in ten a scan stores are links
    (~30 a page), and building each row's parameters through a compiled Core insert cost a worker 3 % of its CPU.
    Every column is text or an integer, so there is no type to convert; the placeholder is the driver's own."""
    connection = session.connection()
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"   # sqlite3; psycopg
    sql = f"INSERT INTO {Link.__tablename__} ({', '.join(_LINK_COLUMNS)}) VALUES ({', '.join([mark] * len(_LINK_COLUMNS))})"
    connection.exec_driver_sql(sql, rows)


class WorkerSink(StoreSink):
    """A worker's sink. It writes from a thread of its own, in order: the reactor hands a batch over and goes on
    fetching, so a store that is slow to answer (a disk's sync, another writer's lock, a database across the
    network) holds up no download; when the reactor waited inside the store, requests in flight timed out and read
    as the site's timeouts. A site whose spider closed for good (not stopped) is done for the whole scan once all
    it fetched is stored: its report and its end go through the same line, after its rows, and like them only
    while the store names this worker for the site."""

    BEHIND = 4   # batches waiting to be written: the worker starts no new request until half of them are

    def __init__(self, sessions: sessionmaker[Session], scan_id: int, site_ids: dict[str, int], queue, me: str,
                 hold: Callable[[bool], None] = lambda _: None):
        super().__init__(sessions, scan_id, site_ids)
        self.queue = queue
        self.me = me   # the worker: it stores a site's rows only while the store names it (Site.worker)
        self.hold = hold   # hold(True): start no new request (those in flight finish); hold(False): go on
        self.behind = False
        self.holding = threading.Lock()   # the flag and the order of hold() calls, from both threads
        self.fenced = False
        self.line: stdqueue.Queue = stdqueue.Queue()
        self.writer = threading.Thread(target=self._write_in_order, name="store-writer", daemon=True)
        self.writer.start()

    def accept(self, item) -> None:
        if not self.fenced:
            super().accept(item)

    def flush(self) -> None:
        if not self.fenced and self.rows[Fetch]:   # every page and link comes with its fetch
            self.line.put(("rows", self._take()))
            self._keep_pace()

    def _keep_pace(self) -> None:
        """Downloads wait while the store is behind, never the reactor: waiting inside the store held every request
        in flight, which then timed out and read as the sites' timeouts."""
        with self.holding:
            waiting = self.line.qsize()
            if waiting >= self.BEHIND and not self.behind or waiting <= self.BEHIND // 2 and self.behind:
                self.behind = not self.behind
                self.hold(self.behind)

    def crawl_report(self, site: str, report: dict) -> None:
        if not self.fenced:
            self.flush()
            self.line.put(("report", (site, report)))

    def site_failed(self, site: str) -> None:
        """A site whose crawler failed counts as done, once what it fetched is stored (what was stored stands)."""
        if not self.fenced:
            self.flush()
            self.line.put(("failed", (site, None)))

    def close(self) -> None:
        """Store what is left and wait until it is written."""
        self.flush()
        self.line.put(("end", None))
        self.writer.join()

    def fence(self) -> None:
        """Store nothing more: this worker was taken for lost and its sites resume elsewhere from the store (what it
        had not stored is fetched again there). Batches not yet written are dropped; the writer would refuse them
        anyway (the store names the site's new worker)."""
        self.fenced = True
        self._take()
        while True:
            try:
                kind, _ = self.line.get_nowait()
            except stdqueue.Empty:
                break
            if kind == "end":   # closing already: keep the end
                self.line.put(("end", None))
                break

    def _write_in_order(self) -> None:
        while True:
            kind, what = self.line.get()
            if kind == "end":
                return
            for attempt in range(1, STORE_ATTEMPTS + 1):
                if self.fenced:
                    break
                try:
                    self._do(kind, what)
                    break
                except _Fenced:
                    log.error("worker %s: its sites went to other workers; what it had not stored is dropped", self.me)
                    self.fenced = True   # the worker's next tick stops it
                except Exception:  # noqa: BLE001 - the store refused or is away: the batch waits and is written again
                    log.exception("the store did not take a batch (attempt %s of %s)", attempt, STORE_ATTEMPTS)
                    if attempt == STORE_ATTEMPTS:
                        # Stop unfinished rather than finish a site with rows missing: its sites resume elsewhere.
                        log.error("worker %s: the store is not taking what it fetched; stopping", self.me)
                        self.fenced = True
                    else:
                        time.sleep(STORE_RETRY_SECONDS)
            self._keep_pace()   # also when dropped: held downloads go on (a fenced worker's spiders must close)

    def _do(self, kind: str, what) -> None:
        """One entry of the line: "rows" (a batch: rows by model, link rows), or a site's "report" / "failed" end
        (site URL, report or None)."""
        if kind == "rows":
            rows = what[0]
            sites = {row["site_id"] for row in rows[Fetch]}
        else:
            site, report = what
            sites = {self.site_ids[site]}
        with self.sessions.begin() as session:
            # Still this worker's sites? Asked by the write's own first statement, an UPDATE: it takes the write lock
            # (SQLite) or locks the sites' rows (PostgreSQL) at once, so a successor's take waits for this commit and
            # reads what it stored; a read first would run outside the transaction (sqlite3 begins at the first write).
            held = session.execute(update(Site).where(Site.id.in_(sites), Site.worker == self.me)
                                   .values(worker=self.me)).rowcount
            if held < len(sites):
                raise _Fenced
            if kind == "rows":
                self._insert(session, what)
            elif kind == "report":
                self._store_report(session, site, report)
        if kind == "rows":   # what reached the store, for the scan's progress line (counting rows cost more CPU)
            self.queue.add_progress(len(rows[Page]), len(rows[Fetch]), sum(row["outcome"] != "ok" for row in rows[Fetch]))
        elif kind == "failed" or report.get("reason") != "shutdown":
            self.queue.finish(self.site_ids[site])   # after its rows: they went down the line before its end


class _Fenced(Exception):
    """The store names another worker for a site of the batch."""


STORE_RETRY_SECONDS = 5
STORE_ATTEMPTS = 12   # a minute of a store that refuses or is away


def _probe_thread(urls: list[str], config: Config, out: list, tls: dict, kind: str = "scan",
                  stop: threading.Event | None = None) -> threading.Thread:
    probes = config.settings.probes
    # a re-check reads the stored probes; an audit takes one at once (no spacing to wait for) and V1/D1
    # judge it with the probes the service stored in the window
    rounds = {"recheck": 0, "audit": probes.per_audit}.get(kind, probes.per_scan)
    crawl = config.settings.crawl
    return start_probes(urls, rounds, probes.spacing_seconds, probes.timeout_seconds, crawl.user_agent,
                        HostsMap.of(crawl, urls), out, tls, stop)


def register_scan(sessions: sessionmaker[Session], config: Config, units: list[Unit], as_of: datetime,
                  kind: str = "scan") -> int:
    with sessions.begin() as session:
        scan = Scan(started_at=datetime.now(as_of.tzinfo), as_of=as_of, status="running",
                    config_dir=str(config.directory.resolve()), pid=os.getpid(), kind=kind)
        session.add(scan)
        scan.sites.extend(planned_sites(config, units, kind))
        session.flush()
        return scan.id


def planned_sites(config: Config, units: list[Unit], kind: str) -> list[Site]:
    """The sites a scan of `units` registers: each unit's sites (or the unit alone, without a site), retained
    portal pages and, for a full scan, the portal."""
    sites: list[Site] = []
    for unit in units:
        plan = unit.consolidation.model_dump()
        pinned = [p.model_dump() for p in unit.columns]
        flags = {"no_external_services": unit.no_external_services, "silence": config.silences_for(unit)}
        if not unit.urls:
            sites.append(Site(unit=unit.name, unit_kind=unit.kind, url=None, plan=plan, pinned=pinned, flags=flags,
                              state="unregistered"))
        for url in unit.urls:
            sites.append(Site(unit=unit.name, unit_kind=unit.kind, url=url, plan=plan, pinned=pinned, flags=flags))
        form = unit.consolidation
        if form.keep_portal_page and form.portal_page_url:
            sites.append(Site(unit=unit.name, unit_kind=unit.kind, url=form.portal_page_url, role="portal_page",
                              plan=plan, pinned=[], flags=flags))
    if kind == "scan":   # the portal is crawled to find unregistered sites: a full scan's work
        portal = config.settings.portal
        sites.append(Site(unit=portal.name, unit_kind="其他", url=portal.url, role="portal", plan={}, pinned=[],
                          flags={}))  # crawled shallowly to find unregistered district sites (J7)
    return sites


def resumable_scan(sessions: sessionmaker[Session], config: Config, units: list[Unit]) -> tuple[int, int] | None:
    """The latest full scan, if it was interrupted (stopped, killed) before its judgement, is younger than
    queue.resume_within_hours and covers the same sites as a scan started now: (its id, pages it stored)."""
    key = lambda s: (s.unit, s.url, s.role or "site", s.plan, s.flags)   # noqa: E731 - what makes two registrations the same
    with sessions() as session:
        scan = session.scalar(select(Scan).where(or_(Scan.kind.is_(None), Scan.kind == "scan"))
                              .order_by(Scan.id.desc()).limit(1))
        if scan is None or scan.status != "interrupted" or session.scalar(
                select(Judgement.id).where(Judgement.scan_id == scan.id).limit(1)):
            return None
        age = datetime.now(scan.started_at.tzinfo) - scan.started_at
        if age > timedelta(hours=config.settings.queue.resume_within_hours):
            return None
        stored = sorted(map(repr, map(key, session.scalars(select(Site).where(Site.scan_id == scan.id)))))
        if stored != sorted(map(repr, map(key, planned_sites(config, units, "scan")))):
            return None
        pages = session.scalar(select(func.count()).select_from(Page).join(Site, Site.id == Page.site_id)
                               .where(Site.scan_id == scan.id)) or 0
        return scan.id, pages


def resume_note(scan_id: int, pages: int) -> str:
    return f"继续第 {scan_id} 次检测（从中断处继续：已保存的 {pages} 个网页不再重新抓取）"


def reopen_scan(sessions: sessionmaker[Session], scan_id: int, as_of: datetime) -> None:
    """The scan runs again, judged at the new check time (its facts are at most queue.resume_within_hours old)."""
    with sessions.begin() as session:
        session.execute(update(Scan).where(Scan.id == scan_id).values(status="running", pid=os.getpid(),
                                                                      finished_at=None, as_of=as_of))
        # columns are found again once the crawl is complete (a scan killed while finding them left some)
        session.execute(delete(Column).where(Column.site_id.in_(select(Site.id).where(Site.scan_id == scan_id))))


EXIT_INTERRUPTED = 130   # `sitecensus scan`'s exit code after SIGINT/SIGTERM (as a shell reports Ctrl-C)


class ScanInterrupted(RuntimeError):
    def __init__(self, scan_id: int):
        super().__init__(f"第 {scan_id} 次检测被中断，已抓取的内容已保存；下次运行 sitecensus scan 会从中断处继续"
                         "（不重新抓取已保存的网页）")
        self.scan_id = scan_id


def stale_scans(session: Session) -> list[Scan]:
    """Scans whose process is gone (killed, power cut) while 'running', or after the crawl but before
    their judgement was stored (the process that crawls a scan judges it at once)."""
    unjudged = ~select(Judgement.id).where(Judgement.scan_id == Scan.id).exists()
    return [scan for scan in session.scalars(select(Scan).where(
                (Scan.status == "running") | ((Scan.status == "done") & unjudged)).order_by(Scan.id))
            if not pid_alive(scan.pid)]


def mark_stale_scans(sessions: sessionmaker[Session]) -> list[int]:
    """Stale scans (above) become 'interrupted': never judged, the next scan starts fresh."""
    with sessions.begin() as session:
        stale = stale_scans(session)
        for scan in stale:
            scan.status = "interrupted"
        return [scan.id for scan in stale]


def stale_note(scan_id: int) -> str:
    """What the next scan, `status` and the service say of a scan whose process was killed."""
    return f"第 {scan_id} 次检测上次未完成（进程已中止），已保存的页面保留；名单不变时，下次全面检测从中断处继续"


def _stop_on_signals(process, sink: StoreSink, stopping: threading.Event, grace: float) -> None:
    """SIGINT/SIGTERM during the crawl: stop every spider gracefully (Scrapy closes them with reason
    'shutdown', so the sink marks the scan interrupted); a second signal stops the reactor at once.
    `stopping` is set at any signal until the probes are saved (the prober starts no new round); the spiders
    get `grace` seconds (crawl.stop_grace_seconds) to close before the reactor stops.
    Our own handlers rather than Scrapy's: a signal while Scrapy is still starting up would otherwise
    land as a KeyboardInterrupt inside Twisted, which logs it and crawls on."""
    from twisted.internet import reactor
    if threading.current_thread() is not threading.main_thread():
        return
    seen: list[int] = []

    def stop_reactor():
        if reactor.running:
            reactor.stop()

    def stop_gracefully():
        process.stop()
        # a crawler asked to stop while still starting up may never report back: don't wait forever
        reactor.callLater(grace, stop_reactor)

    def on_signal(signum, _frame):
        seen.append(signum)
        sink.interrupted = True
        stopping.set()
        reactor.callFromThread(stop_gracefully if len(seen) == 1 else stop_reactor)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)


def _signals_after_crawl() -> None:
    """When the reactor stops, SIGTERM is back at 'die at once'. What is left (columns, judging, the
    report) takes seconds, so a SIGTERM now (the service stopping) lets it finish; Ctrl-C still stops."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.default_int_handler)


def _finish(sessions: sessionmaker[Session], scan_id: int, status: str, tz) -> None:
    with sessions.begin() as session:
        session.execute(update(Scan).where(Scan.id == scan_id).values(status=status, finished_at=datetime.now(tz)))


def run_scan(sessions: sessionmaker[Session], config: Config, units: list[Unit], as_of: datetime,
             profile: Profile, log_file: Path | None = None,
             watch: ScanWatch | None = None, kind: str = "scan",
             recheck_pages: dict[str, list[str]] | None = None, resume: bool = True) -> int:
    """Crawl, probe and store; returns the scan id. Units without a URL are registered, not crawled.

    SIGINT/SIGTERM (or Ctrl-C) stop the crawl gracefully; what was fetched is kept, the scan is
    marked 'interrupted' and ScanInterrupted is raised. An interrupted scan is not judged; the next full
    scan of the same sites resumes it (`resume`, within queue.resume_within_hours): its sites are taken up
    where they stopped, nothing stored is fetched again.

    A re-check (kind "recheck", `recheck_pages` {site url: pages}) fetches each site's home page and
    those pages only, with their links, and takes no availability probes (V1/D1 read the stored ones).
    """
    mark_stale_scans(sessions)
    resumed = resumable_scan(sessions, config, units) if kind == "scan" and resume else None
    if resumed:
        scan_id = resumed[0]
        reopen_scan(sessions, scan_id, as_of)
        log.warning(resume_note(*resumed))
        if watch is not None and hasattr(watch, "note"):
            watch.note(resume_note(*resumed))
    else:
        scan_id = register_scan(sessions, config, units, as_of, kind)
    try:
        with scan_log(log_file if kind == "scan" else None):
            interrupted = stopflag.requested.is_set() or _crawl_and_store(sessions, config, scan_id, as_of, profile,
                                                                       log_file, watch, recheck_pages, kind)
        _signals_after_crawl()
    except BaseException:
        _finish(sessions, scan_id, "interrupted", as_of.tzinfo)
        raise
    if interrupted:
        _finish(sessions, scan_id, "interrupted", as_of.tzinfo)
        raise ScanInterrupted(scan_id)
    return scan_id


def _unless_stopped(stopping: threading.Event, work: Callable, *args) -> None:
    """Run `work(*args)` in a thread until it ends or a stop is asked for: second tries can take minutes,
    a stop must not wait for them. An abandoned thread ends with the process; its writes are transactions.
    Its exception, if any, is raised here."""
    failure: list[BaseException] = []

    def run():
        try:
            work(*args)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller below
            failure.append(exc)

    worker = threading.Thread(target=run, name=getattr(work, "__name__", "work"), daemon=True)
    worker.start()
    while worker.is_alive() and not stopping.is_set():
        worker.join(0.5)
    if failure:
        raise failure[0]


@contextmanager
def scan_log(log_file: Path | None):
    """The scan's own log while its crawl runs on workers: this process then runs no Scrapy, which would set it up."""
    if log_file is None:
        yield
        return
    log_file.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(log_file, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s [%(name)s] %(levelname)s: %(message)s"))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(min(level or logging.INFO, logging.INFO))
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        handler.close()


def _crawl_on_workers(sessions, config, scan_id, profile, watch, stopping: threading.Event) -> bool:
    """The crawl of a full scan, on worker processes (sitecensus/coordinator.py); True when it was stopped.
    SIGINT/SIGTERM set `stopping` (the workers then save what they fetched and leave)."""
    from sitecensus.coordinator import Coordinator

    if threading.current_thread() is threading.main_thread():
        def on_signal(_signum, _frame):
            stopping.set()
        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGTERM, on_signal)
    return Coordinator(sessions, config, scan_id, profile.name, watch).crawl(stopping)


def _crawl_and_store(sessions, config, scan_id, as_of, profile, log_file, watch, recheck_pages=None,
                     kind: str = "scan") -> bool:
    """Full scans crawl on workers; an audit or a re-check (one unit, on demand) in this process."""
    from crawler.registry import ScanRegistry
    from crawler.spiders.site import SiteSpider

    on_workers = kind == "scan"

    with sessions() as session:
        sites = session.scalars(select(Site).where(Site.scan_id == scan_id, Site.url.is_not(None)).order_by(Site.id)).all()
    site_ids = {s.url: s.id for s in sites}
    portal_pages = {s.url for s in sites if s.role == "portal_page"}
    depth = {s.url: {"portal_page": 0, "portal": PORTAL_DEPTH}.get(s.role) for s in sites}
    sink = StoreSink(sessions, scan_id, site_ids, None if on_workers else watch)
    probes: list = []
    tls: dict[str, dict] = {}
    started = time.monotonic()
    stopping = stopflag.SignalEvent()   # asked to stop: during the crawl, the second tries or the wait for the probes
    prober = _probe_thread(list(site_ids), config, probes, tls, kind, stopping) if site_ids else None
    if site_ids and on_workers:
        with stage("抓取"):
            sink.interrupted = stopflag.requested.is_set() or _crawl_on_workers(sessions, config, scan_id, profile,
                                                                                watch, stopping)
    elif site_ids:
        process = crawler_process(scrapy_settings(config, log_file, sites=len(site_ids), site_urls=list(site_ids)))
        registry = ScanRegistry.for_sites(list(site_ids), portal_pages, {config.settings.portal.host})
        options = extract_options(profile, config.dictionaries)
        for url in site_ids:
            process.crawl(SiteSpider, url=url, site_key=url, reference_date=as_of.date().isoformat(),
                          options=options, sink=sink, registry=registry,
                          max_depth=0 if recheck_pages is not None else depth[url],
                          also=(recheck_pages or {}).get(url))
        _stop_on_signals(process, sink, stopping, config.settings.crawl.stop_grace_seconds)
        if stopflag.requested.is_set():   # asked to stop while setting up: do not start the crawl
            sink.interrupted = True
        else:
            with stage("抓取"), frozen_heap():
                process.start(install_signal_handlers=False)
    sink.flush()
    if not sink.interrupted:
        if prober:   # a home page that failed its probe too is not asked a third time: wait for that probe
            _unless_stopped(stopping, prober.first_round.wait, 2 * config.settings.probes.timeout_seconds + 30)
        with stage("二次尝试"):
            _unless_stopped(stopping, second_try_failures, sessions, scan_id, config, as_of.date(),
                            extract_options(profile, config.dictionaries), probes)
    if sink.interrupted:   # (also when asked to stop while setting up)
        stopping.set()
    if prober:   # once stopping, no new round starts: the round and TLS checks under way end within their timeouts
        probes_cfg = config.settings.probes
        all_rounds = (probes_cfg.per_scan * probes_cfg.timeout_seconds + (probes_cfg.per_scan - 1) * probes_cfg.spacing_seconds
                      + 2 * probes_cfg.timeout_seconds + 30)
        while prober.is_alive() and not stopping.is_set() and time.monotonic() - started < all_rounds:
            prober.join(0.5)   # a stop asked for now still cuts the wait short
        prober.join(2 * probes_cfg.timeout_seconds + 5)
        if prober.is_alive():
            log.error("home-page probes did not finish in time; the scan keeps the probes taken so far")
    save_probes(sessions, list(probes), scan_id)
    with sessions.begin() as session:
        for url, facts in dict(tls).items():
            session.execute(update(Site).where(Site.id == site_ids[url]).values(tls=facts))
    if stopping.is_set():   # asked to stop during the crawl, the second tries or the wait for the probes
        log.info("scan %s interrupted: kept %s pages, %s fetches, %s probes, TLS facts of %s sites", scan_id, sink.pages,
                 sink.fetches, len(probes), len(tls))
        return True
    find_columns(sessions, scan_id, profile, local_processes(config))
    with sessions.begin() as session:
        session.execute(update(Site).where(Site.scan_id == scan_id, Site.url.is_not(None)).values(state="crawled"))
    _finish(sessions, scan_id, "done", as_of.tzinfo)
    log.info("scan %s: %s pages (%s rendered by the browser), %s fetches in %.1f s", scan_id,
             *stored_counts(sessions, scan_id), time.monotonic() - started)
    return False


def stored_counts(sessions: sessionmaker[Session], scan_id: int) -> tuple[int, int, int]:
    """Pages, pages read through the browser and fetches a scan stored (whichever processes crawled it)."""
    of_scan = select(Site.id).where(Site.scan_id == scan_id)
    with sessions() as session:
        pages = session.scalar(select(func.count()).select_from(Page).where(Page.site_id.in_(of_scan)))
        rendered = session.scalar(select(func.count()).select_from(Page).where(
            Page.site_id.in_(of_scan), Page.facts["rendered"].as_boolean().is_(True)))
        fetches = session.scalar(select(func.count()).select_from(Fetch).where(Fetch.scan_id == scan_id))
    return pages or 0, rendered or 0, fetches or 0


@stage("栏目识别")
def find_columns(sessions: sessionmaker[Session], scan_id: int, profile: Profile, processes: int = 1) -> None:
    """Each site's columns from its stored pages, on `processes` cores (sitecensus/cores.py), stored here."""
    min_items = profile.column_update.min_list_items
    with sessions() as session:
        sites = session.execute(select(Site.id, Site.pinned).where(Site.scan_id == scan_id, Site.url.is_not(None))
                                .order_by(Site.id)).all()

    def columns_of(site: tuple[int, list | None]) -> list[dict]:
        site_id, pinned = site
        with sessions() as session:
            # the two columns only, not Page objects: one site's pages at a time, a few thousand JSON documents
            pages = [dict(facts, depth=depth) for facts, depth in
                     session.execute(select(Page.facts, Page.depth).where(Page.site_id == site_id).order_by(Page.id))]
        home = next((p for p in pages if p["kind"] == "home"), None)
        return [{"site_id": site_id, "url": c.url, "name": c.name, "data": c.to_dict()}
                for c in discover_columns(home, pages, min_items, pinned)]

    with sessions.begin() as session:
        for columns in on_cores(columns_of, [tuple(site) for site in sites], processes, sessions):
            if columns:
                session.execute(insert(Column), columns)
