"""The operator's configuration: units.yaml, settings.yaml and criteria/<profile>.yaml, validated on load."""
from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator
from sqlalchemy.engine import make_url

from scoring.profile import Profile, Strict
from sitecensus.yamlfile import ConfigError, line_of, load_with_lines

DEFAULT_CONFIG_DIR = "config"
CATEGORY_NAMES = ("动态要闻", "通知公告", "政策文件", "人事", "规划计划", "政务咨询", "调查征集",
                  "互动访谈", "办事服务", "概况", "其他应更新", "other")


HOST_CHARACTERS = re.compile(r"[\w.\-]+|\[[0-9A-Fa-f:.]+\]")   # letters (any script), digits, dots, hyphens; [IPv6]


def check_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"应为以 http:// 或 https:// 开头的网址，实际为“{value}”")
    host = parts.netloc.rpartition("@")[2]
    host = host if host.startswith("[") else host.split(":")[0]
    if not HOST_CHARACTERS.fullmatch(host):
        raise ValueError(f"网址“{value}”的域名部分“{host}”含有空格或不允许的字符；请检查是否多打了空格或标点")
    try:
        parts.port
    except ValueError:
        raise ValueError(f"网址“{value}”的端口号不对（应为 1–65535 的数字）") from None
    return value


def _addresses(text: str | None) -> list[str]:
    return [a.strip() for a in re.split(r"[,;，；]", text or "") if a.strip()]


class PinnedColumn(Strict):
    url: str
    category: Literal[CATEGORY_NAMES]  # type: ignore[valid-type]
    name: str | None = None

    _url = field_validator("url")(check_url)


class ConsolidationForm(Strict):
    """网站整合意见书 (attachment 2). participates None means the form was not filed (未报送意见书)."""

    participates: bool | None = None
    closure_month: str | None = None
    keep_portal_page: bool | None = None
    portal_page_url: str | None = None
    reason: str | None = None

    @field_validator("portal_page_url")
    @classmethod
    def _page(cls, value):
        return value and check_url(value)

    @field_validator("closure_month", mode="before")
    @classmethod
    def _month(cls, value):
        if value in (None, ""):
            return None
        text = str(value)
        if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", text):
            raise ValueError(f"拟关停时间应写成 YYYY-MM (如 2017-10), 实际为 {text!r}")
        return text

    @model_validator(mode="after")
    def _consistent(self):
        if self.participates is False and not self.reason:
            raise ValueError("不参与网站整合时必须填写情况说明 (reason)")
        if self.participates and not self.closure_month:
            raise ValueError("参与网站整合时必须填写拟关停时间 (closure_month, YYYY-MM)")
        return self


class Silence(Strict):
    """A verified false positive: rule `rule` does not count where the finding's URL matches `url` (a
    pattern with * wildcards; no url = the whole rule for this unit)."""

    rule: str = Field(pattern=r"^[VDJGS]\d+$")
    url: str | None = None
    reason: str = Field(min_length=2)


class GlobalSilence(Silence):
    unit: str | None = None      # no unit = every unit


class Unit(Strict):
    name: str = Field(min_length=1)
    kind: Literal["部门", "街道", "其他"]
    urls: list[str] = []
    contact_email: str | None = None
    consolidation: ConsolidationForm = ConsolidationForm()
    columns: list[PinnedColumn] = []
    no_external_services: bool = False   # 2019: a department without external services (scored out of 75 × 4/3)
    silence: list[Silence] = []          # verified false positives of this unit's site

    @field_validator("urls", mode="before")
    @classmethod
    def _urls(cls, value):
        if value is None:
            return []
        return [check_url(v) for v in ([value] if isinstance(value, str) else value)]

    @field_validator("contact_email")
    @classmethod
    def _email(cls, value):
        for address in _addresses(value):
            if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", address):
                raise ValueError(f"联系邮箱格式不对: {address!r}（多个邮箱用逗号分隔）")
        return value or None

    @property
    def contacts(self) -> list[str]:
        return _addresses(self.contact_email)


class Register(Strict):
    units: list[Unit]   # names unique: checked in load_config, which knows each name's line


class Portal(Strict):
    name: str
    url: str
    _url = field_validator("url")(check_url)

    @property
    def host(self) -> str:
        return urlsplit(self.url).netloc.lower()


class RenderSettings(Strict):
    """crawl.render: headless Chromium for pages built by script (crawler/render.py decides which)."""

    enabled: bool = True
    max_pages_per_site: int = Field(20, ge=0)   # rendered pages per site and scan; the rest are "could not verify"
    timeout_seconds: float = Field(20, gt=0)    # one page: load, scripts and their requests
    executable_path: str = "/usr/bin/chromium"  # the system's Chromium (Debian: apt-get install chromium)


class CrawlSettings(Strict):
    user_agent: str = Field(min_length=3)
    max_pages_per_site: int = Field(gt=0)
    # Per-site budgets: a hostile site (100,000 links, endless calendar, soft 404) cannot hold up the scan
    max_link_checks_per_site: int = Field(5000, gt=0)     # link targets checked per site; the rest reported unchecked
    max_links_per_page: int = Field(20000, gt=0)          # anchors read per page; the rest reported unchecked
    max_minutes_per_site: float = Field(120, gt=0)        # a site's crawl stops after this long (rest reported unchecked)
    trap_max_url_chars: int = Field(2000, gt=0)           # longer URLs are refused as crawler traps
    trap_max_segment_repeats: int = Field(3, ge=2)        # a path segment this many times (/a/b/a/b/a/) is a trap
    trap_max_calendar_values: int = Field(50, gt=0)       # distinct dates of one calendar-like URL pattern crawled
    max_depth: int = Field(ge=0)
    max_response_bytes: int = Field(gt=0)
    download_timeout_seconds: float = Field(gt=0)
    per_host_concurrency: int = Field(gt=0)
    per_host_delay_seconds: float = Field(ge=0)
    total_concurrency: int = Field(gt=0)
    retry_after_max_seconds: float = Field(ge=0)
    retries: int = Field(ge=0)
    # Second tries after the crawl for targets that timed out or refused a connection during it
    second_try_timeout_seconds: float = Field(40, gt=0)
    second_try_concurrency: int = Field(4, gt=0)
    stop_grace_seconds: float = Field(15, gt=0)   # after SIGTERM/Ctrl-C, how long the spiders get to close
    obey_robots_txt: bool = False
    check_external_links: bool = True
    hosts: dict[str, str] = {}           # name -> address, answered without DNS
    resolve_only_listed: bool = False    # every other name fails as a DNS error (demo and tests)
    # Private networks (CIDR) that may be requested although no registered site lives there (crawler/guard.py)
    private_networks_allowed: list[str] = []
    # Sites at these addresses (by IP literal or crawl.hosts) are crawled without delay and with
    # unthrottled_concurrency: our own machine, or an office's intranet test server, is no production system
    unthrottled_networks: list[str] = ["127.0.0.0/8", "::1/128"]
    unthrottled_concurrency: int = Field(8, gt=0)
    # CMS family readers (crawler/families) switched on; a list a switched-off family carries is "could not verify"
    families: list[Literal["hanweb", "trs", "json", "docwrite"]] = ["hanweb", "trs", "json", "docwrite"]
    render: RenderSettings = RenderSettings()

    @field_validator("private_networks_allowed", "unthrottled_networks")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        import ipaddress
        for cidr in value:
            try:
                ipaddress.ip_network(cidr, strict=False)
            except ValueError:
                raise ValueError(f"应为网段写法（如 10.8.0.0/16）, 实际为 {cidr!r}") from None
        return value


class ProbeSettings(Strict):
    per_scan: int = Field(ge=1)
    per_audit: int = Field(1, ge=1)   # `sitecensus audit`: fresh probes, judged with those already stored
    spacing_seconds: float = Field(ge=0)
    timeout_seconds: float = Field(gt=0)


def _cron(fields: dict) -> dict:
    from apscheduler.triggers.cron import CronTrigger
    try:
        CronTrigger(**fields)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"定时写法不对：{exc}；可用的字段有 year, month, day, week, day_of_week, hour, minute, second") from None
    return fields


class ServiceSettings(Strict):
    """`sitecensus serve`: when the weekly scan, the probe rounds and the dashboard refresh run."""

    scan_schedule: dict[str, str | int] = {"day_of_week": "mon", "hour": 2, "minute": 0}
    probe_interval_seconds: float = Field(1800, gt=0)
    dashboard_schedule: dict[str, str | int] = {"hour": 7, "minute": 0}
    misfire_grace_seconds: int = Field(3600, ge=1)   # a run missed by less than this (service down) still runs, once
    scan_stop_seconds: float = Field(120, gt=0)      # on shutdown, how long a running scan may take to save its work
    log_file: str | None = None                      # besides stderr; rotated
    log_max_bytes: int = Field(10_000_000, gt=0)
    log_backups: int = Field(5, ge=0)

    _scan = field_validator("scan_schedule", "dashboard_schedule")(_cron)


class ScreenshotSettings(Strict):
    """sheets.screenshots: evidence pictures of the pages findings point at (reports/screenshots.py)."""

    enabled: bool = True
    max_per_scan: int = Field(200, ge=0)        # pictures per scan, vetoes and deductions first
    timeout_seconds: float = Field(20, gt=0)    # one page: load and picture; a page that takes longer gets none
    concurrency: int = Field(3, ge=1)           # pages open at once in the one browser
    keep_scans: int = Field(10, ge=1)           # the pictures of this many scans (and audits) are kept, older ones deleted
    max_page_bytes: int = Field(2_000_000, gt=0)   # a bigger page gets no picture (a browser on a 9 MB page takes > 1 GB)


class SheetSettings(Strict):
    """Problem sheets: the rectification deadline in working days, and the calendar to count them."""

    rectify_working_days: int = Field(10, ge=1)
    holidays: list[date] = []          # public holidays on weekdays (not working days)
    extra_workdays: list[date] = []    # weekend days that are working days (调休)
    trend_scans: int = Field(8, ge=2)  # the dashboard's trend covers this many scans
    max_problems_per_indicator: int = Field(100, ge=1)   # listed on a sheet per indicator; the workbook has them all
    pdf: bool = True                   # an A4 PDF of each sheet, printed by crawl.render.executable_path
    screenshots: ScreenshotSettings = ScreenshotSettings()


class MailSettings(Strict):
    """`sitecensus send`: the office's SMTP server. The password is never written here: it is read
    from the environment variable named by password_env."""

    host: str = "localhost"
    port: int = Field(25, gt=0, lt=65536)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    user: str | None = None
    password_env: str = "SITECENSUS_SMTP_PASSWORD"
    sender: str = "sitecensus@localhost"
    cc: list[str] = []
    ca_file: str | None = None         # PEM of the CA behind an internal mail server's certificate (default: system CAs)
    timeout_seconds: float = Field(30, gt=0)


class ConsolidationSettings(Strict):
    notice_lead_days: int = Field(ge=0)
    grace_days: int = Field(ge=0)


class Platforms(Strict):
    """Where a retained portal page must link (J5, J6): hosts, or host:port."""

    disclosure: list[str] = []     # 政府信息公开平台
    service: list[str] = []        # 浙江政务服务网 (interaction and services)


class QueueSettings(Strict):
    """How a full scan is split over worker processes (sitecensus/coordinator.py, sitecensus/worker.py)."""

    redis_url: str | None = None      # a shared Redis for workers on several machines; none: an embedded one, this machine only
    workers: int = Field(0, ge=0)     # local worker processes per scan; 0: one per CPU core
    sites_per_worker: int = Field(16, ge=1)        # sites one worker crawls at once
    worker_lost_seconds: float = Field(20, gt=0)   # a worker silent this long is taken as dead; its sites go to the others
    worker_stall_seconds: float = Field(300, gt=0)   # a worker whose crawl has not moved this long stops its heartbeat
    resume_within_hours: float = Field(72, ge=0)   # an interrupted full scan younger than this is resumed by the next one

    @field_validator("redis_url")
    @classmethod
    def _redis(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError(f"应为 redis://主机:端口/库号 的写法, 实际为 {value!r}")
        return value


class Settings(Strict):
    store_url: str
    output_dir: str
    timezone: str = "Asia/Shanghai"
    profile: str
    portal: Portal
    district_domains: list[str] = []     # J7: hosts under these are district sites (must be registered)
    district_host_hints: list[str] = []  # J7: a *.gov.cn host whose labels contain one of these looks like the district's
    platforms: Platforms = Platforms()
    crawl: CrawlSettings
    probes: ProbeSettings
    service: ServiceSettings = ServiceSettings()
    sheets: SheetSettings = SheetSettings()
    mail: MailSettings = MailSettings()
    consolidation: ConsolidationSettings
    queue: QueueSettings = QueueSettings()
    silence: list[GlobalSilence] = []    # verified false positives for all (or one) unit


class WrongForm(Strict):
    wrong: str = Field(min_length=2)
    correct: str = Field(min_length=1)


class Dictionaries(Strict):
    """config/dictionaries.yaml: what V4 looks for in every page's text."""

    wrong_forms: list[WrongForm] = []
    banned_words: list[str] = []
    banned_hosts: list[str] = []     # S3: domains no government page may link to


@dataclass
class Config:
    directory: Path
    settings: Settings
    units: list[Unit]
    dictionaries: Dictionaries = field(default_factory=Dictionaries)

    def profile(self, name: str | None = None) -> Profile:
        return load_profile(self.directory, name or self.settings.profile)

    def silences_for(self, unit: Unit) -> list[dict]:
        entries = [s.model_dump(exclude={"unit"}) for s in self.settings.silence if s.unit in (None, unit.name)]
        return entries + [s.model_dump() for s in unit.silence]

    def unit(self, name: str) -> Unit:
        for unit in self.units:
            if unit.name == name:
                return unit
        near = difflib.get_close_matches(name, [u.name for u in self.units], n=3, cutoff=0.5)
        guess = f"您是不是要找：{'、'.join(near)}？" if near else "用 sitecensus units 查看登记的全部单位。"
        raise ConfigError(f"{self.directory / 'units.yaml'} 中没有名为“{name}”的单位。{guess}")


def _validate(model: type[BaseModel], path: Path):
    data, lines = load_with_lines(path)
    try:
        return model.model_validate(data if data is not None else {})
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = err["loc"]
            field = ".".join(str(p) for p in loc) or "（整个文件）"
            problems.append(f"{path}:{line_of(lines, loc)}: {field}: {_explain(err)}")
        raise ConfigError("\n".join(problems)) from None


# pydantic's error types in the office's words ({...} from the error's ctx); others keep pydantic's text
EXPLAINED = {
    "missing": "缺少此项，请补上",
    "extra_forbidden": "不认识的字段，请检查拼写（或删除这一行）",
    "int_parsing": "应为整数", "int_type": "应为整数", "int_from_float": "应为整数，不能带小数",
    "float_parsing": "应为数字", "float_type": "应为数字",
    "bool_parsing": "应为 true 或 false", "bool_type": "应为 true 或 false",
    "string_type": "应为文字", "list_type": "应为列表（每项一行，以“- ”开头，或写成 [a, b]）",
    "dict_type": "应为“名称: 值”形式的若干项", "model_type": "应为“名称: 值”形式的若干项",
    "date_parsing": "应为日期 YYYY-MM-DD", "date_from_datetime_parsing": "应为日期 YYYY-MM-DD",
    "date_type": "应为日期 YYYY-MM-DD",
    "greater_than": "应大于 {gt}", "greater_than_equal": "应不小于 {ge}",
    "less_than": "应小于 {lt}", "less_than_equal": "应不大于 {le}",
    "string_too_short": "至少 {min_length} 个字", "string_pattern_mismatch": "写法不对（应符合 {pattern}）",
}


def _explain(err: dict) -> str:
    kind, given = err["type"], err.get("input")
    shown = "" if isinstance(given, (dict, list)) else f"，实际为“{given}”"
    if kind == "literal_error":
        expected = err["ctx"]["expected"].replace("' or '", "'、'").replace("', '", "'、'")
        return f"取值应为 {expected} 之一{shown}"
    if kind in ("missing", "extra_forbidden"):
        return EXPLAINED[kind]
    if kind in EXPLAINED:
        return EXPLAINED[kind].format(**err.get("ctx", {})) + shown
    return err["msg"].removeprefix("Value error, ")


def resolve_paths(settings: Settings, directory: Path) -> Settings:
    """Relative paths in settings.yaml are taken from the config folder, not from wherever sitecensus is run:
    the database (a SQLite store_url), output_dir, service.log_file, mail.ca_file, crawl.render.executable_path."""
    base = directory.resolve()

    def path(value: str | None) -> str | None:
        return value if value is None or Path(value).is_absolute() else os.path.normpath(base / value)

    store = make_url(settings.store_url)
    if store.get_backend_name() == "sqlite" and store.database not in (None, "", ":memory:") \
            and not store.database.startswith("file:"):
        store = store.set(database=path(store.database))
    render = settings.crawl.render
    if "/" in render.executable_path:   # a bare name is looked up on PATH
        render = render.model_copy(update={"executable_path": path(render.executable_path)})
    return settings.model_copy(update={
        "store_url": store.render_as_string(hide_password=False), "output_dir": path(settings.output_dir),
        "service": settings.service.model_copy(update={"log_file": path(settings.service.log_file)}),
        "mail": settings.mail.model_copy(update={"ca_file": path(settings.mail.ca_file)}),
        "crawl": settings.crawl.model_copy(update={"render": render})})


def config_dir(explicit: str | os.PathLike | None) -> Path:
    return Path(explicit or os.environ.get("SITECENSUS_CONFIG") or DEFAULT_CONFIG_DIR)


def load_profile(directory: Path, name: str) -> Profile:
    path = directory / "criteria" / f"{name}.yaml"
    if not path.exists():
        available = sorted(p.stem for p in (directory / "criteria").glob("*.yaml"))
        raise ConfigError(f"{path}：评分方案“{name}”不存在；可用的有：{'、'.join(available) or '无'}")
    return _validate(Profile, path)


def load_config(explicit: str | os.PathLike | None = None) -> Config:
    directory = config_dir(explicit)
    if not directory.is_dir():
        raise ConfigError(f"{directory}：配置目录不存在；用 --config 目录 或环境变量 SITECENSUS_CONFIG 指定")
    settings = resolve_paths(_validate(Settings, directory / "settings.yaml"), directory)
    register = _validate(Register, directory / "units.yaml")
    _check_unique_units(register, directory / "units.yaml")
    words = directory / "dictionaries.yaml"
    dictionaries = _validate(Dictionaries, words) if words.exists() else Dictionaries()
    config = Config(directory=directory, settings=settings, units=register.units, dictionaries=dictionaries)
    _check_probe_rate(config, directory / "settings.yaml")
    return config


def _check_unique_units(register: Register, path: Path) -> None:
    """A unit named twice: the error names the second one's line (and the first's)."""
    first: dict[str, int] = {}
    _, lines = load_with_lines(path)
    for i, unit in enumerate(register.units):
        line = line_of(lines, ("units", i, "name"))
        if unit.name in first:
            raise ConfigError(f"{path}:{line}: units.{i}.name: 单位名称重复：“{unit.name}”已在第 {first[unit.name]} 行登记过；"
                              f"同一单位的多个网址请写在同一个单位的 urls 中")
        first[unit.name] = line


def _check_probe_rate(config: Config, path: Path) -> None:
    """The census needs so many spaced probes a day (V1/D1); a slower service cannot give them."""
    profile = config.profile()  # also validates the default profile up front
    per_day = 86400 / config.settings.service.probe_interval_seconds
    needed = profile.availability.min_probes_per_day
    if per_day < needed:
        _, lines = load_with_lines(path)
        raise ConfigError(f"{path}:{line_of(lines, ('service', 'probe_interval_seconds'))}: service.probe_interval_seconds: "
                          f"每 {config.settings.service.probe_interval_seconds:g} 秒探测一次只有每天 {per_day:.1f} 次，"
                          f"评分方案 {profile.name} 要求每天不少于 {needed} 次；请改为不超过 {86400 // needed} 秒")
