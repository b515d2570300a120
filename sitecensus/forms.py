"""网站整合意见书 (attachment 2): render one printable form per unit, pre-filled from units.yaml, plus a
workbook with one row per unit; read the returned workbook back into units.yaml (only the changed
units' forms are rewritten, comments kept), showing the change before anything is written."""
from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from openpyxl import Workbook, load_workbook
from pydantic import ValidationError
import yaml

from reports.html import _env, sheet_name
from sitecensus.config import Config, ConsolidationForm

COLUMNS = ("单位名称", "是否参与整合", "拟关停时间", "是否需要保留页面", "保留页面地址", "情况说明")
FIELDS = ("participates", "closure_month", "keep_portal_page", "portal_page_url", "reason")
_YES, _NO = ("参与", "是", "√", "y", "yes", "true", "1"), ("不参与", "否", "×", "n", "no", "false", "0")


def state_label(form: ConsolidationForm) -> str:
    return {None: "未报送意见书", True: "参与整合", False: "不参与整合"}[form.participates]


def render_forms(config: Config, out_dir: Path) -> Path:
    """forms/<unit>.html for every unit, forms/index.html and forms/意见书汇总.xlsx; returns the index."""
    env = _env()
    folder = out_dir / "forms"
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for unit in config.units:
        name = sheet_name(unit.name)
        (folder / name).write_text(env.get_template("form.html.j2").render(unit=unit, plan=unit.consolidation),
                                   encoding="utf-8")
        rows.append({"unit": unit, "file": name, "state": state_label(unit.consolidation)})
    workbook = folder / "意见书汇总.xlsx"
    write_workbook(config, workbook)
    index = folder / "index.html"
    index.write_text(env.get_template("forms_index.html.j2").render(rows=rows, workbook=workbook.name),
                     encoding="utf-8")
    return index


def write_workbook(config: Config, path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.title = "网站整合意见书"
    sheet.append(COLUMNS)
    for unit in config.units:
        form = unit.consolidation
        sheet.append([unit.name, {True: "参与", False: "不参与"}.get(form.participates, ""), form.closure_month or "",
                      {True: "是", False: "否"}.get(form.keep_portal_page, ""), form.portal_page_url or "",
                      form.reason or ""])
    for column, width in zip("ABCDEF", (32, 14, 14, 18, 36, 40)):
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    book.save(path)


@dataclass
class ImportResult:
    changes: dict[str, dict]        # unit -> new consolidation fields
    errors: list[str]               # "第 N 行：…" — nothing is written while there is one
    diff: str = ""


def _yes_no(value, row: int, column: str, errors: list[str]) -> bool | None:
    text = str(value).strip().lower() if value is not None else ""
    if not text:
        return None
    if text in _NO or text.startswith("不"):
        return False
    if text in _YES:
        return True
    errors.append(f"第 {row} 行：{column}应填“是/否”（或“参与/不参与”），实际为 {value!r}")
    return None


def _month(value, row: int, errors: list[str]) -> str | None:
    if value in (None, ""):
        return None
    if isinstance(value, (datetime, date)):
        return f"{value.year:04d}-{value.month:02d}"
    m = re.fullmatch(r"\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?\s*", str(value))
    if not m or not 1 <= int(m.group(2)) <= 12:
        errors.append(f"第 {row} 行：拟关停时间应写成 2017-10 或 2017年10月，实际为 {value!r}")
        return None
    return f"{int(m.group(1)):04d}-{int(m.group(2)):02d}"


def read_workbook(path: Path, config: Config) -> ImportResult:
    try:
        sheet = load_workbook(path, read_only=True, data_only=True).active
    except Exception as exc:  # noqa: BLE001 - any unreadable file gets the same clear message
        return ImportResult({}, [f"{path}: 不是可读取的 Excel 文件（{type(exc).__name__}）"])
    rows = sheet.iter_rows(values_only=True)
    header = [str(c).strip() if c is not None else "" for c in next(rows, ())]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        return ImportResult({}, [f"{path}: 第 1 行缺少列：{'、'.join(missing)}（应为：{'、'.join(COLUMNS)}）"])
    at = {name: header.index(name) for name in COLUMNS}
    known = {u.name for u in config.units}
    changes, errors = {}, []
    for number, row in enumerate(rows, start=2):
        cell = lambda name: row[at[name]] if at[name] < len(row) else None  # noqa: E731
        unit = str(cell("单位名称") or "").strip()
        if not unit:
            continue
        if unit not in known:
            errors.append(f"第 {number} 行：单位“{unit}”不在 units.yaml 的名单中")
            continue
        before = len(errors)
        fields = {"participates": _yes_no(cell("是否参与整合"), number, "是否参与整合", errors),
                  "closure_month": _month(cell("拟关停时间"), number, errors),
                  "keep_portal_page": _yes_no(cell("是否需要保留页面"), number, "是否需要保留页面", errors),
                  "portal_page_url": (str(cell("保留页面地址")).strip() or None) if cell("保留页面地址") else None,
                  "reason": (str(cell("情况说明")).strip() or None) if cell("情况说明") else None}
        if len(errors) > before:
            continue
        try:
            form = ConsolidationForm(**fields)
        except ValidationError as exc:
            errors += [f"第 {number} 行（{unit}）：{e['msg'].removeprefix('Value error, ')}" for e in exc.errors()]
            continue
        if form != config.unit(unit).consolidation:
            changes[unit] = fields
    return ImportResult(changes, errors)


def _flow(fields: dict) -> str:
    def scalar(value):
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        return json.dumps(value, ensure_ascii=False) if re.search(r"[:{}\[\],#&*!|>'\"%@`]", value) else value
    return "{" + ", ".join(f"{key}: {scalar(fields[key])}" for key in FIELDS) + "}"


def apply_changes(units_file: Path, result: ImportResult) -> str:
    """The new text of units.yaml: only each changed unit's `consolidation` value is rewritten (as a
    flow mapping, in place), so comments and everything else stay byte for byte; result.diff shows it."""
    original = units_file.read_text(encoding="utf-8")
    root = yaml.compose(original, Loader=yaml.SafeLoader)
    units = next(value for key, value in root.value if key.value == "units")
    edits = []   # (start, end, text), applied back to front
    for entry in units.value:
        fields = dict((k.value, v) for k, v in entry.value)
        changed = result.changes.get(fields["name"].value)
        if changed is None:
            continue
        node = fields.get("consolidation")
        if node is not None:
            edits.append((node.start_mark.index, node.end_mark.index, _flow(changed)))
        else:
            end = entry.end_mark.index
            indent = " " * fields["name"].start_mark.column
            edits.append((end, end, f"{indent}consolidation: {_flow(changed)}\n"))
    updated = original
    for start, end, text in sorted(edits, reverse=True):
        updated = updated[:start] + text + updated[end:]
    result.diff = "".join(difflib.unified_diff(original.splitlines(True), updated.splitlines(True),
                                               str(units_file), f"{units_file}（导入后）"))
    return updated
