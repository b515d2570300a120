"""The work after the crawl on several processes (sitecensus/cores.py): what one process makes, in the same
order; a forked process reads the store on connections of its own and leaves the parent's working (SQLite and
PostgreSQL); judging a stored scan on two processes stores the documents one process stores."""
from __future__ import annotations

import json
import os
from datetime import datetime, timezone

from sqlalchemy import select, text

from sitecensus.config import load_config
from sitecensus.cores import on_cores
from sitecensus.judging import judge_scan
from sitecensus.store import Result, Scan, open_store


def _square_and_pid(n: int) -> tuple[int, int]:
    return n * n, os.getpid()


def test_the_work_comes_back_in_order_from_other_processes():
    out = list(on_cores(_square_and_pid, range(9), 2))
    assert [square for square, _ in out] == [n * n for n in range(9)]
    pids = {pid for _, pid in out}
    assert os.getpid() not in pids and 1 <= len(pids) <= 2
    assert {pid for _, pid in on_cores(_square_and_pid, range(3), 1)} == {os.getpid()}   # one: here


def test_forked_processes_read_the_store_and_leave_the_parents_connection_alone(store_url):
    sessions = open_store(store_url)
    with sessions.begin() as session:
        session.add_all([Scan(started_at=datetime(2026, 11, d, tzinfo=timezone.utc), as_of=datetime(2026, 11, d, tzinfo=timezone.utc), status="done")
                         for d in (1, 2, 3)])
    with sessions() as session:   # the parent's connection, back in its pool before the fork
        backend_pid = session.execute(text("select pg_backend_pid()")).scalar() if "postgresql" in store_url else None

    def scans_after(day: int) -> int:
        with sessions() as session:
            return len(session.scalars(select(Scan.id).where(Scan.as_of > datetime(2026, 11, day, tzinfo=timezone.utc))).all())

    assert list(on_cores(scans_after, [1, 2, 3, 1], 2, sessions)) == [2, 1, 0, 2]
    with sessions() as session:   # the same pooled connection still answers: no process closed it under us
        assert session.scalar(select(Scan.id).order_by(Scan.id.desc()).limit(1)) is not None
        if backend_pid is not None:
            assert session.execute(text("select pg_backend_pid()")).scalar() == backend_pid


def test_judging_on_two_processes_stores_what_one_process_stores(world, tmp_path):
    config = load_config(world.private_copy(tmp_path))
    sessions = open_store(config.settings.store_url)
    with sessions() as session:
        scan = session.scalars(select(Scan).where(Scan.status == "done").order_by(Scan.id)).first()
        scan_id, as_of = scan.id, scan.as_of
    documents = []
    for processes in (1, 2):
        config.settings.queue.workers = processes
        judgement = judge_scan(sessions, scan_id, as_of, config.profile(None), config)
        with sessions() as session:
            documents.append([(r.site_id, json.dumps(r.data, sort_keys=True)) for r in session.scalars(
                select(Result).where(Result.judgement_id == judgement).order_by(Result.id))])
    assert len(documents[0]) >= 3 and documents[0] == documents[1]
    assert any(json.loads(data)["findings"] for _, data in documents[0])   # something to compare
