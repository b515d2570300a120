"""CMS families: readers for lists that a page carries only inside scripts, read without a browser.

One small module per family, each with the same contract (like the rule registry):

- ``NAME`` (the switch in settings ``crawl.families``) and ``UNREAD`` (the Chinese reason a page
  gets when the family is seen but its reader is off or fails);
- ``detect(page) -> bool``: a substring test on the raw bytes, no parsing (17,000 static pages a
  scan must not slow down);
- ``read(page) -> Reading``: the items and links read, and further requests (data endpoints, list
  pages that only a script names, scripts whose written HTML belongs to the page);
- ``read_data(page, request) -> Reading`` for families that ask for data: the answer to one of
  their own requests (a Hanweb dataproxy page, a JSON endpoint), with the next request if any.

The spider asks this registry and never knows a family by name.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date

from crawler.extract.columns import ItemGroup
from crawler.extract.links import Link
from crawler.extract.text import decode_html

log = logging.getLogger(__name__)


@dataclass
class Page:
    """What a family reader sees: one response, decoded lazily (only pages a family detected)."""

    url: str
    body: bytes
    content_type: str | None = None
    reference: date = field(default_factory=date.today)
    min_items: int = 3
    includes: dict[str, bytes | None] = field(default_factory=dict)   # script URL -> body (None: not loaded)
    _decoded: tuple[str, str] | None = None

    @property
    def text(self) -> str:
        if self._decoded is None:
            self._decoded = decode_html(self.body, self.content_type)
        return self._decoded[0]

    @property
    def encoding(self) -> str:
        self.text  # noqa: B018 - decodes once
        return self._decoded[1]


@dataclass
class Request:
    """A further request a family wants. kind "page": an ordinary list page crawled like any other;
    "data": an answer read by the family's read_data, its items joining the list page `list_of`;
    "include": a script whose output belongs to the page itself (loaded before the page is read)."""

    url: str
    family: str
    kind: str
    list_of: str | None = None
    method: str = "GET"
    form: dict[str, str] | None = None
    state: dict = field(default_factory=dict)   # what the family needs to continue (next record ...)


@dataclass
class Reading:
    family: str
    groups: list[ItemGroup] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    body: bytes | None = None          # the page with script output written in (document.write)
    failed: str | None = None          # why the reader could not read what it detected (Chinese)

    @property
    def items(self) -> int:
        return sum(len(group.items) for group in self.groups)


from crawler.families import docwrite, hanweb, jsonlist, trs  # noqa: E402 - modules use the types above

FAMILIES = {module.NAME: module for module in (hanweb, trs, jsonlist, docwrite)}
ALL = tuple(FAMILIES)


def unread_entry(name: str, reason: str | None = None) -> dict:
    return {"reason": reason or FAMILIES[name].UNREAD, "family": name}


def read_page(page: Page, enabled: frozenset[str] | set[str]) -> tuple[list[Reading], list[dict]]:
    """Every family that detects the page: its reading if switched on, else an unread entry."""
    readings, unread = [], []
    for name, module in FAMILIES.items():
        if not module.detect(page):
            continue
        if name not in enabled:
            unread.append(unread_entry(name))
            continue
        try:
            reading = module.read(page)
        except Exception:  # noqa: BLE001 - a reader must never take the crawl down; the page says so
            log.exception("family %s failed on %s", name, page.url)
            unread.append(unread_entry(name))
            continue
        if reading.failed:
            unread.append(unread_entry(name, reading.failed))
        readings.append(reading)
    return readings, unread


def not_read(name: str) -> Reading:
    """A family's reading that read nothing (no answer, an error page), with its reason."""
    return Reading(name, failed=FAMILIES[name].UNREAD)


def read_data(page: Page, request: Request) -> Reading:
    """The answer to a family's own data request; a failure is reported on the reading, never raised."""
    try:
        return FAMILIES[request.family].read_data(page, request)
    except Exception:  # noqa: BLE001
        log.exception("family %s failed on data %s", request.family, page.url)
        return not_read(request.family)


def merge_readings(facts, readings: list[Reading], unread: list[dict], min_items: int) -> None:
    """The readers' items and links become part of the page's own facts (PageFacts), and what was seen
    but not read is said so (facts.unread)."""
    known = {link.url for link in facts.links}
    items = 0
    for reading in readings:
        facts.groups += reading.groups
        for link in reading.links:
            if link.url not in known:
                known.add(link.url)
                facts.links.append(link)
        items += reading.items
        if (reading.items or reading.body or reading.requests) and facts.family is None:
            facts.family = reading.family
    facts.unread += unread
    if items >= min_items and facts.kind not in ("home", "list"):
        facts.kind = "list"
