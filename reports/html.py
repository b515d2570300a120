"""Render the problem sheets (整改问题单) and the office dashboard from a judged scan's document.

Reports only present: every verdict and number comes from the document. Jinja autoescaping is on,
so text taken from crawled sites (titles, notices) renders as text, never as markup.
"""
from __future__ import annotations

import hashlib
import re
from datetime import datetime
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from reports.docx import write_docx
from reports.screenshots import attach as attach_screenshots
from reports.sheet import PLAN_LABELS, SEVERITY_LABELS, sheet_data
from reports.svg import failure_timeline, score_trend
from reports.xlsx import write_workbook
from scoring.consolidation import STATE_ORDER

WORKBOOK = "检测汇总.xlsx"


def _env() -> Environment:
    env = Environment(loader=PackageLoader("reports", "templates"), autoescape=select_autoescape(["j2", "html"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["severity"] = lambda s: SEVERITY_LABELS.get(s, s)
    env.filters["plan"] = lambda plan: PLAN_LABELS.get((plan or {}).get("participates"), "未报送意见书")
    env.filters["num"] = lambda value: f"{value:g}"   # 20, not 20.0
    env.filters["when"] = lambda iso: datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M") if iso else ""
    return env


def sheet_name(unit: str, url: str | None = "") -> str:
    """A file name safe on any system for any unit name: the unit's name made safe, then a short hash
    of unit and site (a unit may have several sites) for uniqueness."""
    readable = re.sub(r"[^\w\u4e00-\u9fff]+", "_", unit).strip("_")[:40] or "unit"
    return f"{readable}-{hashlib.sha1((unit + (url or '')).encode()).hexdigest()[:6]}.html"


def _counts(site: dict) -> dict:
    counts = {"veto": 0, "deduction": 0, "advisory": 0}
    for f in site["findings"]:
        if not f.get("provisional"):   # a provisional V1 vetoes nothing
            counts[f["severity"]] = counts.get(f["severity"], 0) + 1
    counts["consolidation"] = sum(1 for f in site["findings"] if f["code"].startswith("J"))
    return counts


def consolidation_board(rows: list[dict]) -> list[dict]:
    """One row per unit: the plan against what the last scan saw, oldest overdue first."""
    by_unit: dict[str, dict] = {}
    for row in rows:
        if row["site"].get("consolidation"):
            by_unit.setdefault(row["site"]["unit"], row)
    order = {state: i for i, state in enumerate(STATE_ORDER)}
    return sorted(by_unit.values(), key=lambda r: (order.get(r["site"]["consolidation"]["state"], 99),
                                                   -r["site"]["consolidation"]["overdue_days"]))


def unregistered_sites(rows: list[dict]) -> list[dict]:
    """J7 across every crawled site: one entry per host, with every page that links it."""
    by_host: dict[str, dict] = {}
    for row in rows:
        for f in row["site"]["findings"]:
            if f["code"] == "J7" and f["evidence"]:
                evidence = f["evidence"][0]
                entry = by_host.setdefault(f["title"], {"title": f["title"], "url": evidence["url"], "detail": evidence["detail"],
                                                        "sources": []})
                entry["sources"].append(evidence["source"])
    return list(by_host.values())


def _availability(figure, veto_share: float | None) -> dict | None:
    if figure is None:
        return None
    share = figure.share
    return {"probes": figure.probes, "failed": figure.failed, "refused": figure.refused,
            "percent": None if share is None else round(100 * share, 1), "timeline": failure_timeline(figure),
            "failing": share is not None and veto_share is not None and 1 - share >= veto_share}


def stem(unit: str, url: str | None = "") -> str:
    return sheet_name(unit, url).removesuffix(".html")


def render(document: dict, out_dir: Path, rule_names: dict[str, str] | None = None, dashboard: bool = True,
           context: dict | None = None) -> Path:
    """Write each site's sheet (HTML and DOCX), the unit pages, the dashboard and the office workbook,
    and return the dashboard's path. With dashboard=False (an on-demand audit) write only the audited
    sites' sheets under audits/ and return the first one, leaving the office's dashboard as it is.

    `context` (sitecensus/reporting.py) adds the ledger, score trends, problem histories and availability."""
    env = _env()
    context = context or {}
    rule_names = rule_names or {}
    sheets = out_dir / ("sheets" if dashboard else "audits")
    sheets.mkdir(parents=True, exist_ok=True)
    if dashboard:
        for old in [*sheets.glob("*.html"), *sheets.glob("*.docx")]:
            old.unlink()  # the folder shows one scan: a sheet of an earlier scan must not pass for current
    scan = document["scan"]
    rows = []
    for site in document["sites"]:
        name = stem(site["unit"], site["url"])
        ledger = context.get("ledger", {}).get((site["unit"], site["url"]))
        row = {"site": site, "sheet": f"sheets/{name}.html", "docx": f"sheets/{name}.docx", "counts": _counts(site),
               "unit_page": f"units/{stem(site['unit'])}.html", "ledger": ledger,
               "availability": _availability(context.get("availability", {}).get(site["url"]),
                                             context.get("veto_failure_share")),
               "trend": score_trend(context.get("trend", {}).get((site["unit"], site["url"]), []),
                                    top=context.get("total"))}
        rows.append(row)
        if site["url"]:
            sheet = sheet_data(scan, site, rule_names, ledger)
            attach_screenshots(sheet, context.get("screenshots"), sheets)
            html = env.get_template("sheet.html.j2").render(scan=scan, site=site, sheet=sheet, rule_names=rule_names,
                                                             docx=f"{name}.docx")
            (sheets / f"{name}.html").write_text(html, encoding="utf-8")
            write_docx(sheet, sheets / f"{name}.docx")
    if not dashboard:
        return next((sheets / r["sheet"].split("/")[-1] for r in rows if r["site"]["url"]), sheets)
    units = [r for r in rows if r["site"].get("role", "site") == "site"]
    _unit_pages(env, out_dir, scan, rows, context.get("history", {}))
    summary = {"units": len({r["site"]["unit"] for r in units}),
               "registered": sum(1 for r in units if r["site"]["url"]),
               "by_verdict": {}}
    for r in units:
        if r["site"]["url"]:
            summary["by_verdict"][r["site"]["verdict"]] = summary["by_verdict"].get(r["site"]["verdict"], 0) + 1
    open_problems = [dict(p, unit=unit, site_url=p.get("site_url")) for unit, problems in context.get("history", {}).items()
                     for p in problems if p["open"]]
    workbook = write_workbook(rows, open_problems, out_dir / WORKBOOK, rule_names)
    window = next(iter(context.get("availability", {}).values()), None)
    index = out_dir / "index.html"
    index.write_text(env.get_template("dashboard.html.j2").render(
        scan=scan, rows=rows, summary=summary, window=window, board=consolidation_board(rows),
        unregistered=unregistered_sites(rows), workbook=workbook.name,
        verdicts=sorted({r["site"]["verdict"] for r in units if r["site"]["url"]}),
        kinds=sorted({r["site"].get("unit_kind", "") for r in units})), encoding="utf-8")
    return index


def _unit_pages(env: Environment, out_dir: Path, scan: dict, rows: list[dict], histories: dict) -> None:
    """One page per unit: its sites' score trends and every problem's history."""
    pages = out_dir / "units"
    pages.mkdir(parents=True, exist_ok=True)
    by_unit: dict[str, list[dict]] = {}
    for row in rows:
        if row["site"].get("role", "site") != "portal":
            by_unit.setdefault(row["site"]["unit"], []).append(row)
    for unit, unit_rows in by_unit.items():
        html = env.get_template("unit.html.j2").render(scan=scan, unit=unit, rows=unit_rows,
                                                        problems=histories.get(unit, []))
        (pages / f"{stem(unit)}.html").write_text(html, encoding="utf-8")
