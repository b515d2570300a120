"""The sheet as a Word document (python-docx), from the same data as the HTML sheet (reports/sheet.py,
reports/templates/sheet.html.j2): the format units expect by e-mail and fill in. It says what the HTML
sheet says, section for section: the header, per site its verdict, the deduction table (points after
each indicator's cap), the problems by indicator with their criterion, evidence, screenshot and hint,
what could not be verified and the columns; then the previous sheet's problems and the feedback and
seal table, kept on one page. Every page carries the unit's name and its page number."""
from __future__ import annotations

import re
from pathlib import Path
from xml.sax.saxutils import escape

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Mm, Pt, RGBColor

from scoring.registry import RULES

FONT = "SimSun"   # 宋体: what an office's Word has; the East Asian font must be set apart from the Latin one
NUMERALS = "一二三四五六七八九十"
MAX_EVIDENCE = 10
PICTURE_WIDTH = Mm(110)
GREY = RGBColor(0x55, 0x55, 0x55)
RED = RGBColor(0xB0, 0x00, 0x00)
BLACK = RGBColor(0, 0, 0)


def _font(style, size: float | None = None) -> None:
    style.font.name = FONT
    fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), FONT)
    for theme in ("w:asciiTheme", "w:eastAsiaTheme", "w:hAnsiTheme", "w:cstheme"):   # a theme font wins over the named one
        fonts.attrib.pop(qn(theme), None)
    if size:
        style.font.size = Pt(size)


def _num(value) -> str:
    return "—" if value is None else f"{value:g}"


# ------------------------------------------------------------------ building blocks

TABLE_STYLE = "TableGrid"   # the id of "Table Grid" in python-docx's own template, which every sheet starts from
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")   # characters XML cannot carry


def _run_xml(text: str, bold: bool = False, size: float | None = None, color: RGBColor | None = None) -> str:
    """A run as python-docx writes it (`cell.text = text`, run.bold, font.size, font.color.rgb): a tab as
    <w:tab/>, each CR or LF as <w:br/>. Paragraphs and tables are written as XML in one go: python-docx's
    setters cost ~0.1 ms each, ~6 ms a table (most of the sheets' time at 47 units)."""
    properties = (("<w:b/>" if bold else "") + (f'<w:color w:val="{color}"/>' if color is not None else "")
                  + (f'<w:sz w:val="{round(size * 2)}"/>' if size else ""))
    content = []
    for piece in re.split(r"([\t\r\n])", _NOT_XML.sub("", text)):
        if piece == "\t":
            content.append("<w:tab/>")
        elif piece in ("\r", "\n"):
            content.append("<w:br/>")
        elif piece:
            content.append(f'<w:t xml:space="preserve">{escape(piece)}</w:t>')
    return f"<w:r>{f'<w:rPr>{properties}</w:rPr>' if properties else ''}{''.join(content)}</w:r>"


def _elements(xml: str) -> list:
    """The elements of a run of sibling WordprocessingML elements, as python-docx's own classes."""
    return list(parse_xml(f'<w:body {nsdecls("w")}>{xml}</w:body>'))


def grid_table(document, header: list[str] | None, rows: list[list], widths: list[float], size: float | None = None,
               label_column: bool = False):
    """A bordered table: `header` in bold and repeated on each page, `widths` in mm, text at `size` pt,
    `label_column`: the first column in bold. Its rows are written as XML in one go (python-docx's
    add_row / cell.text / table.style cost ~6 ms a table). Characters XML cannot carry are dropped."""
    table = document.add_table(rows=0, cols=len(widths))
    table._tbl.tblPr.style = TABLE_STYLE
    for column, width in zip(table._tbl.tblGrid.gridCol_lst, widths):
        column.w = Mm(width)
    twips = [Mm(width).twips for width in widths]
    xml = []
    for values, is_header in ([(header, True)] if header else []) + [(r, False) for r in rows]:
        values = list(values)[:len(widths)] + [None] * (len(widths) - len(values))
        xml.append("<w:tr><w:trPr><w:tblHeader/></w:trPr>" if is_header else "<w:tr>")
        for i, (width, value) in enumerate(zip(twips, values)):
            run = _run_xml("" if value is None else str(value), is_header or (label_column and i == 0), size)
            xml.append(f'<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/></w:tcPr><w:p>{run}</w:p></w:tc>')
        xml.append("</w:tr>")
    table._tbl.extend(_elements("".join(xml)))
    return table


def _table(document, header: list[str] | None, rows: list[list[str]], widths: list[float], size: float | None = None):
    """A sheet's table; one without header has its labels in its first column."""
    return grid_table(document, header, rows, widths, size, label_column=header is None)


# CT_TrPr's children in schema order (Word refuses a file whose row properties are out of order)
_ROW_PROPERTIES = ("w:cnfStyle", "w:divId", "w:gridBefore", "w:gridAfter", "w:wBefore", "w:wAfter", "w:cantSplit",
                   "w:trHeight", "w:tblHeader", "w:tblCellSpacing", "w:jc", "w:hidden", "w:ins", "w:del", "w:trPrChange")


def _row_flag(row, tag: str) -> None:
    properties = row._tr.get_or_add_trPr()
    if properties.find(qn(tag)) is None:
        later = _ROW_PROPERTIES[_ROW_PROPERTIES.index(tag) + 1:]
        properties.insert_element_before(OxmlElement(tag), *later)


def _keep_together(table) -> None:
    """No row split over two pages, and the whole table on one page (each row kept with the next)."""
    for i, row in enumerate(table.rows):
        _row_flag(row, "w:cantSplit")
        if i < len(table.rows) - 1:
            for cell in row.cells:
                for paragraph in cell.paragraphs:
                    paragraph.paragraph_format.keep_with_next = True


def _field(paragraph, instruction: str) -> None:
    """A Word field (PAGE, NUMPAGES) that Word fills in when it lays the pages out."""
    def char(kind: str):
        run = paragraph.add_run()
        element = OxmlElement("w:fldChar")
        element.set(qn("w:fldCharType"), kind)
        run._r.append(element)
    char("begin")
    text = OxmlElement("w:instrText")
    text.set(qn("xml:space"), "preserve")
    text.text = f" {instruction} "
    paragraph.add_run()._r.append(text)
    char("separate")
    paragraph.add_run("1")
    char("end")


def _page_frame(section, sheet: dict) -> None:
    """Header: the unit's name and the sheet's title; footer: 第 N 页 共 M 页."""
    page_frame(section, f"{sheet['unit']} · {sheet.get('title') or '政府网站检测整改问题单'} · 第 {sheet['scan_id']} 次检测")


def page_frame(section, header_text: str) -> None:
    """`header_text` at the top of every page, 第 N 页，共 M 页 at its foot (also the bulletin's)."""
    header = section.header.paragraphs[0]
    header.text = header_text
    header.alignment = WD_ALIGN_PARAGRAPH.CENTER
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    footer.add_run("第 ")
    _field(footer, "PAGE")
    footer.add_run(" 页，共 ")
    _field(footer, "NUMPAGES")
    footer.add_run(" 页")
    for paragraph in (header, footer):
        for run in paragraph.runs:
            run.font.size = Pt(9)


def _paragraph(document, *runs: str, keep_with_next: bool = False):
    """A paragraph of runs written by _run_xml."""
    paragraph = document.add_paragraph()
    paragraph._p.extend(_elements("".join(runs)))
    if keep_with_next:
        paragraph.paragraph_format.keep_with_next = True
    return paragraph


def _heading(document, text: str, level: int):
    """document.add_heading without its lookup of the style by name (~1 ms): the template's style ids."""
    paragraph = _paragraph(document, _run_xml(text))
    paragraph._p.style = "Title" if level == 0 else f"Heading{level}"
    return paragraph


def _note(document, text: str, color: RGBColor = GREY, size: float = 9, keep_with_next: bool = False):
    return _paragraph(document, _run_xml(text, size=size, color=color), keep_with_next=keep_with_next)


def _labelled(document, label: str, text: str, size: float = 9.5, keep_with_next: bool = False):
    return _paragraph(document, _run_xml(label, bold=True, size=size), _run_xml(text or "", size=size),
                      keep_with_next=keep_with_next)


# ------------------------------------------------------------------ the sheet's parts

def _evidence_detail(evidence: dict) -> str:
    """The detail without the carrying page when the 所在页面 column already shows it."""
    detail, source = evidence.get("detail") or "", evidence.get("source")
    if source:
        detail = detail.replace(f"链接所在页面：{source}", "").replace(f"所在页面：{source}", "").strip("；;，, ")
    return detail


def _finding(document, f: dict, deadline: str | None) -> None:
    runs = [_run_xml("【暂定】", color=RED)] if f.get("provisional") else []
    runs.append(_run_xml(f["title"], bold=True))
    if f.get("status"):
        runs.append(_run_xml(f"  〔{f['status']}〕"))
    if f.get("silenced"):
        runs.append(_run_xml(f"  {f.get('silence_reason') or ''}（不计分）", color=GREY))
    if f.get("points"):
        runs.append(_run_xml(f"（扣 {f['points']:g} 分{'，仅供参考' if f.get('for_reference') else ''}）", color=GREY))
    meta = f"编号 {f['fingerprint']}"
    meta += f" · 首次发现 {f['first_seen']}" if f.get("first_seen") else ""
    meta += f" · 整改期限 {f['deadline']}" if f.get("deadline") and f["deadline"] != deadline else ""
    runs.append(_run_xml(f"  {meta}", size=8, color=GREY))
    _paragraph(document, *runs, keep_with_next=True).paragraph_format.space_before = Pt(6)
    if f.get("provisional_reason"):
        _note(document, f["provisional_reason"], keep_with_next=True)
    criterion = f.get("criterion") or getattr(RULES.get(f.get("code")), "criterion", "")
    if criterion:
        _labelled(document, "检测标准：", criterion, keep_with_next=True)
    evidence = f.get("evidence") or []
    if evidence:
        rows = [[e.get("url") or "", e.get("source") or "", _evidence_detail(e)] for e in evidence[:MAX_EVIDENCE]]
        if len(evidence) > MAX_EVIDENCE:
            rows.append(["", "", f"……共 {len(evidence)} 处，其余见网页版问题单"])
        _table(document, ["问题位置", "所在页面", "说明"], rows, [62, 50, 62], size=8.5)
    if f.get("screenshot_file") and Path(f["screenshot_file"]).is_file():
        document.add_picture(f["screenshot_file"], width=PICTURE_WIDTH)
        document.paragraphs[-1].paragraph_format.keep_with_next = True
        _note(document, "页面截图（红框处为问题所在）" if f.get("screenshot_outlined") else "页面截图", size=8)
    _labelled(document, "整改建议：", f.get("hint") or "")


def _site_summary(document, part: dict) -> None:
    verdict = part["verdict"] + ("（触发单项否决）" if part.get("vetoed") else "")
    score = "—（单项否决，不计分）" if part.get("vetoed") else _num(part.get("score"))
    stats = part.get("stats") or {}
    scope = (f"页面 {stats.get('pages') or 0} 个，链接 {stats.get('links') or 0} 个（失效 {stats.get('broken_links') or 0} 个），"
             f"栏目 {stats.get('columns') or 0} 个" + (f"；{part['note']}" if part.get("note") else ""))
    rows = [["网站地址", part["url"]], ["检测结论", verdict], ["得分", score]]
    consolidation = part.get("consolidation")
    if consolidation:
        text = consolidation.get("state") or ""
        text += f"；本次检测所见：{consolidation['seen']}" if consolidation.get("seen") else ""
        text += f"（{consolidation['detail']}）" if consolidation.get("detail") else ""
        rows.append(["整合情况", text])
    rows.append(["检测范围", scope])
    _table(document, None, rows, [35, 139])


def _deductions(document, part: dict) -> None:
    indicators = part.get("indicators") or []
    if not indicators:
        return
    _heading(document, "扣分情况", 3)
    rows = [[i["code"], i.get("name") or "", _num(i.get("points")), _num(i.get("cap")), _num(i.get("taken")),
             " ".join(fp[:6] for fp in i.get("findings", [])[:12]) + (f" 等 {len(i['findings'])} 项" if len(i.get("findings", [])) > 12 else "")]
            for i in indicators]
    _table(document, ["指标", "名称", "累计扣分", "扣分上限", "实际扣分", "依据的问题（编号）"], rows, [14, 40, 20, 20, 20, 60], size=9)
    if part.get("vetoed"):
        _note(document, "已触发单项否决，扣分项不再计分，列出仅供参考，请一并整改。", RED)
    elif part.get("score") is None:
        _note(document, "本次未能得出检测结论，扣分项不计分，列出仅供参考。")


def _problems(document, part: dict, deadline: str | None) -> None:
    counts = part.get("counts") or {}
    silenced = f"，另有 {counts['silenced']} 项已核实排除" if counts.get("silenced") else ""
    _heading(document, f"问题清单（{counts.get('problems', 0)} 项{silenced}）", 3)
    if not part.get("groups"):
        document.add_paragraph("本次检测未发现问题。")
    for group in part.get("groups") or []:
        label = group["severity_label"] + ("（暂定）" if group.get("provisional") else "")
        taken = f"，本指标扣 {group['taken']:g} 分{'（已达该项上限）' if group.get('capped') else ''}" if group.get("taken") else ""
        _heading(document, f"【{label}】{group['code']} {group.get('name') or ''}（{group['total']} 项{taken}）", 4)
        for problem in group["problems"]:
            _finding(document, problem, deadline)
        if group.get("more"):
            _note(document, f"另有 {group['more']} 项同类问题未在此列出，完整清单见检测结果工作簿（Excel）中以“{group['code']}”开头的工作表。")


def _unverified(document, part: dict) -> None:
    items = part.get("unverified") or []
    if items:
        _heading(document, f"无法核实的项目（{len(items)} 项，不计分、不列为问题）", 3)
        _note(document, "以下内容本次未能读取，未作判断；请人工核实。")
        _table(document, ["内容", "位置", "原因"], [[u["what"], u.get("url") or "", u["reason"]] for u in items],
               [50, 62, 62], size=9)


def _columns(document, part: dict) -> None:
    columns = part.get("columns") or []
    if not columns:
        return
    _heading(document, "栏目更新情况", 3)
    rows = []
    for c in columns:
        unverified = c.get("unverified")
        status = f"无法核实：{unverified}" if unverified else ("空白栏目" if c.get("blank") else "")
        rows.append([c.get("name", "") + ("（首页栏目）" if c.get("from_home") else ""), c.get("category") or "",
                     c.get("newest_date") or "—", "—" if unverified else c.get("items", ""),
                     "—" if unverified else c.get("dated", ""), status])
    _table(document, ["栏目", "类别", "最新信息日期", "信息条数", "带日期", "状态"], rows, [48, 26, 26, 18, 16, 40], size=9)


def _previous(document, sheet: dict) -> None:
    _heading(document, "上次问题单整改情况", 1)
    rows = sheet.get("previous_rows")
    scans = sheet.get("previous_scans")
    if rows is None:   # a sheet of one site
        previous = sheet.get("previous") or {}
        rows, scans = previous.get("rows") or [], [(previous.get("scan_id"), previous.get("as_of"))] if previous else []
    if not rows:
        document.add_paragraph("无（首次下发，或上次问题单没有未整改的问题）。")
        return
    document.add_paragraph("、".join(f"第 {scan_id} 次检测（{as_of}）" for scan_id, as_of in scans) + "下发的问题，截至本次检测：")
    several = len(sheet.get("sites") or []) > 1
    table_rows = [[r["fingerprint"], f"{r['code']} {r['title']}", *([r.get("url") or ""] if several else []),
                   r.get("first_seen") or "", r.get("deadline") or "—",
                   r["status"] + (f"（{r['fixed']}）" if r.get("fixed") and r["status"] == "已整改" else "")] for r in rows]
    header = ["编号", "问题", *(["网站"] if several else []), "首次发现", "整改期限", "现状"]
    widths = [22, 50, 30, 22, 22, 28] if several else [22, 70, 24, 24, 34]
    _table(document, header, table_rows, widths, size=9)


def _feedback(document, sheet: dict) -> None:
    rows = sheet.get("feedback") or ()
    if not rows:
        return
    heading = _heading(document, "整改反馈（由责任单位填写）", 1)
    heading.paragraph_format.page_break_before = False
    intro = document.add_paragraph(f"请于 {sheet.get('deadline') or '规定期限'} 前完成整改，填写下表并加盖公章后回复区委区政府电子政务办。")
    for paragraph in (heading, intro):
        paragraph.paragraph_format.keep_with_next = True
    table = _table(document, None, [[row, ""] for row in rows], [50, 124])
    for row in table.rows:
        row.height = Mm(18)
    _keep_together(table)


def _notice_line(document, sheet: dict) -> None:
    kind = sheet.get("notice", "rectify")
    if kind == "closure":
        document.add_paragraph("经本次检测确认，贵单位网站已按计划关停，未发现需要整改的问题。请保持关停状态，"
                               "并及时办理域名、网站标识码和备案的注销；本单无需回复。")
    elif kind == "result":
        document.add_paragraph("本次检测未发现需要整改的问题，特此告知，本单无需回复。")
    else:
        _note(document, "请对照下列问题逐项整改，并于整改期限前填写文末的整改反馈。状态“新发现”为本次首次发现，"
                        "“未整改”为此前已下发仍存在，“复发”为曾整改后再次出现。")


def _head(document, sheet: dict, parts: list[dict]) -> None:
    counts = sheet.get("counts") or {}
    problems = f"{counts.get('problems', 0)} 项" + (f"（其中单项否决 {counts['vetoes']} 项）" if counts.get("vetoes") else "")
    problems += f"，另有 {counts['silenced']} 项已核实排除" if counts.get("silenced") else ""
    deadline = (f"{sheet['deadline']}（下发后 {sheet['working_days']} 个工作日内）" if sheet.get("deadline") else "无需整改")
    rows = [["责任单位", f"{sheet['unit']}（{sheet['unit_kind']}）" if sheet.get("unit_kind") else sheet["unit"]],
            ["监测时间点", sheet["as_of"]], ["评分方案", sheet["profile"]], ["检测批次", f"第 {sheet['scan_id']} 次检测"],
            ["整合计划", sheet.get("plan") or ""]]
    for part in parts:
        verdict = part["verdict"] + ("（触发单项否决，不计分）" if part.get("vetoed") else
                                     f"，得分 {part['score']:g}" if part.get("score") is not None else "")
        rows.append([f"{part.get('role_label') or '网站'}", f"{part['url']}　{verdict}"])
    rows += [["问题数量", problems], ["整改期限", deadline]]
    _table(document, None, rows, [35, 139])


def write_docx(sheet: dict, path: Path) -> Path:
    """Write the sheet (a unit's sheet with its `sites`, or one site's sheet) to `path`."""
    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = Mm(18)
    section.top_margin = section.bottom_margin = Mm(16)
    _font(document.styles["Normal"], 10.5)
    for name in ("Title", "Heading 1", "Heading 2", "Heading 3", "Heading 4", "Header", "Footer"):
        _font(document.styles[name])
        document.styles[name].font.color.rgb = BLACK   # an official sheet: no theme blue
    _page_frame(section, sheet)
    parts = sheet.get("sites") or [sheet]

    title = _heading(document, sheet.get("title") or "政府网站检测整改问题单", 0)
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _head(document, sheet, parts)
    _notice_line(document, sheet)
    for i, part in enumerate(parts):
        number = NUMERALS[i] if i < len(NUMERALS) else str(i + 1)
        _heading(document, f"{number}、{part.get('role_label') or '网站'}：{part['url']}", 1)
        _site_summary(document, part)
        _deductions(document, part)
        _problems(document, part, sheet.get("deadline"))
        _unverified(document, part)
        _columns(document, part)
    _previous(document, sheet)
    _feedback(document, sheet)
    _note(document, f"区委区政府电子政务办 · 网站检测系统自动生成 · 第 {sheet['scan_id']} 次检测", size=8)
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(path)
    return path
