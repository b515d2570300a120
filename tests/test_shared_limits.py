"""What workers of one scan share in Redis (a real redis-server, tests/redis_server.py): the registry that
has each link target checked once per scan (crawler/registry.py), and the per-host limiter for hosts no
worker owns (crawler/limiter.py). Two Scrapy processes each, started at the same moment, against loopback
servers that log every request and count the requests they answer at once."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from crawler import registry
from crawler.registry import RedisScanRegistry, ScanRegistry, claims_key, connect, sole_hosts
from tests.counting_server import CountingServer

REPO = Path(__file__).resolve().parents[1]
TARGETS = 30


def run_together(specs: list[dict], folder: Path, timeout: float = 120) -> None:
    """Run one tests/crawl_child.py process per spec; they start crawling together (ready/go files)."""
    go = folder / "go"
    children = []
    for n, spec in enumerate(specs):
        spec = {**spec, "ready": str(folder / f"ready-{n}"), "go": str(go)}
        children.append(subprocess.Popen([sys.executable, "-m", "tests.crawl_child", json.dumps(spec)], cwd=REPO,
                                         env={**os.environ, "PYTHONPATH": str(REPO)}, stderr=subprocess.PIPE,
                                         text=True))
    deadline = time.monotonic() + timeout
    while not all((folder / f"ready-{n}").exists() for n in range(len(specs))):
        assert all(child.poll() is None for child in children), [c.stderr.read() for c in children if c.poll() is not None]
        assert time.monotonic() < deadline, "children did not get ready"
        time.sleep(0.05)
    go.write_text("go")
    for child in children:
        _, err = child.communicate(timeout=max(deadline - time.monotonic(), 1))
        assert child.returncode == 0, err


def test_a_target_is_claimed_by_one_site_and_again_by_that_site(redis_url):
    server = connect(redis_url)
    first, second = RedisScanRegistry(server, 7), RedisScanRegistry(server, 7)
    assert first.claim("http://x/a.png", "site-a")
    assert not second.claim("http://x/a.png", "site-b")
    assert second.claimed_elsewhere("http://x/a.png", "site-b")   # remembered: no second round trip
    # a resumed site (another worker, an empty cache) checks what it had claimed
    assert RedisScanRegistry(server, 7).claim("http://x/a.png", "site-a")
    assert RedisScanRegistry(server, 8).claim("http://x/a.png", "site-b")   # another scan, another registry


def test_a_target_on_a_host_only_one_site_is_on_is_that_sites_without_asking_redis(redis_url):
    server = connect(redis_url)
    sites = ["http://a.gov.cn/", "http://portal.gov.cn/a/", "http://portal.gov.cn/b/"]
    assert sole_hosts(sites) == {"a.gov.cn": "http://a.gov.cn/"}   # the portal's host is two sites'
    portal_pages = {"http://portal.gov.cn/b/"}   # a unit's page retained on the portal (site a/ is the portal)
    for shared in (ScanRegistry.for_sites(sites, portal_pages, {"portal.gov.cn"}),
                   RedisScanRegistry.for_sites(sites, portal_pages, {"portal.gov.cn"}, server=server, scan_id=11)):
        assert shared.sole_hosts == {"a.gov.cn": "http://a.gov.cn/"}
        assert shared.site_netlocs == {"a.gov.cn", "portal.gov.cn"}
        assert shared.destination_netlocs == {"portal.gov.cn"}
        assert shared.claim_many(["http://a.gov.cn/f.pdf", "http://portal.gov.cn/x.pdf"],
                                 "http://portal.gov.cn/a/") == [False, True]
        assert shared.claimed_elsewhere("http://a.gov.cn/f.pdf", "http://portal.gov.cn/b/")
        assert shared.claim("http://a.gov.cn/f.pdf", "http://a.gov.cn/")
        assert not shared.claimed_elsewhere("http://a.gov.cn/f.pdf", "http://a.gov.cn/")
        assert not shared.claim("http://portal.gov.cn/x.pdf", "http://portal.gov.cn/b/")
    assert server.hkeys(claims_key(11)) == [b"http://portal.gov.cn/x.pdf"]   # only the shared host's target asked


def test_a_worker_forgets_answers_past_its_limit_and_asks_redis_again(redis_url, monkeypatch):
    monkeypatch.setattr(registry, "ANSWERS_KEPT", 3)
    server = connect(redis_url)
    mine, theirs = RedisScanRegistry(server, 9), RedisScanRegistry(server, 9)
    assert theirs.claim("http://x/0.png", "site-b")
    assert [mine.claim(f"http://x/{i}.png", "site-a") for i in range(1, 6)] == [True] * 5
    assert len(mine.owners) <= 3                                # bounded
    assert all(isinstance(key, int) for key in mine.owners)     # ...and kept as hashes, not URL strings
    assert not mine.claim("http://x/0.png", "site-a")           # still answered by Redis: checked once
    assert all(mine.claim(f"http://x/{i}.png", "site-a") for i in range(1, 6))   # its own claims stay its own


@pytest.mark.parametrize("shared", [True, False], ids=["redis-registry", "control-per-process"])
def test_two_workers_check_each_shared_target_once(shared, redis_url, tmp_path):
    external = CountingServer(fallback=lambda path: (200, b"GIF89a", "image/gif", {}), delay=0.02)
    targets = [f"{external.base_url}/t/{i}.gif" for i in range(TARGETS)]
    sites = []
    for name in ("a", "b"):
        body = "".join(f'<img src="{t}" alt="{i}">' for i, t in enumerate(targets))
        home = f"<html><head><title>{name}</title></head><body><h1>{name}</h1>{body}</body></html>".encode()
        sites.append(CountingServer({"/": (200, home, "text/html; charset=utf-8", {})}))
    urls = [s.base_url + "/" for s in sites]
    try:
        specs = [{"settings": {"SITECENSUS_ALLOWED_HOSTS": ["127.0.0.1"], "DOWNLOAD_DELAY": 0.001,
                               "CONCURRENT_REQUESTS_PER_DOMAIN": 4},
                  "site": {"url": url, "sites": urls, "items": str(tmp_path / f"items-{n}.jsonl"),
                           "registry": redis_url if shared else None, "scan": 1}}
                 for n, url in enumerate(urls)]
        run_together(specs, tmp_path)
    finally:
        for s in (external, *sites):
            s.close()
    asked = Counter(path for _, path in external.requested())
    reported = Counter(row["url"] for n in range(2) for row in map(json.loads, (tmp_path / f"items-{n}.jsonl").open())
                       if "url" in row and row["url"] in targets)
    assert set(asked) == {f"/t/{i}.gif" for i in range(TARGETS)}
    if shared:
        assert set(asked.values()) == {1}, asked      # each target requested once by the two workers together
        assert set(reported.values()) == {1} and len(reported) == TARGETS
    else:
        assert set(asked.values()) == {2}             # without the shared registry each worker checks all


def _limited(redis_url: str, **settings) -> dict:
    return {"bare": True, "settings": {"DOWNLOADER_MIDDLEWARES": {"crawler.limiter.SharedHostLimiter": 950},
                                       "SITECENSUS_REDIS_URL": redis_url, "SITECENSUS_SCAN_ID": 3,
                                       "RETRY_ENABLED": False, "CONCURRENT_REQUESTS": 16,
                                       "SITECENSUS_LIMITER_POLL_SECONDS": 0.01, **settings}}


@pytest.mark.parametrize("exempt", [False, True], ids=["limited", "control-exempt-host"])
def test_per_host_concurrency_holds_across_two_processes(exempt, redis_url, tmp_path):
    hosts = [CountingServer(delay=0.3) for _ in range(2)]
    try:
        spec = _limited(redis_url, CONCURRENT_REQUESTS_PER_DOMAIN=2, DOWNLOAD_DELAY=0.001,
                        SITECENSUS_OWNED_NETLOCS=[h.base_url.split("//")[1].rstrip("/") for h in hosts] if exempt else [],
                        SITECENSUS_ALLOWED_HOSTS=["127.0.0.1"])   # the guard lets loopback through either way
        run_together([{**spec, "urls": [f"{h.base_url}/{p}/{i}" for i in range(10) for h in hosts]}
                      for p in ("p1", "p2")], tmp_path)
    finally:
        for h in hosts:
            h.close()
    for host in hosts:
        assert len(host.requested()) == 20   # every request was answered
        if exempt:   # a registered site's host: each process keeps its own 2, together 4
            assert host.most > 2
        else:
            assert host.most <= 2, host.most


def test_per_host_delay_holds_across_two_processes(redis_url, tmp_path):
    delay = 0.25
    host = CountingServer(delay=0.02)
    try:
        spec = _limited(redis_url, CONCURRENT_REQUESTS_PER_DOMAIN=1, DOWNLOAD_DELAY=delay)
        run_together([{**spec, "urls": [f"{host.base_url}/{p}/{i}" for i in range(4)]} for p in ("p1", "p2")], tmp_path)
    finally:
        host.close()
    log = sorted(host.log, key=lambda row: row[2])
    assert len(log) == 8 and {path.split("/")[1] for _, path, _, _ in log} == {"p1", "p2"}
    # the next request on the host, from either process, starts the delay after the previous one ended
    gaps = [b[2] - a[3] for a, b in zip(log, log[1:])]
    assert min(gaps) >= delay - 0.02, gaps
