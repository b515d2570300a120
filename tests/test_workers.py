"""A full scan on worker processes (sitecensus/coordinator.py, sitecensus/worker.py): two workers find what one
finds, findings and fingerprints included; a worker killed mid-scan (SIGKILL) loses nothing and changes no
finding; a scan stopped mid-crawl resumes where it was without asking any server again for a page it had stored;
per-host concurrency holds for the whole scan, for the sites and for a host every site links to. Loopback
servers only; the workers' queue is the embedded one (queue.redis_url unset) or the test's real redis-server."""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from conftest import loopback_config, run_cli, scan_logs
from sitecensus.demo.server import DemoServer, Reply, SiteFiles
from tests.test_service import count, db_rows, wait_for

UNITS = ["区交通运输局", "区财政局", "区教育局", "区民政局"]
PAGES = 24
AS_OF = datetime.now(ZoneInfo("Asia/Shanghai")).replace(second=0, microsecond=0)


class Recorder:
    """Every request a server answers (path), and the most it answered at once."""

    def __init__(self, pause: float):
        self.pause = pause
        self.lock = threading.Lock()
        self.now = self.most = 0
        self.paths: list[str] = []

    def answer(self, path: str, body: str):
        def handler(_method, _query, _form) -> Reply:
            with self.lock:
                self.now += 1
                self.most = max(self.most, self.now)
                self.paths.append(path)
            time.sleep(self.pause)   # long enough for requests to overlap if the crawler lets them
            with self.lock:
                self.now -= 1
            return Reply(200, body.encode())
        return handler


class World:
    """len(UNITS) sites of PAGES pages; every page links to the same few targets on one shared 'external' host."""

    def __init__(self, tmp_path: Path, pause: float = 0.0, crawl: dict | None = None, queue: dict | None = None):
        self.portal, self.external = DemoServer(), DemoServer()
        self.shared = Recorder(pause)
        self.external.serve(SiteFiles(handlers={f"/doc/{i}.html": self.shared.answer(f"/doc/{i}.html", "<html>外部</html>")
                                                for i in range(12)}))
        self.portal.serve(SiteFiles(fallback=Reply(200, "<html><body>北仑之窗</body></html>".encode())))
        self.sites = {unit: (DemoServer(), Recorder(pause)) for unit in UNITS}
        for unit, (server, recorder) in self.sites.items():
            server.serve(SiteFiles(handlers=self._pages(unit, recorder)))
        self.config = loopback_config(tmp_path, self.portal.base_url, AS_OF.date(), crawl)
        register = yaml.safe_load((self.config / "units.yaml").read_text(encoding="utf-8"))
        register["units"] = [u for u in register["units"] if u["name"] in self.sites]
        for unit in register["units"]:
            unit["urls"] = [self.sites[unit["name"]][0].base_url]
        (self.config / "units.yaml").write_text(yaml.safe_dump(register, allow_unicode=True), encoding="utf-8")
        if queue:
            path = self.config / "settings.yaml"
            settings = yaml.safe_load(path.read_text(encoding="utf-8"))
            settings.setdefault("queue", {}).update(queue)
            path.write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")

    def _pages(self, unit: str, recorder: Recorder) -> dict:
        external = "".join(f'<a href="{self.external.base_url}doc/{i}.html">参考{i}</a>' for i in range(12))
        items = "".join(f'<li><a href="/p/{i}.html">通知{i}</a><span>2026-11-{1 + i % 20:02d}</span></li>'
                        for i in range(PAGES))
        pages = {f"/p/{i}.html": recorder.answer(f"/p/{i}.html", f"<html><head><title>通知{i}</title></head><body>"
                                                                 f"正文{i}<a href='/p/{(i + 1) % PAGES}.html'>下一篇</a>"
                                                                 f"{external}</body></html>")
                 for i in range(PAGES)}
        pages["/"] = recorder.answer("/", f"<html><head><title>{unit}</title></head><body><ul>{items}</ul>{external}"
                                          "<a href='/missing.html'>失效</a></body></html>")
        return pages

    def close(self) -> None:
        for server, _ in self.sites.values():
            server.close()
        self.portal.close()
        self.external.close()


@pytest.fixture
def world(tmp_path):
    built = World(tmp_path)
    yield built
    built.close()


def scan(config: Path, *args: str) -> dict:
    result = run_cli("scan", "--json", "--as-of", AS_OF.strftime("%Y-%m-%dT%H:%M"), *args, config=config, timeout=300)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def findings(document: dict) -> dict[str, list]:
    """Per site: its verdict and every finding (code, fingerprint, count) in a fixed order."""
    return {site["url"]: [site["verdict"], site["score"], sorted((f["code"], f["fingerprint"], f["count"], f["points"])
                                                                 for f in site["findings"])]
            for site in document["sites"]}


def test_two_workers_find_what_one_worker_finds(world):
    one = scan(world.config, "--workers", "1")
    two = scan(world.config, "--workers", "2", "--fresh")
    assert two["scan"]["id"] == one["scan"]["id"] + 1
    assert findings(one) == findings(two)
    assert any(found for _, _, found in findings(one).values())   # the missing page at least: something to compare
    logs = list((Path(world.config.parent) / "out" / "logs").glob(f"scan-{two['scan']['id']}-worker-*.log"))
    assert len(logs) == 2   # both workers ran
    taken = [log.read_text(encoding="utf-8").count(" takes http") for log in logs]
    assert all(taken) and sum(taken) == len(UNITS) + 1   # both crawled (a small scan is shared), every site once


def start_scan(config: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "sitecensus", "scan", "--json", "--as-of",
                             AS_OF.strftime("%Y-%m-%dT%H:%M"), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, SITECENSUS_CONFIG=str(config)))


def worker_pids(scan: subprocess.Popen) -> list[int]:
    children = Path(f"/proc/{scan.pid}/task/{scan.pid}/children").read_text().split()
    return [int(pid) for pid in children
            if b"sitecensus.worker" in Path(f"/proc/{pid}/cmdline").read_bytes()]


def stored_pages(config: Path, scan_id: int) -> list[str]:
    return [url for url, in db_rows(config, "select pages.url from pages join sites on pages.site_id = sites.id "
                                            "where sites.scan_id = ?", scan_id)]


SLOW = {"per_host_concurrency": 1, "per_host_delay_seconds": 0.05, "unthrottled_networks": []}


def test_a_worker_killed_mid_scan_loses_nothing(tmp_path):
    world = World(tmp_path, pause=0.1, crawl=SLOW, queue={"worker_lost_seconds": 3})
    try:
        calm = scan(world.config, "--workers", "2")
        running = start_scan(world.config, "--workers", "2", "--fresh")
        scan_id = calm["scan"]["id"] + 1
        wait_for(lambda: len(stored_pages(world.config, scan_id)) >= 10, 120, "pages of the scan in the store")
        victim = worker_pids(running)[0]
        os.kill(victim, signal.SIGKILL)
        out, err = running.communicate(timeout=300)
        assert running.returncode == 0, err
        assert findings(json.loads(out)) == findings(calm)
        pages = stored_pages(world.config, scan_id)
        assert len(pages) == len(set(pages)) == len(stored_pages(world.config, calm["scan"]["id"]))   # none twice
        fetched = db_rows(world.config, "select url, method, count(*) from fetches where scan_id = ? "
                                        "group by url, method having count(*) > 1", scan_id)
        assert fetched == []
    finally:
        world.close()


def test_a_store_held_up_longer_than_a_heartbeat_costs_a_live_worker_nothing(tmp_path):
    """A slow disk's sync or another writer's lock holds a worker's reactor inside the store (SQLite waits up to
    30 s): it is alive, its sites stay its own. Beaten from the reactor, its heartbeat went silent, the scan gave its
    sites to the other worker, and both stored them (327 pages twice at 47 x 400 on a throttled disk)."""
    world = World(tmp_path, pause=0.1, crawl=SLOW, queue={"worker_lost_seconds": 2})
    try:
        running = start_scan(world.config, "--workers", "2")
        wait_for(lambda: count(world.config, "select count(*) from pages") >= 10, 120, "pages in the store")
        path = yaml.safe_load((world.config / "settings.yaml").read_text(encoding="utf-8"))["store_url"]
        with sqlite3.connect(path.removeprefix("sqlite:///"), timeout=30) as lock:
            lock.execute("begin exclusive")   # every worker's next write waits
            time.sleep(6)                      # three heartbeats' time
            lock.rollback()
        out, err = running.communicate(timeout=300)
        assert running.returncode == 0, err
        logged = scan_logs(tmp_path)
        assert "scan 1: 5 sites to crawl" in logged and "stopped answering" not in logged   # no site given away
        scan_id = json.loads(out)["scan"]["id"]
        pages = stored_pages(world.config, scan_id)
        assert len(pages) == len(set(pages)) == len(UNITS) * (PAGES + 1) + 1   # every page once, and the portal's
    finally:
        world.close()


def test_a_worker_frozen_past_its_heartbeat_stores_nothing_of_the_sites_it_lost(tmp_path):
    """Frozen (SIGSTOP: a paused VM, a machine swapping) past queue.worker_lost_seconds, a worker loses its sites to
    the other, which resumes them from the store; woken, it must not store what the other now stores."""
    world = World(tmp_path, pause=0.1, crawl=SLOW, queue={"worker_lost_seconds": 2})
    try:
        running = start_scan(world.config, "--workers", "2")
        wait_for(lambda: count(world.config, "select count(*) from pages") >= 10, 120, "pages in the store")
        frozen = worker_pids(running)[0]
        os.kill(frozen, signal.SIGSTOP)
        time.sleep(6)   # the other worker takes its sites over and goes on with them
        os.kill(frozen, signal.SIGCONT)
        out, err = running.communicate(timeout=300)
        assert running.returncode == 0, err
        pages = stored_pages(world.config, json.loads(out)["scan"]["id"])
        assert len(pages) == len(set(pages)) == len(UNITS) * (PAGES + 1) + 1   # every page once
        fetched = db_rows(world.config, "select url, method, count(*) from fetches where scan_id = ? "
                                        "group by url, method having count(*) > 1", json.loads(out)["scan"]["id"])
        assert fetched == []
        logs = scan_logs(tmp_path)
        assert "stopped answering" in logs and "stopping without storing more" in logs
    finally:
        world.close()


def test_a_stopped_scan_resumes_without_refetching(tmp_path):
    world = World(tmp_path, pause=0.1, crawl=SLOW)
    try:
        running = start_scan(world.config, "--workers", "2")
        wait_for(lambda: count(world.config, "select count(*) from pages") >= 12, 120, "pages in the store")
        running.send_signal(signal.SIGTERM)
        _, err = running.communicate(timeout=120)
        assert running.returncode == 130, err
        scan_id = count(world.config, "select max(id) from scans")
        assert db_rows(world.config, "select status from scans where id = ?", scan_id) == [("interrupted",)]
        kept = stored_pages(world.config, scan_id)
        asked_before = {unit: len(recorder.paths) for unit, (_, recorder) in world.sites.items()}

        result = run_cli("scan", "--json", "--as-of", AS_OF.strftime("%Y-%m-%dT%H:%M"), config=world.config,
                         timeout=300)
        assert result.returncode == 0, result.stderr
        assert f"继续第 {scan_id} 次检测" in result.stderr
        assert json.loads(result.stdout)["scan"]["id"] == scan_id
        for unit, (server, recorder) in world.sites.items():
            again = Counter(recorder.paths[asked_before[unit]:])
            stored_here = {url.removeprefix(server.base_url.rstrip("/")) for url in kept if url.startswith(server.base_url)}
            assert not {path for path in again if path != "/"} & stored_here, unit   # "/" is probed every run
        pages = stored_pages(world.config, scan_id)
        assert len(pages) == len(set(pages)) == len(UNITS) * (PAGES + 1) + 1   # every page once, and the portal's
    finally:
        world.close()


def test_per_host_concurrency_holds_across_workers(tmp_path, redis_url):
    world = World(tmp_path, pause=0.15, crawl={"per_host_concurrency": 1, "per_host_delay_seconds": 0,
                                                 "unthrottled_networks": []},
                  queue={"redis_url": redis_url, "sites_per_worker": 2})
    try:
        scan(world.config, "--workers", "2")
        for unit, (_, recorder) in world.sites.items():
            assert len(recorder.paths) >= PAGES, unit
            assert recorder.most <= 1 + 1, unit   # + the home-page probe, which runs beside the crawl
        assert len(set(world.shared.paths)) == 12   # every shared target checked ...
        assert world.shared.most <= 1             # ... never two at once, though four sites on two workers link to it
    finally:
        world.close()


def test_a_worker_started_by_hand_joins_the_scan(tmp_path, redis_url):
    """`sitecensus worker` on "another machine" (the same store and Redis) takes part in a scan started elsewhere."""
    world = World(tmp_path, pause=0.1, crawl=SLOW, queue={"redis_url": redis_url, "sites_per_worker": 1})
    joined = subprocess.Popen([sys.executable, "-m", "sitecensus", "worker"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True, env=dict(os.environ, SITECENSUS_CONFIG=str(world.config)))
    try:
        document = scan(world.config, "--workers", "1")
    finally:
        joined.send_signal(signal.SIGINT)
        _, said = joined.communicate(timeout=60)
        world.close()
    scan_id = document["scan"]["id"]
    assert "等待检测任务" in said and f"参与第 {scan_id} 次检测" in said
    logs = list((world.config.parent / "out" / "logs").glob(f"scan-{scan_id}-worker-*.log"))
    assert len(logs) == 2
    taken = [log.read_text(encoding="utf-8").count(" takes http") for log in logs]
    assert all(taken) and sum(taken) == len(UNITS) + 1   # both crawled; every site (and the portal) once


def test_an_unreachable_redis_is_a_clear_error(world):
    path = world.config / "settings.yaml"
    settings = yaml.safe_load(path.read_text(encoding="utf-8"))
    settings["queue"] = {"redis_url": "redis://127.0.0.1:9/0"}   # nothing listens on port 9
    path.write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    result = run_cli("scan", config=world.config, timeout=120)
    assert result.returncode == 1
    assert "连接不上 Redis（redis://127.0.0.1:9/0）" in result.stderr and "Traceback" not in result.stderr


def test_a_crawl_runs_with_what_existed_before_it_set_aside_from_the_cycle_collector():
    import gc

    from sitecensus.scan import CRAWL_GC_THRESHOLD, frozen_heap
    assert gc.get_freeze_count() == 0
    before = gc.get_threshold()
    with frozen_heap():
        assert gc.get_freeze_count() > 10_000   # the modules and objects loaded so far
        assert gc.get_threshold() == CRAWL_GC_THRESHOLD != before   # young objects collected less often
    assert gc.get_freeze_count() == 0 and gc.get_threshold() == before


def test_the_largest_sites_of_the_last_full_scan_are_offered_first(store_url):
    from sitecensus.coordinator import largest_first
    from sitecensus.store import Page, Scan, Site, open_store

    sessions = open_store(store_url)
    when = datetime(2026, 11, 1, tzinfo=timezone.utc)
    urls = {name: f"http://{name}.bl.gov.cn/" for name in "abcd"}
    with sessions.begin() as session:
        scans = [Scan(started_at=when, as_of=when, status=status, kind=kind)
                 for status, kind in [("done", "scan"), ("done", "audit"), ("running", "scan")]]
        session.add_all(scans)
        session.flush()
        last, audit, now = scans
        sizes = {(last, "a"): 3, (last, "b"): 10, (last, "c"): 1, (audit, "c"): 50}   # an audit's pages do not count
        for (scan, name), count in sizes.items():
            site = Site(scan_id=scan.id, unit=name, unit_kind="部门", url=urls[name])
            session.add(site)
            session.flush()
            session.add_all([Page(site_id=site.id, url=f"{urls[name]}{i}.html", kind="article") for i in range(count)])
        todo = {}
        for name in "abcd":   # register order; d is new (its size unknown)
            site = Site(scan_id=now.id, unit=name, unit_kind="部门", url=urls[name])
            session.add(site)
            session.flush()
            todo[site.id] = urls[name]
        now_id = now.id
    with sessions() as session:
        order = [todo[site_id] for site_id in largest_first(session, now_id, todo)]
    assert order == [urls["d"], urls["b"], urls["a"], urls["c"]]
    with sessions() as session:   # a first scan: register order
        assert largest_first(session, 1, todo) == list(todo)


@pytest.mark.parametrize("store_url", ["sqlite", "postgresql"], indirect=True)
def test_the_store_takes_a_sites_rows_and_end_only_from_the_worker_it_names(store_url, redis_url):
    from crawler.items import FetchItem
    from sitecensus.scan import WorkerSink
    from sitecensus.store import Fetch, Scan, Site, open_store
    from sitecensus.workqueue import ScanQueue, connect
    from sqlalchemy import func, select, update

    sessions = open_store(store_url)
    when = datetime(2026, 11, 1, tzinfo=timezone.utc)
    with sessions.begin() as session:
        scan = Scan(started_at=when, as_of=when, status="running", kind="scan")
        session.add(scan)
        session.flush()
        sites = [Site(scan_id=scan.id, unit=name, unit_kind="部门", url=f"http://{name}.bl.gov.cn/", worker="w1")
                 for name in "ab"]
        session.add_all(sites)
        session.flush()
        scan_id, site_ids = scan.id, {s.url: s.id for s in sites}
    queue = ScanQueue(connect(redis_url), scan_id)
    old, new = (WorkerSink(sessions, scan_id, site_ids, queue, worker) for worker in ("w1", "w2"))
    fetch = lambda url: FetchItem(site=url, url=url + "x.pdf", method="HEAD", status=200, outcome="ok")  # noqa: E731
    old.accept(fetch("http://a.bl.gov.cn/"))
    old.flush()
    old.accept(fetch("http://b.bl.gov.cn/"))
    with sessions.begin() as session:   # w2 takes site b over (as Worker.start_site does)
        session.execute(update(Site).where(Site.id == site_ids["http://b.bl.gov.cn/"]).values(worker="w2"))
    old.site_failed("http://b.bl.gov.cn/")   # its rows and its end: refused, b is w2's now
    old.close()
    new.accept(fetch("http://b.bl.gov.cn/"))
    new.site_failed("http://b.bl.gov.cn/")
    new.close()
    with sessions() as session:
        stored = session.execute(select(Fetch.site_id, func.count()).group_by(Fetch.site_id)).all()
    assert dict(stored) == {site_ids["http://a.bl.gov.cn/"]: 1, site_ids["http://b.bl.gov.cn/"]: 1}
    assert old.fenced and not new.fenced
    assert queue.done_sites() == {site_ids["http://b.bl.gov.cn/"]}   # ended once, by w2
