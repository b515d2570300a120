"""The district report (通报): `sitecensus bulletin` on the demo scan, read back with python-docx — its
sections, the ranking in score order, the pass rate the document gives — a clear Chinese error without a
scan, and, after two scans of a site whose broken link was mended, the unit named among the changes."""
from __future__ import annotations

import re
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from docx import Document

from sitecensus.demo.server import DemoServer, Reply, SiteFiles
from tests.conftest import REPO, run_cli

SECTIONS = ("一、检测范围和时间", "二、总体情况", "三、各单位得分排名", "四、问题分布（按指标）", "五、集约化整合进度",
            "六、逾期事项", "七、与上次检测相比", "八、工作要求")
TZ = ZoneInfo("Asia/Shanghai")


def _bulletin(config: Path) -> Document:
    result = run_cli("bulletin", config=config, timeout=120)
    assert result.returncode == 0, result.stderr
    path = Path(result.stdout.split("通报：")[-1].strip())
    assert path.exists() and path.suffix == ".docx"
    return Document(path)


def _table(document: Document, *headers: str) -> list[dict]:
    """The first table whose header row starts with `headers`, as {header: text} rows."""
    table = next(t for t in document.tables if [c.text for c in t.rows[0].cells][:len(headers)] == list(headers))
    header = [c.text for c in table.rows[0].cells]
    return [dict(zip(header, (c.text for c in row.cells))) for row in table.rows[1:]]


def _unit_verdicts(document: dict) -> dict[str, str]:
    """A unit fails when its site or its retained portal page fails; else its site's verdict."""
    out: dict[str, str] = {}
    for site in document["sites"]:
        if site["url"] and site.get("role") in ("site", "portal_page"):
            if site["verdict"] == "不合格" or site.get("role") == "site" and out.get(site["unit"]) != "不合格":
                out[site["unit"]] = site["verdict"]
    return out


@pytest.fixture(scope="module")
def demo_bulletin(world, tmp_path_factory):
    return _bulletin(world.private_copy(tmp_path_factory.mktemp("bulletin")))


def test_bulletin_has_every_section(demo_bulletin):
    headings = [p.text for p in demo_bulletin.paragraphs if p.style.name.startswith("Heading 1")]
    assert headings == list(SECTIONS)
    assert demo_bulletin.paragraphs[0].text == "关于全区政府网站检测情况的通报"
    footer = demo_bulletin.sections[0].footer.paragraphs[0]._p.xml
    assert "PAGE" in footer and "NUMPAGES" in footer                       # page numbers


def test_pass_rate_and_ranking_match_the_document(world, demo_bulletin):
    verdicts = _unit_verdicts(world.document)
    judged = [u for u, v in verdicts.items() if v in ("合格", "不合格")]
    passed = sum(1 for u in judged if verdicts[u] == "合格")
    text = "\n".join(p.text for p in demo_bulletin.paragraphs)
    assert f"完成评分的单位 {len(judged)} 个，其中合格 {passed} 个、不合格 {len(judged) - passed} 个" in text
    assert f"合格率 {round(100 * passed / len(judged), 1):g}%" in text

    ranking = _table(demo_bulletin, "排名")
    assert {r["单位"] for r in ranking} == set(judged)
    scores = [float(r["得分"]) for r in ranking if r["得分"] != "—"]
    assert len(scores) >= 2 and scores == sorted(scores, reverse=True), ranking   # probes under load may leave fewer scored
    sites = {s["unit"]: s for s in world.document["sites"] if s.get("role") == "site" and s["url"]}
    for r in ranking:
        site = sites[r["单位"]]
        assert r["结论"] == verdicts[r["单位"]]
        assert r["得分"] == ("—" if site["vetoed"] else f"{site['score']:g}")
    first_vetoed = next(i for i, r in enumerate(ranking) if r["得分"] == "—")
    assert all(r["得分"] == "—" for r in ranking[first_vetoed:])           # vetoed units come last
    assert [int(r["排名"]) for r in ranking] == sorted(int(r["排名"]) for r in ranking)


def test_problems_by_indicator_and_consolidation(world, demo_bulletin):
    indicators = {r["指标"]: r for r in _table(demo_bulletin, "指标")}
    d2_units = {s["unit"] for s in world.document["sites"] for f in s["findings"] if f["code"] == "D2" and not f.get("silenced")}
    d2 = indicators["D2 链接可用性"]
    assert int(d2["涉及单位数"]) == len(d2_units) and d2["类别"] == "扣分"
    assert int(d2["问题数"]) == sum(1 for s in world.document["sites"] for f in s["findings"] if f["code"] == "D2"
                                   and not f.get("silenced"))
    progress = _table(demo_bulletin, "单位", "计划关停")
    overdue = world.site("overdue")["unit"]
    assert any(r["单位"] == overdue and r["进度"].startswith("逾期未关停") for r in progress)
    text = "\n".join(p.text for p in demo_bulletin.paragraphs)
    assert re.search(rf"{overdue}（http://[^）]+）：计划 \d{{4}}-\d{{2}} 关停", text)   # the overdue unit, with its problems
    assert "本次为首次全面检测" in text


def test_no_scan_yet_is_a_chinese_error(world, tmp_path):
    config = world.private_copy(tmp_path)
    settings = yaml.safe_load((config / "settings.yaml").read_text(encoding="utf-8"))
    settings["store_url"] = f"sqlite:///{tmp_path / 'empty.db'}"
    (config / "settings.yaml").write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    result = run_cli("bulletin", config=config, timeout=60)
    assert result.returncode == 2 and "还没有完成的全面检测" in result.stderr and "Traceback" not in result.stderr
    result = run_cli("bulletin", "abc", config=config, timeout=60)
    assert result.returncode == 2 and "检测编号应为数字" in result.stderr


def _page(title: str, links: list[str]) -> bytes:
    items = "".join(f'<li><a href="{href}">{href}</a></li>' for href in links)
    return f"<html><head><title>{title}</title></head><body><h1>{title}</h1><ul>{items}</ul></body></html>".encode()


@pytest.fixture()
def mended(tmp_path):
    """One unit's site scanned twice: a broken link on its home page, then mended."""
    server, files = DemoServer(), SiteFiles()
    server.serve(files)
    config = tmp_path / "config"
    config.mkdir()
    shutil.copytree(REPO / "config" / "criteria", config / "criteria")
    units = [{"name": "区水利局", "kind": "部门", "urls": [server.base_url]}]
    (config / "units.yaml").write_text(yaml.safe_dump({"units": units}, allow_unicode=True), encoding="utf-8")
    settings = yaml.safe_load((REPO / "config" / "settings.yaml").read_text(encoding="utf-8"))
    settings.update(store_url=f"sqlite:///{tmp_path / 'out' / 'sitecensus.db'}", output_dir=str(tmp_path / "out"))
    settings["crawl"].update(resolve_only_listed=True, per_host_delay_seconds=0, download_timeout_seconds=3, retries=0)
    settings["probes"].update(per_scan=1, spacing_seconds=0, timeout_seconds=2)
    (config / "settings.yaml").write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    now = datetime.now(TZ).replace(second=0, microsecond=0)
    for when, status in ((now - timedelta(days=7), 404), (now, 200)):
        files.pages.clear()
        files.pages.update({"/": Reply(200, _page("水利局", ["/a.html"])), "/a.html": Reply(status, _page("甲", []))})
        result = run_cli("scan", "--as-of", when.strftime("%Y-%m-%dT%H:%M"), config=config, timeout=180)
        assert result.returncode == 0, result.stderr
    yield config
    server.close()


def test_changes_since_the_previous_scan_name_the_unit_that_fixed(mended):
    document = _bulletin(mended)
    text = "\n".join(p.text for p in document.paragraphs)
    assert "与第 1 次检测" in text and "已整改问题 1 项" in text
    units = _table(document, "单位", "已整改")
    assert [(r["单位"], r["已整改"], r["复发"]) for r in units] == [("区水利局", "1", "0")]
    fixed = _table(document, "单位", "指标", "问题")
    assert [(r["单位"], r["指标"]) for r in fixed] == [("区水利局", "D2 链接可用性")]
