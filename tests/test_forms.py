"""网站整合意见书: rendered per unit, exported as a workbook, read back into units.yaml."""
import shutil

import pytest
import yaml
from openpyxl import load_workbook

from sitecensus.config import load_config
from tests.conftest import REPO, run_cli


@pytest.fixture
def office(tmp_path):
    config = tmp_path / "config"
    shutil.copytree(REPO / "config", config)
    settings = yaml.safe_load((config / "settings.yaml").read_text(encoding="utf-8"))
    settings["output_dir"] = str(tmp_path / "out")
    (config / "settings.yaml").write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    return config


def test_forms_render_one_printable_form_per_unit(office):
    text = (office / "units.yaml").read_text(encoding="utf-8").replace(
        "  - name: 区科技局\n    kind: 部门\n    urls: []\n    contact_email:\n"
        "    consolidation: {participates: , closure_month: , keep_portal_page: , reason: }",
        "  - name: 区科技局\n    kind: 部门\n    urls: []\n    contact_email:\n"
        "    consolidation: {participates: true, closure_month: 2017-10, keep_portal_page: false, reason: }")
    (office / "units.yaml").write_text(text, encoding="utf-8")
    result = run_cli("forms", "--config", str(office))
    assert result.returncode == 0, result.stderr
    forms = office.parent / "out" / "forms"
    pages = [p for p in forms.glob("*.html") if p.name != "index.html"]
    assert len(pages) == 47
    science = next(p.read_text(encoding="utf-8") for p in pages if "区科技局" in p.read_text(encoding="utf-8"))
    assert "网站整合意见书" in science and "（ √ ）我单位参与网站整合" in science and "2017-10" in science
    assert "@page" in science
    sheet = load_workbook(forms / "意见书汇总.xlsx").active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("单位名称", "是否参与整合", "拟关停时间") and len(rows) == 48
    assert ("区科技局", "参与", "2017-10") == rows[2][:3]


def _returned_workbook(office, tmp_path, edits: dict) -> str:
    run_cli("forms", "--config", str(office), check=True)
    book = load_workbook(office.parent / "out" / "forms" / "意见书汇总.xlsx")
    sheet = book.active
    for cell, value in edits.items():
        sheet[cell] = value
    path = tmp_path / "returned.xlsx"
    book.save(path)
    return str(path)


def test_import_shows_the_change_and_writes_only_when_confirmed(office, tmp_path):
    before = (office / "units.yaml").read_text(encoding="utf-8")
    workbook = _returned_workbook(office, tmp_path, {"B2": "参与", "C2": "2017年10月", "D2": "否",
                                                     "B3": "不参与", "F3": "承担特殊业务，申请保留"})
    shown = run_cli("forms", "import", workbook, "--config", str(office))
    assert shown.returncode == 1 and "+    consolidation: {participates: true, closure_month: 2017-10" in shown.stdout
    assert (office / "units.yaml").read_text(encoding="utf-8") == before       # nothing written yet
    written = run_cli("forms", "import", workbook, "--yes", "--config", str(office))
    assert written.returncode == 0, written.stderr
    after = (office / "units.yaml").read_text(encoding="utf-8")
    assert after.startswith("# 网站责任单位名单")                                  # comments kept
    units = {u.name: u for u in load_config(office).units}
    assert units["区发改局"].consolidation.participates is True
    assert units["区发改局"].consolidation.closure_month == "2017-10"
    assert units["区科技局"].consolidation.reason == "承担特殊业务，申请保留"
    assert sum(a != b for a, b in zip(before.splitlines(), after.splitlines())) == 2


def test_import_names_bad_rows_and_writes_nothing(office, tmp_path):
    before = (office / "units.yaml").read_text(encoding="utf-8")
    workbook = _returned_workbook(office, tmp_path, {"B2": "也许", "B3": "参与", "A4": "不存在的局", "B5": "参与",
                                                     "C5": "2017年13月"})
    result = run_cli("forms", "import", workbook, "--yes", "--config", str(office))
    assert result.returncode == 2
    for expected in ("第 2 行", "也许", "第 3 行（区科技局）", "拟关停时间", "第 4 行", "不存在的局", "第 5 行"):
        assert expected in result.stderr
    assert (office / "units.yaml").read_text(encoding="utf-8") == before
