"""What the reports need besides the judged document, read from the store as plain data: the ledger
behind each sheet, the score trend over the last scans, each unit's problem history, availability."""
from __future__ import annotations

from datetime import datetime
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from reports.pdf import Printer
from reports.screenshots import evidence_screenshots
from scoring.profile import Profile
from sitecensus.availability import availability
from sitecensus.config import Config
from sitecensus.cores import local_processes, on_cores
from sitecensus.ledger import OPEN_STATUSES, add_working_days, history, previous_sheet, problems_of
from sitecensus.store import Judgement, Page, Problem, Result, Scan, Site


def _day(value: datetime | None, tz: ZoneInfo) -> str | None:
    return value.astimezone(tz).strftime("%Y-%m-%d") if value else None


def _problem(problem: Problem, tz: ZoneInfo) -> dict:
    return {"fingerprint": problem.fingerprint, "code": problem.code, "title": problem.title,
            "severity": problem.severity, "status": problem.status, "first_seen": _day(problem.first_seen_at, tz),
            "last_seen": _day(problem.last_seen_at, tz), "fixed": _day(problem.fixed_at, tz),
            "deadline": problem.deadline, "reopened": problem.reopened, "ignored_reason": problem.ignored_reason,
            "pages": problem.pages, "open": problem.status in OPEN_STATUSES and not problem.ignored_reason}


def ledger_view(session: Session, config: Config, scan: dict, site: dict) -> dict:
    tz = ZoneInfo(config.settings.timezone)
    sheets = config.settings.sheets
    problems = {p.fingerprint: _problem(p, tz) for p in problems_of(session, site["unit"], site["url"])}
    prior, carried = previous_sheet(session, site["unit"], site["url"], scan["id"])
    previous = None
    if prior is not None:
        prior_scan = session.get(Scan, prior)
        previous = {"scan_id": prior, "as_of": _day(prior_scan.as_of, tz),
                    "rows": [_problem(p, tz) for p in carried]}
    issued = datetime.fromisoformat(scan["as_of"]).date()
    return {"problems": problems, "previous": previous, "working_days": sheets.rectify_working_days,
            "deadline": add_working_days(issued, sheets.rectify_working_days, sheets).isoformat(),
            "counts": {"open": sum(1 for p in problems.values() if p["open"]),
                       "fixed": sum(1 for p in problems.values() if p["status"] == "已整改"),
                       "reopened": sum(1 for p in problems.values() if p["status"] == "复发")}}


def trends(session: Session, scan_id: int, count: int, tz: ZoneInfo) -> dict[tuple[str, str], list[dict]]:
    """(unit, url) -> score and verdict in each of the last `count` full scans up to `scan_id`, oldest first."""
    scans = list(session.scalars(select(Scan).where(
        Scan.id <= scan_id, Scan.status == "done", or_(Scan.kind.is_(None), Scan.kind == "scan"))
        .order_by(Scan.id.desc()).limit(count)))
    out: dict[tuple[str, str], list[dict]] = {}
    for scan in reversed(scans):
        judgement = session.scalar(select(Judgement.id).where(Judgement.scan_id == scan.id, Judgement.what_if.is_not(True))
                                   .order_by(Judgement.id.desc()).limit(1))   # the office's, never a what-if rescore
        if judgement is None:
            continue
        rows = session.execute(select(Site.unit, Site.url, Result.score, Result.verdict)
                               .join(Result, Result.site_id == Site.id).where(Result.judgement_id == judgement)
                               .order_by(Site.id))
        for unit, url, score, verdict in rows:
            if url:
                out.setdefault((unit, url), []).append({"scan_id": scan.id, "as_of": _day(scan.as_of, tz),
                                                        "score": score, "verdict": verdict})
    return out


def unit_history(session: Session, unit: str, tz: ZoneInfo) -> list[dict]:
    """Every problem the unit ever had, with its status after each scan, newest problems first."""
    events = history(session, unit)
    scans = {s.id: s for s in session.scalars(select(Scan).where(
        Scan.id.in_({e.scan_id for evs in events.values() for e in evs})))}
    rows = []
    for problem in reversed(problems_of(session, unit)):
        entry = _problem(problem, tz)
        entry["site_url"] = problem.site_url
        entry["events"] = [{"scan_id": e.scan_id, "kind": scans[e.scan_id].kind or "scan", "at": _day(e.at, tz),
                            "status": e.status, "note": e.note} for e in events.get(problem.id, [])]
        rows.append(entry)
    return rows


def _big_pages(session: Session, scan_id: int, limit: int) -> set[str]:
    return set(session.scalars(select(Page.url).join(Site, Site.id == Page.site_id)
                               .where(Site.scan_id == scan_id, Page.bytes > limit)))


def report_context(session: Session, config: Config, document: dict, availability_end: datetime,
                   profile: Profile) -> dict:
    tz = ZoneInfo(config.settings.timezone)
    sites = [s for s in document["sites"] if s["url"]]
    return {
        "availability": availability(session, [s["url"] for s in sites], availability_end,
                                     profile.availability.window_days, document["scan"]["id"]),
        "veto_failure_share": profile.availability.veto_failure_share,   # V1's share: shown red from there
        "total": profile.total,                                          # the trend chart's scale
        "ledger": {(s["unit"], s["url"]): ledger_view(session, config, document["scan"], s) for s in sites
                   if s.get("role", "site") != "portal"},
        "trend": trends(session, document["scan"]["id"], config.settings.sheets.trend_scans, tz),
        "history": {unit: unit_history(session, unit, tz) for unit in {s["unit"] for s in sites}},
        "screenshots": evidence_screenshots(config, document, Path(config.settings.output_dir),
                                            _big_pages(session, document["scan"]["id"],
                                                       config.settings.sheets.screenshots.max_page_bytes)),
        "profile_title": profile.title,
        "printer": printer(config),
        "max_listed": config.settings.sheets.max_problems_per_indicator,
        "on_cores": partial(on_cores, processes=local_processes(config)),
    }


def printer(config: Config) -> Printer | None:
    """The browser that prints the sheets' PDFs: the crawler's Chromium (None: PDFs turned off)."""
    if not config.settings.sheets.pdf:
        return None
    render = config.settings.crawl.render
    return Printer(render.executable_path, render.timeout_seconds, browsers=local_processes(config))
