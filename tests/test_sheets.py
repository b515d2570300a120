"""Problem sheets that close the loop: the ledger over three scans of a site whose problems change,
the DOCX and XLSX read back, re-check, ignore/unignore, and delivery to a real SMTP server
(aiosmtpd) on 127.0.0.1."""
from __future__ import annotations

import email
import json
import shutil
import socket
from datetime import datetime, timedelta
from email import policy
from zoneinfo import ZoneInfo

import pytest
import yaml
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from docx import Document
from openpyxl import load_workbook

from sqlalchemy import func, select

from sitecensus.demo.server import DemoServer, Reply, SiteFiles
from sitecensus.ledger import add_working_days
from sitecensus.config import SheetSettings
from sitecensus.store import Delivery, Page, Problem, Scan, Site, open_store
from tests.conftest import REPO, run_cli, self_signed
from tests.pg import BACKENDS, backend_url

UNIT, OTHER, SILENT = "区水利局", "区统计局", "区审计局"
TZ = ZoneInfo("Asia/Shanghai")


def _html(title: str, links: list[str]) -> bytes:
    items = "".join(f'<li><a href="{href}">{href}</a></li>' for href in links)
    return f"<html><head><title>{title}</title></head><body><h1>{title}</h1><ul>{items}</ul></body></html>".encode()


class ChangingSite:
    """A site whose pages the test rewrites between scans.

    A: a broken link on the home page; B: a broken link on /p2.html; C: a broken link on /p3.html."""

    def __init__(self):
        self.server = DemoServer()
        self.files = SiteFiles()
        self.server.serve(self.files)
        self.base = self.server.base_url

    def set(self, home_links: list[str], broken: set[str], p3_linked: bool = True):
        files = {"/": Reply(200, _html("水利局", home_links + (["/p3.html"] if p3_linked else []) + ["/p2.html"])),
                 "/p2.html": Reply(200, _html("第二页", ["/b.html"])),
                 "/p3.html": Reply(200, _html("第三页", ["/c.html"]))}
        for name in ("/a.html", "/b.html", "/c.html"):
            files[name] = Reply(404, b"not found") if name in broken else Reply(200, _html(name, []))
        self.files.pages.clear()
        self.files.pages.update(files)

    def url(self, path: str) -> str:
        return self.base.rstrip("/") + path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    def __init__(self):
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append((list(envelope.rcpt_tos), envelope.original_content or envelope.content))
        return "250 OK"


def _authenticate(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"egov" and auth_data.password == b"s3cret"
    return AuthResult(success=ok)


@pytest.fixture(scope="module", params=BACKENDS)
def office(request, tmp_path_factory):
    """One changing site, a second unit with a healthy site but no contact, an SMTP server; the store on
    SQLite, then on PostgreSQL (the whole scan, judge, ledger, sheets, re-check path on each)."""
    base = tmp_path_factory.mktemp("office")
    site, other = ChangingSite(), ChangingSite()
    other.set([], set())
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=_free_port(), authenticator=_authenticate,
                      auth_require_tls=False)
    smtp.start()
    config = base / "config"
    config.mkdir()
    shutil.copytree(REPO / "config" / "criteria", config / "criteria")
    units = [{"name": UNIT, "kind": "部门", "urls": [site.base], "contact_email": "shuili@bl.example, ban@bl.example"},
             {"name": OTHER, "kind": "街道", "urls": [other.base]},
             {"name": SILENT, "kind": "其他"}]
    (config / "units.yaml").write_text(yaml.safe_dump({"units": units}, allow_unicode=True), encoding="utf-8")
    settings = yaml.safe_load((REPO / "config" / "settings.yaml").read_text(encoding="utf-8"))
    store_url = backend_url(request, request.param, base / "out" / "sitecensus.db")
    settings.update(store_url=store_url, output_dir=str(base / "out"))
    settings["crawl"].update(resolve_only_listed=True, per_host_delay_seconds=0, download_timeout_seconds=3, retries=0)
    settings["probes"].update(per_scan=1, spacing_seconds=0, timeout_seconds=2)
    # no sheet PDFs or evidence screenshots (tests/test_sheets_print.py and test_screenshots.py read those), one worker
    settings["sheets"].update(pdf=False, screenshots={"enabled": False})
    settings["queue"]["workers"] = 1
    settings["mail"].update(host="127.0.0.1", port=smtp.port, security="none", user="egov",
                            password_env="TEST_SITECENSUS_SMTP", sender="电子政务办 <egov@bl.example>")
    (config / "settings.yaml").write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    state = {"config": config, "out": base / "out", "site": site, "inbox": inbox, "scans": [],
             "sessions": open_store(store_url), "backend": request.param}
    yield state
    state["sessions"].kw["bind"].dispose()
    smtp.stop()
    site.server.close()
    other.server.close()


def _scan(office, when: datetime) -> dict:
    result = run_cli("scan", "--json", "--as-of", when.strftime("%Y-%m-%dT%H:%M"), config=office["config"], timeout=180)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    office["scans"].append(document)
    return document


def _ledger(office) -> dict[str, dict]:
    with office["sessions"]() as session:
        rows = session.execute(select(Problem.fingerprint, Problem.status, Problem.pages, Problem.deadline,
                                      Problem.reopened, Problem.code)).all()
    return {fp: {"status": status, "pages": pages, "deadline": deadline, "reopened": reopened, "code": code}
            for fp, status, pages, deadline, reopened, code in rows}


def _d2(document: dict, office, path: str) -> dict | None:
    site = next(s for s in document["sites"] if s["unit"] == UNIT)
    target = office["site"].url(path)
    return next((f for f in site["findings"] if f["code"] == "D2" and f["evidence"][0]["url"] == target), None)


def test_working_days_skip_weekends_and_holidays_and_count_shifted_workdays():
    friday = datetime(2026, 9, 25).date()
    plain = SheetSettings(rectify_working_days=3)
    assert add_working_days(friday, 3, plain).isoformat() == "2026-09-30"          # Mon, Tue, Wed
    shifted = SheetSettings(rectify_working_days=3, holidays=["2026-09-29"], extra_workdays=["2026-09-27"])
    assert add_working_days(friday, 3, shifted).isoformat() == "2026-09-30"        # Sun (调休), Mon, Wed


def test_ledger_over_three_scans(office):
    site, now = office["site"], datetime.now(TZ).replace(second=0, microsecond=0)
    site.set(["/a.html"], {"/a.html", "/b.html", "/c.html"})
    first = _scan(office, now - timedelta(days=14))
    a, b, c = (_d2(first, office, p) for p in ("/a.html", "/b.html", "/c.html"))
    assert a and b and c
    ledger = _ledger(office)
    assert {ledger[f["fingerprint"]]["status"] for f in (a, b, c)} == {"新发现"}
    assert ledger[b["fingerprint"]]["pages"] == [site.url("/p2.html")]
    working_days = SheetSettings().rectify_working_days
    assert ledger[a["fingerprint"]]["deadline"] == add_working_days((now - timedelta(days=14)).date(), working_days,
                                                                    SheetSettings()).isoformat()

    # A fixed; B still broken; /p3.html no longer linked, so C's page is not checked again
    site.set(["/a.html"], {"/b.html", "/c.html"}, p3_linked=False)
    _scan(office, now - timedelta(days=7))
    ledger = _ledger(office)
    assert ledger[a["fingerprint"]]["status"] == "已整改"
    assert ledger[b["fingerprint"]]["status"] == "未整改"
    assert ledger[c["fingerprint"]]["status"] == "未复查"

    # A broken again; B fixed; C's page back and still broken
    site.set(["/a.html"], {"/a.html", "/c.html"})
    third = _scan(office, now)
    ledger = _ledger(office)
    assert ledger[a["fingerprint"]]["status"] == "复发" and ledger[a["fingerprint"]]["reopened"] == 1
    assert ledger[b["fingerprint"]]["status"] == "已整改"
    assert ledger[c["fingerprint"]]["status"] == "未整改"
    assert _d2(third, office, "/b.html") is None

    # the HTML sheet shows each problem's status and the previous sheet's outcome
    sheet = next((office["out"] / "sheets").glob("*.html"), None)
    sheets = {p.name: p.read_text(encoding="utf-8") for p in (office["out"] / "sheets").glob("*.html")}
    html = next(text for text in sheets.values() if UNIT in text)
    assert sheet is not None and "复发" in html and "上次问题单整改情况" in html and "整改反馈" in html
    assert f"第 {office['scans'][1]['scan']['id']} 次检测" in html


def test_rescore_judges_the_stored_facts_again_and_the_store_lists_and_bulletins_them(office):
    """The first scan judged again at its check time gives its document again, fingerprints and order included
    (every query of the judging gives the same rows in the same order on SQLite and PostgreSQL)."""
    first = office["scans"][0]
    result = run_cli("rescore", str(first["scan"]["id"]), "--as-of", first["scan"]["as_of"][:16], "--json",
                     config=office["config"], check=True)
    assert json.loads(result.stdout)["sites"] == first["sites"]
    listed = run_cli("scans", config=office["config"], check=True).stdout
    assert "历次检测（最近 3 次）" in listed and "已完成" in listed
    bulletin = run_cli("bulletin", config=office["config"], check=True).stdout
    assert f"第 {office['scans'][-1]['scan']['id']} 次检测：完成评分" in bulletin and "合格率" in bulletin


def _fields(document: Document) -> dict[str, str]:
    """The label / value rows of the Word sheet's header and site tables."""
    return {row.cells[0].text: row.cells[1].text for table in document.tables[:2] for row in table.rows
            if len(row.cells) == 2}


def test_docx_sheet_reads_back(office):
    third = office["scans"][-1]
    a = _d2(third, office, "/a.html")
    docx = [p for p in (office["out"] / "sheets").glob("*.docx") if _fields(Document(p))["责任单位"].startswith(UNIT)]
    assert len(docx) == 1
    document = Document(docx[0])
    header = _fields(document)
    site = next(s for s in third["sites"] if s["unit"] == UNIT)
    assert header["网站地址"] == office["site"].base
    assert header["检测结论"].startswith(site["verdict"])
    assert header["得分"] == f"{site['score']:g}"
    assert "个工作日内" in header["整改期限"]
    text = "\n".join([p.text for p in document.paragraphs] +
                     [cell.text for table in document.tables for row in table.rows for cell in row.cells])
    assert a["fingerprint"] in text and "复发" in text           # the problem, with its status
    headings = [p.text for p in document.paragraphs]
    assert any("D2 链接可用性" in h for h in headings)           # grouped by indicator
    previous = document.tables[-2]
    assert [c.text for c in previous.rows[0].cells] == ["编号", "问题", "首次发现", "整改期限", "现状"]
    assert any("已整改" in row.cells[4].text for row in previous.rows[1:])
    assert any(row.cells[0].text == "整改措施及完成情况" for row in document.tables[-1].rows)   # the feedback section


def test_office_workbook_reads_back(office):
    workbook = load_workbook(office["out"] / "检测汇总.xlsx")
    units, problems = workbook["各单位情况"], workbook["未整改问题"]
    header = [c.value for c in units[1]]
    rows = {r[0]: dict(zip(header, r)) for r in units.iter_rows(min_row=2, values_only=True)}
    rows = {unit: row for unit, row in rows.items() if row["网站类型"] == "本单位网站"}   # the portal has its row too
    assert set(rows) == {UNIT, OTHER, SILENT}
    third = next(s for s in office["scans"][-1]["sites"] if s["unit"] == UNIT)
    assert rows[UNIT]["结论"] == third["verdict"] and rows[UNIT]["得分"] == third["score"]
    assert rows[UNIT]["复发"] == 1 and rows[UNIT]["已整改"] >= 1
    assert rows[SILENT]["网站"] == "未登记网站"
    assert units.auto_filter.ref == f"A1:Q{units.max_row}" and units.freeze_panes == "A2"
    fingerprints = {r[2]: r for r in problems.iter_rows(min_row=2, values_only=True)}
    a = _d2(office["scans"][-1], office, "/a.html")
    assert fingerprints[a["fingerprint"]][6] == "复发"
    b = _d2(office["scans"][0], office, "/b.html")
    assert b["fingerprint"] not in fingerprints      # fixed problems are not open
    assert problems.auto_filter.ref.startswith("A1:M")


def test_recheck_of_a_fixed_problem(office):
    site = office["site"]
    site.set(["/a.html"], {"/a.html"})           # C fixed (its page's link works again), A still broken
    c = _d2(office["scans"][-1], office, "/c.html")
    a = _d2(office["scans"][-1], office, "/a.html")
    result = run_cli("recheck", UNIT, config=office["config"], timeout=120)
    assert result.returncode == 0, result.stderr
    ledger = _ledger(office)
    assert ledger[c["fingerprint"]]["status"] == "已整改"
    assert ledger[a["fingerprint"]]["status"] == "未整改"
    assert "已整改 " in result.stdout and "问题单已更新" in result.stdout
    sheets = [p.read_text(encoding="utf-8") for p in (office["out"] / "sheets").glob("*.html")]
    html = next(text for text in sheets if UNIT in text)
    row = html[html.index(f'id="f-{c["fingerprint"]}"'):][:600]
    assert "已整改" in row
    with office["sessions"]() as session:
        kinds = session.scalars(select(Scan.kind).order_by(Scan.id)).all()
        last = select(Site.id).where(Site.scan_id == select(func.max(Scan.id)).scalar_subquery())
        pages = session.scalar(select(func.count()).select_from(Page).where(Page.site_id.in_(last)))
    assert kinds[-1] == "recheck" and pages <= 4          # only the problems' pages and the home page
    export = json.loads(run_cli("export", "--json", config=office["config"], check=True).stdout)
    assert export["scan"]["id"] == office["scans"][-1]["scan"]["id"]   # a re-check is not the office's latest scan


def test_ignore_and_unignore_a_problem(office):
    a = _d2(office["scans"][-1], office, "/a.html")
    before = next(s for s in office["scans"][-1]["sites"] if s["unit"] == UNIT)
    result = run_cli("ignore", a["fingerprint"], "--reason", "该链接为内网地址，外网不可访问属正常", config=office["config"])
    assert result.returncode == 0, result.stderr
    document = json.loads(run_cli("export", "--json", config=office["config"], check=True).stdout)
    site = next(s for s in document["sites"] if s["unit"] == UNIT)
    finding = next(f for f in site["findings"] if f["fingerprint"] == a["fingerprint"])
    assert finding["silenced"] and finding["silence_reason"] == "该链接为内网地址，外网不可访问属正常"
    assert site["score"] > before["score"]
    html = next(p.read_text(encoding="utf-8") for p in (office["out"] / "sheets").glob("*.html")
                if UNIT in p.read_text(encoding="utf-8"))
    assert "已核实排除" in html and "该链接为内网地址" in html
    assert run_cli("unignore", a["fingerprint"], config=office["config"]).returncode == 0
    document = json.loads(run_cli("export", "--json", config=office["config"], check=True).stdout)
    site = next(s for s in document["sites"] if s["unit"] == UNIT)
    assert not next(f for f in site["findings"] if f["fingerprint"] == a["fingerprint"])["silenced"]
    assert site["score"] == before["score"]
    missing = run_cli("ignore", "0000000000000000", "--reason", "不存在的问题", config=office["config"])
    assert missing.returncode == 2 and "不存在" in missing.stderr


def test_send_sheets_over_smtp(office, monkeypatch):
    inbox = office["inbox"]
    no_password = run_cli("send", "--unit", UNIT, config=office["config"])
    assert no_password.returncode == 1 and "TEST_SITECENSUS_SMTP" in no_password.stdout
    assert not inbox.messages

    monkeypatch.setenv("TEST_SITECENSUS_SMTP", "s3cret")
    result = run_cli("send", config=office["config"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(inbox.messages) == 1
    recipients, raw = inbox.messages[0]
    assert sorted(recipients) == ["ban@bl.example", "shuili@bl.example"]
    message = email.message_from_bytes(raw, policy=policy.default)
    scan_id = office["scans"][-1]["scan"]["id"]
    assert message["Subject"] == f"【整改通知】{UNIT}网站检测问题单（第 {scan_id} 次检测，{office['scans'][-1]['scan']['as_of'][:10]}）"
    assert "=?utf-8?" in raw.decode("ascii").split("\r\n\r\n")[0].lower()   # the Chinese subject is encoded
    html = message.get_body(("html",)).get_content()
    assert UNIT in html and "整改反馈" in html
    assert "../index.html" not in html and ".docx" not in html    # links that only work next to the dashboard
    attachment = next(message.iter_attachments())
    assert attachment.get_filename() == f"整改问题单-{UNIT}.docx"
    sheet = next(p for p in (office["out"] / "sheets").glob("*.docx") if _fields(Document(p))["责任单位"].startswith(UNIT))
    assert attachment.get_content() == sheet.read_bytes()                  # the attachment arrives intact
    assert OTHER in result.stdout and "contact_email" in result.stdout     # no contact: listed, not sent
    assert SILENT in result.stdout and "未登记网站" in result.stdout

    again = run_cli("send", config=office["config"])
    assert again.returncode == 0 and len(inbox.messages) == 1 and "发送过" in again.stdout
    forced = run_cli("send", "--unit", UNIT, "--force", config=office["config"])
    assert forced.returncode == 0 and len(inbox.messages) == 2

    with office["sessions"]() as session:
        deliveries = session.execute(select(Delivery.unit, Delivery.scan_id, Delivery.message_id, Delivery.dry_run)
                                     .order_by(Delivery.id)).all()
    assert [(u, s, d) for u, s, _, d in deliveries] == [(UNIT, scan_id, False), (UNIT, scan_id, False)]
    assert deliveries[0][2] == message["Message-ID"]


def test_send_dry_run_writes_eml(office):
    result = run_cli("send", "--dry-run", "--unit", UNIT, "--force", config=office["config"])
    assert result.returncode == 0, result.stderr
    emls = list((office["out"] / "outbox").glob("*.eml"))
    assert len(emls) == 1
    message = email.message_from_bytes(emls[0].read_bytes(), policy=policy.default)
    assert UNIT in message["Subject"] and next(message.iter_attachments()).get_filename().endswith(".docx")


def test_send_over_starttls_verifies_the_server_certificate(office, tmp_path, monkeypatch):
    if office["backend"] != "sqlite":
        pytest.skip("the mail transport's TLS has nothing of the store in it: tested once, on SQLite")
    from datetime import timezone
    context, ca_file = self_signed(tmp_path, datetime.now(timezone.utc) + timedelta(days=30), "mail.bl.example",
                                   ip_san="127.0.0.1")
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=_free_port(), tls_context=context, require_starttls=True,
                      authenticator=_authenticate)
    smtp.start()
    config = tmp_path / "config"
    shutil.copytree(office["config"], config)
    settings = yaml.safe_load((config / "settings.yaml").read_text(encoding="utf-8"))
    settings["mail"].update(port=smtp.port, security="starttls")
    (config / "settings.yaml").write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("TEST_SITECENSUS_SMTP", "s3cret")
    try:
        untrusted = run_cli("send", "--unit", UNIT, "--force", config=config)
        assert untrusted.returncode == 1 and "CERTIFICATE_VERIFY_FAILED" in untrusted.stdout.replace("\n", "")
        assert not inbox.messages
        settings["mail"]["ca_file"] = str(ca_file)
        (config / "settings.yaml").write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
        trusted = run_cli("send", "--unit", UNIT, "--force", config=config)
        assert trusted.returncode == 0, trusted.stdout + trusted.stderr
        assert len(inbox.messages) == 1 and inbox.messages[0][0] == ["shuili@bl.example", "ban@bl.example"]
    finally:
        smtp.stop()
