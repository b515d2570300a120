"""Judge a stored scan: build each site's snapshot from the store, apply the profile, store the results.

Used right after a scan and by `sitecensus rescore SCAN_ID --as-of DATE`, which re-judges old facts
without crawling.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from crawler.extract.links import netloc
from scoring.profile import Profile
from scoring.consolidation import consolidation_state
from scoring.score import UNCHECKED, judge
from scoring.updates import category
from scoring.snapshot import (ColumnFact, Context, CrawlBudget, Home, LinkFact, PageNote, Plan, ProbeFact,
                              SiteSnapshot, Target)
from sitecensus.config import Config
from sitecensus.cores import local_processes, on_cores
from sitecensus.store import Column, Fetch, Judgement, Link, Page, Probe, Problem, Result, Scan, Site, bytewise

UNREGISTERED = "未登记网站"


def _home(session: Session, site: Site) -> tuple[Home | None, dict]:
    """The home page's fetch and, when it was parsed, its facts."""
    page = session.scalar(select(Page).where(Page.site_id == site.id, Page.is_home.is_(True))
                          .order_by(Page.id).limit(1))
    facts = page.facts if page else {}
    fetch = session.scalar(select(Fetch).where(Fetch.site_id == site.id, Fetch.url == site.url)
                           .order_by(Fetch.id).limit(1))
    if fetch is None:
        return None, facts
    items = [item for group in facts.get("groups", []) for item in group["items"]]
    return Home(url=site.url, final_url=fetch.final_url, status=fetch.status, outcome=fetch.outcome, error=fetch.error,
                redirects=fetch.redirects or [], items=items, notice=facts.get("notice"),
                text_chars=facts.get("content_chars", 0), app_shell=bool(facts.get("app_shell")),
                unread=facts.get("unread") or [], rendered=bool(facts.get("rendered"))), facts


def _targets(session: Session, site: Site, home_urls: set[str]) -> list[Target]:
    rows = session.execute(
        select(Link.target, Link.source, Link.kind, Fetch.outcome, Fetch.status, Fetch.error, Fetch.redirects,
               Fetch.tries)
        .join(Fetch, (Fetch.scan_id == site.scan_id) & (Fetch.url == Link.target))
        .where(Link.site_id == site.id, Fetch.outcome != "ok")
        .order_by(Link.id, Fetch.id))
    own = netloc(site.url)
    targets: dict[str, Target] = {}
    for target, source, kind, outcome, status, error, redirects, tries in rows:
        t = targets.get(target)
        if t is None:
            t = targets[target] = Target(url=target, kind=kind, internal=netloc(target) == own, outcome=outcome,
                                         status=status, error=error, redirects=redirects or [], tries=tries or [])
        if source not in t.sources:
            t.sources.append(source)
        t.on_home = t.on_home or source in home_urls
    return list(targets.values())


def _columns(session: Session, site: Site) -> list[ColumnFact]:
    out = []
    for row in session.scalars(select(Column).where(Column.site_id == site.id).order_by(Column.id)):
        d = row.data
        out.append(ColumnFact(url=d["url"], name=d["name"], from_home=d["from_home"], item_count=d["item_count"],
                              dated_count=d["dated_count"],
                              newest_date=date.fromisoformat(d["newest_date"]) if d["newest_date"] else None,
                              blank=d["blank"], crawled=d["crawled"], pinned_category=d.get("category"),
                              items=d.get("items", []), unverified=d.get("unverified")))
    return out


def _probes(session: Session, site: Site, as_of: datetime, days: int) -> list[ProbeFact]:
    """Probes of the window before the check time, and the scan's own probes (taken just after it)."""
    rows = session.scalars(select(Probe).where(
        Probe.url == site.url, Probe.at >= as_of - timedelta(days=days),
        (Probe.at <= as_of) | (Probe.scan_id == site.scan_id)).order_by(Probe.at, Probe.id))
    return [ProbeFact(at=p.at, ok=p.ok, status=p.status, error=p.error) for p in rows]


_NOTE_LISTS = (("text_hits", None), ("personal_data", None), ("hidden_links", "hidden_link"))


def _page_facts(session: Session, site: Site, snap: SiteSnapshot) -> None:
    """Per-page observations: V4/S2 hits, hidden links, service guides, article dates."""
    for url, facts in session.execute(select(Page.url, Page.facts).where(Page.site_id == site.id).order_by(Page.id)):
        for key, kind in _NOTE_LISTS:
            snap.notes += [PageNote(url, kind or hit["kind"], hit) for hit in facts.get(key) or []]
        if facts.get("guide_labels"):
            snap.notes.append(PageNote(url, "guide", {"labels": facts["guide_labels"], "title": facts.get("title")}))
        if facts.get("article_date"):
            snap.article_dates.append((url, date.fromisoformat(facts["article_date"])))


def _service_links(session: Session, site: Site, keywords: list[str]) -> list[LinkFact]:
    """Attachments anywhere, and links whose text names an online system (在线办理, 网上申报 ...)."""
    wanted = or_(Link.kind == "attachment", *(Link.text.contains(word) for word in keywords))
    rows = session.execute(
        select(Link.source, Link.target, Link.kind, Link.text, Fetch.outcome, Fetch.status, Fetch.error,
               Fetch.content_type, Page.title)
        .outerjoin(Fetch, (Fetch.scan_id == site.scan_id) & (Fetch.url == Link.target))
        .outerjoin(Page, (Page.site_id == site.id) & (Page.url == Link.source))
        .where(Link.site_id == site.id, wanted).order_by(Link.id, Fetch.id, Page.id))
    return [LinkFact(*row[:8], source_title=row[8] or "") for row in rows]


def _link_hosts(session: Session, site: Site) -> dict[str, LinkFact]:
    """Each host's first target (in code point order), with the link to it from the first page that has one
    (by code point order of the page's address, then the order stored). The targets are read alone and each host's
    first picked here (str order is code point order); only the chosen targets' links are read with their fetch:
    a window over every link of a site, joined to the fetches, was half of judging."""
    first: dict[str, str] = {}
    for (target,) in session.execute(select(Link.target).where(Link.site_id == site.id).distinct()):
        host = netloc(target)
        if host not in first or target < first[host]:
            first[host] = target
    rows = session.execute(
        select(Link.target, Link.source, Link.kind, Link.text, Fetch.outcome, Fetch.status)
        .outerjoin(Fetch, (Fetch.scan_id == site.scan_id) & (Fetch.url == Link.target))
        .where(Link.site_id == site.id, Link.target.in_(sorted(first.values())))
        .order_by(bytewise(Link.source), Link.id, Fetch.id)) if first else []
    links: dict[str, LinkFact] = {}
    for target, source, kind, text, outcome, status in rows:
        links.setdefault(target, LinkFact(source, target, kind, text or "", outcome, status))
    return {host: links[target] for host, target in sorted(first.items(), key=lambda pair: pair[1])}


def _current_silences(session: Session, config: Config, site: Site) -> list[dict]:
    """The register's silences and the office's ignored problems as they are now (a rescore honours
    a silence added after the scan)."""
    unit = next((u for u in config.units if u.name == site.unit), None)
    entries = config.silences_for(unit) if unit else (site.flags or {}).get("silence", [])
    ignored = session.execute(select(Problem.fingerprint, Problem.ignored_reason)
                              .where(Problem.unit == site.unit, Problem.ignored_reason.is_not(None))
                              .order_by(Problem.id))
    return entries + [{"fingerprint": fp, "reason": reason} for fp, reason in ignored]


def _stats(session: Session, site: Site, targets: list[Target], columns: list) -> dict:
    pages = session.scalar(select(func.count()).select_from(Page).where(Page.site_id == site.id))
    links = session.scalar(select(func.count(func.distinct(Link.target))).where(Link.site_id == site.id))
    rendered = session.scalar(select(func.count()).select_from(Page).where(  # pages read through the browser
        Page.site_id == site.id, Page.facts["rendered"].as_boolean().is_(True)))
    return {"pages": pages or 0, "links": links or 0,
            "broken_links": sum(1 for t in targets if t.outcome == "broken"), "columns": len(columns),
            "rendered": rendered or 0}


def _context(config: Config) -> Context:
    settings = config.settings
    return Context(portal_name=settings.portal.name, portal_host=settings.portal.host,
                   notice_lead_days=settings.consolidation.notice_lead_days,
                   grace_days=settings.consolidation.grace_days, banned_hosts=config.dictionaries.banned_hosts,
                   disclosure_hosts=settings.platforms.disclosure, service_hosts=settings.platforms.service,
                   district_domains=settings.district_domains, district_host_hints=settings.district_host_hints,
                   registered_hosts=_registered_hosts(config))


def _registered_hosts(config: Config) -> set[str]:
    urls = [u for unit in config.units for u in unit.urls] + [config.settings.portal.url]
    urls += [u.consolidation.portal_page_url for u in config.units if u.consolidation.portal_page_url]
    return {netloc(u) for u in urls} | set(config.settings.platforms.disclosure) | set(config.settings.platforms.service)


def build_snapshot(session: Session, site: Site, as_of: datetime, profile: Profile, config: Config) -> SiteSnapshot:
    home, home_facts = _home(session, site)
    home_urls = {site.url} | ({home.final_url} if home and home.final_url else set())
    targets = _targets(session, site, home_urls)
    columns = _columns(session, site)
    snap = SiteSnapshot(
        unit=site.unit, url=site.url, as_of=as_of, home=home, columns=columns, targets=targets,
        probes=_probes(session, site, as_of, profile.availability.window_days),
        plan=Plan(**{k: site.plan.get(k) for k in Plan.__dataclass_fields__}),
        context=_context(config),
        stats=_stats(session, site, targets, columns),
        identifiers=home_facts.get("identifiers", {}),
        service_links=_service_links(session, site, profile.services.online_keywords),
        link_hosts=_link_hosts(session, site),
        no_external_services=bool((site.flags or {}).get("no_external_services")),
        silences=_current_silences(session, config, site), tls=site.tls, role=site.role,
        crawl=CrawlBudget.of(site.crawl))
    if site.role == "portal_page":
        snap.page_links = [LinkFact(source, target, kind, text or "", None) for source, target, kind, text in
                           session.execute(select(Link.source, Link.target, Link.kind, Link.text)
                                           .where(Link.site_id == site.id, Link.tag == "a").order_by(Link.id))]
        # A block titled 办事服务 is an entry through its 更多 link, even when the title itself is plain text.
        snap.page_links += [LinkFact(site.url, group["more_url"], "page", group["heading"], None)
                            for group in home_facts.get("groups", []) if group.get("heading") and group.get("more_url")]
    _page_facts(session, site, snap)
    return snap


def site_document(site: Site, judged=None, snapshot: SiteSnapshot | None = None,
                  profile: Profile | None = None, consolidation: dict | None = None) -> dict:
    """The site's result document: the DESIGN.md JSON contract plus what the reports show."""
    if judged is None:
        return {"unit": site.unit, "url": site.url, "verdict": UNCHECKED, "vetoed": False, "score": None,
                "stats": {"pages": 0, "links": 0, "broken_links": 0, "columns": 0}, "findings": [],
                "unit_kind": site.unit_kind, "plan": site.plan, "note": UNREGISTERED, "indicators": {},
                "columns": [], "consolidation": consolidation, "role": site.role, "unverified": []}
    columns = [{"name": c.name, "url": c.url, "category": category(c, profile), "newest_date": c.newest_date.isoformat() if c.newest_date else None,
                "items": c.item_count, "dated": c.dated_count, "blank": c.blank, "from_home": c.from_home,
                "unverified": c.unverified}
               for c in sorted(snapshot.columns, key=lambda c: c.newest_date or date.min, reverse=True)]
    return {"unit": site.unit, "url": site.url, "verdict": judged.verdict, "vetoed": judged.vetoed,
            "score": judged.score, "stats": snapshot.stats, "findings": [f.to_dict() for f in judged.findings],
            "unit_kind": site.unit_kind, "plan": site.plan, "note": judged.note, "indicators": judged.indicators,
            "columns": columns, "consolidation": consolidation, "role": site.role, "unverified": judged.unverified}


def _judged_document(session: Session, site: Site, as_of: datetime, profile: Profile, config: Config,
                     context: Context) -> dict:
    plan = Plan(**{k: site.plan.get(k) for k in Plan.__dataclass_fields__})
    if site.url is None:
        return site_document(site, consolidation=consolidation_state(plan, context, as_of.date()))
    snapshot = build_snapshot(session, site, as_of, profile, config)
    state = consolidation_state(plan, context, as_of.date(), snapshot) if site.role != "portal" else None
    return site_document(site, judge(snapshot, profile), snapshot, profile, state)


def judge_scan(sessions: sessionmaker[Session], scan_id: int, as_of: datetime, profile: Profile,
               config: Config) -> int:
    """Judge each site of the scan (on all the machine's cores, sitecensus/cores.py) and store the results."""
    with sessions() as session:
        scan = session.get(Scan, scan_id)
        if scan is None:
            raise LookupError(f"没有编号为 {scan_id} 的检测记录")
        site_ids = [site.id for site in scan.sites]
    context = _context(config)

    def document(site_id: int) -> dict:
        with sessions() as session:   # a session per site: one site's rows in memory at a time
            return _judged_document(session, session.get(Site, site_id), as_of, profile, config, context)

    documents = list(on_cores(document, site_ids, local_processes(config), sessions))
    with sessions.begin() as session:
        judgement = Judgement(scan_id=scan_id, as_of=as_of, profile=profile.name, created_at=datetime.now(as_of.tzinfo))
        session.add(judgement)
        session.flush()
        for site_id, doc in zip(site_ids, documents):
            session.add(Result(judgement_id=judgement.id, site_id=site_id, verdict=doc["verdict"],
                               vetoed=doc["vetoed"], score=doc["score"], data=doc))
        return judgement.id
