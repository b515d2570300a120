"""The problem sheet as a Word document (python-docx), from the same data as the HTML sheet
(reports/sheet.py): the format units expect by e-mail and fill in."""
from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

FONT = "SimSun"   # 宋体: what an office's Word has; the East Asian font must be set apart from the Latin one


def _font(style, size: float | None = None) -> None:
    style.font.name = FONT
    style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)
    if size:
        style.font.size = Pt(size)


def _table(document, header: list[str], rows: list[list[str]], widths: list[float] | None = None):
    table = document.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, header):
        cell.text = text
        for run in cell.paragraphs[0].runs:
            run.bold = True
    for values in rows:
        for cell, text in zip(table.add_row().cells, values):
            cell.text = "" if text is None else str(text)
    if widths:
        for row in table.rows:
            for cell, width in zip(row.cells, widths):
                cell.width = Mm(width)
    return table


def _evidence(problem: dict) -> str:
    lines = []
    for e in problem["evidence"][:10]:
        where = e.get("url") or ""
        if e.get("source"):
            where += f"（所在页面 {e['source']}）"
        lines.append(" ".join(x for x in (where, e.get("detail") or "") if x))
    if len(problem["evidence"]) > 10:
        lines.append(f"……共 {len(problem['evidence'])} 处，详见网页版问题单")
    return "\n".join(lines)


def write_docx(sheet: dict, path: Path) -> Path:
    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = Mm(18)
    section.top_margin = section.bottom_margin = Mm(16)
    _font(document.styles["Normal"], 10.5)
    for name in ("Title", "Heading 1", "Heading 2"):
        _font(document.styles[name])

    title = document.add_heading("政府网站检测整改问题单", level=0)
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    score = "—（单项否决，不计分）" if sheet["vetoed"] else "—" if sheet["score"] is None else f"{sheet['score']:g}"
    verdict = sheet["verdict"] + ("（触发单项否决）" if sheet["vetoed"] else "")
    _table(document, ["项目", "内容"], [
        ["责任单位", f"{sheet['unit']}（{sheet['unit_kind']}）" if sheet["unit_kind"] else sheet["unit"]],
        ["网站地址", sheet["url"]], ["监测时间点", sheet["as_of"]], ["评分方案", sheet["profile"]],
        ["检测结论", verdict], ["得分", score], ["整合计划", sheet["plan"]],
        ["问题数量", f"{sheet['counts']['problems']} 项（其中单项否决 {sheet['counts']['vetoes']} 项）"],
        ["整改期限", f"{sheet['deadline']}（下发后 {sheet['working_days']} 个工作日内）" if sheet["deadline"] else "—"],
    ], [35, 139])

    document.add_heading(f"一、问题清单（{sheet['counts']['problems']} 项）", level=1)
    if not sheet["groups"]:
        document.add_paragraph("本次检测未发现问题。")
    for group in sheet["groups"]:
        capped = "（已达该项上限）" if group["capped"] else ""
        taken = f"，本指标扣 {group['taken']:g} 分{capped}" if group.get("taken") else ""
        label = group["severity_label"] + ("（暂定）" if group["provisional"] else "")
        document.add_heading(f"{group['code']} {group['name']}（{label}，{len(group['problems'])} 项{taken}）",
                             level=2)
        rows = []
        for p in group["problems"]:
            title = p["title"] + (f"（{p['silence_reason']}，不计分）" if p.get("silenced") else "")
            title += f"\n{p['provisional_reason']}" if p.get("provisional_reason") else ""
            rows.append([p["fingerprint"], title, _evidence(p), p["hint"], p.get("status") or "—"])
        _table(document, ["编号", "问题", "位置与说明", "整改建议", "状态"], rows, [22, 38, 62, 36, 16])

    if sheet.get("unverified"):
        document.add_heading(f"无法核实的项目（{len(sheet['unverified'])} 项，不计分、不列为问题）", level=2)
        _table(document, ["内容", "位置", "原因"], [[u["what"], u.get("url") or "", u["reason"]] for u in sheet["unverified"]],
               [50, 62, 62])

    document.add_heading("二、上次问题单整改情况", level=1)
    previous = sheet.get("previous")
    if not previous or not previous["rows"]:
        document.add_paragraph("无（首次下发，或上次问题单没有未整改的问题）。")
    else:
        document.add_paragraph(f"第 {previous['scan_id']} 次检测（{previous['as_of']}）下发的问题，截至本次检测：")
        _table(document, ["编号", "问题", "首次发现", "整改期限", "现状"],
               [[p["fingerprint"], f"{p['code']} {p['title']}", p["first_seen"], p["deadline"] or "—",
                 p["status"] + (f"（{p['fixed']}）" if p.get("fixed") and p["status"] == "已整改" else "")]
                for p in previous["rows"]], [22, 70, 24, 24, 34])

    document.add_heading("三、整改反馈（由责任单位填写）", level=1)
    document.add_paragraph(f"请于 {sheet['deadline'] or '规定期限'} 前完成整改，填写本表并加盖公章后回复区委区政府电子政务办。")
    _table(document, ["反馈事项", "填写内容"], [[row, ""] for row in sheet["feedback"]], [55, 119])
    for row in document.tables[-1].rows[1:]:
        row.height = Mm(18)
    document.add_paragraph(f"由 sitecensus 生成 · 第 {sheet['scan_id']} 次检测").runs[0].font.size = Pt(8)
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(path)
    return path
