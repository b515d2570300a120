"""What the rules judge: a site's facts as one scan saw them. Built by sitecensus from the store;
scoring never touches Scrapy, HTTP or the database (Lighthouse's artifacts, not its gatherers)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass
class Target:
    """A link target whose check did not come back fine, with the pages that link to it."""

    url: str
    kind: str                   # page | image | attachment | media | style | script
    internal: bool
    outcome: str                # broken | unverifiable
    status: int | None
    error: str | None
    redirects: list = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    on_home: bool = False
    tries: list[dict] = field(default_factory=list)   # the crawl's try and the second try after it


@dataclass
class ColumnFact:
    url: str
    name: str
    from_home: bool
    item_count: int
    dated_count: int
    newest_date: date | None
    blank: bool
    crawled: bool = True
    pinned_category: str | None = None
    items: list[dict] = field(default_factory=list)
    unverified: str | None = None   # why its list could not be read: never judged blank or stale


@dataclass
class ProbeFact:
    at: datetime
    ok: bool
    status: int | None = None
    error: str | None = None


@dataclass
class Home:
    url: str                    # as registered
    final_url: str | None
    status: int | None
    outcome: str                # ok | broken | unverifiable
    error: str | None
    redirects: list = field(default_factory=list)
    items: list[dict] = field(default_factory=list)   # dated/undated items in the home page's lists
    notice: dict | None = None  # {'text', 'links'} of a closure notice, when one was found
    text_chars: int = 0
    app_shell: bool = False     # a script application shell that was not rendered
    unread: list[dict] = field(default_factory=list)   # lists seen on the home page but not read, with reasons
    rendered: bool = False      # read after rendering in headless Chromium


@dataclass
class Plan:
    """The unit's consolidation form (attachment 2)."""

    participates: bool | None = None
    closure_month: str | None = None
    keep_portal_page: bool | None = None
    portal_page_url: str | None = None
    reason: str | None = None


@dataclass
class Context:
    """Settings the rules need that are not criteria (the district's portal, the consolidation calendar)."""

    portal_name: str = ""
    portal_host: str = ""
    notice_lead_days: int = 30
    grace_days: int = 30
    banned_hosts: list[str] = field(default_factory=list)
    disclosure_hosts: list[str] = field(default_factory=list)   # 政府信息公开平台 (J5)
    service_hosts: list[str] = field(default_factory=list)      # 浙江政务服务网 (J6)
    district_domains: list[str] = field(default_factory=list)   # J7
    district_host_hints: list[str] = field(default_factory=list)  # J7: *.gov.cn hosts that look like the district's
    registered_hosts: set[str] = field(default_factory=set)     # every host the register, portal or platforms name


@dataclass
class PageNote:
    """Something the crawler noticed on one page (a V4 hit, personal data, a hidden link, a guide)."""

    url: str
    kind: str                   # wrong_form | banned | id_card | mobile | hidden_link | guide
    detail: dict = field(default_factory=dict)


@dataclass
class LinkFact:
    """A link that a rule looks at by its text or target (online systems, attachments, hosts)."""

    source: str
    target: str
    kind: str
    text: str
    outcome: str | None         # None: not checked
    status: int | None = None
    error: str | None = None
    content_type: str | None = None
    source_title: str = ""


@dataclass
class CrawlBudget:
    """What the site's per-scan budgets left undone (Site.crawl, written by the spider when it closed)."""

    pages_left: int = 0          # internal pages not crawled: max_pages_per_site reached
    page_budget: int = 0
    checks_left: int = 0         # link targets not checked: max_link_checks_per_site reached
    check_budget: int = 0
    links_unread: int = 0        # links past max_links_per_page on a page: never read, so never checked
    page_link_cap: int = 0
    timed_out: bool = False      # max_minutes_per_site reached (Scrapy's closespider_timeout)
    minutes_budget: float = 0
    traps: int = 0               # URLs refused as crawler traps (crawler/traps.py)
    trap_examples: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, stored: dict | None) -> "CrawlBudget | None":
        if not stored:
            return None
        return cls(**{k: stored[k] for k in cls.__dataclass_fields__ if k in stored})

    def left(self) -> list[tuple[str, str | None, str]]:
        """(what, url, reason) of each budget that left something unchecked, in Chinese."""
        out = []
        if self.timed_out:
            out.append(("网站页面和链接", None, f"检测用时达到每站 {self.minutes_budget:g} 分钟的上限，其余页面和链接未检查"))
        if self.pages_left:
            out.append(("网站页面", None, f"{self.pages_left} 个页面未抓取（超出每站 {self.page_budget} 个页面的上限）"))
        if self.checks_left:
            out.append(("链接是否有效", None, f"{self.checks_left} 个链接未检查（超出每站 {self.check_budget} 个链接的检查上限）"))
        if self.links_unread:
            out.append(("链接是否有效", None,
                        f"{self.links_unread} 个链接未读取、未检查（页面链接超出每页 {self.page_link_cap} 个的上限）"))
        if self.traps:
            example = self.trap_examples[0] if self.trap_examples else None
            out.append(("疑似无限循环的网址", example,
                        f"{self.traps} 个疑似无限循环的网址未抓取" + (f"（如 {example}）" if example else "")))
        return out


@dataclass
class SiteSnapshot:
    unit: str
    url: str
    as_of: datetime
    home: Home | None
    columns: list[ColumnFact] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    probes: list[ProbeFact] = field(default_factory=list)
    plan: Plan = field(default_factory=Plan)
    context: Context = field(default_factory=Context)
    stats: dict = field(default_factory=dict)
    notes: list[PageNote] = field(default_factory=list)
    identifiers: dict = field(default_factory=dict)   # the home page's footer identifiers
    article_dates: list[tuple[str, date]] = field(default_factory=list)   # (url, 发布时间) of articles
    service_links: list[LinkFact] = field(default_factory=list)   # attachments and online-system links
    link_hosts: dict[str, LinkFact] = field(default_factory=dict)  # every linked host, first link to it
    no_external_services: bool = False
    tls: dict | None = None      # HTTPS facts: https, trusted, not_after, trust_error (None: not checked)
    role: str = "site"           # site | portal_page (a unit's page retained on the portal)
    page_links: list[LinkFact] = field(default_factory=list)   # portal pages: every link on the page
    silences: list[dict] = field(default_factory=list)   # [{rule, url (glob or None), reason}]
    crawl: CrawlBudget | None = None   # what the per-site budgets left unchecked (None: nothing recorded)

    def notes_by(self, kinds: tuple[str, ...], key) -> dict[str, list[PageNote]]:
        """Notes of these kinds grouped by key(note), in page order."""
        groups: dict[str, list[PageNote]] = {}
        for note in self.notes:
            if note.kind in kinds:
                groups.setdefault(key(note), []).append(note)
        return groups
