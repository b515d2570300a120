"""A scan's shared state in Redis, read and written by its coordinator (`sitecensus scan`) and its workers
(`sitecensus worker`, sitecensus/worker.py), on one machine or several:

- `sites`: the sites waiting for a worker, as scrapy-redis start data (JSON `{"url", "meta"}`), which each
  worker's `SiteFeeder` (a scrapy-redis RedisSpider) reads;
- `owner`: which worker crawls which site now; `worker:<id>`: each worker's heartbeat, expiring on its own
  when the worker dies, so that the coordinator gives its sites to the others;
- `done`: the sites whose crawl ended (all they fetched is in the store);
- `stop` / `over`: the coordinator asks the workers to stop (the scan is interrupted), or tells them the
  crawl is over (every site done).

The store (SQLite or PostgreSQL) keeps the facts; Redis only the coordination, so losing Redis loses no page:
a site taken again is resumed from the store (sitecensus/resume.py).

Without `queue.redis_url`, the scan starts a Redis of its own for its local workers (`local_redis`): Debian's
`redis-server` when it is installed (the README's set-up installs it), on a Unix socket, nothing saved, ended
with the scan; otherwise fakeredis's TCP server in the scan's own process on a loopback port, so that a plain
`pip install` is enough on one machine. The spawned server is preferred because fakeredis runs every command
(and each link-check claim's Lua) in Python in the scan's process: ~1 ms of CPU per crawled page. A second
machine joins only when the office sets up a real Redis server (`queue.redis_url`).
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Iterable

from crawler.registry import connect as registry_client

log = logging.getLogger(__name__)
SITE_TASK = "sitecensus:{scan}:sites"
OPEN_SCANS = "sitecensus:open"   # the scans that want workers: where `sitecensus worker` looks for work


def connect(url: str):
    """The queue's client: crawler/registry.py's, answering text."""
    return registry_client(url, decode_responses=True)


class EmbeddedRedis:
    """fakeredis's TCP server in a thread of this process, on 127.0.0.1 and a free port."""

    def __init__(self):
        from fakeredis import TcpFakeServer
        self.server = TcpFakeServer(("127.0.0.1", 0), server_type="redis")
        self.url = f"redis://127.0.0.1:{self.server.server_address[1]}/0"
        self.thread = threading.Thread(target=self.server.serve_forever, name="embedded-redis", daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class SpawnedRedis:
    """Debian's redis-server for one scan: a Unix socket in a temporary folder (no port to collide with), nothing
    saved to disk, killed with the scan even when the scan is killed (PR_SET_PDEATHSIG)."""

    READY_SECONDS = 10

    def __init__(self, binary: str):
        self.folder = Path(tempfile.mkdtemp(prefix="sitecensus-redis-"))
        socket_path = self.folder / "redis.sock"
        self.url = f"unix://{socket_path}?db=0"
        self.process = subprocess.Popen(
            [binary, "--port", "0", "--unixsocket", str(socket_path), "--unixsocketperm", "700", "--save", "",
             "--appendonly", "no", "--dir", str(self.folder), "--logfile", str(self.folder / "redis.log")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=die_with_parent)
        try:
            self._wait_ready()
        except Exception:
            self.close()
            raise

    def _wait_ready(self) -> None:
        from redis import RedisError
        deadline = time.monotonic() + self.READY_SECONDS
        while True:
            try:
                connect(self.url).ping()
                return
            except RedisError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not start (log: {self.folder / 'redis.log'})") from None
                time.sleep(0.02)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


def redis_server_binary() -> str | None:
    return shutil.which("redis-server") or next(
        (path for path in ("/usr/bin/redis-server", "/usr/sbin/redis-server") if os.path.exists(path)), None)


def local_redis() -> SpawnedRedis | EmbeddedRedis:
    """The scan's own Redis when no queue.redis_url is set: redis-server if installed, else fakeredis (see above)."""
    binary = redis_server_binary()
    if binary:
        try:
            return SpawnedRedis(binary)
        except (OSError, RuntimeError) as exc:
            log.warning("redis-server could not be started (%s); using the embedded fakeredis", exc)
    return EmbeddedRedis()


def die_with_parent() -> None:
    """A local worker or Redis ends with the scan that started it, even a killed one (Linux: PR_SET_PDEATHSIG): an
    orphan worker would go on writing to a scan that the next run resumes, beside the workers that resume it."""
    import ctypes
    import signal
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)   # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return   # not Linux: a worker's closed stdin (worker._watch_parent) stops it instead
    if os.getppid() == 1:   # the parent died before the call above
        os._exit(1)


class ScanQueue:
    """The keys of one scan (see the module's text)."""

    def __init__(self, server, scan_id: int):
        self.server = server
        self.scan_id = scan_id
        self.sites_key = SITE_TASK.format(scan=scan_id)
        self._key = f"sitecensus:{scan_id}:".__add__

    # --- the coordinator
    def reset(self) -> None:
        """A fresh start of the scan's coordination (the link-check claims stay: see seed_claims)."""
        self.server.delete(self.sites_key, *(self._key(k) for k in ("owner", "done", "stop", "over", "progress")))

    def seed_claims(self, fetched: Iterable[tuple[str, str]]) -> None:
        """A resumed scan: the link targets its sites had already checked, (url, site key), claimed again, so that
        no other site checks them a second time (an embedded Redis starts empty)."""
        from crawler.registry import claims_key
        key, batch = claims_key(self.scan_id), {}
        for url, site_key in fetched:
            batch.setdefault(url, site_key)
            if len(batch) >= 5000:
                self._claim_all(key, batch)
        self._claim_all(key, batch)

    def _claim_all(self, key: str, batch: dict[str, str]) -> None:
        with self.server.pipeline(transaction=False) as pipe:
            for url, site_key in batch.items():
                pipe.hsetnx(key, url, site_key)
            pipe.execute()
        batch.clear()

    def offer(self, site_id: int, url: str) -> None:
        self.server.rpush(self.sites_key, json.dumps({"url": url, "meta": {"site_id": site_id}}))

    def done_sites(self) -> set[int]:
        return {int(s) for s in self.server.smembers(self._key("done"))}

    def lost_sites(self) -> dict[int, str]:
        """{site id: worker} of the sites held by workers whose heartbeat has expired."""
        owners = self.server.hgetall(self._key("owner"))
        alive = {w for w in set(owners.values()) if self.server.exists(self._worker_key(w))}
        return {int(site): worker for site, worker in owners.items() if worker not in alive}

    def give_back(self, site_id: int, url: str) -> None:
        """A lost worker's site goes back to the waiting list (once: the owner entry goes first)."""
        if self.server.hdel(self._key("owner"), site_id):
            self.offer(site_id, url)

    def open(self) -> None:
        self.server.sadd(OPEN_SCANS, self.scan_id)

    def close(self) -> None:
        self.server.srem(OPEN_SCANS, self.scan_id)

    def ask_stop(self) -> None:
        self.server.set(self._key("stop"), 1)

    def declare_over(self) -> None:
        self.server.set(self._key("over"), 1)

    # --- a worker
    def heartbeat(self, worker: str, ttl: float) -> None:
        self.server.set(self._worker_key(worker), 1, px=int(ttl * 1000))

    def alive(self, worker: str) -> bool:
        """Its heartbeat has not expired (else the scan gives its sites to the others)."""
        return bool(self.server.exists(self._worker_key(worker)))

    def take(self, site_id: int, worker: str) -> None:
        self.server.hset(self._key("owner"), site_id, worker)

    def finish(self, site_id: int) -> None:
        with self.server.pipeline() as pipe:
            pipe.sadd(self._key("done"), site_id)
            pipe.hdel(self._key("owner"), site_id)
            pipe.execute()

    def add_progress(self, pages: int, fetches: int, failed: int) -> None:
        with self.server.pipeline(transaction=False) as pipe:
            for field, value in (("pages", pages), ("fetches", fetches), ("failed", failed)):
                pipe.hincrby(self._key("progress"), field, value)
            pipe.execute()

    def progress(self) -> tuple[int, int, int]:
        """Pages, fetches and failed fetches the workers stored in this run of the scan."""
        counts = self.server.hgetall(self._key("progress"))
        return tuple(int(counts.get(field, 0)) for field in ("pages", "fetches", "failed"))

    def stop_asked(self) -> bool:
        return bool(self.server.exists(self._key("stop")))

    def is_over(self) -> bool:
        return bool(self.server.exists(self._key("over"))) or not self.server.sismember(OPEN_SCANS, self.scan_id)

    def waiting(self) -> int:
        return self.server.llen(self.sites_key)

    def _worker_key(self, worker: str) -> str:
        return f"sitecensus:worker:{worker}"


def open_scans(server) -> list[int]:
    return sorted(int(s) for s in server.smembers(OPEN_SCANS))
