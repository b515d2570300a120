"""Home-page availability between scans: the service's probe rounds, stored next to the scans' own
probes, and the 7-day figures that `status`, the dashboard and V1/D1 read back."""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import insert, or_, select
from sqlalchemy.orm import Session, sessionmaker

from crawler.probe import ProbeResult, probe_round
from crawler.resolver import HostsMap
from scoring.availability import probe_counts
from sitecensus.config import Config
from sitecensus.store import Probe


def save_probes(sessions: sessionmaker[Session], results: list[ProbeResult], scan_id: int | None = None) -> None:
    if not results:
        return
    with sessions.begin() as session:
        session.execute(insert(Probe), [{"scan_id": scan_id, "url": p.url, "at": p.at, "ok": p.ok, "status": p.status,
                                         "error": p.error, "elapsed_ms": p.elapsed_ms, "bytes": p.bytes}
                                        for p in results])


def probed_urls(config: Config) -> list[str]:
    """Every registered site's home page (retained portal pages are pages of the portal, not sites)."""
    seen: dict[str, None] = {}
    for unit in config.units:
        for url in unit.urls:
            seen.setdefault(url, None)
    return list(seen)


@dataclass
class RoundSummary:
    probes: int
    failed: int
    seconds: float
    failures: dict[str, str] = field(default_factory=dict)   # url -> error class


def probe_and_store(config: Config, sessions: sessionmaker[Session]) -> RoundSummary:
    """One probe round over every registered site, stored (scan_id empty: not part of a scan)."""
    urls = probed_urls(config)
    crawl, probes = config.settings.crawl, config.settings.probes
    started = time.monotonic()
    results = asyncio.run(probe_round(urls, probes.timeout_seconds, crawl.user_agent,
                                      HostsMap.of(crawl, urls))) if urls else []
    save_probes(sessions, results)
    failures = {r.url: r.error or str(r.status) for r in results if not r.ok}
    return RoundSummary(len(results), len(failures), time.monotonic() - started, failures)


@dataclass
class Availability:
    """One site's probes over a window: what counts (refused probes say nothing) and what failed."""

    url: str
    start: datetime
    end: datetime
    probes: int = 0
    failed: int = 0
    refused: int = 0
    failures: list[datetime] = field(default_factory=list)

    @property
    def share(self) -> float | None:
        """Share of probes that opened the page (None without probes)."""
        return None if not self.probes else (self.probes - self.failed) / self.probes


def availability(session: Session, urls: list[str], end: datetime, days: int,
                 scan_id: int | None = None) -> dict[str, Availability]:
    """The probes of the `days` before `end`, and those scan `scan_id` took just after its check time
    (as V1/D1 count them)."""
    start = end - timedelta(days=days)
    out = {url: Availability(url, start, end) for url in urls}
    within = Probe.at <= end if scan_id is None else or_(Probe.at <= end, Probe.scan_id == scan_id)
    rows = session.execute(select(Probe.url, Probe.at, Probe.ok, Probe.error)
                           .where(Probe.url.in_(urls), Probe.at > start, within).order_by(Probe.at))
    for url, at, ok, error in rows:
        figure = out[url]
        if not probe_counts(error):
            figure.refused += 1
            continue
        figure.probes += 1
        if not ok:
            figure.failed += 1
            figure.failures.append(at)
    return out
