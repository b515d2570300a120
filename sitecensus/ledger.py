"""The problem ledger: every problem of every unit's site across scans, tied by fingerprint.

Statuses: 新发现 (first seen in this scan), 未整改 (seen again), 已整改 (not seen again on a page this
scan checked again), 复发 (seen again after 已整改), 未复查 (not seen, but its page was not checked
again — e.g. the site did not answer — so nobody knows). A problem ignored by the office
(`sitecensus ignore`) keeps its history and is left out of the transitions.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from sitecensus.config import Settings, SheetSettings
from sitecensus.store import Fetch, Judgement, Problem, ProblemEvent, Result, Scan, Site

NEW, OPEN, FIXED, REOPENED, UNCHECKED = "新发现", "未整改", "已整改", "复发", "未复查"
OPEN_STATUSES = (NEW, OPEN, REOPENED, UNCHECKED)


def add_working_days(start: date, days: int, sheets: SheetSettings) -> date:
    """`days` working days after `start` (weekends and listed holidays skipped, 调休 weekend days counted)."""
    holidays, workdays = set(sheets.holidays), set(sheets.extra_workdays)
    current, left = start, days
    while left:
        current += timedelta(days=1)
        if current in workdays or (current.weekday() < 5 and current not in holidays):
            left -= 1
    return current


def pages_of(finding: dict) -> list[str]:
    """The pages a problem was seen on: where a link sat (source), else the URL itself."""
    seen: dict[str, None] = {}
    for evidence in finding["evidence"]:
        page = evidence.get("source") or evidence.get("url")
        if page:
            seen.setdefault(page, None)
    return list(seen)[:50]


def checked_pages(session: Session, site_id: int) -> set[str]:
    """Every URL of this site the scan opened successfully (as asked, and where it ended up): a page
    that did not answer was not checked again."""
    rows = session.execute(select(Fetch.url, Fetch.final_url).where(Fetch.site_id == site_id, Fetch.outcome == "ok"))
    return {u for url, final in rows for u in (url, final) if u}


@dataclass
class Change:
    problem: Problem
    status: str
    note: str = ""


def _transition(problem: Problem, seen: bool, rechecked: bool) -> str | None:
    if seen:
        return REOPENED if problem.status == FIXED else OPEN
    if problem.status in OPEN_STATUSES:
        return FIXED if rechecked else UNCHECKED
    return None   # fixed and still not seen: nothing to say


def update_site(session: Session, result: Result, site: Site, scan: Scan, sheets: SheetSettings, tz: ZoneInfo,
                add_new: bool = True) -> list[Change]:
    """Move one site's problems on by one judged scan. `add_new` False (a re-check of a few pages)
    only re-verifies problems already in the ledger."""
    at = scan.started_at
    findings = {f["fingerprint"]: f for f in result.data["findings"] if not f.get("silenced")}
    known = {p.fingerprint: p for p in session.scalars(
        select(Problem).where(Problem.unit == site.unit, Problem.site_url == site.url).order_by(Problem.id))}
    checked = checked_pages(session, site.id)
    deadline = add_working_days(scan.as_of.astimezone(tz).date(), sheets.rectify_working_days, sheets).isoformat()
    changes: list[Change] = []
    for fingerprint, finding in findings.items():
        problem = known.get(fingerprint)
        if problem is None:
            if not add_new:
                continue
            problem = Problem(fingerprint=fingerprint, unit=site.unit, site_url=site.url, code=finding["code"],
                              title=finding["title"], severity=finding["severity"], pages=pages_of(finding),
                              status=NEW, first_seen_scan=scan.id, first_seen_at=at, last_seen_scan=scan.id,
                              last_seen_at=at, checked_at=at, deadline=deadline, reopened=0)
            session.add(problem)
            changes.append(Change(problem, NEW))
            continue
        if problem.ignored_reason:
            continue
        status = _transition(problem, True, True)
        if status == REOPENED:
            problem.reopened += 1
            problem.deadline, problem.fixed_at = deadline, None
        problem.status, problem.title, problem.pages = status, finding["title"], pages_of(finding)
        problem.last_seen_scan, problem.last_seen_at, problem.checked_at = scan.id, at, at
        changes.append(Change(problem, status))
    for fingerprint, problem in known.items():
        if fingerprint in findings or problem.ignored_reason:
            continue
        rechecked = any(page in checked for page in problem.pages)
        status = _transition(problem, False, rechecked)
        if status is None or (status == UNCHECKED and not add_new):
            continue   # a re-check that did not look at this page says nothing of it
        problem.status = status
        if rechecked:
            problem.checked_at = at
        if status == FIXED:
            problem.fixed_at = at
        changes.append(Change(problem, status, "" if rechecked else "所在页面本次未能复查"))
    session.flush()
    for change in changes:
        session.add(ProblemEvent(problem_id=change.problem.id, scan_id=scan.id, at=at, status=change.status,
                                 note=change.note))
    return changes


def update_ledger(session: Session, judgement_id: int, settings: Settings, units: set[str],
                  add_new: bool = True) -> list[Change]:
    """Apply a judged scan to the ledger, once per scan (judging the same scan again changes nothing)."""
    judgement = session.get(Judgement, judgement_id)
    scan = session.get(Scan, judgement.scan_id)
    done = session.scalar(select(ProblemEvent.id).where(ProblemEvent.scan_id == scan.id).limit(1))
    if done:
        return []
    changes: list[Change] = []
    rows = session.execute(select(Result, Site).join(Site, Site.id == Result.site_id)
                           .where(Result.judgement_id == judgement_id, Site.url.is_not(None),
                                  Site.role != "portal").order_by(Site.id)).all()
    for result, site in rows:
        if site.unit in units and result.data["verdict"] not in ("无法检测",):
            changes += update_site(session, result, site, scan, settings.sheets, ZoneInfo(settings.timezone), add_new)
    return changes


def problems_of(session: Session, unit: str, site_url: str | None = None) -> list[Problem]:
    query = select(Problem).where(Problem.unit == unit)
    if site_url:
        query = query.where(Problem.site_url == site_url)
    return list(session.scalars(query.order_by(Problem.first_seen_at, Problem.id)))


def history(session: Session, unit: str) -> dict[int, list[ProblemEvent]]:
    """problem id -> its events, oldest first."""
    rows = session.scalars(select(ProblemEvent).join(Problem, Problem.id == ProblemEvent.problem_id)
                           .where(Problem.unit == unit).order_by(ProblemEvent.id))
    out: dict[int, list[ProblemEvent]] = {}
    for event in rows:
        out.setdefault(event.problem_id, []).append(event)
    return out


def previous_sheet(session: Session, unit: str, site_url: str, scan_id: int) -> tuple[int | None, list[Problem]]:
    """The scan before `scan_id` that put this site's problems on a sheet, and the problems still open
    on it then (their status now is the 整改情况 of that sheet)."""
    prior = session.scalar(select(ProblemEvent.scan_id).join(Problem, Problem.id == ProblemEvent.problem_id)
                           .join(Scan, Scan.id == ProblemEvent.scan_id)
                           .where(Problem.unit == unit, Problem.site_url == site_url, ProblemEvent.scan_id < scan_id,
                                  or_(Scan.kind.is_(None), Scan.kind != "recheck"))
                           .order_by(ProblemEvent.scan_id.desc()).limit(1))
    if prior is None:
        return None, []
    ids = session.scalars(select(ProblemEvent.problem_id).where(ProblemEvent.scan_id == prior,
                                                                ProblemEvent.status.in_(OPEN_STATUSES)))
    problems = list(session.scalars(select(Problem).where(Problem.id.in_(list(ids)), Problem.site_url == site_url)
                                    .order_by(Problem.id)))
    return prior, problems


def ignore(session: Session, fingerprint: str, reason: str | None, now: datetime) -> Problem:
    problem = session.scalar(select(Problem).where(Problem.fingerprint == fingerprint))
    if problem is None:
        raise LookupError(f"问题编号 {fingerprint} 不存在；编号见问题单上每个问题的“编号”，或 `sitecensus export --json` 的 fingerprint")
    problem.ignored_reason, problem.ignored_at = reason, (now if reason else None)
    return problem
