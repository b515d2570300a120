"""The store on each backend (SQLite and a real PostgreSQL server): a store made by the previous version
(no scans.pid / scans.kind, no fetches.site_id index) is upgraded in place when opened, and its old scans
still count as full scans; values come back as they went in."""
import multiprocessing
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, insert, inspect, select, text

from sitecensus.store import Fetch, Judgement, Page, Scan, Site, latest_judgement, latest_scan_id, open_store
from tests import pg


def test_an_older_store_gets_the_new_columns_and_indexes(store_url):
    sessions = open_store(store_url)
    now = datetime.now(timezone.utc)
    with sessions.begin() as session:
        session.add(Scan(started_at=now, as_of=now, status="done"))
    with sessions.kw["bind"].begin() as connection:
        connection.execute(text("DROP INDEX ix_fetches_site_id"))
        connection.execute(text("ALTER TABLE scans DROP COLUMN kind"))
        connection.execute(text("ALTER TABLE scans DROP COLUMN pid"))
    sessions.kw["bind"].dispose()
    assert "kind" not in {c["name"] for c in inspect(create_engine(store_url)).get_columns("scans")}

    sessions = open_store(store_url)
    found = inspect(sessions.kw["bind"])
    assert {"kind", "pid"} <= {c["name"] for c in found.get_columns("scans")}
    assert "ix_fetches_site_id" in {i["name"] for i in found.get_indexes("fetches")}
    with sessions() as session:
        assert latest_scan_id(session) == 1   # kind NULL: a scan of the earlier version is a full scan
    open_store(store_url)                    # opening an up-to-date store changes nothing and does not fail
    sessions.kw["bind"].dispose()


def test_values_come_back_as_stored(store_url):
    """Aware datetimes (stored as UTC, returned aware), JSON documents with CJK text, booleans and NULLs."""
    sessions = open_store(store_url)
    local = datetime(2026, 3, 1, 9, 30, 15, 123000, tzinfo=ZoneInfo("Asia/Shanghai"))
    facts = {"title": "区教育局", "groups": [{"items": [1, 2.5, None, True]}], "rendered": True}
    with sessions.begin() as session:
        scan = Scan(started_at=local, as_of=local, status="done", kind="scan")
        site = Site(scan=scan, unit="区教育局", unit_kind="部门", url="http://127.0.0.1/", plan={"合并": None})
        session.add_all([scan, site])
        session.flush()
        session.add(Page(site_id=site.id, url="http://127.0.0.1/", kind="home", is_home=True, facts=facts))
        session.add_all([Judgement(scan_id=scan.id, as_of=local, profile="p", created_at=local, what_if=None),
                         Judgement(scan_id=scan.id, as_of=local, profile="p", created_at=local, what_if=True)])
    with sessions() as session:
        scan = session.get(Scan, latest_scan_id(session))
        assert scan.as_of == local and scan.as_of.tzinfo == timezone.utc
        assert scan.finished_at is None and scan.sites[0].plan == {"合并": None}
        page = session.scalar(select(Page).where(Page.is_home.is_(True)))
        assert page.facts == facts and page.is_home is True
        assert latest_judgement(session, scan.id).what_if is None    # a what-if rescore is never the office's
        # the same JSON path query the judging uses (rendered pages)
        assert session.scalar(select(Page.id).where(Page.facts["rendered"].as_boolean().is_(True))) == page.id
        window = session.scalar(select(Scan.id).where(Scan.as_of >= local - timedelta(seconds=1),
                                                      Scan.as_of <= local.astimezone(timezone.utc)))
        assert window == scan.id
    sessions.kw["bind"].dispose()


def test_a_long_content_type_is_kept(store_url):
    """A server's Content-Type is whatever it sends: SQLite never enforced VARCHAR(100), PostgreSQL must not refuse it."""
    sessions = open_store(store_url)
    odd = "text/html-" + "x" * 290
    with sessions.begin() as session:
        scan = Scan(started_at=datetime.now(timezone.utc), as_of=datetime.now(timezone.utc))
        site = Site(scan=scan, unit="区教育局", unit_kind="部门", url="http://127.0.0.1/")
        session.add_all([scan, site])
        session.flush()
        session.execute(insert(Page), [{"site_id": site.id, "url": "http://127.0.0.1/", "kind": "home",
                                        "content_type": odd}])
        session.execute(insert(Fetch), [{"scan_id": scan.id, "site_id": site.id, "url": "http://127.0.0.1/",
                                         "method": "GET", "outcome": "ok", "content_type": odd}])
    with sessions() as session:
        assert session.scalar(select(Page.content_type)) == odd == session.scalar(select(Fetch.content_type))
    sessions.kw["bind"].dispose()


def _open_when_told(url: str, ready, go, answers) -> None:
    ready.put(True)
    go.wait(120)
    try:
        open_store(url).kw["bind"].dispose()
        answers.put("ok")
    except Exception as exc:   # noqa: BLE001 - the test reports what went wrong
        answers.put(repr(exc))


def test_workers_opening_a_new_postgresql_store_at_once_all_find_the_schema(postgres):
    """Without the schema lock, CREATE TABLE of processes started together collides (duplicate pg_type rows)."""
    url = postgres.create_database()
    context = multiprocessing.get_context("spawn")
    ready, go, answers = context.Queue(), context.Event(), context.Queue()
    workers = [context.Process(target=_open_when_told, args=(url, ready, go, answers)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for _ in workers:   # all imported: then all at once
        ready.get(timeout=120)
    go.set()
    results = [answers.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(30)
    assert results == ["ok"] * 4
    assert "scans" in inspect(create_engine(url)).get_table_names()


def test_postgresql_missing_fails_and_says_what_to_install(monkeypatch):
    monkeypatch.setattr(pg, "_bin_dir", lambda: None)
    monkeypatch.delenv(pg.SKIP_ENV, raising=False)
    with pytest.raises(pytest.fail.Exception, match="apt-get install -y postgresql"):
        pg.start_server()
    monkeypatch.setenv(pg.SKIP_ENV, "1")
    with pytest.raises(pytest.skip.Exception, match=pg.SKIP_ENV):
        pg.start_server()
