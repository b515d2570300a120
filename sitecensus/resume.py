"""What the store holds of a site's crawl, for a spider that takes the site up again (its worker died,
or the whole scan was stopped): the pages with their links, every URL already requested, the home page's
final address. SiteSpider(resume=...) rebuilds its frontier from it (crawler/spiders/site.py)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sitecensus.store import Fetch, Link, Page, Site

LINK_ROWS_AT_ONCE = 20_000


class StoredLink(NamedTuple):
    url: str
    kind: str


@dataclass
class StoredPage:
    """A page as SiteSpider._follow reads it: its links (url, kind) and how many it left unread."""

    url: str
    depth: int
    is_home: bool = False
    links: list[StoredLink] = field(default_factory=list)
    links_unread: int = 0


@dataclass
class SiteResume:
    site_id: int
    url: str                                  # the site's registered home page
    pages: list[StoredPage]                   # by depth, then as stored
    fetched: set[str]                         # every URL requested already (pages, failures, link checks)
    home_final_url: str | None = None         # where the home page ended up (http -> https, a new address)
    home_ok: bool = False                     # the home page was read: its links were followed

    @property
    def page_count(self) -> int:
        return len(self.pages)

    @property
    def fetch_count(self) -> int:
        return len(self.fetched)


def load_resume(session: Session, site_id: int) -> SiteResume | None:
    """The site's stored crawl, or None when nothing of it is stored."""
    fetches = session.execute(select(Fetch.url, Fetch.final_url, Fetch.outcome).where(Fetch.site_id == site_id)).all()
    if not fetches:
        return None
    home = session.scalar(select(Site.url).where(Site.id == site_id))
    home_fetch = next((f for f in fetches if f.url == home), None)
    unread = Page.facts["links_unread"].as_integer()
    rows = session.execute(select(Page.url, Page.depth, Page.is_home, func.coalesce(unread, 0))
                           .where(Page.site_id == site_id).order_by(Page.depth, Page.id)).all()
    pages: dict[str, StoredPage] = {}
    for url, depth, is_home, links_unread in rows:
        page = pages.setdefault(url, StoredPage(url, depth))
        page.is_home |= bool(is_home)
        page.links_unread += links_unread   # a data page posted for several columns is one URL
    same: dict[str, str] = {}   # one string per distinct target: a site's menu is on every page
    links = (select(Link.source, Link.target, Link.kind).where(Link.site_id == site_id).order_by(Link.id)
             .execution_options(yield_per=LINK_ROWS_AT_ONCE))   # a 5,000-page site has ~500,000
    for source, target, kind in session.execute(links):
        page = pages.get(source)
        if page is not None:
            page.links.append(StoredLink(same.setdefault(target, target), kind))
    return SiteResume(site_id=site_id, url=home, pages=list(pages.values()), fetched={f.url for f in fetches},
                      home_final_url=home_fetch.final_url if home_fetch else None,
                      home_ok=bool(home_fetch and home_fetch.outcome == "ok"))
