"""A real Redis server for the tests: Debian's `redis-server`, spawned as a scan spawns its own
(sitecensus.workqueue.SpawnedRedis: a Unix socket, nothing saved to disk), started once per session and
emptied before each test that asks for `redis_url`.

Without the binary the Redis tests fail and say what to install, unless SITECENSUS_TEST_NO_REDIS=1 asks to
skip them. SITECENSUS_TEST_REDIS=fakeredis runs the same tests against the scan's embedded stand-in
(sitecensus.workqueue.EmbeddedRedis: fakeredis's TCP server in this process) instead.
"""
from __future__ import annotations

import os

import pytest

from sitecensus.workqueue import EmbeddedRedis, SpawnedRedis, connect, redis_server_binary

SKIP_ENV = "SITECENSUS_TEST_NO_REDIS"
KIND_ENV = "SITECENSUS_TEST_REDIS"


def start_redis() -> SpawnedRedis | EmbeddedRedis:
    if os.environ.get(KIND_ENV) == "fakeredis":
        return EmbeddedRedis()
    binary = redis_server_binary()
    if binary is None:
        if os.environ.get(SKIP_ENV) == "1":
            pytest.skip(f"redis-server is not installed ({SKIP_ENV}=1)")
        pytest.fail("redis-server is not installed: `apt-get install -y redis-server` (Debian), "
                    f"or set {SKIP_ENV}=1 to skip the Redis tests", pytrace=False)
    return SpawnedRedis(binary)


@pytest.fixture(scope="session")
def redis_server():
    """The session's Redis server, started on first use."""
    server = start_redis()
    yield server
    server.close()


@pytest.fixture
def redis_url(redis_server) -> str:
    """The session's Redis server, emptied for this test."""
    connect(redis_server.url).flushall()
    return redis_server.url
