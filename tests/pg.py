"""A real PostgreSQL server for the tests: Debian's binaries, a throw-away cluster in a temporary folder,
on a free loopback port, started once per session.

As root (CI), initdb refuses to run: the server then runs as the `postgres` system user that Debian's
package creates. Without the binaries the PostgreSQL tests fail and say what to install, unless
SITECENSUS_TEST_NO_POSTGRES=1 asks to skip them.
"""
from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

SKIP_ENV = "SITECENSUS_TEST_NO_POSTGRES"
BACKENDS = ["sqlite", "postgresql"]
# A test server: durability is worth nothing here, speed is.
SERVER_OPTIONS = ("-c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                  "-c max_connections=200")


def _bin_dir() -> Path | None:
    """The newest installed major version's binaries (/usr/lib/postgresql/15/bin on Debian 12)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """One cluster: initdb, pg_ctl start and stop; a fresh database per test."""

    def __init__(self, bin_dir: Path):
        self.bin_dir = bin_dir
        self.folder = Path(tempfile.mkdtemp(prefix="sitecensus-pg-"))
        self.data, self.sockets, self.log = self.folder / "data", self.folder / "sockets", self.folder / "server.log"
        self.sockets.mkdir()
        self.port = _free_port()
        self._names = itertools.count(1)
        self._as = []
        if os.geteuid() == 0:   # initdb and postgres refuse root: run them as Debian's postgres user
            owner = pwd.getpwnam("postgres")
            for path in (self.folder, self.sockets):
                os.chown(path, owner.pw_uid, owner.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]

    def _run(self, tool: str, *args: str) -> None:
        result = subprocess.run([*self._as, str(self.bin_dir / tool), *args], capture_output=True, text=True,
                                cwd=self.folder, timeout=120)
        if result.returncode != 0:
            log = self.log.read_text(errors="replace") if self.log.exists() else ""
            raise RuntimeError(f"{tool} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}\n{log}")

    def start(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "--encoding=UTF8",
                  "--locale=C.UTF-8", "--no-sync")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start",
                  "-o", f"{SERVER_OPTIONS} -p {self.port} -k {self.sockets}")

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._run("pg_ctl", "-D", str(self.data), "-w", "-t", "60", "-m", "fast", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _admin(self, sql: str) -> None:
        import psycopg
        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres",
                             autocommit=True) as connection:
            connection.execute(sql)

    def create_database(self) -> str:
        """A new empty database; its SQLAlchemy URL."""
        name = f"test_{next(self._names)}"
        self._admin(f"CREATE DATABASE {name}")
        return self.url(name)


def backend_url(request, backend: str, sqlite_file: Path) -> str:
    """The store URL of a test on `backend`: a SQLite file, or a new database on the session's server."""
    if backend == "sqlite":
        return f"sqlite:///{sqlite_file}"
    return request.getfixturevalue("postgres").create_database()


def start_server() -> PostgresServer:
    if os.environ.get(SKIP_ENV) == "1":
        pytest.skip(f"PostgreSQL tests skipped ({SKIP_ENV}=1)")
    bin_dir = _bin_dir()
    if bin_dir is None:
        pytest.fail("PostgreSQL is not installed: the store tests run on a real PostgreSQL server. Install it with "
                    "`apt-get install -y postgresql` (Debian's package; the tests start their own server), or set "
                    f"{SKIP_ENV}=1 to skip them.", pytrace=False)
    server = PostgresServer(bin_dir)
    try:
        server.start()
    except BaseException:
        server.stop()   # a half-started cluster is stopped if it runs, and its folder removed
        raise
    return server


def copy_store(source_url: str, target_url: str) -> None:
    """Every row of a store into a new one, ids kept (the target's id sequences then start after them)."""
    from sqlalchemy import create_engine, func, select, text

    from sitecensus.store import Base, open_store
    open_store(target_url).kw["bind"].dispose()
    source, target = create_engine(source_url), create_engine(target_url)
    with source.connect() as read, target.begin() as write:
        for table in Base.metadata.sorted_tables:
            rows = [dict(row._mapping) for row in read.execute(select(table).order_by(table.c.id))]
            if rows:
                write.execute(table.insert(), rows)
            if target.dialect.name == "postgresql":
                last = write.scalar(select(func.max(table.c.id))) or 0
                write.execute(text("SELECT setval(pg_get_serial_sequence(:table, 'id'), :last + 1, false)"),
                              {"table": table.name, "last": last})
    source.dispose()
    target.dispose()
