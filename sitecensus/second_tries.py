"""After the crawl: ask again every target that timed out or refused a connection (crawler/retry.py),
store both tries on its fetch, and read a page of the site that opened only on its second try.

A page that answers late once is a page like any other: its facts (title, dates, list rows) count
for the site's columns. Its own links are recorded but not followed — the crawl is over.
"""
from __future__ import annotations

import asyncio
import logging
from datetime import date

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from crawler.extract.links import netloc
from crawler.extract.page import ExtractOptions, analyse_page
from crawler.probe import ProbeResult
from crawler.retry import RETRIED_ERRORS, second_tries
from crawler.resolver import HostsMap
from sitecensus.config import Config
from sitecensus.store import Fetch, Link, Page, Site

log = logging.getLogger("sitecensus.scan")
_HTML = ("text/html", "application/xhtml")


def second_try_failures(sessions: sessionmaker[Session], scan_id: int, config: Config,
                        reference: date | None = None, options: ExtractOptions | None = None,
                        probes: list[ProbeResult] | None = None) -> tuple[int, int]:
    """Returns (tried, recovered). With `options`, recovered pages of the sites are analysed and stored.
    A home page whose own probes (`probes`, the scan's) all failed the same way is not asked again."""
    crawl = config.settings.crawl
    with sessions() as session:
        failed = session.execute(select(Fetch.id, Fetch.site_id, Fetch.url, Fetch.error).where(
            Fetch.scan_id == scan_id, Fetch.outcome == "broken", Fetch.error.in_(RETRIED_ERRORS))
            .order_by(Fetch.id)).all()
        site_urls = session.scalars(select(Site.url).where(Site.scan_id == scan_id, Site.url.is_not(None))).all()
    if not failed:
        return 0, 0
    log.info("second tries: %s targets that timed out or refused a connection", len(failed))
    confirmed = probe_confirmed(failed, probes or [])
    asked = sorted({row.url for row in failed if row.url not in confirmed})
    results = asyncio.run(second_tries(asked, crawl.second_try_timeout_seconds, crawl.user_agent,
                                       crawl.second_try_concurrency, HostsMap.of(crawl, site_urls),
                                       crawl.max_response_bytes)) if asked else {}
    recovered: list[tuple[int, ProbeResult]] = []
    with sessions.begin() as session:
        for row in failed:
            second = results.get(row.url)
            values = ({"tries": [{"error": row.error}, confirmed[row.url]]} if row.url in confirmed
                      else _tried_again(row.error, second, crawl))
            session.execute(update(Fetch).where(Fetch.id == row.id).values(**values))
            if second is not None and second.ok:
                recovered.append((row.site_id, second))
    if options is not None and recovered:
        _read_recovered_pages(sessions, recovered, reference or date.today(), options)
    log.info("second tries: %s of %s answered this time", len(recovered), len(failed))
    return len(failed), len(recovered)


def probe_confirmed(failed, probes: list[ProbeResult]) -> dict[str, dict]:
    """Home pages that failed in the crawl as every one of their probes did (connection refused, timeout):
    two independent tries said the same, so an unreachable site costs one timeout, not a third. Returns
    {url: the probe's try, as stored on the fetch}."""
    by_url: dict[str, set] = {}
    for probe in list(probes):   # the probe thread may still be adding to it
        by_url.setdefault(probe.url, set()).add(probe.error)
    return {row.url: {"error": row.error, "probe": True} for row in failed if by_url.get(row.url) == {row.error}}


def _tried_again(first_error: str, second: ProbeResult | None, crawl) -> dict:
    """The fetch's new values: the second try's outcome, with both tries kept."""
    from crawler.spiders.site import outcome_of   # late, like the crawl itself: Scrapy's modules are heavy
    if second is None:   # its host failed another target's second try: not asked again
        return {"tries": [{"error": first_error}, {"error": "host_down"}]}
    if second.error == "too_large":   # answered, but past the download cap (an endless stream): no page read
        outcome, error = "unverifiable", "too_large"
    elif second.status is not None:
        outcome, error = outcome_of(second.status), None if second.status < 400 else f"http_{second.status}"
    else:
        outcome, error = "broken", second.error
    tries = [{"error": first_error},
             {"status": second.status, "error": second.error, "timeout_s": crawl.second_try_timeout_seconds}]
    return {"outcome": outcome, "status": second.status, "error": error, "tries": tries}


def _read_recovered_pages(sessions: sessionmaker[Session], recovered: list[tuple[int, ProbeResult]],
                          reference: date, options: ExtractOptions) -> None:
    """Store as pages the recovered HTML answers from a site's own host (what the spider would have parsed)."""
    with sessions.begin() as session:
        homes = dict(session.execute(select(Site.id, Site.url).where(Site.id.in_({s for s, _ in recovered}))).all())
        for site_id, result in recovered:
            home = homes.get(site_id)
            ctype = (result.content_type or "").split(";")[0].strip().lower()
            final = result.final_url or result.url
            if not home or not result.body or (ctype and not ctype.startswith(_HTML)) or netloc(final) != netloc(home):
                continue
            if session.scalar(select(Page.id).where(Page.site_id == site_id, Page.url == final).limit(1)):
                continue
            is_home = result.url == home
            facts = analyse_page(final, result.body, ctype or None, reference, options, is_home)
            referrer, depth = _where_linked(session, site_id, result.url)
            session.execute(insert(Page), [{
                "site_id": site_id, "url": final, "status": result.status, "fetched_at": result.at.isoformat(timespec="seconds"),
                "bytes": len(result.body), "content_type": ctype or None, "title": facts.title, "depth": depth,
                "referrer": referrer, "kind": facts.kind, "is_home": is_home, "facts": {**facts.to_dict(), "second_try": True}}])
            if facts.links:
                session.execute(insert(Link), [{"site_id": site_id, "source": final, "target": l.url, "tag": l.tag,
                                                "kind": l.kind, "text": l.text} for l in facts.links])
            log.info("second tries: page %s read on its second try", final)


def _where_linked(session: Session, site_id: int, url: str) -> tuple[str | None, int]:
    """The shallowest page of the site that links to `url`, and the depth `url` gets below it."""
    row = session.execute(select(Link.source, func.min(Page.depth))
                          .join(Page, (Page.site_id == Link.site_id) & (Page.url == Link.source))
                          .where(Link.site_id == site_id, Link.target == url)
                          .group_by(Link.source).order_by(func.min(Page.depth), func.min(Link.id)).limit(1)).first()
    return (row[0], row[1] + 1) if row else (None, 0)
