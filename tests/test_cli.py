"""The command line end to end: JSON contract, audit exit codes, rescore, report, export, inspect."""
import json
import shutil

import jsonschema
import pytest
import yaml

from tests.conftest import run_cli

EVIDENCE = {"type": "object", "required": ["url", "source", "detail"],
            "properties": {"url": {"type": ["string", "null"]}, "source": {"type": ["string", "null"]},
                           "detail": {"type": "string"}}}
FINDING = {"type": "object", "required": ["code", "severity", "points", "count", "title", "fingerprint", "evidence"],
           "properties": {"code": {"type": "string", "pattern": "^[VDJGS][0-9]+$"},
                          "severity": {"enum": ["veto", "deduction", "advisory"]},
                          "points": {"type": "number"}, "count": {"type": "integer"}, "title": {"type": "string"},
                          "fingerprint": {"type": "string"}, "evidence": {"type": "array", "items": EVIDENCE}}}
CONTRACT = {
    "type": "object", "required": ["scan", "sites"], "additionalProperties": False,
    "properties": {
        "scan": {"type": "object", "required": ["id", "as_of", "profile"], "additionalProperties": False,
                 "properties": {"id": {"type": "integer"}, "as_of": {"type": "string", "format": "date-time"},
                                "profile": {"type": "string"}}},
        "sites": {"type": "array", "items": {
            "type": "object", "required": ["unit", "url", "verdict", "vetoed", "score", "stats", "findings"],
            "properties": {"unit": {"type": "string"}, "url": {"type": ["string", "null"]},
                           "verdict": {"enum": ["合格", "不合格", "已关停", "无法检测"]}, "vetoed": {"type": "boolean"},
                           "score": {"type": ["number", "null"]},
                           "stats": {"type": "object", "required": ["pages", "links", "broken_links", "columns"],
                                     "properties": {k: {"type": "integer"} for k in
                                                    ("pages", "links", "broken_links", "columns")}},
                           "findings": {"type": "array", "items": FINDING}}}}}}


def test_scan_json_follows_the_contract(world):
    jsonschema.validate(world.document, CONTRACT)
    assert world.document["scan"]["profile"] == "census2015"
    assert world.document["scan"]["as_of"].endswith("+08:00")
    units = [s["unit"] for s in world.document["sites"] if s["role"] == "site"]
    assert len(set(units)) == 47                       # every unit, registered or not
    assert {s["role"] for s in world.document["sites"]} == {"site", "portal_page", "portal"}
    unregistered = [s for s in world.document["sites"] if s["url"] is None]
    assert unregistered and all(s["verdict"] == "无法检测" for s in unregistered)


def test_progress_and_summary_go_to_stderr_with_json(world):
    assert "总览页面" in world.stderr and "区教育局" in world.stderr


def test_reports_written_and_escaped(world):
    index = (world.out / "index.html").read_text(encoding="utf-8")
    assert "政府网站检测总览" in index and "未登记网站" in index and "区郭巨" not in index
    assert "郭巨街道" in index and "参与整合" in index
    sheets = list((world.out / "sheets").glob("*.html"))
    assert len(sheets) == len({s["unit"] for s in world.document["sites"] if s["url"]})   # one sheet per unit
    nasty = next(p.read_text(encoding="utf-8") for p in sheets if "区卫生和计划生育局" in p.read_text(encoding="utf-8"))
    assert '<script>alert("x")</script>' not in nasty and "&lt;script&gt;" in nasty
    stale = next(p.read_text(encoding="utf-8") for p in sheets if "区水利局" in p.read_text(encoding="utf-8"))
    assert "整改问题单" in stale and "V3" in stale and "仅供参考" in stale and "@page" in stale


def test_export_matches_the_scan(world):
    result = run_cli("export", "--json", config=world.config, check=True)
    exported = json.loads(result.stdout)
    jsonschema.validate(exported, CONTRACT)
    assert exported["scan"]["id"] == world.document["scan"]["id"]
    assert [s["verdict"] for s in exported["sites"]] == [s["verdict"] for s in world.document["sites"]]


def test_rescore_an_old_scan_at_a_later_date(world, tmp_path):
    later = (world.as_of.date().replace(year=world.as_of.year + 1)).isoformat()
    result = run_cli("rescore", str(world.document["scan"]["id"]), "--as-of", later, "--json",
                     config=world.private_copy(tmp_path), check=True)
    rescored = json.loads(result.stdout)
    jsonschema.validate(rescored, CONTRACT)
    healthy = next(s for s in rescored["sites"] if s["url"] == world.urls["healthy"])
    assert healthy["verdict"] == "不合格" and "V2" in [f["code"] for f in healthy["findings"]]
    assert rescored["scan"]["as_of"].startswith(later)


def test_report_rerenders(world):
    (world.out / "index.html").unlink()
    result = run_cli("report", config=world.config, check=True)
    assert (world.out / "index.html").exists() and "总览页面" in result.stdout


def test_audit_exit_codes(world):
    ok = run_cli("audit", world.urls["healthy"], config=world.config)
    assert ok.returncode == 0, ok.stderr
    assert "区教育局" in ok.stdout
    bad = run_cli("audit", "区水利局", "--json", config=world.config)
    assert bad.returncode == 1
    audited = json.loads(bad.stdout)
    jsonschema.validate(audited, CONTRACT)
    assert audited["sites"][0]["unit"] == "区水利局"
    missing = run_cli("audit", "区发改局", config=world.config)
    assert missing.returncode == 2 and "未登记网站" in missing.stderr
    unknown = run_cli("audit", "不存在的单位", config=world.config)
    assert unknown.returncode == 2 and "units.yaml" in unknown.stderr


def test_page_limit_is_honoured(world, tmp_path):
    config = tmp_path / "config"
    shutil.copytree(world.config, config)
    settings = yaml.safe_load((config / "settings.yaml").read_text(encoding="utf-8"))
    settings["crawl"]["max_pages_per_site"] = 5
    settings["store_url"] = f"sqlite:///{tmp_path / 'limited.db'}"
    settings["output_dir"] = str(tmp_path / "out")
    (config / "settings.yaml").write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    result = run_cli("audit", world.urls["healthy"], "--json", config=config)
    assert json.loads(result.stdout)["sites"][0]["stats"]["pages"] == 5


def test_inspect_shows_what_the_crawler_extracts(world):
    result = run_cli("inspect", world.urls["healthy"] + "tzgg/", "--json", config=world.config, check=True)
    facts = json.loads(result.stdout)
    assert facts["kind"] == "list" and facts["column_name"] == "通知公告"
    assert facts["groups"][0]["category"] == "通知公告" and facts["groups"][0]["items"][0]["date"]
    assert facts["identifiers"]["site_code"] == "3302060011" and facts["identifiers"]["icp"].startswith("浙ICP备")
    home = run_cli("inspect", world.urls["notice"], config=world.config, check=True)
    assert "关停公告：“本网站将于" in home.stdout and world.urls["portal"] in home.stdout


def test_inspect_reads_a_hanweb_column_as_a_scan_does(world, tmp_path):
    """A 大汉 column page carries its list only in <datastore> and dataproxy.jsp: inspect reads both and says how."""
    column = world.urls["hanweb"] + "col/col1229/index.html"
    facts = json.loads(run_cli("inspect", column, "--json", config=world.config, check=True).stdout)
    items = [item for group in facts["groups"] for item in group["items"]]
    assert facts["family"] == "hanweb" and facts["kind"] == "list" and facts["unread"] == []
    # 45 records embedded, the other 6 (one of them the broken item) from dataproxy.jsp
    assert len(items) == 51 and facts["data_requests"] == {"total": 1, "read": 1}
    assert "大汉 JCMS" in run_cli("inspect", column, config=world.config, check=True).stdout
    config = world.private_copy(tmp_path)
    settings = yaml.safe_load((config / "settings.yaml").read_text(encoding="utf-8"))
    settings["crawl"]["families"] = []
    (config / "settings.yaml").write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    off = run_cli("inspect", column, config=config, check=True).stdout
    assert "无法核实：列表由大汉 jpage 脚本加载，未能读取" in off and "信息列表" not in off


def test_silenced_finding_stays_in_json_and_on_the_sheet(world, tmp_path):
    config = world.private_copy(tmp_path)
    register = yaml.safe_load((config / "units.yaml").read_text(encoding="utf-8"))
    unit = next(u for u in register["units"] if u["name"] == "区商务局")
    unit["silence"] = [{"rule": "D2", "url": "*/error.html", "reason": "办事系统已下线，入口保留供查询历史"}]
    (config / "units.yaml").write_text(yaml.safe_dump(register, allow_unicode=True), encoding="utf-8")
    result = run_cli("rescore", str(world.document["scan"]["id"]), "--json", "--as-of",
                     world.as_of.strftime("%Y-%m-%dT%H:%M"), config=config, check=True)
    site = next(s for s in json.loads(result.stdout)["sites"] if s["url"] == world.urls["broken"])
    silenced = [f for f in site["findings"] if f["silenced"]]
    assert len(silenced) == 1 and silenced[0]["evidence"][0]["url"].endswith("/error.html")
    assert silenced[0]["silence_reason"] == "办事系统已下线，入口保留供查询历史"
    assert site["score"] == pytest.approx(world.site("broken")["score"] + 0.1)
    assert silenced[0]["fingerprint"] not in site["indicators"]["D2"]["findings"]
    sheet = next(p.read_text(encoding="utf-8") for p in (tmp_path / "out" / "rescore").glob("scan-*/sheets/*.html")
                 if "区商务局" in p.read_text(encoding="utf-8"))   # a rescore is a what-if in its own folder
    assert "已核实排除" in sheet and "办事系统已下线" in sheet


def test_silence_needs_a_reason(world, tmp_path):
    config = tmp_path / "config"
    shutil.copytree(world.config, config)
    text = (config / "units.yaml").read_text(encoding="utf-8")
    register = yaml.safe_load(text)
    register["units"][0]["silence"] = [{"rule": "D2"}]
    (config / "units.yaml").write_text(yaml.safe_dump(register, allow_unicode=True), encoding="utf-8")
    result = run_cli("units", config=config)
    assert result.returncode == 2 and "silence.0.reason" in result.stderr


def test_audit_writes_its_sheet_and_leaves_the_dashboard_alone(world):
    index = world.out / "index.html"
    before = index.read_text(encoding="utf-8")
    result = run_cli("audit", "区民政局", config=world.config)
    assert result.returncode == 0, result.stderr
    assert index.read_text(encoding="utf-8") == before
    assert "问题单：" in result.stdout and any((world.out / "audits").glob("*.html"))
