"""Hostile sites on 127.0.0.1, one server (own port) per case, for tests/test_hostile.py and
benchmarks/bench_hostile.py (issue 11: every hostile case ends in a verdict or 无法检测 with its reason,
in bounded time, requests and memory).

Well-formed HTTP is served by sitecensus.demo.server.DemoServer with one function answering every path;
HTTP broken on purpose (hanging, dripping, resets, short bodies, endless streams, huge headers) by a small
asyncio server. Every server counts the requests it receives. `GUARD` is a sitecustomize module for the
scan's process: it refuses (and logs) any connection outside 127.0.0.0/8, any DNS query and any opening of
the file: canary, so a hostile page can never make a test reach beyond loopback.
"""
from __future__ import annotations

import asyncio
import json
import os
import random
import socket
import struct
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import yaml

from sitecensus.demo import REPO_CONFIG, write_demo_config
from sitecensus.demo.server import DemoServer, Reply, SiteFiles

CANARY_NAME = "hostile-canary.txt"
PAYLOAD = '<script>alert("xss")</script>'

GUARD = '''
import ipaddress, json, os, socket, sys
_LOG = os.environ.get("HOSTILE_GUARD_LOG")

def _note(kind, what):
    with open(_LOG, "a", encoding="utf-8") as out:
        out.write(json.dumps({"kind": kind, "what": str(what), "pid": os.getpid()}) + "\\n")

def _loopback(host):
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False

def _ip(host):
    try:
        ipaddress.ip_address(str(host).split("%")[0])
        return True
    except ValueError:
        return False

def _hook(event, args):
    if event == "socket.connect":
        address = args[1]
        if isinstance(address, tuple) and not _loopback(address[0]):
            _note("connect", address)
            raise PermissionError("hostile test guard: connection outside 127.0.0.0/8 refused")
    elif event == "socket.getaddrinfo":
        host = args[0]
        host = host.decode("idna", "replace") if isinstance(host, bytes) else host
        if host and not _ip(host) and host != "localhost":
            _note("dns", host)
            raise socket.gaierror(socket.EAI_NONAME, "hostile test guard: no DNS query")
    elif event == "open" and args and "@CANARY@" in str(args[0]):
        _note("open", args[0])

if _LOG:
    sys.addaudithook(_hook)
'''.replace("@CANARY@", CANARY_NAME)


def install_guard(directory: Path, env: dict) -> Path:
    """Write the guard as sitecustomize.py in `directory` and point env at it; returns its log file."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "sitecustomize.py").write_text(GUARD, encoding="utf-8")
    log = directory / "guard.log"
    log.touch()
    env["PYTHONPATH"] = f"{directory}:{env['PYTHONPATH']}" if env.get("PYTHONPATH") else str(directory)
    env["HOSTILE_GUARD_LOG"] = str(log)
    return log


def guard_events(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]


# ------------------------------------------------------------------ request counting


@dataclass
class Hits:
    """Requests one server received (request line paths) and when the scanner was last busy there."""

    paths: list[str] = field(default_factory=list)
    first: float | None = None
    last: float | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, method: str, path: str) -> None:
        with self.lock:
            self.paths.append(f"{method} {path}")
            self.first = self.first or time.monotonic()
            self.last = time.monotonic()

    def touch(self) -> None:
        with self.lock:
            self.last = time.monotonic()

    @property
    def count(self) -> int:
        return len(self.paths)

    @property
    def busy_seconds(self) -> float:
        return (self.last - self.first) if self.first else 0.0


class _Routes(dict):
    """SiteFiles.pages that answers every path (with its query) through a function."""

    def __init__(self, answer: Callable[[str], Reply]):
        super().__init__()
        self.answer = answer

    def __contains__(self, key):
        return True

    def get(self, key, default=None):
        return self.answer(key)


class RouteServer:
    """DemoServer answering every request with answer(path): well-formed HTTP, counted."""

    def __init__(self, answer: Callable[[str], Reply], tls=None):
        self.server = DemoServer(tls=tls)
        self.hits = hits = Hits()
        parse = self.server.handler.parse_request

        def counted(handler):
            ok = parse(handler)
            if ok:
                hits.record(handler.command, handler.path)
            return ok

        self.server.handler.parse_request = counted
        self.server.serve(SiteFiles(pages=_Routes(answer)))
        self.base_url = self.server.base_url

    def close(self) -> None:
        self.server.close()


_LOOP: asyncio.AbstractEventLoop | None = None


def _loop() -> asyncio.AbstractEventLoop:
    global _LOOP
    if _LOOP is None:
        _LOOP = asyncio.new_event_loop()
        threading.Thread(target=_LOOP.run_forever, daemon=True, name="hostile-raw").start()
    return _LOOP


Behaviour = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class RawServer:
    """A TCP server that reads one request head, counts it, then misbehaves as `behaviour` says."""

    def __init__(self, behaviour: Behaviour):
        self.behaviour, self.hits = behaviour, Hits()
        self.server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._serve, "127.0.0.1", 0, limit=1 << 20), _loop()).result(10)
        self.base_url = f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/"

    async def _serve(self, reader, writer):
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 60)
            method, path = (head.split(b"\r\n", 1)[0].decode("latin-1").split(" ") + ["", ""])[:2]
            self.hits.record(method, path)
            await self.behaviour(reader, writer)
        except (TimeoutError, OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            self.hits.touch()
            writer.transport.abort()

    def close(self) -> None:
        self.server.close()


# ------------------------------------------------------------------ pages


def page(title: str, body: str, status: int = 200, headers: dict | None = None) -> Reply:
    html = f"<html><head><meta charset='utf-8'><title>{title}</title></head><body>{body}</body></html>"
    return Reply(status, html.encode(), headers=headers or {})


def home(unit: str, extra: str = "") -> Reply:
    """A small readable site's home page: a dated news column, a notice column and a footer."""
    today = date.today()
    news = "".join(f'<li><a href="/xwdt/{i}.html">工作动态第{i}期</a><span>{today - timedelta(days=i):%Y-%m-%d}</span></li>'
                   for i in range(1, 9))
    notices = "".join(f'<li><a href="/tzgg/{i}.html">通知公告第{i}号</a><span>{today - timedelta(days=3 * i):%Y-%m-%d}</span></li>'
                      for i in range(1, 7))
    return page(unit, f"<h1>{unit}</h1><div class='box'><h2>工作动态</h2><ul>{news}</ul></div>"
                      f"<div class='box'><h2>通知公告</h2><ul>{notices}</ul></div>{extra}"
                      f"<div class='footer'>主办单位：{unit} 网站标识码：3302060001 浙ICP备05000001号</div>")


def article(path: str) -> Reply:
    return page("工作动态", f"<h1>文章 {path}</h1><p>发布时间：{date.today():%Y-%m-%d}</p><p>正文内容。</p>")


def site(unit: str, extra: str = "", more: Callable[[str], Reply | None] | None = None) -> Callable[[str], Reply]:
    """A readable site: home at /, articles under /xwdt/ and /tzgg/, `more` for anything else, 404 otherwise."""
    def answer(path: str) -> Reply:
        if path == "/":
            return home(unit, extra)
        if path.startswith(("/xwdt/", "/tzgg/")):
            return article(path)
        found = more(path) if more else None
        return found or page("404 页面不存在", "您访问的页面不存在", status=404)
    return answer


def redirect(location: str) -> Reply:
    return Reply(302, b"", headers={"Location": location})


def calendar(path: str) -> Reply | None:
    """An events calendar: every month links the previous and the next one and its days, forever."""
    parts = urlsplit(path)
    if parts.path != "/calendar":
        return None
    query = parse_qs(parts.query)
    month = int((query.get("month") or ["0"])[0] or 0)
    days = "".join(f"<a href='/calendar?month={month}&day={d}'>{d}日</a>" for d in range(1, 29))
    return page("活动日历", f"<h1>活动日历 {month} {query.get('day', [''])[0]}</h1>"
                          f"<a href='/calendar?month={month - 1}'>上一月</a><a href='/calendar?month={month + 1}'>下一月</a>{days}")


SOFT_404 = page("页面不存在", "<h1>页面不存在</h1><p>对不起，您访问的页面不存在或已被删除。</p>"
                            "<a href='more/'>返回</a> <a href='list/index.html'>首页</a>")


@lru_cache(maxsize=1)
def gzip_bomb(gigabytes: int = 2) -> bytes:
    """A ~2 MB gzip body that inflates to `gigabytes` GB of spaces: one 16 MB deflate piece, fully flushed
    (so it repeats byte for byte), with the right CRC and size in the trailer."""
    block = b" " * (1 << 24)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    piece = deflate.compress(block) + deflate.flush(zlib.Z_FULL_FLUSH)
    count, crc = gigabytes * 64, 0
    for _ in range(count):
        crc = zlib.crc32(block, crc)
    return (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + piece * count + deflate.flush()
            + struct.pack("<II", crc, (count << 24) & 0xFFFFFFFF))


def binary_page() -> Reply:
    return Reply(200, random.Random(11).randbytes(200_000), content_type="text/html")


def many_links(count: int) -> Reply:
    links = "".join(f'<a href="/p/{i}.html">条目{i}</a> ' for i in range(count))
    return page("信息列表", f"<h1>信息列表</h1>{links}")


def nested_divs(depth: int) -> Reply:
    """Badly broken HTML: `depth` unclosed <div>s, the site's links after them."""
    return page("区档案局", "<div>" * depth + '<a href="/after-nesting.html">嵌套之后的链接</a>'
                "<a href='/after-nesting-gone.html'>失效链接</a>")


def xss_extra() -> str:
    escaped = PAYLOAD.replace("<", "&lt;").replace(">", "&gt;")
    rows = "".join(f'<li><a href="/col/{i}.html">{escaped}条目{i}</a><span>{date.today():%Y-%m-%d}</span></li>'
                   for i in range(1, 7))
    return (f"<div class='box'><h2>{escaped}</h2><ul>{rows}</ul></div>"
            f"<a href='/gone-{escaped}.html'>{escaped}</a><a href='/x\"><script>alert(1)</script>.html'>坏链接</a>")


def odd_schemes(canary_url: str, canary_file: str) -> str:
    hrefs = ["javascript:alert(1)", "JaVaScRiPt:alert(2)", "ja\tvascript:alert(3)", "&#106;avascript:alert(4)",
             "mailto:office@example.invalid", "tel:+86-574-0000", "data:text/html,<script>alert(5)</script>",
             f"file://{canary_file}", canary_url.replace("http://", "ftp://"), "about:blank",
             "vbscript:msgbox(1)", "\u202ejavascript:alert(6)", "ｊａｖａｓｃｒｉｐｔ:alert(7)", "javascript\u0000:alert(8)"]
    return "".join(f'<a href="{h}">链接{i}</a> ' for i, h in enumerate(hrefs))


PRIVATE_TARGETS = ("http://10.0.0.1/", "http://169.254.169.254/latest/meta-data/", "http://192.168.1.1/admin",
                   "http://[fd00::1]/", "http://0x0a000001/")


# ------------------------------------------------------------------ broken HTTP (RawServer behaviours)


async def _hang(reader, writer):
    await reader.read()                                      # until the scanner gives up and hangs up


def _drip(seconds: float) -> Behaviour:
    async def drip(reader, writer):
        answer = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5000\r\n\r\n" + b"<p>" * 2000
        for byte in answer:
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(seconds)
    return drip


async def _reset(reader, writer):
    writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


async def _short_body(reader, writer):
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 100000\r\n\r\n"
                 + "<html><head><title>区统计局</title></head><body><h1>区统计局</h1>".encode())
    await writer.drain()


FILLER = ("<p>" + "填充内容" * 5000 + "</p>\n").encode()   # 60 KB a write


def _stream(total: int | None) -> Behaviour:
    """A body of `total` bytes (Content-Length), or an endless chunked one (None), as fast as it is read."""
    async def stream(reader, writer):
        length = f"Content-Length: {total}" if total else "Transfer-Encoding: chunked"
        writer.write(f"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n{length}\r\n\r\n".encode())
        sent = 0
        while total is None or sent < total:
            chunk = FILLER if total is None else FILLER[: total - sent]
            writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk) if total is None else chunk)
            sent += len(chunk)
            await writer.drain()
    return stream


async def _huge_header(reader, writer):
    body = "<html><head><title>区司法局</title></head><body>区司法局</body></html>".encode()
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nX-Filler: " + b"a" * 65536
                 + b"\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    await writer.drain()


# ------------------------------------------------------------------ the cases


@dataclass(frozen=True)
class Budget:
    """The limits a case's request bound depends on (from the settings the scan runs with)."""

    pages: int              # crawl.max_pages_per_site
    link_checks: int        # per-site budget of link checks
    probes: int             # probes.per_scan
    redirects: int = 20     # hops a client follows at most


@dataclass(frozen=True)
class Case:
    key: str
    unit: str
    serve: Callable[[Context], object] | None   # -> RouteServer / RawServer; None: no server (DNS failure)
    readable: bool | None   # True: a real verdict (合格/不合格); False: 无法检测; None: either
    reason: str = ""        # regex the 无法检测 reason must match (what happened)
    bound: Callable[[Budget], int] = lambda b: 2 * b.probes + 6   # requests the server may receive
    host: str | None = None  # served under this name (crawl.hosts) instead of 127.0.0.1


@dataclass
class Context:
    directory: Path
    canary_url: str
    canary_file: str


def _bad_certificate(ctx: Context):
    # tests/ is on sys.path for the tests and the benchmark
    from conftest import self_signed
    tls, _ = self_signed(ctx.directory, datetime.now() + timedelta(days=300), common_name="www.another-name.test")
    return RouteServer(site("区审计局"), tls=tls)


def BOUNDED(b: Budget) -> int:  # noqa: N802 - used like the constants of the table
    """The per-site budgets: pages, link checks (HEAD, then GET), the probes and a little."""
    return b.pages + 2 * b.link_checks + 2 * b.probes + 20

TOO_LARGE = r"过大|超过|太大|too_large"
CASES: list[Case] = [
    Case("hanging", "区发改局", lambda c: RawServer(_hang), False, r"超时|无响应|timeout"),
    Case("dripping", "区科技局", lambda c: RawServer(_drip(1.0)), False, r"超时|无响应|timeout"),
    Case("redirect_loop", "区教育局", lambda c: RouteServer(lambda p: redirect("/a" if p == "/" else "/")), False,
         r"重定向|redirect", bound=lambda b: 3 * (b.probes + 2) * (b.redirects + 1)),
    Case("redirect_chain", "公安分局", lambda c: RouteServer(
        lambda p: redirect(f"/r/{int(p.rsplit('/', 1)[1]) + 1 if p.startswith('/r/') else 1}")), False, r"重定向|redirect",
         bound=lambda b: 3 * (b.probes + 2) * (b.redirects + 1)),
    Case("big_body", "区民政局", lambda c: RawServer(_stream(50 * 1024 * 1024)), False, TOO_LARGE),
    Case("gzip_bomb", "区司法局", lambda c: RouteServer(lambda p: Reply(200, gzip_bomb(), headers={"Content-Encoding": "gzip"})),
         False, TOO_LARGE),
    Case("endless_chunked", "区财政局", lambda c: RawServer(_stream(None)), False, TOO_LARGE),
    # a browser takes 64 KB of headers (Chromium: 256 KB), Twisted does not: the page read otherwise, or 无法检测
    Case("huge_header", "区人力社保局", lambda c: RawServer(_huge_header), None, r"响应头|头部|header|连接|connect"),
    Case("reset", "区住房和城乡建设局", lambda c: RawServer(_reset), False, r"连接|重置|中断|reset|connect"),
    Case("short_body", "区交通运输局", lambda c: RawServer(_short_body), False, r"不完整|中断|截断|连接|connect|data.?loss"),
    Case("dns_failure", "区水利局", None, False, r"域名|解析|DNS|dns", bound=lambda b: 0, host="gone.hostile.test"),
    Case("antibot_403", "区农业农村局", lambda c: RouteServer(lambda p: page("访问被拦截", "您的访问被阻断，请开启JavaScript并完成人机验证", 403)),
         False, r"403|拒绝|拦截|阻断"),
    Case("throttled_429", "区商务局", lambda c: RouteServer(lambda p: page("请求过多", "请稍后再试", 429, {"Retry-After": "3600"})),
         False, r"429|频繁|限流|限制"),
    Case("binary", "区文化广电旅游局", lambda c: RouteServer(lambda p: binary_page()), False, r"乱码|无法识别|无法读取|不是网页|二进制|binary|garbage"),
    Case("soft_404", "区卫生健康局", lambda c: RouteServer(lambda p: SOFT_404), False, r"不存在|404", bound=BOUNDED),
    Case("calendar", "区退役军人事务局", lambda c: RouteServer(site("区退役军人事务局", "<a href='/calendar?month=0'>活动日历</a>", calendar)),
         True, bound=BOUNDED),
    Case("many_links", "区应急管理局", lambda c: RouteServer(site("区应急管理局", many_links(100_000).body.decode(),
                                                            lambda p: article(p) if p.startswith("/p/") else None)),
         True, bound=BOUNDED),
    Case("nested_divs", "区档案局", lambda c: RouteServer(site("区档案局", nested_divs(50_000).body.decode(),
                                                       lambda p: article(p) if p == "/after-nesting.html" else None)),
         True, bound=BOUNDED),
    Case("bad_certificate", "区审计局", _bad_certificate, True, bound=BOUNDED, host="www.hostile-tls.test"),
    Case("xss", "区市场监管局", lambda c: RouteServer(site(PAYLOAD, xss_extra(),
                                                     lambda p: article(p) if p.startswith("/col/") else None)),
         True, bound=BOUNDED),
    Case("odd_schemes", "区统计局", lambda c: RouteServer(site("区统计局", odd_schemes(c.canary_url, c.canary_file))),
         True, bound=BOUNDED),
    Case("private_links", "区医保局", lambda c: RouteServer(site("区医保局", "".join(
        f'<a href="{u}">内部地址{i}</a><img src="{u}logo.png">' for i, u in enumerate(PRIVATE_TARGETS)))),
         True, bound=BOUNDED),
    Case("name_dotdot", "../../x", lambda c: RouteServer(site("区综合行政执法局")), True, bound=BOUNDED),
    Case("name_script", PAYLOAD, lambda c: RouteServer(site("区机关事务局")), True, bound=BOUNDED),
    Case("name_long", "北仑区" + "超长单位名称" * 60, lambda c: RouteServer(site("区信访局")), True, bound=BOUNDED),
]


@dataclass
class Served:
    case: Case
    url: str
    hits: Hits
    server: object | None


class HostileWorld:
    """Every case served at once (`with HostileWorld(dir) as world:`), plus a portal and a canary that
    counts any request a link with an odd scheme might cause."""

    def __init__(self, directory: Path, cases: list[Case] | None = None):
        self.directory = directory
        self.cases = cases if cases is not None else CASES
        self.served: dict[str, Served] = {}
        self.servers: list = []

    def __enter__(self) -> HostileWorld:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.canary = self._keep(RawServer(_hang))
        canary_file = self.directory / CANARY_NAME
        canary_file.write_text("secret", encoding="utf-8")
        self.portal = self._keep(RouteServer(lambda p: page("北仑之窗", "<h1>北仑之窗</h1>")))
        ctx = Context(self.directory, self.canary.base_url, str(canary_file))
        for case in self.cases:
            server = self._keep(case.serve(ctx)) if case.serve else None
            url = server.base_url if server else "http://127.0.0.1:9/"
            if case.host:
                url = url.replace("127.0.0.1", case.host)
            self.served[case.key] = Served(case, url, server.hits if server else Hits(), server)
        return self

    def _keep(self, server):
        self.servers.append(server)
        return server

    def __exit__(self, *exc) -> None:
        for server in self.servers:
            server.close()

    def hosts(self) -> dict[str, str]:
        """Names served on loopback (crawl.hosts); the DNS-failure case's name is left out on purpose."""
        return {s.case.host: "127.0.0.1" for s in self.served.values() if s.case.host and s.server}

    def write_config(self, config: Path, out: Path, crawl: dict | None = None, probes: dict | None = None) -> Path:
        """The shipped settings with a register of one unit per case (see write_config)."""
        units = [{"name": s.case.unit, "kind": "部门", "urls": [s.url]} for s in self.served.values()]
        return write_config(config, out, self.portal.base_url, units, self.hosts(), crawl, probes)


def write_config(config: Path, out: Path, portal: str, units: list[dict], hosts: dict[str, str] | None = None,
                 crawl: dict | None = None, probes: dict | None = None) -> Path:
    """The shipped settings.yaml (as a user gets it) with the store, the portal, the hosts map and
    resolve_only_listed (nothing may leave loopback), then `crawl` / `probes` overrides; `units` as the register."""
    write_demo_config(config, {"portal": portal, "external": portal}, date.today(), out, [])
    settings = yaml.safe_load((REPO_CONFIG / "settings.yaml").read_text(encoding="utf-8"))
    settings.update(store_url=f"sqlite:///{out / 'sitecensus.db'}", output_dir=str(out))
    settings["portal"]["url"] = portal
    settings["platforms"] = {"disclosure": [], "service": [portal.split("/")[2]]}
    settings["crawl"].update(hosts=hosts or {}, resolve_only_listed=True, **(crawl or {}))
    settings["probes"].update(**(probes or {}))
    (config / "settings.yaml").write_text(yaml.safe_dump(settings, allow_unicode=True, sort_keys=False), encoding="utf-8")
    (config / "units.yaml").write_text(yaml.safe_dump({"units": units}, allow_unicode=True, sort_keys=False),
                                       encoding="utf-8")
    return config


def budget_of(config: Path) -> Budget:
    """The request budget a case is held to, from the settings the scan ran with."""
    settings = yaml.safe_load((config / "settings.yaml").read_text(encoding="utf-8"))
    crawl = settings["crawl"]
    link_checks = crawl.get("max_link_checks_per_site", 5000)
    return Budget(crawl["max_pages_per_site"], link_checks, settings["probes"]["per_scan"])


# ------------------------------------------------------------------ running a scan, measured

_MEASURE = """
import json, os, resource, subprocess, sys, time
start = time.monotonic()
code = subprocess.run(sys.argv[1:], stdin=subprocess.DEVNULL).returncode
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
with open(os.environ["HOSTILE_MEASURE"], "w") as out:
    json.dump({"peak_rss_mb": peak / 1024, "wall_seconds": time.monotonic() - start}, out)
sys.exit(code)
"""


@dataclass
class Measured:
    returncode: int
    stdout: str
    stderr: str
    wall_seconds: float
    peak_rss_mb: float           # the scan process's own peak (ru_maxrss of the wrapper's children)
    guard: list[dict]            # what the guard refused or saw (connections, DNS queries, canary opens)


def run_scan_measured(config: Path, work: Path, as_of: str, timeout: float) -> Measured:
    """`sitecensus scan --json` in a child process under the guard, through a wrapper that reads the
    child's peak RSS (getrusage RUSAGE_CHILDREN) and wall time."""
    env = dict(os.environ, SITECENSUS_CONFIG=str(config), HOSTILE_MEASURE=str(work / "measure.json"))
    guard = install_guard(work / "guard", env)
    result = subprocess.run([sys.executable, "-c", _MEASURE, sys.executable, "-m", "sitecensus", "scan", "--json",
                             "--as-of", as_of], capture_output=True, text=True, env=env, cwd=config.parent,
                            timeout=timeout, stdin=subprocess.DEVNULL)
    figures = json.loads((work / "measure.json").read_text())
    return Measured(result.returncode, result.stdout, result.stderr, figures["wall_seconds"], figures["peak_rss_mb"],
                    guard_events(guard))


def site_notes(store_url: str) -> dict[str, dict]:
    """Each site's whole result document (with the verdict's reason, `note`) of the latest judgement, by URL."""
    import sqlite3

    with sqlite3.connect(store_url.removeprefix("sqlite:///")) as db:
        rows = db.execute("SELECT data FROM results WHERE judgement_id = (SELECT max(id) FROM judgements)").fetchall()
    documents = [json.loads(row[0]) for row in rows]
    return {d["url"]: d for d in documents}
