"""A4 PDFs of the sheets, printed by the system's Chromium (the browser the crawler renders pages with,
settings.yaml crawl.render.executable_path): browsers for all sheets, after they are written, on a
few browsers at once. Each page carries the unit's name and the sheet's title at its head and 第 N 页，共 M 页 at its
foot (Chromium's own header and footer, which it fills in on every page). Only the sheet's own files are
loaded: any other request is refused. A missing browser or a failed print is said once, in Chinese, and never fails the scan."""
from __future__ import annotations

import asyncio
import html
import logging
from dataclasses import dataclass
from pathlib import Path

from reports.browser_thread import in_thread
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
    browsers: int = 1   # sheets printed at once, each by a browser of its own (reporting.printer: one per core)


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
    try:
        return in_thread(_print_all(jobs, printer))
    except Exception as exc:   # noqa: BLE001 - the PDFs are an extra: never fail the reports for them
        log.warning("PDF 版问题单未能生成（浏览器 %s）：%s", printer.executable_path, str(exc).splitlines()[0])
        return []


async def _print(page, job: PrintJob) -> None:
    await page.goto(job.html.resolve().as_uri(), wait_until="load")
    await page.emulate_media(media="print")
    await page.pdf(path=str(job.pdf), format="A4", margin=MARGIN, print_background=True,
                   display_header_footer=True, footer_template=FOOTER,
                   header_template=HEADER.format(unit=html.escape(job.unit), title=html.escape(job.title)))


async def _print_all(jobs: list[PrintJob], printer: Printer) -> list[Path]:
    """The jobs on `printer.browsers` browsers at once, a tab each: a browser prints one page at a time however
    many tabs ask it to (~0.5 s a sheet, mostly its CPU); two browsers on two cores print 1.45x as many."""
    from playwright.async_api import Error as PlaywrightError, async_playwright

    printed: dict[int, Path] = {}
    waiting = list(enumerate(jobs))

    async def print_some(playwright) -> None:
        browser = await playwright.chromium.launch(executable_path=printer.executable_path, headless=True)
        try:
            page = await browser.new_page()
            page.set_default_timeout(printer.timeout_seconds * 1000)
            await page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:")
                             else route.abort())
            while waiting:
                index, job = waiting.pop(0)
                try:
                    await _print(page, job)
                except PlaywrightError as exc:   # one sheet that cannot be printed does not cost the others
                    log.warning("%s 的 PDF 版问题单未能生成：%s", job.unit, str(exc).splitlines()[0])
                    continue
                printed[index] = job.pdf
        finally:
            await browser.close()

    async with async_playwright() as playwright:
        await asyncio.gather(*(print_some(playwright) for _ in range(max(1, min(printer.browsers, len(jobs))))))
    return [printed[index] for index in sorted(printed)]
