"""The office workbook (openpyxl): one row per site a unit answers for (its own site, its page retained on the
portal), the portal and the unregistered sites found from it; every open problem; and one worksheet per
indicator with findings, listing across units every broken link with its page, every stale column with its
newest date, every wrong phrase with its page ... Addresses are hyperlinks, dates are real dates, every label
is Chinese; header rows are frozen and filtered, so the office can sort and filter in Excel."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from reports.overview import (ROLE_LABELS, UNREGISTERED_ROLE, by_severity, indicator, severity_label, severity_of,
                              unit_verdicts)

UNIT_COLUMNS = [("单位", 24), ("单位类别", 8), ("网站类型", 14), ("网站", 34), ("结论", 10), ("单位结论", 10), ("得分", 8),
                ("否决项", 8), ("扣分项", 8), ("未整改", 8), ("已整改", 8), ("复发", 8), ("集约化状态", 14),
                ("7天可用率", 10), ("探测次数", 10), ("问题单", 30), ("说明", 40)]
PROBLEM_COLUMNS = [("单位", 24), ("网站", 34), ("编号", 18), ("指标", 16), ("类别", 10), ("问题", 50), ("状态", 8),
                   ("首次发现", 12), ("最近发现", 12), ("整改期限", 12), ("复发次数", 8), ("所在页面", 50), ("问题地址", 50)]
HEADER_FILL = PatternFill("solid", fgColor="DDDDDD")
DATE_FORMAT = "yyyy-mm-dd"
MAX_ROWS_PER_INDICATOR = 20_000
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

# Per indicator: how its evidence reads — (the address's label, the page's label or None, a date's label or None).
EVIDENCE_LABELS = {
    "D2": ("失效链接", "链接所在页面", None), "D9": ("附件地址", "附件所在页面", None),
    "D10": ("系统入口地址", "入口所在页面", None), "S1": ("暗链地址", "暗链所在页面", None),
    "S3": ("链接地址", "链接所在页面", None), "J7": ("未登记网站", "发现于页面", None),
    "V2": ("首页", None, "最新信息日期"), "V3": ("栏目地址", None, "最新信息日期"), "D3": ("首页", None, None),
    "D4": ("栏目地址", None, "最新信息日期"), "S4": ("信息地址", "所在栏目", "发布日期"),
    "V5": ("留言地址", "所在栏目", "留言日期"), "V4": ("错误所在页面", None, None), "S2": ("所在页面", None, None),
}
DEFAULT_LABELS = ("相关网址", "所在页面", None)   # the page column only where some evidence names a page


@dataclass(frozen=True)
class Link:
    """A cell that is a hyperlink: `text` shown, `target` opened (a URL, or a path beside the workbook)."""
    text: str
    target: str


def _link(target: str | None, text: str | None = None) -> Link | str | None:
    return Link(text or target, target) if target else text


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value[:10]) if value else None


def _write(cell, value) -> None:
    if isinstance(value, Link):
        cell.value, cell.hyperlink, cell.style = value.text, value.target, "Hyperlink"
    else:
        cell.value = value
        if isinstance(value, date):
            cell.number_format = DATE_FORMAT
    cell.alignment = _WRAPPED if isinstance(cell.value, str) and len(cell.value) > 40 else _TOP


# One of each, shared by every cell (a cell keeps an index into the workbook's styles): an Alignment made per cell
# cost ~1 s of a 47-unit workbook.
_TOP, _WRAPPED = Alignment(vertical="top", wrap_text=False), Alignment(vertical="top", wrap_text=True)


def _sheet(workbook: Workbook, title: str, columns: list[tuple[str, int]], rows: list[list], first: bool = False):
    sheet = workbook.active if first else workbook.create_sheet()
    sheet.title = title
    sheet.append([name for name, _ in columns])
    for cell in sheet[1]:
        cell.font, cell.fill = Font(bold=True), HEADER_FILL
    for index, row in enumerate(rows, 2):
        for column, value in enumerate(row, 1):
            _write(sheet.cell(row=index, column=column), value)
    for index, (_, width) in enumerate(columns, 1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(1, len(rows) + 1)}"
    return sheet


def _unit_row(r: dict, verdicts: dict[str, str]) -> list:
    site, ledger, avail = r["site"], r.get("ledger") or {}, r.get("availability") or {}
    counts, role = ledger.get("counts", {}), site.get("role", "site")
    registered = bool(site["url"])
    verdict = site["verdict"] if registered and role != "portal" else "—"
    score = None if site.get("vetoed") or role != "site" else site["score"]
    return [site["unit"], site.get("unit_kind"), ROLE_LABELS.get(role, role),
            _link(site["url"]) if registered else "未登记网站", verdict, verdicts.get(site["unit"], "—"), score,
            r["counts"]["veto"], r["counts"]["deduction"], counts.get("open"), counts.get("fixed"),
            counts.get("reopened"), (site.get("consolidation") or {}).get("state"),
            None if avail.get("percent") is None else avail["percent"] / 100, avail.get("probes"),
            _link(r["sheet"], "打开问题单") if registered and role != "portal" else None,
            site.get("note") if registered else None]


def _unregistered_rows(rows: list[dict]) -> list[list]:
    """The J7 sites: hosts under the district's domains that answer but are in no unit's register."""
    out, seen = [], set()
    for r in rows:
        for f in r["site"]["findings"]:
            if f["code"] == "J7" and f["evidence"] and f["evidence"][0]["url"] not in seen:
                evidence = f["evidence"][0]
                seen.add(evidence["url"])
                out.append(["（未登记）", None, UNREGISTERED_ROLE, _link(evidence["url"]), "未登记", "—", None, None, None,
                            None, None, None, None, None, None, None,
                            f"{evidence.get('detail') or ''}；发现于 {evidence.get('source') or r['site']['url']}"])
    return out


def _column_dates(site: dict) -> dict[str, str]:
    return {c["url"]: c["newest_date"] for c in site.get("columns") or [] if c.get("newest_date")}


def _evidence_date(evidence: dict, columns: dict[str, str]) -> date | None:
    found = columns.get(evidence.get("url") or "") or ISO_DATE.search(evidence.get("detail") or "")
    return _day(found if isinstance(found, str) else found.group() if found else None)


def _indicator_columns(code: str, with_pages: bool) -> tuple[list[tuple[str, int]], tuple]:
    url_label, page_label, date_label = EVIDENCE_LABELS.get(code, DEFAULT_LABELS)
    labels = (url_label, page_label if with_pages else None, date_label)
    columns = [("单位", 22), ("网站类型", 14), ("网站", 30), ("类别", 10), ("问题", 44), (url_label, 48)]
    columns += [(page_label, 48)] if page_label else []
    columns += [(date_label, 12)] if date_label else []
    columns += [("说明", 50), ("状态", 10), ("首次发现", 12), ("整改期限", 12), ("编号", 18), ("问题单", 16)]
    return columns, labels


def _indicator_rows(code: str, rows: list[dict], labels: tuple) -> list[list]:
    _, page_label, date_label = labels
    out = []
    for r in rows:
        site = r["site"]
        problems = (r.get("ledger") or {}).get("problems", {})
        columns = _column_dates(site)
        role = site.get("role", "site")
        for f in site["findings"]:
            if f["code"] != code:
                continue
            entry = problems.get(f["fingerprint"], {})
            status = "已核实排除" if f.get("silenced") else entry.get("status")
            for evidence in f["evidence"] or [{"url": site["url"], "detail": ""}]:
                row = [site["unit"], ROLE_LABELS.get(role, role), _link(site["url"]), severity_label(f), f["title"],
                       _link(evidence.get("url"))]
                row += [_link(evidence.get("source"))] if page_label else []
                row += [_evidence_date(evidence, columns)] if date_label else []
                row += [evidence.get("detail") or None, status, _day(entry.get("first_seen")), _day(entry.get("deadline")),
                        f["fingerprint"], _link(r["sheet"], "打开问题单") if role != "portal" else None]
                out.append(row)
    return out[:MAX_ROWS_PER_INDICATOR]


def _sheet_title(code: str, rule_names: dict[str, str]) -> str:
    return re.sub(r"[\[\]:*?/\\]", "", indicator(code, rule_names))[:31]


def _indicator_sheets(workbook: Workbook, rows: list[dict], rule_names: dict[str, str]) -> None:
    kinds = {f["code"]: severity_of(f) for r in rows for f in r["site"]["findings"]}
    sourced = {f["code"] for r in rows for f in r["site"]["findings"] if any(e.get("source") for e in f["evidence"])}
    for code in by_severity(set(kinds), kinds):
        columns, labels = _indicator_columns(code, code in sourced)
        _sheet(workbook, _sheet_title(code, rule_names), columns, _indicator_rows(code, rows, labels))


def _problem_rows(problems: list[dict], rows: list[dict], rule_names: dict[str, str]) -> list[list]:
    findings = {f["fingerprint"]: f for r in rows for f in r["site"]["findings"]}
    out = []
    for p in problems:
        finding = findings.get(p["fingerprint"], {"code": p["code"], "severity": p["severity"], "evidence": []})
        pages = p["pages"][:5]
        targets = list(dict.fromkeys(e["url"] for e in finding["evidence"] if e.get("url")))[:5]
        out.append([p["unit"], _link(p.get("site_url")), p["fingerprint"], indicator(p["code"], rule_names),
                    severity_label(finding), p["title"], p["status"], _day(p["first_seen"]), _day(p["last_seen"]),
                    _day(p["deadline"]), p["reopened"],
                    Link("\n".join(pages), pages[0]) if pages else None,
                    Link("\n".join(targets), targets[0]) if targets and targets != pages else None])
    return out


def write_workbook(rows: list[dict], problems: list[dict], path: Path, rule_names: dict[str, str] | None = None) -> Path:
    """rows: the dashboard's rows of every site of the scan (unit sites, retained portal pages, the portal);
    problems: open problems ({unit, site_url, ...ledger fields})."""
    rule_names = rule_names or {}
    workbook = Workbook()
    verdicts = unit_verdicts([r["site"] for r in rows])
    ordered = [r for r in rows if r["site"].get("role", "site") != "portal"] + \
              [r for r in rows if r["site"].get("role", "site") == "portal"]
    units = _sheet(workbook, "各单位情况", UNIT_COLUMNS,
                   [_unit_row(r, verdicts) for r in ordered] + _unregistered_rows(rows), first=True)
    for cell in units["N"][1:]:
        cell.number_format = "0.0%"
    _sheet(workbook, "未整改问题", PROBLEM_COLUMNS, _problem_rows(problems, rows, rule_names))
    _indicator_sheets(workbook, rows, rule_names)
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path
