"""Evidence screenshots (reports/screenshots.py) and the Word sheet (reports/docx.py), on the demo sites
scanned once by the `world` fixture (real loopback servers, real headless Chromium)."""
from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest
from docx import Document

from reports.html import stem
from reports.screenshots import INDEX, evidence_screenshots, folder, plan, shot_of
from sitecensus.config import ScreenshotSettings, load_config
from tests.conftest import run_cli

PNG = b"\x89PNG\r\n\x1a\n"


def _broken_link(world) -> dict:
    """The demo's broken-link site: a D2 finding that names the page carrying the link."""
    return next(f for f in world.findings("broken", "D2") if f["evidence"][0].get("source"))


def _sheet(world, site: dict, suffix: str) -> Path:
    """The sheet of the site's unit (named after the unit and its first site)."""
    first = next(s for s in world.document["sites"] if s["unit"] == site["unit"] and s["url"])
    return world.out / "sheets" / f"{stem(first['unit'], first['url'])}{suffix}"


def _config(world, **screenshots):
    config = load_config(world.config)
    config.settings.sheets.screenshots = ScreenshotSettings(**screenshots)
    return config


def test_a_broken_link_gets_a_screenshot_with_the_link_outlined(world):
    finding = _broken_link(world)
    directory = folder(world.out, world.document["scan"]["id"])
    png = directory / f"{finding['fingerprint']}.png"
    data = png.read_bytes()
    assert data.startswith(PNG) and len(data) > 5000
    entry = json.loads((directory / INDEX).read_text(encoding="utf-8"))[finding["fingerprint"]]
    assert entry["page"] == finding["evidence"][0]["source"]     # the page that carries the link, not the target
    assert entry["outlined"] is True                              # the <a> pointing at the broken target was found


def test_the_html_sheet_shows_the_screenshot(world):
    finding = _broken_link(world)
    html_path = _sheet(world, world.site("broken"), ".html")
    html = html_path.read_text(encoding="utf-8")
    sources = re.findall(r'<img src="([^"]+)"', html)
    mine = [s for s in sources if finding["fingerprint"] in s]
    assert mine, sources
    assert (html_path.parent / mine[0]).resolve() == (folder(world.out, world.document["scan"]["id"])
                                                      / f"{finding['fingerprint']}.png").resolve()
    assert f'<a href="{mine[0]}"' in html   # the thumbnail links to the full picture


def test_the_word_sheet_embeds_it_with_unit_name_and_page_numbers(world):
    site = world.site("broken")
    document = Document(str(_sheet(world, site, ".docx")))
    assert len(document.inline_shapes) >= 1
    section = document.sections[0]
    assert site["unit"] in section.header.paragraphs[0].text
    footer = section.footer._element.xml
    assert re.search(r"<w:instrText[^>]*>\s*PAGE\s*</w:instrText>", footer)
    assert re.search(r"<w:instrText[^>]*>\s*NUMPAGES\s*</w:instrText>", footer)
    text = "\n".join(p.text for p in document.paragraphs)
    cells = "\n".join(c.text for t in document.tables for r in t.rows for c in r.cells)
    assert "检测标准：" in text and "整改建议：" in text
    assert "扣分上限" in cells and "实际扣分" in cells      # the deduction table
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert "栏目更新情况" in headings and "上次问题单整改情况" in headings
    d2 = site["indicators"]["D2"]
    assert any(r.cells[0].text == "D2" and r.cells[3].text == f"{d2['cap']:g}" and r.cells[4].text == f"{d2['taken']:g}"
               for t in document.tables for r in t.rows if len(r.cells) == 6)
    # the carrying page is shown once per evidence row (its own column), not repeated in the detail
    rows = [[c.text for c in r.cells] for t in document.tables for r in t.rows if len(r.cells) == 3]
    carried = [r for r in rows if r[1].startswith("http")]
    assert carried and all(r[1] not in r[2] for r in carried)


def test_the_feedback_and_seal_table_is_kept_together(world):
    document = Document(str(_sheet(world, world.site("broken"), ".docx")))
    table = next(t for t in document.tables if t.rows[-1].cells[0].text.startswith("单位负责人签字"))
    for row in table.rows:
        assert row._tr.trPr.find("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}cantSplit") is not None
    assert all(p.paragraph_format.keep_with_next for r in table.rows[:-1] for c in r.cells for p in c.paragraphs)


def test_a_vetoed_sheet_marks_deductions_for_reference_and_provisional_findings(world):
    vetoed = next(s for s in world.document["sites"] if s["vetoed"] and s["url"])
    document = Document(str(_sheet(world, vetoed, ".docx")))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "扣分项不再计分" in text
    assert "（单项否决，不计分）" in "\n".join(c.text for t in document.tables for r in t.rows for c in r.cells)


def test_the_bound_per_scan_holds(world, tmp_path):
    shots = evidence_screenshots(_config(world, max_per_scan=1), world.document, tmp_path)
    pictures = list(folder(tmp_path, world.document["scan"]["id"]).glob("*.png"))
    assert len(shots) == 1 and len(pictures) == 1
    first = plan(world.document, 1)[0]
    assert shots[first.fingerprint].path == pictures[0]
    severities = {f["fingerprint"]: f["severity"] for s in world.document["sites"] for f in s["findings"]}
    assert severities[first.fingerprint] == "veto"   # the bound keeps the vetoes first


def test_a_page_too_big_for_a_picture_gets_none_and_says_why(world, tmp_path):
    first, second = plan(world.document, 2)
    shots = evidence_screenshots(_config(world, max_per_scan=2), world.document, tmp_path, big_pages={first.page})
    index = json.loads((folder(tmp_path, world.document["scan"]["id"]) / INDEX).read_text(encoding="utf-8"))
    assert index[first.fingerprint] == {"page": first.page, "error": "页面过大，未截图"}
    assert first.fingerprint not in shots
    assert (second.fingerprint in shots) == (second.page != first.page)


def test_a_failing_browser_gives_no_picture_and_no_error(world, tmp_path, caplog):
    config = _config(world, max_per_scan=3, timeout_seconds=0.001)
    with caplog.at_level(logging.INFO, logger="sitecensus.screenshots"):
        assert evidence_screenshots(config, world.document, tmp_path / "slow") == {}
    assert "截图失败" in caplog.text
    config.settings.crawl.render.executable_path = str(tmp_path / "no-chromium")
    assert evidence_screenshots(config, world.document, tmp_path / "none") == {}
    index = json.loads((folder(tmp_path / "none", world.document["scan"]["id"]) / INDEX).read_text(encoding="utf-8"))
    assert len(index) == 3 and all("error" in e for e in index.values())   # recorded: not tried again at each report


def test_a_report_without_a_browser_still_writes_every_sheet(world, tmp_path):
    config = world.private_copy(tmp_path, pictures=True)
    settings = (config / "settings.yaml").read_text(encoding="utf-8")
    (config / "settings.yaml").write_text(settings.replace("/usr/bin/chromium", str(tmp_path / "no-chromium")),
                                          encoding="utf-8")
    result = run_cli("report", config=config)
    assert result.returncode == 0, result.stderr
    assert len(list((tmp_path / "out" / "sheets").glob("*.docx"))) >= 10
    assert not list((tmp_path / "out").rglob("*.png"))


def test_what_gets_a_picture():
    link = {"code": "D2", "fingerprint": "a", "evidence": [{"url": "http://x/f.doc", "source": "http://x/p.html"}]}
    assert shot_of(link).mode == "link" and shot_of(link).page == "http://x/p.html"
    stale = {"code": "D4", "fingerprint": "b", "evidence": [{"url": "http://x/gzdt/", "source": None, "detail": "…"}]}
    assert shot_of(stale).mode == "lists"
    phrase = {"code": "V4", "fingerprint": "c", "title": "严重错误：“不忘出心”应为“不忘初心”",
              "evidence": [{"url": "http://x/a.html", "detail": "“不忘出心”应为“不忘初心”：…要不忘出心、牢记使命…"}]}
    assert shot_of(phrase).mode == "text" and shot_of(phrase).snippets[0] == "不忘出心"
    https = {"code": "G4", "fingerprint": "d", "evidence": [{"url": "http://x/", "detail": "未启用 HTTPS"}]}
    assert shot_of(https) is None   # about the site, not a page
    assert shot_of({"code": "D2", "fingerprint": "e", "evidence": []}) is None


@pytest.mark.parametrize("value", [-1])
def test_settings_refuse_a_negative_bound(value):
    with pytest.raises(ValueError):
        ScreenshotSettings(max_per_scan=value)


def test_only_the_newest_scans_keep_their_pictures(world, tmp_path):
    config = _config(world, max_per_scan=1, keep_scans=2)
    root = tmp_path / "screenshots"
    for old in (3, 10, 11):
        (root / f"scan-{old}").mkdir(parents=True)
        (root / f"scan-{old}" / INDEX).write_text("{}", encoding="utf-8")
    document = dict(world.document, scan=dict(world.document["scan"], id=12))
    assert len(evidence_screenshots(config, document, tmp_path)) == 1
    assert sorted(d.name for d in root.iterdir()) == ["scan-11", "scan-12"]
