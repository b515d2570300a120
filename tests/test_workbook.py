"""The office workbook (检测汇总.xlsx) of the demo scan, read back with openpyxl: one worksheet per indicator
across units (every broken link with its page, as hyperlinks; stale columns with their newest date as a real
date), Chinese labels, retained portal pages, the portal and unregistered sites, and no code words anywhere."""
from __future__ import annotations

import re
from datetime import date, datetime

import pytest
from openpyxl import load_workbook

SEVERITIES = {"单项否决", "扣分", "提示", "集约化"}
# words of the code that must never reach a cell (URLs are taken out first)
CODE_WORDS = re.compile(r"\b(deduction|veto|advisory|consolidation|provisional|portal_page|portal|unverified|"
                        r"insufficient|evidence|None|True|False|null|other|timeout|http_\d+|[a-z]+_[a-z_]+)\b"
                        r"|<built-in|object at 0x|\{'")
URL = re.compile(r"https?://\S+|sheets/\S+")


@pytest.fixture(scope="module")
def workbook(world):
    return load_workbook(world.out / "检测汇总.xlsx")


def _table(sheet) -> list[dict]:
    """Rows as {header: cell}."""
    header = [c.value for c in sheet[1]]
    return [dict(zip(header, row)) for row in sheet.iter_rows(min_row=2)]


def _target(cell) -> str | None:
    return cell.hyperlink.target if cell.hyperlink else None


def test_every_broken_link_is_listed_with_its_page_as_hyperlinks(world, workbook):
    rows = _table(workbook["D2 链接可用性"])
    listed = {(_target(r["失效链接"]), _target(r["链接所在页面"])) for r in rows}
    expected = {(e["url"], e["source"]) for s in world.document["sites"] for f in s["findings"]
                if f["code"] == "D2" for e in f["evidence"]}
    broken = [f for f in world.findings("broken", "D2")]
    assert broken and expected and expected <= listed
    row = next(r for r in rows if _target(r["失效链接"]) == broken[0]["evidence"][0]["url"])
    assert row["单位"].value == world.site("broken")["unit"] and row["类别"].value == "扣分"
    assert row["失效链接"].value == broken[0]["evidence"][0]["url"]          # the address shown, not only linked
    sheet = _target(row["问题单"])
    assert sheet and (world.out / sheet).exists()                          # the sheet link opens the unit's sheet


def test_stale_columns_carry_their_newest_date_as_a_date(world, workbook):
    rows = _table(workbook["D4 栏目更新"])
    columns = {e["url"]: re.search(r"最新信息 (\d{4}-\d{2}-\d{2})", e["detail"]).group(1)
               for f in world.findings("stale", "D4") for e in f["evidence"]}
    stale = [r for r in rows if r["单位"].value == world.site("stale")["unit"]]
    assert len(stale) == len(columns) >= 3
    for r in stale:
        when = r["最新信息日期"].value
        assert isinstance(when, datetime) and r["最新信息日期"].number_format == "yyyy-mm-dd"
        assert when.date() == date.fromisoformat(columns[_target(r["栏目地址"])])
    problems = _table(workbook["未整改问题"])
    assert problems and all(isinstance(r[k].value, datetime) for r in problems for k in ("首次发现", "整改期限"))
    assert any(r["指标"].value == "D2 链接可用性" for r in problems)


def test_wrong_phrases_are_listed_with_their_pages(world, workbook):
    rows = _table(workbook["V4 严重错误"])
    wrong = world.findings("bad", "V4")
    assert wrong and len(rows) == sum(len(f["evidence"]) for s in world.document["sites"] for f in s["findings"]
                                      if f["code"] == "V4")
    assert {_target(r["错误所在页面"]) for r in rows} >= {e["url"] for f in wrong for e in f["evidence"]}
    assert all(r["类别"].value == "单项否决" for r in rows)


def test_labels_are_chinese_and_severities_too(workbook):
    for sheet in workbook.worksheets:
        assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref.startswith("A1:")
        header = [c.value for c in sheet[1]]
        assert all(re.fullmatch(r"[\u4e00-\u9fff0-9（）]+", h) for h in header), header
        if "类别" in header:
            values = {r["类别"].value for r in _table(sheet)}
            assert values and {v.removesuffix("（暂定）") for v in values} <= SEVERITIES, (sheet.title, values)
    assert len(workbook.sheetnames) > 10                                  # one sheet per indicator with findings


def test_portal_pages_portal_and_unregistered_sites_are_rows(world, workbook):
    rows = _table(workbook["各单位情况"])
    portal_pages = [s for s in world.document["sites"] if s.get("role") == "portal_page"]
    assert portal_pages
    for page in portal_pages:
        row = next(r for r in rows if _target(r["网站"]) == page["url"])
        assert row["网站类型"].value == "门户网站保留页面" and row["结论"].value == page["verdict"]
    failing = {s["unit"] for s in world.document["sites"] if s.get("role") in ("site", "portal_page")
               and s["url"] and s["verdict"] == "不合格"}
    assert failing & {p["unit"] for p in portal_pages}                   # the demo has a unit whose page fails
    for r in rows:
        if r["单位"].value in failing:
            assert r["单位结论"].value == "不合格"                             # never 合格 while its portal page fails
    assert any(r["网站类型"].value == "门户网站" for r in rows)
    unregistered = {e["url"] for s in world.document["sites"] for f in s["findings"] if f["code"] == "J7"
                    for e in f["evidence"][:1]}
    assert unregistered and unregistered <= {_target(r["网站"]) for r in rows if r["网站类型"].value == "疑似未登记网站"}


def test_no_code_words_in_any_cell(workbook):
    leaks = []
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    text = URL.sub("", cell.value)
                    if CODE_WORDS.search(text):
                        leaks.append((sheet.title, cell.coordinate, cell.value[:80]))
    assert not leaks, leaks[:10]
