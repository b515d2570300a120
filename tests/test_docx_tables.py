"""The sheets' tables and paragraphs are written as WordprocessingML in one go (reports/docx.py): read back
with python-docx, they say what python-docx's own setters would have written."""
from __future__ import annotations

from docx import Document
from docx.shared import Mm, Pt

from reports.docx import GREY, _labelled, _note, grid_table


def _reread(document, tmp_path):
    document.save(tmp_path / "t.docx")
    return Document(tmp_path / "t.docx")


def test_a_table_reads_back_as_python_docx_writes_it(tmp_path):
    document = Document()
    grid_table(document, ["网址", "说明"], [["http://a.gov.cn/?x=1&y=<2>", "第一行\n第二行\t后"], ["只有一格"]],
               [62, 50], size=8.5)
    table = _reread(document, tmp_path).tables[0]
    assert table.style.name == "Table Grid"
    header, first, short = table.rows
    assert [c.text for c in header.cells] == ["网址", "说明"]
    assert all(run.bold for c in header.cells for run in c.paragraphs[0].runs)
    assert header._tr.trPr.find("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}tblHeader") is not None
    assert first._tr.trPr is None                                         # only the header repeats on each page
    assert first.cells[0].text == "http://a.gov.cn/?x=1&y=<2>"            # escaped on the way in, whole on the way out
    assert first.cells[1].text == "第一行\n第二行\t后"                     # <w:br/> and <w:tab/>, as cell.text writes them
    assert not any(run.bold for run in first.cells[0].paragraphs[0].runs)
    assert first.cells[0].paragraphs[0].runs[0].font.size == Pt(8.5)
    assert [c.text for c in short.cells] == ["只有一格", ""]              # a short row still has every cell
    assert abs(first.cells[0].width - Mm(62)) < Mm(0.1) and abs(first.cells[1].width - Mm(50)) < Mm(0.1)


def test_a_table_without_header_has_its_labels_in_bold_and_drops_what_xml_cannot_carry(tmp_path):
    document = Document()
    grid_table(document, None, [["网站地址", "http://b.gov.cn/\x0b\x01页"]], [35, 139], label_column=True)
    row = _reread(document, tmp_path).tables[0].rows[0]
    assert row.cells[0].paragraphs[0].runs[0].bold and not row.cells[1].paragraphs[0].runs[0].bold
    assert row.cells[1].text == "http://b.gov.cn/页"


def test_notes_and_labelled_lines_keep_their_fonts(tmp_path):
    document = Document()
    _note(document, "说明 <一>", keep_with_next=True)
    _labelled(document, "整改建议：", "更新栏目", size=9.5)
    note, labelled = _reread(document, tmp_path).paragraphs[-2:]
    assert note.text == "说明 <一>" and note.paragraph_format.keep_with_next
    assert note.runs[0].font.color.rgb == GREY and note.runs[0].font.size == Pt(9)
    assert [r.bold for r in labelled.runs] == [True, None] and labelled.text == "整改建议：更新栏目"
    assert not labelled.paragraph_format.keep_with_next
