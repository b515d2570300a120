"""Second tries for link targets that timed out or refused a connection during the crawl.

During the crawl a request's clock runs while the crawler may itself be too busy to read the answer,
and a server may drop one connection under a burst; one such failure must not put a 失效链接 on a
unit's sheet. After the crawl, with nothing else running, each such target is asked again: gently
(one request per host, a few hosts at once), with more time, through the same hosts map and
resolver rules and address guard as the probes (the targets themselves passed the guard during the
crawl; a redirect to another host is checked again). Only a target that fails again is broken.
"""
from __future__ import annotations

import asyncio

import httpx

from crawler.probe import ProbeResult, guarded_client, probe
from crawler.resolver import HostsMap

RETRIED_ERRORS = ("timeout", "connect")
HOST_GIVE_UP = 3   # second tries failing in a row on one host: it is down, its other targets keep their failure


async def second_tries(urls: list[str], timeout: float, user_agent: str, concurrency: int,
                       hosts: HostsMap | None = None, max_html_bytes: int = 10 * 1024 * 1024) -> dict[str, ProbeResult]:
    """One more GET of each URL (redirects followed; an HTML answer read whole and kept, `too_large` past
    `max_html_bytes` — the crawl's download cap; other answers read up to the probes' cap): per host one at a
    time, at most `concurrency` hosts at once. URLs of a host that failed again are left out."""
    by_host: dict[str, list[str]] = {}
    for url in urls:
        by_host.setdefault(httpx.URL(url).netloc.decode("ascii").lower(), []).append(url)
    gate = asyncio.Semaphore(concurrency)
    async with guarded_client(urls, timeout, user_agent, concurrency, hosts) as client:
        async def one_host(host_urls: list[str]) -> list[ProbeResult]:
            """A host whose second tries fail HOST_GIVE_UP times in a row is not asked any further (its other
            targets keep their first failure): a server that is down must not cost one timeout per link."""
            done: list[ProbeResult] = []
            failing = 0
            async with gate:
                for url in host_urls:
                    done.append(await probe(client, url, timeout, keep_html=max_html_bytes))
                    failing = failing + 1 if done[-1].error in RETRIED_ERRORS else 0
                    if failing >= HOST_GIVE_UP:
                        break
            return done

        done = await asyncio.gather(*(one_host(group) for group in by_host.values()))
    return {result.url: result for group in done for result in group}
