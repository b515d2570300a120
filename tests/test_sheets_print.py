"""What the office sends and prints (issue 12): one sheet and one mail per unit, Chinese words only, times
in the configured time zone, a closure confirmation instead of a rectification notice, a `send` that says
once that mail is not set up, and A4 print: the dashboard in landscape without one-character columns, each
sheet as a PDF printed by Chromium with the unit's name and page numbers on every page (read back with pypdf).

Everything reads the demo scan of the `world` fixture (conftest.py); the mail tests send to aiosmtpd."""
from __future__ import annotations

import email
import re
import shutil
import unicodedata
from email import policy
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from aiosmtpd.controller import Controller
from bs4 import BeautifulSoup
from docx import Document
from sqlalchemy import select

from sitecensus.config import Unit
from sitecensus.mail import Sheet, attachment_name
from sitecensus.store import Probe
from tests.conftest import run_cli
from tests.test_sheets import Inbox, _free_port

CLOSED, WITH_PAGE, MANY = "区机关事务管理局", "区环保局", "区人力资源和社会保障局"
CHROMIUM = Path("/usr/bin/chromium")
needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason="Chromium not installed")

# Words of code that must never reach a reader, and the ASCII a reader may see: web terms a site's
# administrator works with, file kinds, and what the tests' sites are named
CODE_WORDS = re.compile(r"<built-in|object at 0x|(?-i:\bNone\b|\bTrue\b|\bFalse\b|\bnan\b)|\{'|\bnull\b|provisional|insufficient|"
                        r"evidence|deduction|advisory|\bveto|consolidation|\bhttp_\d|\btimeout\b|\bother\b|sitecensus serve|"
                        r"Traceback|\bscore\b|\bverdict\b", re.I)
ALLOWED = {"HTTP", "HTTPS", "ICP", "CDN", "Word", "Excel", "PDF", "DOCX", "SiteIDCode", "meta", "name", "content", "display",
           "none", "xxx", "script", "alert"}   # the last two: the hostile unit's name, shown as text
NOT_WORDS = [r"https?://\S+", r"\b[\w-]+(?:\.[\w-]+)+(?::\d+)?\S*",     # addresses, host names, file names
             r"\b[0-9a-f]{6,16}\b",                                   # problem numbers
             r"\b[A-Z]\d{1,2}\b"]                                     # indicator codes: D2, V1, J7


def _text(path: Path) -> str:
    soup = BeautifulSoup(path.read_text(encoding="utf-8"), "lxml")
    for element in soup(["script", "style"]):
        element.decompose()
    return soup.get_text(" ")


def _pages(world) -> list[Path]:
    return [*(world.out / "sheets").glob("*.html"), world.out / "index.html", *(world.out / "units").glob("*.html")]


def _sheet(world, unit: str) -> Path:
    found = [p for p in (world.out / "sheets").glob("*.html")
             if BeautifulSoup(p.read_text(encoding="utf-8"), "lxml").title.get_text().endswith(f" · {unit}")]
    assert len(found) == 1, found
    return found[0]


def _docx_text(path: Path) -> str:
    document = Document(path)
    parts = [p.text for p in document.paragraphs]
    parts += [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    parts += [p.text for section in document.sections for p in (*section.header.paragraphs, *section.footer.paragraphs)]
    return " ".join(parts)


def _xlsx_text(path: Path) -> str:
    from openpyxl import load_workbook
    workbook = load_workbook(path, read_only=True)
    return " ".join([*workbook.sheetnames, *(str(value) for sheet in workbook for row in sheet.iter_rows(values_only=True)
                                             for value in row if value is not None and not hasattr(value, "year"))])


def test_no_code_words_or_reprs_in_any_page(world):
    """Every rendered page, Word sheet and the workbook: what a reader sees is Chinese and web terms only."""
    pages = _pages(world)
    assert len(pages) > 20
    texts = {path.name: _text(path) for path in pages}
    texts.update({path.name: _docx_text(path) for path in (world.out / "sheets").glob("*.docx")})
    texts.update({path.name: _xlsx_text(path) for path in world.out.glob("*.xlsx")})
    assert any(name.endswith(".docx") for name in texts) and any(name.endswith(".xlsx") for name in texts)
    leaks = {}
    for name, text in texts.items():
        plain = text
        for pattern in NOT_WORDS:
            plain = re.sub(pattern, " ", plain)
        found = [m.group() for m in CODE_WORDS.finditer(text)]
        found += sorted(set(re.findall(r"[A-Za-z][A-Za-z_]{2,}", plain)) - ALLOWED)
        if found:
            leaks[name] = found
    assert not leaks


def test_times_on_sheets_are_in_the_configured_zone(world):
    tz = ZoneInfo("Asia/Shanghai")
    html = _text(_sheet(world, "区财政局"))          # the site nobody answers: its failed probes are listed
    assert f"监测时间点 {world.as_of:%Y-%m-%d %H:%M}" in html
    with world.sessions()() as session:
        probes = session.scalars(select(Probe).where(Probe.url == world.urls["down"], Probe.ok.is_(False))).all()
    assert probes
    for probe in probes:
        local, utc = probe.at.astimezone(tz), probe.at.astimezone(ZoneInfo("UTC"))
        assert f"{local:%Y-%m-%d %H:%M} 探测失败" in html
        assert f"{utc:%Y-%m-%d %H:%M} 探测失败" not in html


def test_one_sheet_per_unit_covers_its_portal_page(world):
    site, page = (s for s in world.document["sites"] if s["unit"] == WITH_PAGE)
    assert {site["role"], page["role"]} == {"site", "portal_page"}
    sheet = _sheet(world, WITH_PAGE)
    text = _text(sheet)
    assert site["url"] in text and page["url"] in text and "门户网站保留页面" in text
    for suffix in (".docx", ".pdf"):
        assert sheet.with_suffix(suffix).exists()
    units = {s["unit"] for s in world.document["sites"] if s["url"]}
    assert len(list((world.out / "sheets").glob("*.html"))) == len(units)
    docx = Document(sheet.with_suffix(".docx"))
    assert any(WITH_PAGE in cell.text for table in docx.tables for row in table.rows for cell in row.cells)


def test_dashboard_cards_agree_with_its_table_and_colours_with_the_sheets(world):
    soup = BeautifulSoup((world.out / "index.html").read_text(encoding="utf-8"), "lxml")
    assert "<script" not in str(soup.title)
    cards = {c.contents[0].strip(): int(c.b.get_text()) for c in soup.select(".card")}
    rows = soup.select("#units tr.unit-row")
    for verdict in ("合格", "不合格", "已关停"):
        assert cards.get(verdict, 0) == sum(1 for r in rows if r["data-verdict"] == verdict), verdict
    closed = next(r for r in rows if CLOSED in r.get_text())
    assert "pass" in closed.select_one("td.verdict")["class"]
    sheet = BeautifulSoup(_sheet(world, CLOSED).read_text(encoding="utf-8"), "lxml")
    assert sheet.find(string="已关停").parent["class"] == ["pass"]


def test_a_closed_unit_without_problems_gets_a_closure_confirmation(world):
    text = _text(_sheet(world, CLOSED))
    assert "关停情况确认单" in text and "无需整改" in text
    assert "整改问题单" not in text and "整改反馈" not in text and "请按期整改" not in text


@pytest.fixture(scope="module")
def mailed(world, tmp_path_factory):
    """The demo scan sent over SMTP (aiosmtpd) from a copy of its store."""
    config = world.private_copy(tmp_path_factory.mktemp("mailed"))
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    smtp.start()
    settings = yaml.safe_load((config / "settings.yaml").read_text(encoding="utf-8"))
    settings["mail"].update(host="127.0.0.1", port=smtp.port, security="none", user=None)
    (config / "settings.yaml").write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    result = run_cli("send", config=config, timeout=240)
    smtp.stop()
    messages = [email.message_from_bytes(raw, policy=policy.default) for _, raw in inbox.messages]
    yield {"config": config, "result": result, "messages": messages}


def test_one_mail_per_unit_and_no_rectification_notice_without_problems(world, mailed):
    assert mailed["result"].returncode == 0, mailed["result"].stdout + mailed["result"].stderr
    messages = mailed["messages"]
    subjects = [m["Subject"] for m in messages]
    assert len(subjects) == len(set(subjects))
    units = {s["unit"] for s in world.document["sites"] if s["url"] and s["role"] != "portal"}
    assert len(messages) == len(units)
    (with_page,) = [m for m in messages if WITH_PAGE in m["Subject"]]
    assert len(list(with_page.iter_attachments())) == 1
    body = with_page.get_body(("plain",)).get_content()
    assert all(s["url"] in body for s in world.document["sites"] if s["unit"] == WITH_PAGE)
    (closed,) = [m for m in messages if CLOSED in m["Subject"]]
    assert closed["Subject"].startswith("【关停确认】") and "整改通知" not in closed["Subject"]
    assert "请按期整改" not in closed.get_body(("plain",)).get_content()
    assert next(closed.iter_attachments()).get_filename() == f"关停确认单-{CLOSED}.docx"
    names = [next(m.iter_attachments()).get_filename() for m in messages]
    assert len(names) == len(set(names))


def test_send_without_a_mail_server_says_so_once(world, mailed, tmp_path):
    config = tmp_path / "config"
    shutil.copytree(mailed["config"], config)
    settings = yaml.safe_load((config / "settings.yaml").read_text(encoding="utf-8"))
    shipped = yaml.safe_load((Path(__file__).parents[1] / "config" / "settings.yaml").read_text(encoding="utf-8"))["mail"]
    settings["mail"] = dict(shipped, port=_free_port())          # the shipped settings; nothing listens there
    register = yaml.safe_load((config / "units.yaml").read_text(encoding="utf-8"))
    register["units"].append({"name": "区新登记局", "kind": "部门", "urls": ["http://127.0.0.1:9/"],
                              "contact_email": "new@demo.invalid"})      # registered after the last scan
    (config / "settings.yaml").write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    (config / "units.yaml").write_text(yaml.safe_dump(register, allow_unicode=True), encoding="utf-8")
    result = run_cli("send", "--force", config=config, timeout=240)
    output = result.stdout.replace("\n", "").replace("│", "").replace(" ", "")
    assert result.returncode == 1
    assert output.count("邮件尚未配置") == 1 and "settings.yaml的mail:" in output
    assert "refused" not in result.stdout.lower() and "Errno" not in result.stdout
    assert "没有检测该单位" in output
    row = next(line for line in result.stdout.splitlines() if "区新登记局" in line)
    assert "未登记网站" not in row


def test_attachment_names_are_safe_like_sheet_names():
    unit = Unit(name="../../etc/区水利局", kind="部门")
    sheet = Sheet(unit, [{"unit": unit.name, "url": "http://127.0.0.1:1/", "role": "site", "verdict": "不合格",
                          "findings": [{"code": "D2", "silenced": False}]}], Path("x.html"), Path("x.docx"))
    name = attachment_name(sheet)
    assert name == "整改问题单-etc_区水利局.docx" and "/" not in name and ".." not in name


@needs_chromium
def test_sheet_pdfs_have_the_unit_and_page_numbers_on_every_page(world):
    from pypdf import PdfReader

    sheets = list((world.out / "sheets").glob("*.html"))
    assert all(p.with_suffix(".pdf").exists() for p in sheets)
    reader = PdfReader(_sheet(world, MANY).with_suffix(".pdf"))
    total = len(reader.pages)
    assert total >= 2
    for number, page in enumerate(reader.pages, 1):
        text = unicodedata.normalize("NFKC", page.extract_text())
        assert MANY in text, number
        assert re.search(rf"第 {number} .[,，]共 {total} .", text), text[-80:]     # NFKC makes ， a comma
        box = page.mediabox
        assert abs(float(box.width) - 595) < 2 and abs(float(box.height) - 842) < 2     # A4 portrait
    last = unicodedata.normalize("NFKC", reader.pages[-1].extract_text())
    assert "整改措施及完成情况" in last and "单位负责人签字" in last    # the feedback and seal table is not split


@needs_chromium
def test_dashboard_prints_landscape_without_one_character_columns(world, tmp_path):
    from playwright.sync_api import sync_playwright
    from pypdf import PdfReader

    lines = """els => els.map(e => { const r = document.createRange();
                 r.selectNodeContents(e.firstChild && e.firstChild.nodeType === 3 ? e.firstChild : e);
                 return new Set([...r.getClientRects()].map(x => Math.round(x.top))).size; })"""
    short = "#units th, #units td.kind, #units td.verdict"    # 部门, 不合格, the headers: one line each
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto((world.out / "index.html").as_uri())
            screen = page.eval_on_selector_all(short, lines)
            page.emulate_media(media="print")
            page.set_viewport_size({"width": 1085, "height": 760})     # A4 landscape less margins, at 96 dpi
            printed = page.eval_on_selector_all(short, lines)
            names = page.eval_on_selector_all("#units td.unit", lines)
            page.pdf(path=str(tmp_path / "index.pdf"), prefer_css_page_size=True)
        finally:
            browser.close()
    assert len(screen) > 100 and max(screen) == 1 and max(printed) == 1
    assert max(names) <= 2                   # 区人力资源和社会保障局 in two lines at most, not one character a line
    reader = PdfReader(tmp_path / "index.pdf")
    assert reader.pages[0].mediabox.width > reader.pages[0].mediabox.height     # landscape
    assert len(reader.pages) <= len(world.document["sites"]) // 10               # was 11 pages for 50 rows


def test_without_chromium_the_pdfs_are_skipped_with_a_chinese_word(tmp_path, caplog):
    from reports.pdf import Printer, PrintJob, write_pdfs

    sheet = tmp_path / "单位-abc123.html"
    sheet.write_text("<html><body>问题单</body></html>", encoding="utf-8")
    assert write_pdfs([PrintJob(sheet, "区水利局", "政府网站检测整改问题单")], Printer(str(tmp_path / "no-chromium"))) == []
    assert not sheet.with_suffix(".pdf").exists()
    assert "未找到浏览器" in caplog.text and "crawl.render.executable_path" in caplog.text


@needs_chromium
def test_two_browsers_print_every_sheet_under_its_own_unit(tmp_path):
    from pypdf import PdfReader

    from reports.pdf import Printer, PrintJob, write_pdfs

    jobs = []
    for i in range(5):
        sheet = tmp_path / f"单位{i}-abc.html"
        sheet.write_text(f"<html><body><h1>问题单 {i}</h1></body></html>", encoding="utf-8")
        jobs.append(PrintJob(sheet, f"区第{i}局", "政府网站检测整改问题单"))
    assert write_pdfs(jobs, Printer(str(CHROMIUM), browsers=2)) == [job.pdf for job in jobs]   # in the jobs' order
    for i, job in enumerate(jobs):
        text = unicodedata.normalize("NFKC", PdfReader(job.pdf).pages[0].extract_text())
        assert f"区第{i}局" in text and re.search(rf"问题单\s+{i}\b", text)
