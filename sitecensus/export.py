"""The machine-readable result of a judged scan (DESIGN.md 'Machine output')."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from sitecensus.store import Judgement, Result, Scan, Site

SITE_KEYS = ("unit", "url", "role", "verdict", "vetoed", "score", "stats", "findings", "indicators", "consolidation",
             "unverified", "note")
FINDING_KEYS = ("code", "severity", "points", "count", "title", "fingerprint", "evidence", "hint", "for_reference",
                "silenced", "silence_reason", "provisional", "provisional_reason")
FINDING_DEFAULTS = {"provisional": False}   # results stored before a key existed


def full_document(session: Session, judgement: Judgement, timezone: str) -> dict:
    """Everything the reports need: the contract fields plus indicators, columns, plan, notes."""
    scan = session.get(Scan, judgement.scan_id)
    rows = session.execute(select(Result, Site).join(Site, Site.id == Result.site_id)
                           .where(Result.judgement_id == judgement.id).order_by(Site.id)).all()
    tz = ZoneInfo(timezone)
    return {"scan": {"id": scan.id, "as_of": judgement.as_of.astimezone(tz).isoformat(), "profile": judgement.profile,
                     "judgement": judgement.id, "started_at": scan.started_at.astimezone(tz).isoformat()},
            "sites": [result.data for result, _site in rows]}


def contract_document(full: dict) -> dict:
    """Trim the full document to the public JSON contract (DESIGN.md), plus the score's explanation:
    per site `role` (site | portal_page | portal), `indicators` (points, cap, taken, the findings behind
    them), `consolidation` (state at the check time against the unit's form, what the scan saw) and
    `unverified` (what could not be read, with the reason: never a finding), `note` (why a site could not be
    checked, or was judged only in part), per finding `hint`,
    `for_reference` (a deduction on a site that is not scored), `silenced` / `silence_reason` and
    `provisional` / `provisional_reason` (evidence short of what the criteria require: shown as 暂定, no veto)."""
    return {"scan": {k: full["scan"][k] for k in ("id", "as_of", "profile")},
            "sites": [{**{k: site.get(k) for k in SITE_KEYS},
                       "findings": [{k: f.get(k, FINDING_DEFAULTS.get(k)) for k in FINDING_KEYS} for f in site["findings"]]}
                      for site in full["sites"]]}
