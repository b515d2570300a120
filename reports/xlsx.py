"""The office workbook (openpyxl): one row per unit, and every open problem with its fingerprint.
Header rows are frozen and filtered, so the office can sort and filter in Excel."""
from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

UNIT_COLUMNS = [("单位", 26), ("类别", 8), ("网站", 34), ("结论", 10), ("得分", 8), ("否决项", 8), ("未整改", 8),
                ("已整改", 8), ("复发", 8), ("集约化状态", 14), ("7天可用率", 10), ("探测次数", 10), ("问题单", 40)]
PROBLEM_COLUMNS = [("单位", 26), ("网站", 34), ("编号", 18), ("指标", 8), ("类别", 10), ("问题", 50), ("状态", 8),
                   ("首次发现", 12), ("最近发现", 12), ("整改期限", 12), ("复发次数", 8), ("所在页面", 50)]
HEADER_FILL = PatternFill("solid", fgColor="DDDDDD")


def _sheet(workbook: Workbook, title: str, columns: list[tuple[str, int]], rows: list[list], first: bool = False):
    sheet = workbook.active if first else workbook.create_sheet()
    sheet.title = title
    sheet.append([name for name, _ in columns])
    for cell in sheet[1]:
        cell.font, cell.fill = Font(bold=True), HEADER_FILL
    for row in rows:
        sheet.append(row)
    for index, (_, width) in enumerate(columns, 1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(1, len(rows) + 1)}"
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(vertical="top", wrap_text=isinstance(cell.value, str) and len(cell.value) > 40)
    return sheet


def write_workbook(rows: list[dict], problems: list[dict], path: Path) -> Path:
    """rows: the dashboard's unit rows; problems: open problems ({unit, site_url, ...ledger fields})."""
    workbook = Workbook()
    unit_rows = []
    for r in rows:
        site, ledger, avail = r["site"], r.get("ledger") or {}, r.get("availability") or {}
        counts = ledger.get("counts", {})
        unit_rows.append([site["unit"], site.get("unit_kind"), site["url"] or "未登记网站",
                          site["verdict"] if site["url"] else "—", site["score"], r["counts"]["veto"],
                          counts.get("open"), counts.get("fixed"), counts.get("reopened"),
                          (site.get("consolidation") or {}).get("state"),
                          None if avail.get("percent") is None else avail["percent"] / 100, avail.get("probes"),
                          r["sheet"] if site["url"] else None])
    units = _sheet(workbook, "各单位情况", UNIT_COLUMNS, unit_rows, first=True)
    for cell in units["K"][1:]:
        cell.number_format = "0.0%"
    _sheet(workbook, "未整改问题", PROBLEM_COLUMNS,
           [[p["unit"], p["site_url"], p["fingerprint"], p["code"], p["severity"], p["title"], p["status"],
             p["first_seen"], p["last_seen"], p["deadline"], p["reopened"], "\n".join(p["pages"][:5])] for p in problems])
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path
