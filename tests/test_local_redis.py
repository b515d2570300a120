"""The scan's own Redis when queue.redis_url is not set: Debian's redis-server when installed, else fakeredis."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import redis

from sitecensus import workqueue
from sitecensus.workqueue import EmbeddedRedis, ScanQueue, SpawnedRedis, connect, local_redis


def _queue_works(url: str) -> None:
    queue = ScanQueue(connect(url), 7)
    queue.offer(3, "http://127.0.0.1:9/")
    assert queue.server.lrange(queue.sites_key, 0, -1) == ['{"url": "http://127.0.0.1:9/", "meta": {"site_id": 3}}']


def _serves(server, kind: type, scheme: str) -> None:
    """`server` is of `kind`, at a `scheme` URL, and a scan's queue works on it; closed after."""
    try:
        assert isinstance(server, kind) and server.url.startswith(scheme)
        _queue_works(server.url)
    finally:
        server.close()


def test_redis_server_is_spawned_when_installed():
    if not workqueue.redis_server_binary():
        pytest.fail("redis-server is not installed: `apt-get install -y redis-server`", pytrace=False)
    server = local_redis()
    _serves(server, SpawnedRedis, "unix://")
    assert server.process.poll() is not None and not server.folder.exists()


def test_without_redis_server_the_embedded_fakeredis_serves(monkeypatch):
    monkeypatch.setattr(workqueue, "redis_server_binary", lambda: None)
    _serves(local_redis(), EmbeddedRedis, "redis://127.0.0.1:")


def test_a_redis_server_that_cannot_start_falls_back_to_fakeredis(monkeypatch, tmp_path):
    broken = tmp_path / "redis-server"
    broken.write_text("#!/bin/sh\nexit 1\n")
    broken.chmod(0o755)
    monkeypatch.setattr(workqueue, "redis_server_binary", lambda: str(broken))
    server = local_redis()
    try:
        assert isinstance(server, EmbeddedRedis)
    finally:
        server.close()


def test_the_spawned_redis_dies_with_a_killed_scan():
    """kill -9 of the scan's process leaves no redis-server behind (PR_SET_PDEATHSIG)."""
    if not workqueue.redis_server_binary():
        pytest.fail("redis-server is not installed: `apt-get install -y redis-server`", pytrace=False)
    scan = subprocess.Popen([sys.executable, "-c", "import sys, time\n"
                             "from sitecensus.workqueue import local_redis\n"
                             "print(local_redis().url, flush=True)\ntime.sleep(60)"],
                            stdout=subprocess.PIPE, text=True, cwd=os.getcwd())
    url = scan.stdout.readline().strip()
    assert url.startswith("unix://")
    assert connect(url).ping()
    os.kill(scan.pid, signal.SIGKILL)
    scan.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            connect(url).ping()
        except redis.ConnectionError:
            return
        time.sleep(0.1)
    pytest.fail("redis-server outlived the killed scan")
