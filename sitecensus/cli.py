"""The `sitecensus` command."""
from __future__ import annotations

import difflib
import json
import sys
import time
from datetime import date, datetime
from pathlib import Path
from typing import Optional
from urllib.parse import urlsplit

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from typer import rich_utils
from typer._click import exceptions as click_errors
from typer.core import TyperArgument, TyperCommand, TyperGroup

from sitecensus.config import ConsolidationForm, Unit, check_url, config_dir, load_config
from sitecensus.lock import EXIT_BUSY, ScanBusy, ScanLock
from sitecensus import stopflag
from sitecensus.coordinator import WorkersFailed
from sitecensus.scan import EXIT_INTERRUPTED, ScanInterrupted, mark_stale_scans, stale_note
from sitecensus.export import contract_document
from sitecensus.yamlfile import ConfigError

class _NamedArgument(TyperArgument):
    """An argument whose help shows its Chinese name (metavar) and no English type such as <str>."""

    def display_type_rich(self, ctx) -> None:
        return None


class _ChineseHelp:
    """--help in Chinese: the usage line's prefix, the help option's own text and arguments without English
    type names (typer's panel titles are set in _chinese_panels)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for param in self.params:
            if type(param) is TyperArgument:
                param.__class__ = _NamedArgument

    def format_usage(self, ctx, formatter) -> None:
        formatter.write_usage(ctx.command_path, " ".join(self.collect_usage_pieces(ctx)), prefix="用法：")

    def get_help_option(self, ctx):
        option = super().get_help_option(ctx)
        if option is not None:
            option.help, option.metavar = "显示本帮助并退出", ""
        return option


class ChineseCommand(_ChineseHelp, TyperCommand):
    pass


class ChineseGroup(_ChineseHelp, TyperGroup):
    def resolve_command(self, ctx, args):
        if args and self.get_command(ctx, args[0]) is None and not args[0].startswith("-"):
            near = difflib.get_close_matches(args[0], self.list_commands(ctx), n=3)
            guess = f"；您是不是要找：{'、'.join(near)}？" if near else ""
            ctx.fail(f"没有这个命令：{args[0]}{guess}")
        return super().resolve_command(ctx, args)


class CensusApp(typer.Typer):
    """A Typer whose commands (also those added later) print their help in Chinese."""

    def __init__(self, **kwargs):
        super().__init__(cls=ChineseGroup, rich_markup_mode="rich", options_metavar="[选项]",
                         subcommand_metavar="命令 [参数]...", **kwargs)

    def command(self, *args, cls=None, **kwargs):
        return super().command(*args, cls=cls or ChineseCommand, **kwargs)


def _chinese_panels() -> None:
    """typer's own headings are gettext strings read from typer.rich_utils when help is printed; without a
    message catalogue for typer, these module settings are the one place to put them in Chinese."""
    rich_utils.OPTIONS_PANEL_TITLE, rich_utils.ARGUMENTS_PANEL_TITLE = "选项", "参数"
    rich_utils.COMMANDS_PANEL_TITLE, rich_utils.ERRORS_PANEL_TITLE = "命令", "错误"
    rich_utils.REQUIRED_LONG_STRING, rich_utils.DEFAULT_STRING = "[必填]", "[默认：{}]"
    rich_utils.ABORTED_TEXT = "已取消。"


_chinese_panels()
app = CensusApp(add_completion=False, no_args_is_help=True, pretty_exceptions_show_locals=False,
                help="sitecensus：政府网站普查与集约化检测（抓取网站、按普查标准评分、生成整改问题单和总览）")
out = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 160)

ConfigOpt = typer.Option(None, "--config", metavar="目录",
                         help="配置目录（默认 ./config，或环境变量 SITECENSUS_CONFIG）")
AsOfOpt = typer.Option(None, "--as-of", metavar="时间", help="监测时间点 YYYY-MM-DD[THH:MM]，默认现在（北京时间）")
ProfileOpt = typer.Option(None, "--profile", metavar="方案", help="评分方案，如 census2015（默认见 settings.yaml）")
JsonOpt = typer.Option(False, "--json", metavar="", help="输出 JSON（供其他程序读取）")
ScanIdArg = typer.Argument(..., metavar="检测编号", help="检测编号（sitecensus scans 列出历次检测）")
LatestScanArg = typer.Argument(None, metavar="检测编号", help="检测编号（默认最近一次全面检测）")
PROGRESS_LINE_SECONDS = 15


def _fail(message: str, code: int = 2):
    err.print(f"[bold red]错误：[/]{message}", highlight=False)
    raise typer.Exit(code)


def _app(config_dir):
    from sitecensus.app import App
    try:
        return App(load_config(config_dir))
    except ConfigError as exc:
        _fail(f"配置有误，请按提示修改：\n{exc}")


def _scan_id(text: str | None) -> int | None:
    """A scan number as typed (`rescore 3`): a clear answer for anything else."""
    if text is None:
        return None
    if not text.strip().isdigit():
        _fail(f"检测编号应为数字（如 3），实际为“{text}”；用 sitecensus scans 查看历次检测的编号")
    return int(text)


def _stored(config_dir, scan_id: str | None):
    application = _app(config_dir)
    try:
        return application, application.stored(_scan_id(scan_id))
    except LookupError as exc:
        _fail(str(exc))


def _summary(document: dict, dashboard: Path | None, console: Console = out) -> None:
    table = Table(title=f"第 {document['scan']['id']} 次检测 · 监测时间点 {document['scan']['as_of'][:16]} · "
                        f"{document['scan']['profile']}")
    for name in ("单位", "网站", "结论", "得分", "否决", "扣分项", "集约化", "页面", "失效链接"):
        table.add_column(name)
    for site in document["sites"]:
        if not site["url"]:
            continue
        f = site["findings"]
        style = {"合格": "green", "不合格": "red"}.get(site["verdict"], "yellow")
        table.add_row(site["unit"], site["url"], f"[{style}]{site['verdict']}[/]",
                      "—" if site["score"] is None else f"{site['score']:g}",
                      str(sum(1 for x in f if x["severity"] == "veto" and not x.get("provisional"))),
                      str(sum(1 for x in f if x["severity"] == "deduction")),
                      str(sum(1 for x in f if x["code"].startswith("J"))),
                      str(site["stats"]["pages"]), str(site["stats"]["broken_links"]))
    console.print(table)
    rendered = {s["unit"]: s["stats"].get("rendered", 0) for s in document["sites"] if s["url"] and s["stats"].get("rendered")}
    if rendered:
        console.print(f"浏览器渲染页面：{sum(rendered.values())} 页（" +
                      "，".join(f"{unit} {n} 页" for unit, n in rendered.items()) + "）", highlight=False)
    unregistered = [s["unit"] for s in document["sites"] if not s["url"]]
    if unregistered:
        console.print(f"未登记网站（未检测）：{len(unregistered)} 个单位", highlight=False)
    if unregistered and len(unregistered) == len(document["sites"]):
        console.print("名单中还没有登记任何网站地址：在 units.yaml 各单位的 urls 中填写网址后再检测。", style="yellow",
                      highlight=False)
    if dashboard:
        label = "总览页面" if dashboard.name == "index.html" else "问题单"
        console.print(f"{label}：{dashboard.resolve()}", highlight=False)


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds} 秒"
    if seconds < 3600:
        return f"{seconds // 60} 分 {seconds % 60} 秒"
    return f"{seconds // 3600} 小时 {seconds % 3600 // 60} 分"


class CrawlProgress:
    """A crawl as a person follows it (sitecensus.scan.ScanWatch): sites done / total, pages, links checked,
    errors, time used and time left — a live bar on a terminal, a line every PROGRESS_LINE_SECONDS in a log
    (the service, cron). Called in the crawl's thread."""

    def __init__(self, console: Console):
        self.console = console
        self.sites = self.done = self.pages = self.fetches = self.errors = 0
        self.started = self.last_line = time.monotonic()
        self.bar = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                            TextColumn("{task.fields[figures]}"), TextColumn("用时"), TimeElapsedColumn(), console=console,
                            transient=False, disable=not console.is_terminal)
        self.task = self.bar.add_task("抓取网站", total=None, figures="")
        self.after = None   # the task shown once every site is crawled

    def figures(self, elapsed: bool = True) -> str:
        used = time.monotonic() - self.started
        left = (f"预计还需 {_duration(used / self.done * (self.sites - self.done))}" if 0 < self.done < self.sites
                else "预计剩余时间待估算" if self.done < self.sites else "抓取完成")
        return (f"已完成 {self.done}/{self.sites} 个网站，页面 {self.pages:,} 个，已检查链接 {self.fetches - self.pages:,} 个"
                f"（出错 {self.errors:,} 个），" + (f"用时 {_duration(used)}，" if elapsed else "") + left)

    def start(self, sites: int) -> None:
        self.sites = sites
        self._show(force=True)

    def page(self, site: str, url: str) -> None:
        self.pages += 1
        self._show()

    def fetched(self, site: str, outcome: str) -> None:
        self.fetches += 1
        self.errors += outcome != "ok"

    def note(self, text: str) -> None:
        """Something the office should know about this scan (e.g. it resumes an interrupted one)."""
        self.console.print(text, style="yellow", highlight=False)

    def site_done(self, site: str) -> None:
        self.done += 1
        self._show(force=self.done == self.sites)

    def _show(self, force: bool = False) -> None:
        self.bar.update(self.task, total=self.sites or None, completed=self.done, figures=self.figures(elapsed=False))
        if self.after is None and 0 < self.sites <= self.done:   # second tries, judging, reports: a clock that goes on
            self.after = self.bar.add_task("复查超时的链接、评分并生成报告", total=None, figures="")
        now = time.monotonic()
        if not self.console.is_terminal and (force or now - self.last_line >= PROGRESS_LINE_SECONDS):
            self.last_line = now
            self.console.print(f"抓取进度：{self.figures()}", highlight=False)


def _crawl(application, units, as_of, profile, dashboard: bool = True, resume: bool = True):
    progress = CrawlProgress(err)
    with progress.bar:
        stopflag.install()   # the service stopping, systemd: stop at the next safe point
        for stale in mark_stale_scans(application.sessions):   # killed (kill -9, power cut): say so once
            err.print(stale_note(stale), style="yellow", highlight=False)
        try:
            return application.scan(units, as_of, profile, progress, dashboard, resume=resume)
        except ConfigError as exc:
            _fail(str(exc))
        except ScanInterrupted as exc:
            _fail(str(exc), EXIT_INTERRUPTED)
        except WorkersFailed as exc:
            _fail(str(exc), 1)
        except KeyboardInterrupt:
            _fail("检测被中断；已抓取的内容已保存，下次运行 sitecensus scan 会从中断处继续", EXIT_INTERRUPTED)


def _print(document: dict, outcome_dashboard, as_json: bool):
    if as_json:
        sys.stdout.write(json.dumps(contract_document(document), ensure_ascii=False, indent=1) + "\n")
        _summary(document, outcome_dashboard, err)
    else:
        _summary(document, outcome_dashboard)


@app.command()
def units(config: Optional[Path] = ConfigOpt):
    """列出并校验单位名单（units.yaml）。"""
    try:
        cfg = load_config(config)
    except ConfigError as exc:
        _fail(f"配置有误，请按提示修改：\n{exc}")
    table = Table(title=f"{cfg.directory / 'units.yaml'}：{len(cfg.units)} 个单位")
    for name in ("#", "单位", "类别", "网站", "联系邮箱", "整合意见书"):
        table.add_column(name)
    for i, unit in enumerate(cfg.units, 1):
        plan = unit.consolidation
        state = {None: "未报送意见书", True: f"参与整合，{plan.closure_month} 关停", False: f"不参与：{plan.reason}"}[plan.participates]
        table.add_row(str(i), unit.name, unit.kind, "\n".join(unit.urls) or "[dim]未登记网站[/]",
                      unit.contact_email or "", state)
    out.print(table)
    out.print("名单校验通过。", style="green")


@app.command()
def scan(unit: list[str] = typer.Option(None, "--unit", metavar="单位", help="只检测这个单位（可重复使用）"),
         as_of: Optional[str] = AsOfOpt, profile: Optional[str] = ProfileOpt, as_json: bool = JsonOpt,
         workers: Optional[int] = typer.Option(None, "--workers", metavar="个数", min=1, show_default=False,
                                               help="本机启动几个抓取进程（默认 settings.yaml 的 queue.workers：每个 CPU 核一个）"),
         fresh: bool = typer.Option(False, "--fresh", metavar="", help="不续接上次中断的检测，从头开始"),
         config: Optional[Path] = ConfigOpt):
    """检测名单上的全部（或指定）单位网站，评分并生成问题单和总览。

    上次检测中断（停止、断电）时，默认从中断处继续，已保存的网页不再重新抓取。"""
    application = _app(config)
    if workers:
        application.config.settings.queue.workers = workers
    try:
        chosen, when = application.select_units(unit), application.as_of(as_of)
    except (ConfigError, ValueError) as exc:
        _fail(str(exc))
    try:
        with ScanLock(application.out_dir):
            outcome = _crawl(application, chosen, when, profile, resume=not fresh)
    except ScanBusy as exc:
        _fail(str(exc), EXIT_BUSY)
    _print(outcome.document, outcome.dashboard, as_json)


@app.command()
def audit(target: str = typer.Argument(..., metavar="网址或单位", help="网址，或 units.yaml 中的单位名称"),
          as_of: Optional[str] = AsOfOpt, profile: Optional[str] = ProfileOpt, as_json: bool = JsonOpt,
          config: Optional[Path] = ConfigOpt):
    """即时检测一个网站。退出码：0 合格，1 不合格，2 无法检测。"""
    from reports.sheet import SEVERITY_LABELS, shown_points
    application = _app(config)
    try:
        when = application.as_of(as_of)
        if target.startswith(("http://", "https://")):
            known = [u for u in application.config.units if target in u.urls]
            chosen = known[:1] or [Unit(name=urlsplit(target).netloc, kind="其他", urls=[check_url(target)],
                                        consolidation=ConsolidationForm())]
        else:
            chosen = [application.config.unit(target)]
    except (ConfigError, ValueError) as exc:
        _fail(str(exc))
    if not chosen[0].urls:
        _fail(f"{chosen[0].name} 未登记网站地址，无法检测；请在 units.yaml 中填写 urls")
    outcome = _crawl(application, chosen, when, profile, dashboard=False)
    site = next(s for s in outcome.document["sites"] if s["url"])
    if as_json:
        sys.stdout.write(json.dumps(contract_document(outcome.document), ensure_ascii=False, indent=1) + "\n")
    else:
        _summary(outcome.document, outcome.dashboard)
        findings = Table(title=f"{site['unit']} 的问题")
        for name in ("代码", "类别", "问题", "扣分", "数量", "位置"):
            findings.add_column(name)
        for f in site["findings"]:
            where = f["evidence"][0]["url"] if f["evidence"] else ""
            kind = SEVERITY_LABELS.get(f["severity"], f["severity"]) + ("（暂定）" if f.get("provisional") else "")
            points = f"{shown_points(f, site['indicators']):g}" + ("（仅供参考）" if f.get("for_reference") else "")
            findings.add_row(f["code"], kind, f["title"], points, str(f["count"]), where or "")
        out.print(findings)
        if site.get("note"):
            out.print(f"说明：{site['note']}", highlight=False)
    raise typer.Exit({"合格": 0, "已关停": 0, "不合格": 1}.get(site["verdict"], 2))


@app.command()
def rescore(scan_id: str = ScanIdArg, as_of: Optional[str] = AsOfOpt,
            profile: Optional[str] = ProfileOpt, as_json: bool = JsonOpt, config: Optional[Path] = ConfigOpt):
    """按另一个监测时间点或评分方案重新评分（假设评分，不重新抓取）。

    结果写入输出目录下的 rescore/scan-编号-时间-方案/ 文件夹，不改动总览页面、问题单和整改台账。"""
    application = _app(config)
    number = _scan_id(scan_id)
    try:
        outcome = application.rescore(number, application.as_of(as_of), profile)
    except (ConfigError, ValueError, LookupError) as exc:
        _fail(str(exc))
    console = err if as_json else out
    if as_json:
        sys.stdout.write(json.dumps(contract_document(outcome.document), ensure_ascii=False, indent=1) + "\n")
    _summary(outcome.document, None, console)
    console.print(f"重新评分的报告（假设评分，总览页面未改动）：{outcome.dashboard.resolve()}", highlight=False)


@app.command()
def scans(limit: int = typer.Option(20, "--limit", metavar="条数", show_default=False, help="显示最近多少次（默认 20）"),
          config: Optional[Path] = ConfigOpt):
    """列出历次检测：编号、类型、监测时间点、评分方案、状态、单位数。"""
    from sitecensus.status import SCAN_KINDS, SCAN_STATES, scan_history
    application = _app(config)
    rows = scan_history(application.sessions, application.config.settings.timezone, limit)
    if not rows:
        out.print("还没有检测记录；运行 sitecensus scan 开始第一次检测。")
        return
    table = Table(title=f"历次检测（最近 {len(rows)} 次）")
    for name in ("编号", "类型", "监测时间点", "评分方案", "状态", "单位", "网站", "开始", "用时", "假设评分"):
        table.add_column(name)
    for row in rows:
        state = "已中止（进程已不存在）" if row["stale"] else SCAN_STATES.get(row["status"], row["status"])
        style = {"已完成": "green", "进行中": "cyan"}.get(state, "yellow")
        table.add_row(str(row["id"]), SCAN_KINDS.get(row["kind"], row["kind"]), row["as_of"], row["profile"] or "—",
                      f"[{style}]{state}[/]", str(row["units"]), str(row["sites"]), row["started"],
                      _duration(row["seconds"]) if row["seconds"] is not None else "—",
                      str(row["what_if"]) if row["what_if"] else "")
    out.print(table)
    out.print("“假设评分”为 sitecensus rescore 的次数，结果在输出目录的 rescore/ 下，不影响总览页面。", style="dim",
              highlight=False)


@app.command()
def report(scan_id: Optional[str] = LatestScanArg,
           rejudge: bool = typer.Option(False, "--rejudge", metavar="",
                                        help="先按现在的 units.yaml 和 settings.yaml 重新评分（如新加的误报排除）， 监测时间点和评分方案不变"),
           config: Optional[Path] = ConfigOpt):
    """重新生成问题单和总览页面。"""
    application, document = _stored(config, scan_id)
    if rejudge:   # the office's judgement again: same check time and profile, today's register and silences
        judged = document["scan"]
        outcome = application.judge(judged["id"], datetime.fromisoformat(judged["as_of"]), judged["profile"])
        _summary(outcome.document, outcome.dashboard)
        return
    _summary(document, application.render(document))


@app.command()
def export(scan_id: Optional[str] = LatestScanArg,
           as_json: bool = typer.Option(True, "--json", metavar="", show_default=False, help="JSON（目前唯一的格式）"),
           config: Optional[Path] = ConfigOpt):
    """输出一次检测的结果（JSON）。"""
    _, document = _stored(config, scan_id)
    sys.stdout.write(json.dumps(contract_document(document), ensure_ascii=False, indent=1) + "\n")


@app.command()
def bulletin(scan_id: Optional[str] = typer.Argument(None, metavar="检测编号", help="检测编号（默认最近一次全面检测）"),
             config: Optional[Path] = ConfigOpt):
    """生成全区政府网站检测情况通报（Word）。

    内容：检测范围、合格率、得分排名、问题分布、集约化进度、逾期事项、与上次检测相比的变化。"""
    from reports.bulletin import NoScan, write_for_scan
    if scan_id is not None and not scan_id.strip().isdigit():
        _fail(f"检测编号应为数字，实际为 {scan_id!r}；可用 sitecensus scans 查看已有的检测")
    application = _app(config)
    try:
        path, data = write_for_scan(application.sessions, application.config, application.out_dir,
                                    int(scan_id) if scan_id else None)
    except NoScan as exc:
        _fail(str(exc))
    rate = data["pass"]["rate"]
    out.print(f"第 {data['scan_id']} 次检测：完成评分 {data['pass']['judged']} 个单位，合格 {data['pass']['passed']} 个，"
              f"合格率 {'—' if rate is None else f'{rate:g}%'}", highlight=False)
    out.print(f"通报：{path.resolve()}", highlight=False)


@app.command()
def inspect(url: str = typer.Argument(..., metavar="网址", help="要查看的页面网址"), as_json: bool = JsonOpt,
            config: Optional[Path] = ConfigOpt):
    """显示爬虫从一个页面读到的内容，用来查看某条规则为什么触发。

    内容包括页面类型、栏目与日期、链接、页脚标识、关停公告。"""
    from sitecensus.inspect import inspect_page, show
    application = _app(config)
    try:
        facts = inspect_page(check_url(url), application.config)
    except ValueError as exc:
        _fail(str(exc))
    if as_json:
        sys.stdout.write(json.dumps(facts, ensure_ascii=False, indent=1) + "\n")
    else:
        show(facts, out)


@app.command()
def rules(profile: Optional[str] = ProfileOpt,
          as_markdown: bool = typer.Option(False, "--markdown", metavar="", help="输出 docs/rules.md 的内容（全部评分方案）"),
          config: Optional[Path] = ConfigOpt):
    """列出全部检测规则及评分方案中的数值。

    每条规则的代码、名称、类别、检查内容和评分方案中的数值。"""
    from scoring.catalogue import markdown, rows
    try:
        cfg = load_config(config)
        if as_markdown:
            names = sorted(p.stem for p in (cfg.directory / "criteria").glob("*.yaml"))
            sys.stdout.write(markdown([cfg.profile(n) for n in names]) + "\n")
            return
        chosen = cfg.profile(profile)
    except ConfigError as exc:
        _fail(str(exc))
    table = Table(title=f"检测规则 · {chosen.name}（{chosen.title}）")
    for name in ("代码", "名称", "类别", "检查内容", "本方案数值"):
        table.add_column(name, overflow="fold")
    for row in rows(chosen):
        table.add_row(row["code"], row["name"], row["kind"], row["checks"], row["numbers"])
    out.print(table)


forms_app = CensusApp(help="网站整合意见书（附件2）：生成、导入", no_args_is_help=False)
app.add_typer(forms_app, name="forms")


@forms_app.callback(invoke_without_command=True)
def forms(ctx: typer.Context, config: Optional[Path] = ConfigOpt):
    """生成每个单位的网站整合意见书（可打印）和汇总 Excel。

    意见书按 units.yaml 预填。"""
    if ctx.invoked_subcommand:
        return
    from sitecensus.forms import render_forms
    try:
        cfg = load_config(config)
    except ConfigError as exc:
        _fail(f"配置有误，请按提示修改：\n{exc}")
    index = render_forms(cfg, Path(cfg.settings.output_dir))
    out.print(f"已生成 {len(cfg.units)} 份意见书：{index.resolve()}", highlight=False)
    out.print(f"汇总表：{(index.parent / '意见书汇总.xlsx').resolve()}", highlight=False)


@forms_app.command("import")
def forms_import(workbook: Path = typer.Argument(..., metavar="汇总表", help="各单位填回的汇总表（.xlsx，每个单位一行）"),
                 yes: bool = typer.Option(False, "--yes", metavar="", help="不再询问，直接写入 units.yaml"),
                 config: Optional[Path] = ConfigOpt):
    """把填回的意见书汇总表导入 units.yaml。

    先显示改动，确认后才写入；有错误的行逐行指出，不写入。"""
    from sitecensus.forms import apply_changes, read_workbook
    try:
        cfg = load_config(config)
    except ConfigError as exc:
        _fail(f"配置有误，请按提示修改：\n{exc}")
    result = read_workbook(workbook, cfg)
    if result.errors:
        _fail("汇总表有错误，未写入任何内容：\n" + "\n".join(result.errors))
    units_file = cfg.directory / "units.yaml"
    updated = apply_changes(units_file, result)
    if not result.diff:
        out.print("没有需要改动的内容。")
        return
    out.print(result.diff, highlight=False, markup=False)
    if not yes and not (sys.stdin.isatty() and typer.confirm(f"写入 {units_file}？")):
        out.print("未写入。确认无误后加 --yes 再运行。")
        raise typer.Exit(1)
    units_file.write_text(updated, encoding="utf-8")
    try:
        load_config(cfg.directory)
    except ConfigError as exc:  # cannot happen for rows that validated; say so loudly if it does
        _fail(f"写入后校验失败：\n{exc}")
    out.print(f"已写入 {units_file}（{len(result.changes)} 个单位）", style="green", highlight=False)


@app.command()
def demo(out_dir: Path = typer.Option(Path("sitecensus-demo"), "--out", metavar="目录", show_default=False,
                                      help="演示输出目录（默认 sitecensus-demo）"),
         as_of: Optional[str] = AsOfOpt):
    """在本机启动示例网站，检测并生成报告（无需外网）。"""
    from sitecensus.app import App
    from sitecensus.demo import serve_demo_sites, write_demo_config
    from sitecensus.scan import parse_as_of
    when = parse_as_of(as_of, "Asia/Shanghai")
    today: date = when.date()
    out_dir = out_dir.resolve()
    if (out_dir / "sitecensus.db").exists():
        (out_dir / "sitecensus.db").unlink()  # each demo starts from a clean store
    with serve_demo_sites(today) as urls:
        cfg_dir = write_demo_config(out_dir / "config", urls, today, out_dir)
        err.print(f"示例网站已在 127.0.0.1 上启动；演示配置：{cfg_dir}", highlight=False)
        application = App(load_config(cfg_dir))
        outcome = _crawl(application, application.config.units, when, None)
    _summary(outcome.document, outcome.dashboard)


@app.command()
def recheck(unit: str = typer.Argument(..., metavar="单位", help="units.yaml 中的单位名称"), as_of: Optional[str] = AsOfOpt,
            config: Optional[Path] = ConfigOpt):
    """复查一个单位的未整改问题，更新整改状态和问题单。

    只重新抓取问题所在页面（和首页）并重新判断；首页打不开时说明无法复查。"""
    application = _app(config)
    try:
        chosen, when = application.config.unit(unit), application.as_of(as_of)
    except (ConfigError, ValueError) as exc:
        _fail(str(exc))
    if not chosen.urls:
        _fail(f"{chosen.name} 未登记网站地址，无法复查")
    stopflag.install()
    try:
        rows, sheet, unread = application.recheck(chosen, when)
    except LookupError as exc:
        _fail(str(exc), 1)
    except ScanInterrupted as exc:
        _fail(str(exc), EXIT_INTERRUPTED)
    if unread:   # nothing on the site was looked at again: no count of fixed and unfixed would be true
        for url, why in unread.items():
            err.print(f"无法复查：首页无法访问（{url}：{why}）。{len(rows)} 个问题的状态未改变，请在网站恢复访问后再复查。",
                      style="bold red", highlight=False)
        raise typer.Exit(1)
    table = Table(title=f"{chosen.name} 复查结果（{len(rows)} 个未整改问题）")
    for name in ("编号", "指标", "问题", "复查前", "复查后"):
        table.add_column(name)
    for row in rows:
        style = "green" if row["after"] == "已整改" else ("dim" if row["after"] == "未复查" else "red")
        table.add_row(row["fingerprint"], row["code"], escape(row["title"]), row["before"], f"[{style}]{row['after']}[/]")
    out.print(table)
    fixed = sum(1 for r in rows if r["after"] == "已整改")
    out.print(f"已整改 {fixed} 项，仍未整改 {len(rows) - fixed} 项。" + (f"问题单已更新：{sheet.resolve()}" if sheet else ""),
              highlight=False)


@app.command()
def ignore(fingerprint: str = typer.Argument(..., metavar="问题编号", help="问题编号（问题单上的“编号”）"),
           reason: str = typer.Option(..., "--reason", metavar="说明", help="核实的情况（必填），会显示在问题单上"),
           config: Optional[Path] = ConfigOpt):
    """把一个问题标记为已核实排除（误报），不再计分。

    问题单上显示“已核实排除”及原因。"""
    if len(reason.strip()) < 2:
        _fail("--reason 请写明核实的情况（至少两个字）")
    _set_ignored(config, fingerprint, reason.strip())


@app.command()
def unignore(fingerprint: str = typer.Argument(..., metavar="问题编号", help="问题编号（问题单上的“编号”）"),
             config: Optional[Path] = ConfigOpt):
    """撤销“已核实排除”：该问题重新计分。"""
    _set_ignored(config, fingerprint, None)


def _set_ignored(config_dir, fingerprint: str, reason: str | None):
    from datetime import datetime, timezone

    from sitecensus.ledger import ignore as mark
    application = _app(config_dir)
    try:
        with application.sessions.begin() as session:
            problem = mark(session, fingerprint, reason, datetime.now(timezone.utc))
            unit, title = problem.unit, problem.title
        document = application.stored(None)
        judged = document["scan"]
        outcome = application.judge(judged["id"], datetime.fromisoformat(judged["as_of"]), judged["profile"])
    except LookupError as exc:
        _fail(str(exc))
    site = next((s for s in outcome.document["sites"] if s["unit"] == unit and s["url"]), None)
    score = f"，现得分 {site['score']}（{site['verdict']}）" if site else ""
    state = f"已核实排除：{reason}" if reason else "已撤销排除，重新计分"
    out.print(f"{unit}：{title} —— {state}{score}。第 {judged['id']} 次检测已重新评分，问题单已更新。", highlight=False)


@app.command()
def send(unit: list[str] = typer.Option(None, "--unit", metavar="单位", help="只发给这个单位（可重复使用）"),
         dry_run: bool = typer.Option(False, "--dry-run", metavar="", help="不发送，把邮件写成 .eml 文件"),
         force: bool = typer.Option(False, "--force", metavar="", help="已发送过的问题单也再发一次"),
         config: Optional[Path] = ConfigOpt):
    """把最近一次检测的问题单发给各单位，并记录发送情况。

    邮件正文为网页版问题单，附 Word 版。"""
    from sitecensus.mail import send as deliver, sheets_of
    application, document = _stored(config, None)
    try:
        chosen = [application.config.unit(n) for n in unit] if unit else list(application.config.units)
    except ConfigError as exc:
        _fail(str(exc))
    application.render(document)   # the sheets as they are now (ledger statuses included)
    sheets = sheets_of(application.config, document, application.out_dir / "sheets", [u.name for u in chosen])
    outcome = deliver(application.config, application.sessions, document, sheets, application.out_dir / "outbox",
                      dry_run, force, chosen)
    table = Table(title=f"第 {document['scan']['id']} 次检测问题单" + ("（试运行：写成 .eml，未发送）" if dry_run else "发送情况"))
    for name in ("单位", "结果", "说明"):
        table.add_column(name, overflow="fold")
    for name, where in outcome.sent:
        table.add_row(escape(name), "[green]已写出[/]" if dry_run else "[green]已发送[/]", escape(where))
    for name, why in outcome.failed:
        table.add_row(escape(name), "[red]失败[/]", escape(why))
    for name, why in outcome.skipped:
        table.add_row(escape(name), "[yellow]未发送[/]", escape(why))
    out.print(table)
    if outcome.unreachable:
        out.print(f"[red]邮件未发出：[/]{escape(outcome.unreachable)}")
    if outcome.failed or outcome.unreachable:
        raise typer.Exit(1)


@app.command()
def worker(config: Optional[Path] = ConfigOpt):
    """在本机运行一个抓取进程，参与其他机器发起的全面检测。

    需要 settings.yaml 的 queue.redis_url 指向共享的 Redis，store_url 指向共享的数据库（PostgreSQL）；
    按 Ctrl-C 停止（正在抓取的网站交给其他进程续接）。"""
    from redis.exceptions import RedisError

    from sitecensus import worker as workers
    try:
        cfg = load_config(config)
    except ConfigError as exc:
        _fail(f"配置有误，请按提示修改：\n{exc}")
    if not cfg.settings.queue.redis_url:
        _fail("settings.yaml 没有设置 queue.redis_url：多台机器一起检测时，需要一个共享的 Redis（如 redis://10.8.0.5:6379/0）")
    try:
        workers.serve(cfg, say=lambda text: err.print(text, highlight=False))
    except KeyboardInterrupt:   # Ctrl-C before serve() took SIGINT over
        pass
    except (OSError, RedisError) as exc:
        _fail(f"连接不上 Redis（{cfg.settings.queue.redis_url}）：{exc}")
    err.print("工作进程已停止", highlight=False)


@app.command()
def serve(config: Optional[Path] = ConfigOpt,
          log_file: Optional[str] = typer.Option(None, "--log-file", metavar="文件",
                                                 help="日志文件（按大小轮转），默认见 settings.yaml 的 service.log_file")):
    """作为服务长期运行（Ctrl-C 或 SIGTERM 停止）。

    每周全面检测、定时首页可用性探测、每日刷新总览。"""
    from sitecensus.service import serve as run_service
    directory = str(config_dir(config).resolve())
    try:
        code = run_service(directory, log_file)
    except ConfigError as exc:
        _fail(f"配置有误，请按提示修改：\n{exc}")
    raise typer.Exit(code)


@app.command()
def status(as_json: bool = JsonOpt, config: Optional[Path] = ConfigOpt):
    """显示服务状态、最近一次检测和各网站近 7 天的可用性。

    包括计划任务及下次运行时间。"""
    from sitecensus.status import collect, show
    application = _app(config)
    facts = collect(application)
    if as_json:
        sys.stdout.write(json.dumps(facts, ensure_ascii=False, indent=1) + "\n")
    else:
        show(facts, out)


def _usage_error(exc: click_errors.UsageError) -> str:
    """A command-line mistake in Chinese (typer's messages are English)."""
    if isinstance(exc, click_errors.NoSuchOption):
        near = "；您是不是要找：" + "、".join(sorted(exc.possibilities)) + "？" if exc.possibilities else ""
        return f"没有这个选项：{exc.option_name}{near}"
    if isinstance(exc, click_errors.MissingParameter) and exc.param is not None:
        name = exc.param.opts[0] if exc.param.param_type_name == "option" else exc.param.display_name_raw
        return f"缺少{'选项' if exc.param.param_type_name == 'option' else '参数'} {name}（{exc.param.help or ''}）"
    if isinstance(exc, click_errors.BadParameter):
        name = exc.param.display_name_raw if isinstance(exc.param, TyperArgument) else (exc.param.opts[0] if exc.param else "")
        return f"{name} 的值不对（{exc.message}）"
    if isinstance(exc, click_errors.BadOptionUsage) and "requires an argument" in exc.message:
        return f"选项 {exc.option_name} 后面缺少值"
    if exc.message.startswith("Got unexpected extra argument"):
        return "多余的参数：" + exc.message.rpartition("(")[2].rstrip(")")
    if exc.message.startswith("Missing command"):
        return "缺少命令"
    return exc.message


def main():
    """The console script: typer's own usage errors answered in Chinese, like every other error."""
    try:
        code = app(standalone_mode=False)
    except click_errors.NoArgsIsHelpError as exc:
        out.print(exc.ctx.get_help(), highlight=False, markup=False)
        code = 2
    except click_errors.UsageError as exc:
        err.print(f"[bold red]错误：[/]{escape(_usage_error(exc))}", highlight=False)
        where = exc.ctx.command_path if exc.ctx else "sitecensus"
        err.print(f"用 {where} --help 查看用法。", highlight=False)
        code = exc.exit_code
    except typer.Abort:
        err.print("已取消。")
        code = 1
    sys.exit(code if isinstance(code, int) else 0)


