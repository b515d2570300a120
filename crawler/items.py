"""What the spider emits. Scrapy dataclass items; the pipeline hands them to a sink (the store)."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class FetchItem:
    """The outcome of requesting one URL (a crawled page or a checked link target)."""

    site: str                       # the site key (start URL) whose spider made the request
    url: str                        # as requested (the link target)
    method: str                     # GET | HEAD
    status: int | None              # final HTTP status, None when no answer
    outcome: str                    # ok | broken | unverifiable
    error: str | None = None        # dns | connect | timeout | tls | redirect_loop | too_large | blocked | http_404 ...
    final_url: str | None = None
    redirects: list = field(default_factory=list)   # [[url, status], ...] hops before the final URL
    content_type: str | None = None
    bytes: int = 0
    elapsed_ms: int | None = None
    fetched_at: str | None = None


@dataclass
class PageItem:
    """A crawled HTML page of the site, with its facts and its links."""

    fetch: FetchItem
    depth: int
    referrer: str | None
    is_home: bool
    facts: dict                     # PageFacts.to_dict()
    links: list = field(default_factory=list)        # [(url, tag, kind, text)]
