"""A real Redis server for the tests: Debian's `redis-server` on a free loopback port, nothing saved to disk,
started once per session and emptied before each test that asks for `redis_url`.

Without the binary the Redis tests fail and say what to install, unless SITECENSUS_TEST_NO_REDIS=1 asks to
skip them. SITECENSUS_TEST_REDIS=fakeredis runs the same tests against fakeredis's TCP server in this process
instead (pip `fakeredis[lua]`: redis-py's Lock needs Lua), to check it as an embedded stand-in.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

SKIP_ENV = "SITECENSUS_TEST_NO_REDIS"
KIND_ENV = "SITECENSUS_TEST_REDIS"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    def __init__(self, binary: str):
        self.folder = Path(tempfile.mkdtemp(prefix="sitecensus-redis-"))
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.folder), "--logfile", str(self.folder / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)

    def client(self):
        import redis
        return redis.Redis.from_url(self.url)

    def wait_ready(self, seconds: float = 30) -> None:
        import redis
        deadline = time.monotonic() + seconds
        while True:
            try:
                self.client().ping()
                return
            except redis.ConnectionError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    log = (self.folder / "redis.log").read_text(errors="replace") if (self.folder / "redis.log").exists() else ""
                    self.stop()
                    raise RuntimeError(f"redis-server did not start on port {self.port}:\n{log}") from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


class FakeRedisServer:
    """fakeredis.TcpFakeServer on a free loopback port, served by a thread of this process."""

    def __init__(self):
        import threading

        from fakeredis import TcpFakeServer
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.server = TcpFakeServer(("127.0.0.1", self.port), server_type="redis")
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def client(self):
        import redis
        return redis.Redis.from_url(self.url)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start_redis() -> RedisServer | FakeRedisServer:
    if os.environ.get(KIND_ENV) == "fakeredis":
        return FakeRedisServer()
    binary = shutil.which("redis-server") or next((p for p in ("/usr/bin/redis-server", "/usr/sbin/redis-server")
                                                    if os.path.exists(p)), None)
    if binary is None:
        if os.environ.get(SKIP_ENV) == "1":
            pytest.skip(f"redis-server is not installed ({SKIP_ENV}=1)")
        pytest.fail("redis-server is not installed: `apt-get install -y redis-server` (Debian), "
                    f"or set {SKIP_ENV}=1 to skip the Redis tests", pytrace=False)
    server = RedisServer(binary)
    server.wait_ready()
    return server


@pytest.fixture(scope="session")
def redis_server():
    """The session's Redis server, started on first use."""
    server = start_redis()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server) -> str:
    """The session's Redis server, emptied for this test."""
    redis_server.client().flushall()
    return redis_server.url
