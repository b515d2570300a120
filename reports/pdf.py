"""A4 PDFs of the sheets, printed by the system's Chromium (the browser the crawler renders pages with,
settings.yaml crawl.render.executable_path): one browser for all sheets, after they are written. Each
page carries the unit's name and the sheet's title at its head and 第 N 页，共 M 页 at its foot (Chromium's
own header and footer, which it fills in on every page). Only the sheet's own files are loaded: any other
request is refused. A missing browser or a failed print is said once, in Chinese, and never fails the scan."""
from __future__ import annotations

import html
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from sitecensus.stages import stage

log = logging.getLogger("sitecensus")

FONT = "'Noto Sans CJK SC', 'Microsoft YaHei', SimSun, sans-serif"
HEADER = (f'<div style="font-family:{FONT};font-size:8pt;color:#555;width:100%;margin:0 12mm;'
          'display:flex;justify-content:space-between;border-bottom:0.5pt solid #999;padding-bottom:1mm">'
          '<span>{unit}</span><span>{title}</span></div>')
FOOTER = (f'<div style="font-family:{FONT};font-size:8pt;color:#555;width:100%;text-align:center">'
          '第 <span class="pageNumber"></span> 页，共 <span class="totalPages"></span> 页</div>')
MARGIN = {"top": "18mm", "bottom": "15mm", "left": "12mm", "right": "12mm"}


@dataclass
class Printer:
    executable_path: str
    timeout_seconds: float = 30


@dataclass
class PrintJob:
    html: Path            # the sheet; the PDF is written beside it
    unit: str
    title: str

    @property
    def pdf(self) -> Path:
        return self.html.with_suffix(".pdf")


@stage("报告PDF")
def write_pdfs(jobs: list[PrintJob], printer: Printer | None) -> list[Path]:
    """Print every job; returns the PDFs written. Without a printer (PDFs turned off) nothing is done."""
    if not jobs or printer is None:
        return []
    if not Path(printer.executable_path).exists():
        log.warning("未找到浏览器 %s，本次不生成 PDF 版问题单（安装 chromium，或在 settings.yaml 的 "
                    "crawl.render.executable_path 填写浏览器位置）", printer.executable_path)
        return []
    # playwright's sync API refuses to run where an event loop runs: a thread of its own has none
    with ThreadPoolExecutor(1) as pool:
        try:
            return pool.submit(_print_all, jobs, printer).result()
        except Exception as exc:   # noqa: BLE001 - the PDFs are an extra: never fail the reports for them
            log.warning("PDF 版问题单未能生成（浏览器 %s）：%s", printer.executable_path, str(exc).splitlines()[0])
            return []


def _print(page, job: PrintJob) -> None:
    page.goto(job.html.resolve().as_uri(), wait_until="load")
    page.emulate_media(media="print")
    page.pdf(path=str(job.pdf), format="A4", margin=MARGIN, print_background=True,
             display_header_footer=True, footer_template=FOOTER,
             header_template=HEADER.format(unit=html.escape(job.unit), title=html.escape(job.title)))


def _print_all(jobs: list[PrintJob], printer: Printer) -> list[Path]:
    from playwright.sync_api import Error as PlaywrightError, sync_playwright

    written = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=printer.executable_path, headless=True)
        try:
            page = browser.new_page()
            page.set_default_timeout(printer.timeout_seconds * 1000)
            page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:")
                       else route.abort())
            for job in jobs:
                try:
                    _print(page, job)
                except PlaywrightError as exc:   # one sheet that cannot be printed does not cost the others
                    log.warning("%s 的 PDF 版问题单未能生成：%s", job.unit, str(exc).splitlines()[0])
                    continue
                written.append(job.pdf)
        finally:
            browser.close()
    return written
