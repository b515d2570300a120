"""A scan never loses work, and every stop is clean: kill -9 mid-crawl leaves a consistent store with
earlier scans and their judgements intact and the next scan says what happened; SIGTERM stops a scan
within the grace time and keeps its pages, probes and TLS facts; `sitecensus serve` stopped many
times in a row, at varied moments (while starting, probing, scanning; SIGTERM sent twice as `timeout`
and process managers do) exits 0 with its stop line every time. Loopback sites only."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from sitecensus.scan import stale_note
from tests.conftest import run_cli, scan_logs
from sitecensus.demo.server import DemoServer, Reply, SiteFiles
from tests import test_service
from tests.test_service import ONE_AT_A_TIME, _page, count, db_rows, make_config, wait_for

sites = test_service.sites   # the module-scoped fixture of the service tests' sites, used here by name

PROBE_TIMEOUT = 1
GRACE = 5   # crawl.stop_grace_seconds: the configured time a stopped scan gets


def start_scan(config: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "sitecensus", "scan"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=dict(os.environ, SITECENSUS_CONFIG=str(config)))


def pages_of_scan(config: Path, scan_id: int) -> int:
    return count(config, f"select count(*) from pages join sites on pages.site_id = sites.id where sites.scan_id = {scan_id}")


def running_scan(config: Path) -> int:
    return count(config, "select max(id) from scans where status = 'running'")


def scan_snapshot(config: Path, scan_id: int) -> dict:
    """Everything a finished scan and its judgements consist of, as plain rows."""
    of_sites = f"(select id from sites where scan_id = {scan_id})"
    return {
        "scan": db_rows(config, "select * from scans where id = ?", scan_id),
        "sites": db_rows(config, "select * from sites where scan_id = ? order by id", scan_id),
        "judgements": db_rows(config, "select * from judgements where scan_id = ? order by id", scan_id),
        "results": db_rows(config, "select r.* from results r join judgements j on r.judgement_id = j.id "
                                   "where j.scan_id = ? order by r.id", scan_id),
        **{table: db_rows(config, f"select count(*), max(id) from {table} where site_id in {of_sites}")
           for table in ("pages", "fetches", "links", "columns")},
        "probes": db_rows(config, "select count(*), max(id) from probes where scan_id = ?", scan_id),
    }


def test_kill_9_mid_crawl_leaves_a_consistent_store_and_the_next_scan_says_what_happened(sites, tmp_path):
    config = make_config(tmp_path, sites, keys=("up",))
    first = run_cli("scan", "--json", config=config, timeout=180)
    assert first.returncode == 0, first.stderr
    done_id = json.loads(first.stdout)["scan"]["id"]
    before = scan_snapshot(config, done_id)
    assert before["judgements"] and before["results"]

    # a 60-page site at one request at a time: a crawl of a minute, killed once it has stored some pages
    make_config(tmp_path, sites, keys=("up", "big"), crawl=ONE_AT_A_TIME)
    scan = start_scan(config)
    try:
        killed_id = wait_for(lambda: running_scan(config), 60, "the scan to register")
        wait_for(lambda: pages_of_scan(config, killed_id) >= 3, 90, "pages of the scan in the store")
    finally:
        scan.kill()   # SIGKILL: nothing of ours runs any more
        scan.communicate(timeout=30)
    assert scan.returncode == -signal.SIGKILL

    assert db_rows(config, "PRAGMA integrity_check") == [("ok",)]
    assert db_rows(config, "PRAGMA foreign_key_check") == []
    assert scan_snapshot(config, done_id) == before, "a killed scan must leave the earlier scan and its judgement as they were"
    kept = pages_of_scan(config, killed_id)
    assert kept >= 3
    assert db_rows(config, "select status from scans where id = ?", killed_id) == [("running",)]   # as the kill left it

    status = json.loads(run_cli("status", "--json", config=config, check=True).stdout)
    assert status["last_scan"]["id"] == killed_id and status["last_scan"]["status"] == "interrupted"
    assert status["last_scan"]["note"] == stale_note(killed_id)
    assert stale_note(killed_id) in run_cli("status", config=config, check=True).stdout

    make_config(tmp_path, sites, keys=("up",))
    again = run_cli("scan", "--json", config=config, timeout=180)
    assert again.returncode == 0, again.stderr
    assert stale_note(killed_id) in again.stderr   # "第 N 次检测上次未完成（进程已中止）…"
    assert json.loads(again.stdout)["scan"]["id"] == killed_id + 1
    assert db_rows(config, "select status from scans where id = ?", killed_id) == [("interrupted",)]
    assert pages_of_scan(config, killed_id) == kept   # its pages are kept ...
    assert db_rows(config, "select count(*) from judgements where scan_id = ?", killed_id) == [(0,)]   # ... not judged
    assert scan_snapshot(config, done_id) == before
    assert db_rows(config, "PRAGMA integrity_check") == [("ok",)]
    # said once: the scan after that has nothing to report
    assert "进程已中止" not in run_cli("scan", config=config, timeout=180).stderr


def test_kill_9_at_any_moment_of_a_scan(sites, tmp_path):
    """Killed while importing, setting up, crawling, probing, judging or writing the report: the store
    stays consistent each time, the finished scan stays as it was, and every scan left unfinished ends
    up interrupted — the next scan that starts marks it and says so."""
    config = make_config(tmp_path, sites, keys=("up",))
    assert run_cli("scan", config=config, timeout=180).returncode == 0
    done_id = count(config, "select max(id) from scans")
    before = scan_snapshot(config, done_id)
    unfinished_sql = ("select id from scans s where status = 'running' or "
                      "(status = 'done' and not exists (select 1 from judgements j where j.scan_id = s.id))")
    left: set[int] = set()
    last_id = "select coalesce(max(id), 0) from scans"
    # two kills timed from the start (while importing), the rest from the moment the scan registers: a slow,
    # loaded machine may take longer than a fixed delay just to import, and then no kill would land mid-scan
    for delay, from_registration in ((0.3, False), (1.0, False), (0.0, True), (0.5, True), (1.5, True),
                                     (3.0, True), (5.0, True)):
        prior = count(config, last_id)
        scan = start_scan(config)
        if from_registration:
            wait_for(lambda: count(config, last_id) > prior or scan.poll() is not None, 120, "the scan to register")
        time.sleep(delay)
        scan.kill()
        scan.communicate(timeout=30)
        assert db_rows(config, "PRAGMA integrity_check") == [("ok",)], f"killed {delay} s in"
        assert scan_snapshot(config, done_id) == before, f"killed {delay} s in"
        left |= {scan_id for scan_id, in db_rows(config, unfinished_sql)}
    assert left, "some kills came in the middle of a scan"
    unmarked = {scan_id for scan_id, in db_rows(config, unfinished_sql)}
    last = count(config, "select max(id) from scans")
    last_unfinished = last in unmarked or db_rows(config, "select status from scans where id = ?", last) == [("interrupted",)]
    again = run_cli("scan", config=config, timeout=180)
    assert again.returncode == 0, again.stderr
    for scan_id in unmarked:
        assert stale_note(scan_id) in again.stderr
    assert db_rows(config, unfinished_sql) == []
    # each killed scan ends up interrupted, or resumed by a later run (the register is the same) and judged
    states = dict(db_rows(config, f"select id, status from scans where id in ({','.join(map(str, left))})"))
    resumed = {scan_id for scan_id, status in states.items() if status == "done"}
    assert set(states.values()) <= {"interrupted", "done"}, states
    for scan_id in resumed:
        assert count(config, f"select count(*) from judgements where scan_id = {scan_id}") == 1
    if last_unfinished:   # the last kill left its scan unfinished: the next run took it up and said so
        assert f"继续第 {last} 次检测" in again.stderr and last in resumed
    assert scan_snapshot(config, done_id) == before


@pytest.mark.parametrize("twice", [False, True], ids=["once", "twice as timeout(1) sends it"])
def test_sigterm_stops_a_scan_within_the_grace_time_and_keeps_its_probes_and_tls_facts(sites, tmp_path, twice):
    # three probe rounds 30 s apart: the stop comes between rounds, and must not wait for the next one
    config = make_config(tmp_path, sites, keys=("big", "up"), crawl=ONE_AT_A_TIME)
    settings = yaml.safe_load((config / "settings.yaml").read_text(encoding="utf-8"))
    settings["probes"].update(per_scan=3, spacing_seconds=30, timeout_seconds=PROBE_TIMEOUT)
    settings["crawl"]["stop_grace_seconds"] = GRACE
    (config / "settings.yaml").write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    scan = start_scan(config)
    try:
        scan_id = wait_for(lambda: running_scan(config), 60, "the scan to register")
        wait_for(lambda: pages_of_scan(config, scan_id) >= 3, 90, "pages of the scan in the store")
        asked = time.monotonic()
        scan.send_signal(signal.SIGTERM)
        if twice:   # a second signal stops the spiders at once: what they had yielded is still stored
            time.sleep(0.05)
            scan.send_signal(signal.SIGTERM)
        _, stderr = scan.communicate(timeout=120)
        took = time.monotonic() - asked
    finally:
        if scan.poll() is None:
            scan.kill()
    assert scan.returncode == 130, stderr
    assert "被中断" in stderr
    # the spiders' grace, then the probe round or TLS checks under way (two timeouts), and a margin for saving
    assert took < GRACE + 2 * PROBE_TIMEOUT + 15, f"the scan took {took:.1f} s to stop"
    assert db_rows(config, "select status from scans where id = ?", scan_id) == [("interrupted",)]
    assert pages_of_scan(config, scan_id) >= 3
    crawled = sorted(url for url, in db_rows(config, "select url from sites where scan_id = ? and url is not null", scan_id))
    assert {sites["big"], sites["up"]} <= set(crawled)   # and the portal (no address: a DNS failure, nothing sent)
    probes = db_rows(config, "select url from probes where scan_id = ?", scan_id)
    assert sorted(url for url, in probes) == crawled, "the first round is kept, and no other round started"
    tls = dict(db_rows(config, "select url, tls from sites where scan_id = ? and url is not null", scan_id))
    assert all(tls.values()), tls
    assert all(json.loads(tls[sites[key]])["https"] is False for key in ("big", "up"))   # plain HTTP sites, checked
    assert db_rows(config, "select count(*) from judgements where scan_id = ?", scan_id) == [(0,)]


def test_sigterm_during_the_second_tries_does_not_wait_for_them(tmp_path):
    """Links that time out are asked again after the crawl with a longer timeout — minutes, on a big site.
    A stop then ends the scan at once (interrupted, pages and probes kept) instead of after them."""
    second_try = 60
    site = DemoServer()
    hanging = [f"/hang{i}.html" for i in range(3)]
    site.serve(SiteFiles({"/": Reply(200, _page("区商务局", hanging)),
                          **{path: Reply(200, _page(path), delay=second_try + 30) for path in hanging}}))
    try:
        config = make_config(tmp_path, {"big": site.base_url}, keys=("big",),
                             crawl={"second_try_timeout_seconds": second_try})   # the crawl's own: 2 s
        scan = start_scan(config)
        try:
            scan_id = wait_for(lambda: running_scan(config), 60, "the scan to register")
            wait_for(lambda: in_scan_log(tmp_path, "second tries:"), 90, "the second tries to begin")
            asked = time.monotonic()
            scan.send_signal(signal.SIGTERM)
            _, stderr = scan.communicate(timeout=second_try + 60)
            took = time.monotonic() - asked
        finally:
            if scan.poll() is None:
                scan.kill()
    finally:
        site.close()
    assert scan.returncode == 130, stderr
    assert took < second_try / 2, f"the stop waited {took:.0f} s for the second tries (limit {second_try} s each)"
    assert db_rows(config, "select status from scans where id = ?", scan_id) == [("interrupted",)]
    assert pages_of_scan(config, scan_id) == 1   # the home page, kept
    assert count(config, f"select count(*) from probes where scan_id = {scan_id}") >= 1
    assert db_rows(config, "PRAGMA integrity_check") == [("ok",)]


def in_scan_log(base: Path, text: str) -> bool:
    return text in scan_logs(base)


# (seconds after start, a second SIGTERM right after the first?) — while importing, starting, probing, scanning
SERVICE_STOPS = [(0.5, False), (1.0, True), (2.0, False), (3.0, True), (4.0, False), (4.5, True), (5.5, False), (6.0, True)]


def test_the_service_stops_with_status_0_every_time(sites, tmp_path):
    # probes every 2 s (one site answers only after the probe timeout) and a scan of a minute every 2 s
    config = make_config(tmp_path, sites, keys=("up", "slow", "big"), crawl=ONE_AT_A_TIME,
                         scan_schedule={"second": "*/2"}, probe_interval_seconds=2)
    outcomes = []
    for delay, twice in SERVICE_STOPS:
        service = subprocess.Popen([sys.executable, "-m", "sitecensus", "serve", "--config", str(config)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=config.parent)
        time.sleep(delay)
        service.send_signal(signal.SIGTERM)
        if twice:   # as `timeout` does: to the process, then to its process group
            time.sleep(0.05)
            service.send_signal(signal.SIGTERM)
        try:
            _, stderr = service.communicate(timeout=180)
        except subprocess.TimeoutExpired:
            service.kill()
            raise
        outcomes.append((delay, twice, service.returncode, "sitecensus 服务已停止" in stderr, stderr[-600:]))
    failed = [o for o in outcomes if o[2] != 0 or not o[3]]
    assert not failed, "\n\n".join(f"SIGTERM after {d} s{' twice' if t else ''}: exit {rc}\n{tail}"
                                   for d, t, rc, _, tail in failed)
    assert count(config, "select count(*) from scans where status = 'running'") == 0
    log = (tmp_path / "out" / "service.log").read_text(encoding="utf-8")
    assert "探测一轮" in log and "每周全面检测开始" in log, "some stops came while probing and while scanning"
    assert db_rows(config, "PRAGMA integrity_check") == [("ok",)]


def test_a_scan_killed_before_its_judgement_was_stored_counts_as_interrupted(tmp_path):
    """kill -9 between the crawl's end ('done') and the judgement: not left as a finished scan without
    a verdict (which `report` and the dashboard would stumble on), but marked and reported like any
    killed scan. Scans whose process still runs, and judged ones, are left alone."""
    from datetime import datetime, timezone

    from sitecensus.scan import mark_stale_scans
    from sitecensus.store import Judgement, Scan, open_store

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()   # a pid that no longer runs
    sessions = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    now = datetime.now(timezone.utc)
    with sessions.begin() as session:
        scans = {name: Scan(started_at=now, as_of=now, status=status, pid=pid, kind="scan")
                 for name, status, pid in [("judged", "done", gone.pid), ("killed_judging", "done", gone.pid),
                                           ("killed_crawling", "running", gone.pid), ("judging_now", "done", os.getpid()),
                                           ("crawling_now", "running", os.getpid())]}
        session.add_all(scans.values())
        session.flush()
        session.add(Judgement(scan_id=scans["judged"].id, as_of=now, profile="census2015", created_at=now))
        ids = {name: scan.id for name, scan in scans.items()}
    assert mark_stale_scans(sessions) == [ids["killed_judging"], ids["killed_crawling"]]
    with sessions() as session:
        status = {name: session.get(Scan, scan_id).status for name, scan_id in ids.items()}
    assert status == {"judged": "done", "killed_judging": "interrupted", "killed_crawling": "interrupted",
                      "judging_now": "done", "crawling_now": "running"}
    assert mark_stale_scans(sessions) == []   # said once
