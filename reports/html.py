"""Render the problem sheets (整改问题单) and the office dashboard from a judged scan's document.

Reports only present: every verdict and number comes from the document. Jinja autoescaping is on,
so text taken from crawled sites (titles, notices) renders as text, never as markup.
"""
from __future__ import annotations

from datetime import datetime
from functools import partial
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from reports.docx import write_docx
from reports.pdf import PrintJob, write_pdfs
from reports.screenshots import attach as attach_screenshots
from reports.sheet import MAX_LISTED, PLAN_LABELS, SEVERITY_LABELS, sheet_name, stem, unit_sheets, verdict_class
from reports.svg import failure_timeline, score_trend
from reports.xlsx import write_workbook
from scoring.consolidation import STATE_ORDER

WORKBOOK = "检测汇总.xlsx"
__all__ = ["render", "sheet_name", "stem", "sheet_files"]


def _env() -> Environment:
    env = Environment(loader=PackageLoader("reports", "templates"), autoescape=select_autoescape(["j2", "html"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["severity"] = lambda s: SEVERITY_LABELS.get(s, s)
    env.filters["plan"] = lambda plan: PLAN_LABELS.get((plan or {}).get("participates"), "未报送意见书")
    env.filters["num"] = lambda value: f"{value:g}"   # 20, not 20.0
    env.filters["when"] = lambda iso: datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M") if iso else ""
    env.filters["verdict_class"] = verdict_class
    return env


def sheet_files(sites: list[dict]) -> dict[str, str]:
    """unit -> the file stem of its one sheet (named after the unit and its first site)."""
    files: dict[str, str] = {}
    for site in sites:
        if site["url"]:
            files.setdefault(site["unit"], stem(site["unit"], site["url"]))
    return files


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


def render(document: dict, out_dir: Path, rule_names: dict[str, str] | None = None, dashboard: bool = True,
           context: dict | None = None) -> Path:
    """Write each unit's sheet (HTML, DOCX and PDF), the unit pages, the dashboard and the office workbook,
    and return the dashboard's path. With dashboard=False (an on-demand audit) write only the audited
    units' sheets under audits/ and return the first one, leaving the office's dashboard as it is.

    `context` (sitecensus/reporting.py) adds the ledger, score trends, problem histories, availability,
    the profile's title, the browser that prints the PDFs and `on_cores` (work, items) -> results, which
    writes the sheets and the workbook on several processes (sitecensus/cores.py)."""
    env = _env()
    context = context or {}
    rule_names = rule_names or {}
    sheets = out_dir / ("sheets" if dashboard else "audits")
    sheets.mkdir(parents=True, exist_ok=True)
    if dashboard:
        for old in [*sheets.glob("*.html"), *sheets.glob("*.docx"), *sheets.glob("*.pdf")]:
            old.unlink()  # the folder shows one scan: a sheet of an earlier scan must not pass for current
    scan = document["scan"]
    files = sheet_files(document["sites"])
    rows = [_row(site, files.get(site["unit"]), context) for site in document["sites"]]
    jobs = [partial(_write_sheet, env, scan, sheet, context.get("screenshots"), sheets)
            for sheet in unit_sheets(scan, document["sites"], rule_names, context.get("ledger"),
                                     context.get("profile_title"), context.get("max_listed", MAX_LISTED))]
    if not dashboard:   # an audit answers in seconds: no browser for its PDF
        written = [job() for job in jobs]
        return written[0].html if written else sheets
    open_problems = [dict(p, unit=unit, site_url=p.get("site_url")) for unit, problems in context.get("history", {}).items()
                     for p in problems if p["open"]]
    jobs.insert(0, partial(write_workbook, rows, open_problems, out_dir / WORKBOOK, rule_names))   # the longest first
    # the workbook and the sheets side by side, on the cores the context's `on_cores` gives (one by default)
    workbook, *written = (context.get("on_cores") or map)(lambda i: jobs[i](), range(len(jobs)))
    write_pdfs(written, context.get("printer"))
    _unit_pages(env, out_dir, scan, rows, context.get("history", {}))
    window = next(iter(context.get("availability", {}).values()), None)
    index = out_dir / "index.html"
    index.write_text(env.get_template("dashboard.html.j2").render(
        scan=scan, rows=rows, summary=dashboard_summary(rows), window=window, board=consolidation_board(rows),
        unregistered=unregistered_sites(rows), workbook=workbook.name, profile=context.get("profile_title") or scan["profile"],
        verdicts=sorted({r["site"]["verdict"] for r in rows if r["site"]["url"]}),
        kinds=sorted({r["site"].get("unit_kind", "") for r in rows})), encoding="utf-8")
    return index


def _row(site: dict, name: str | None, context: dict) -> dict:
    """A site's row on the dashboard; `name` is its unit's sheet."""
    return {"site": site, "sheet": f"sheets/{name}.html" if name else None, "docx": f"sheets/{name}.docx" if name else None,
            "pdf": f"sheets/{name}.pdf" if name else None, "counts": _counts(site),
            "unit_page": f"units/{stem(site['unit'])}.html", "ledger": context.get("ledger", {}).get((site["unit"], site["url"])),
            "availability": _availability(context.get("availability", {}).get(site["url"]), context.get("veto_failure_share")),
            "trend": score_trend(context.get("trend", {}).get((site["unit"], site["url"]), []), top=context.get("total"))}


def _write_sheet(env: Environment, scan: dict, sheet: dict, screenshots: dict | None, folder: Path) -> PrintJob:
    """A unit's sheet, HTML and DOCX; returns its print job, for the PDF."""
    attach_screenshots(sheet, screenshots, folder)
    html = env.get_template("sheet.html.j2").render(scan=scan, sheet=sheet, docx=f"{sheet['stem']}.docx",
                                                     pdf=f"{sheet['stem']}.pdf")
    path = folder / f"{sheet['stem']}.html"
    path.write_text(html, encoding="utf-8")
    write_docx(sheet, folder / f"{sheet['stem']}.docx")
    return PrintJob(path, sheet["unit"], sheet["title"])


def dashboard_summary(rows: list[dict]) -> dict:
    """The dashboard's cards, counted over the rows its table shows (sites, retained portal pages, the portal)."""
    checked = [r for r in rows if r["site"]["url"]]
    by_verdict: dict[str, int] = {}
    for r in checked:
        by_verdict[r["site"]["verdict"]] = by_verdict.get(r["site"]["verdict"], 0) + 1
    return {"units": len({r["site"]["unit"] for r in rows if r["site"].get("role", "site") != "portal"}),
            "registered": len(checked),
            "portal_pages": sum(1 for r in checked if r["site"].get("role") == "portal_page"),
            "by_verdict": by_verdict}


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
