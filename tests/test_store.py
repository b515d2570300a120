"""A store made by the previous version (no scans.pid / scans.kind, no fetches.site_id index) is
upgraded in place when opened, and its old scans still count as full scans."""
import sqlite3
from datetime import datetime, timezone

from sitecensus.store import Scan, latest_scan_id, open_store


def test_an_older_store_gets_the_new_columns_and_indexes(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    sessions = open_store(url)
    now = datetime.now(timezone.utc)
    with sessions.begin() as session:
        session.add(Scan(started_at=now, as_of=now, status="done"))
    sessions.kw["bind"].dispose()
    with sqlite3.connect(tmp_path / "old.db") as db:
        db.execute("DROP INDEX ix_fetches_site_id")
        db.execute("ALTER TABLE scans DROP COLUMN kind")
        db.execute("ALTER TABLE scans DROP COLUMN pid")

    sessions = open_store(url)
    with sqlite3.connect(tmp_path / "old.db") as db:
        columns = {row[1] for row in db.execute("PRAGMA table_info(scans)")}
        indexes = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"kind", "pid"} <= columns
    assert "ix_fetches_site_id" in indexes
    with sessions() as session:
        assert latest_scan_id(session) == 1   # kind NULL: a scan of the earlier version is a full scan
