"""What the commands do, without the command-line parsing: scan, judge, report, export."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scoring.registry import RULES
from scoring.rules import RULES as _ALL_RULES  # noqa: F401 - registers every rule
from sitecensus.config import Config, Unit
from sitecensus.export import full_document
from sitecensus.judging import judge_scan
from sitecensus.ledger import OPEN_STATUSES, problems_of, update_ledger
from sitecensus.reporting import report_context
from sitecensus.scan import ScanWatch, parse_as_of, run_scan, scan_log
from sitecensus.stages import stage
from sitecensus.store import Judgement, Page, Result, Site, latest_judgement, latest_scan_id, open_store
from reports.html import render, stem

log = logging.getLogger("sitecensus")


@dataclass
class Outcome:
    document: dict
    dashboard: Path
    scan_id: int


class App:
    def __init__(self, config: Config):
        self.config = config
        self.sessions: sessionmaker[Session] = open_store(config.settings.store_url)
        self.out_dir = Path(config.settings.output_dir)

    def as_of(self, text: str | None) -> datetime:
        return parse_as_of(text, self.config.settings.timezone)

    def select_units(self, names: list[str] | None) -> list[Unit]:
        return [self.config.unit(n) for n in names] if names else list(self.config.units)

    def scan(self, units: list[Unit], as_of: datetime, profile_name: str | None = None, watch: ScanWatch | None = None,
             dashboard: bool = True, resume: bool = True) -> Outcome:
        """A full scan (dashboard=True; it resumes an interrupted one unless `resume` is off) or an on-demand
        audit; either moves the ledger of the units it saw."""
        profile = self.config.profile(profile_name)
        log_file = self.out_dir / "logs" / f"scan-{as_of:%Y%m%d-%H%M%S}.log"
        scan_id = run_scan(self.sessions, self.config, units, as_of, profile, log_file, watch,
                           kind="scan" if dashboard else "audit", resume=resume)
        with scan_log(log_file if dashboard else None):   # judging and reports (their stage lines) in the scan's log too
            return self.judge(scan_id, as_of, profile_name, dashboard, ledger=True)

    def judge(self, scan_id: int, as_of: datetime, profile_name: str | None = None, dashboard: bool = True,
              ledger: bool = False) -> Outcome:
        profile = self.config.profile(profile_name)
        with stage("评分"):
            judgement_id = judge_scan(self.sessions, scan_id, as_of, profile, self.config)
        if ledger:
            with stage("台账"), self.sessions.begin() as session:
                update_ledger(session, judgement_id, self.config.settings, {u.name for u in self.config.units})
        with stage("报告"):   # the judged document, sheets, workbook, dashboard; PDFs and screenshots inside
            with self.sessions() as session:
                document = full_document(session, session.get(Judgement, judgement_id), self.config.settings.timezone)
            return Outcome(document, self.render(document, dashboard), scan_id)

    def rescore(self, scan_id: int, as_of: datetime, profile_name: str | None = None) -> Outcome:
        """A what-if: a stored scan judged at another check time or with another profile, its reports written
        to a folder of their own (what_if_dir). The office's dashboard and sheets, and the judgement `report`,
        `send` and the service read, stay as they were; the ledger does not move."""
        profile = self.config.profile(profile_name)
        judgement_id = judge_scan(self.sessions, scan_id, as_of, profile, self.config)
        with self.sessions.begin() as session:
            judgement = session.get(Judgement, judgement_id)
            judgement.what_if = True
            document = full_document(session, judgement, self.config.settings.timezone)
        return Outcome(document, self.render(document, out_dir=self.what_if_dir(scan_id, as_of, profile.name)), scan_id)

    def what_if_dir(self, scan_id: int, as_of: datetime, profile: str) -> Path:
        return self.out_dir / "rescore" / f"scan-{scan_id}-{as_of:%Y%m%d-%H%M}-{profile}"

    def render(self, document: dict, dashboard: bool = True, availability_end: datetime | None = None,
               out_dir: Path | None = None) -> Path:
        """Sheets, unit pages, workbook and dashboard (in `out_dir`, default the output folder); availability is
        shown over the window before `availability_end` (default: the scan's check time)."""
        end = availability_end or datetime.fromisoformat(document["scan"]["as_of"])
        profile = self.config.profile(document["scan"]["profile"])
        with self.sessions() as session:
            context = report_context(session, self.config, document, end, profile)
        return render(document, out_dir or self.out_dir, {code: r.name for code, r in RULES.items()}, dashboard, context)

    def recheck(self, unit: Unit, as_of: datetime) -> tuple[list[dict], Path | None, dict[str, str]]:
        """Re-verify a unit's open problems: fetch their pages again (and the home page), re-run the
        rules, move only those problems on, and render the sheets again. Returns the problems before
        and after, the unit's sheet, and the unit's sites whose home page could not be read ({url: why})."""
        with self.sessions() as session:
            before = [p for p in problems_of(session, unit.name) if p.status in OPEN_STATUSES and not p.ignored_reason]
        if not before:
            raise LookupError(f"{unit.name} 没有未整改的问题，无需复查")
        pages: dict[str, list[str]] = {url: [] for url in unit.urls}
        for problem in before:
            pages.setdefault(problem.site_url, []).extend(problem.pages)
        profile = self.config.profile()
        log_file = self.out_dir / "logs" / f"recheck-{as_of:%Y%m%d-%H%M%S}.log"
        scan_id = run_scan(self.sessions, self.config, [unit], as_of, profile, log_file, kind="recheck",
                           recheck_pages=pages)
        judgement_id = judge_scan(self.sessions, scan_id, as_of, profile, self.config)
        unread = self._unread_homes(scan_id, judgement_id)
        with self.sessions.begin() as session:
            update_ledger(session, judgement_id, self.config.settings, {unit.name}, add_new=False)
        with self.sessions() as session:
            after = {p.fingerprint: p for p in problems_of(session, unit.name)}
        rows = [{"fingerprint": p.fingerprint, "code": p.code, "title": p.title, "before": p.status,
                 "after": after[p.fingerprint].status, "site_url": p.site_url} for p in before]
        try:
            document = self.stored(None)
        except LookupError:
            return rows, None, unread
        self.render(document)
        site = next((s for s in document["sites"] if s["unit"] == unit.name and s["url"]), None)
        return rows, (self.out_dir / "sheets" / f"{stem(site['unit'], site['url'])}.html") if site else None, unread

    def _unread_homes(self, scan_id: int, judgement_id: int) -> dict[str, str]:
        """The scan's own sites whose home page was not read (down, refused, an error page): {url: why}."""
        with self.sessions() as session:
            sites = session.scalars(select(Site).where(Site.scan_id == scan_id, Site.role == "site",
                                                       Site.url.is_not(None)).order_by(Site.id)).all()
            unread = {}
            for site in sites:
                home = session.scalar(select(Page).where(Page.site_id == site.id, Page.is_home.is_(True))
                                      .order_by(Page.id).limit(1))
                if home is None or not home.status or home.status >= 400:
                    result = session.scalar(select(Result).where(Result.judgement_id == judgement_id,
                                                                 Result.site_id == site.id))
                    unread[site.url] = (result.data.get("note") if result else None) or "首页无法访问"
            return unread

    def stored(self, scan_id: int | None) -> dict:
        """The latest judgement of a scan (default: the latest finished scan)."""
        with self.sessions() as session:
            scan_id = scan_id or latest_scan_id(session)
            if scan_id is None:
                raise LookupError("还没有完成的全面检测；先运行 sitecensus scan")
            judgement = latest_judgement(session, scan_id)
            if judgement is None:
                raise LookupError(f"第 {scan_id} 次检测没有评分结果（检测未完成）；用 sitecensus scans 查看历次检测")
            return full_document(session, judgement, self.config.settings.timezone)
