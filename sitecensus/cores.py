"""The work after the crawl spread over the machine's cores: each site's columns and judgement, each unit's
sheet, computed in forked processes and handed back in order, so the caller alone writes to the store
(one writer) and the result is what one process would have made.

Forked, not spawned: a spawned process imports the product again (~1.5 s each), more than the whole of
judging at 47 sites; a forked one starts in milliseconds with the parent's config, profile and templates.
`work` and its closures reach the processes through the fork, never pickled; only items and results are."""
from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

from sqlalchemy.orm import Session, sessionmaker

from sitecensus.config import Config

Item = TypeVar("Item")
Result = TypeVar("Result")

_work: Callable | None = None   # what the forked processes run (set before they fork)


def local_processes(config: Config) -> int:
    """Processes on this machine: the crawl's local workers, and the work after the crawl (queue.workers;
    0: one per core)."""
    return config.settings.queue.workers or os.cpu_count() or 1


def _run(item):
    return _work(item)


def _forgetting_the_parents_connections(sessions: sessionmaker[Session] | None) -> None:
    """In a forked process: a pool of its own, the parent's connections left alone (SQLAlchemy's recipe for
    multiprocessing; psycopg does not close a connection that another process opened)."""
    if sessions is not None:
        sessions.kw["bind"].dispose(close=False)


def on_cores(work: Callable[[Item], Result], items: Iterable[Item], processes: int,
             sessions: sessionmaker[Session] | None = None) -> Iterator[Result]:
    """work(item) for each item, in order, on up to `processes` processes (1: here, in this process).
    `sessions`: the store the work reads, given its own connections in each process."""
    global _work
    items = list(items)
    if processes <= 1 or len(items) < 2:
        yield from map(work, items)
        return
    _work = work
    try:
        with ProcessPoolExecutor(min(processes, len(items)), mp_context=multiprocessing.get_context("fork"),
                                 initializer=_forgetting_the_parents_connections, initargs=(sessions,)) as pool:
            yield from pool.map(_run, items)
    finally:
        _work = None
