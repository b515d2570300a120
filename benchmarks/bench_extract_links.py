#!/usr/bin/env python3
"""Cost of reading one page (crawler/extract/page.py analyse_page) as the number of its links grows. The
scan's crawlers share one reactor thread: while a page is analysed no other site's answer is read, so a
giant page must not hold it for seconds (issue 11).

Three pages built here in the shape of a Chinese district government home page: a normal one (~60 KB,
~300 links), one with 10,000 and one with 100,000 dated list rows (a 网站地图 / 全部信息 page). With
--flat, the 100,000 links are bare anchors in the body instead (the hostile suite's shape).

Each page is read as a scan reads it (cut after its crawl.max_links_per_page-th link) and with no cap
(--cap 0: uncapped only). Measured 2026-11-26 on the 2-core machine under load (best of 2-5, CPU ms):
before issue 11's fix normal 20, 10,000 rows 693, 100,000 rows 14,614, 100,000 flat 10,977 (every href
normalized three times, the shared LRU thrashing past 65,536 links); after: 14, 430, 4,470 uncapped /
1,400 at the 20,000 cap, 2,850 uncapped / 880 at the cap.

    benchmarks/bench_extract_links.py [--repeat 5] [--flat] [--cap N] [--profile 100000]
"""
from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from crawler.extract.page import analyse_page  # noqa: E402
from sitecensus.config import load_config  # noqa: E402
from sitecensus.scan import extract_options  # noqa: E402

BASE = "http://www.example-district.gov.cn/"
REFERENCE = date(2026, 11, 26)
COLUMNS = [("zwgk", "政务公开"), ("tzgg", "通知公告"), ("zcwj", "政策文件"), ("bsfw", "办事服务"), ("hdjl", "互动交流"),
           ("rsxx", "人事信息"), ("czzj", "财政资金"), ("jhgh", "计划规划"), ("tjxx", "统计信息"), ("yjgl", "应急管理")]
TITLES = ("关于印发{}年度重点工作任务分工方案的通知", "区人民政府办公室关于开展第{}次安全生产大检查的通知",
          "{}号公告：关于公开征求意见的公告", "关于{}年第三季度政府信息公开工作情况的报告")


def _header() -> str:
    nav = "".join(f'<li><a href="/{key}/index.html">{name}</a></li>' for key, name in COLUMNS)
    return ('<!DOCTYPE html><html><head><meta charset="utf-8"><title>某某区人民政府门户网站</title>'
            '<meta name="SiteName" content="某某区人民政府"><link rel="stylesheet" href="/css/style.css">'
            '<link rel="icon" href="/favicon.ico"><script src="/js/jquery.min.js"></script>'
            '<style>.hide{display:none}</style></head><body>'
            '<div class="header"><img src="/images/logo.png" alt="某某区人民政府"><div class="top">'
            '<a href="/wza/index.html">无障碍</a><a href="http://m.example-district.gov.cn/">手机版</a></div></div>'
            f'<div class="nav"><ul>{nav}</ul></div>'
            '<div class="banner" style="background:url(/images/banner.jpg)"></div>')


def _footer() -> str:
    partners = "".join(f'<a href="http://www.dept{i}.gov.cn/">区部门{i}网站</a>' for i in range(20))
    return (f'<div class="links"><h3>友情链接</h3>{partners}</div>'
            '<div class="hide"><a href="http://www.example.com/casino">广告</a></div>'
            '<div class="footer"><p>主办单位：某某区人民政府办公室 网站标识码：3302060001 '
            '浙ICP备12345678号 浙公网安备 33020602000123号</p>'
            '<a href="http://bszs.conac.cn/sitename?method=show&id=1"><img src="/images/red.png" alt="党政机关"></a>'
            '</div></body></html>')


def _row(column: str, n: int, lean: bool = False) -> str:
    """A dated list row; `lean` as a giant page must be to fit the 10 MB download cap (~95 bytes a row)."""
    day = date.fromordinal(REFERENCE.toordinal() - n % 2000)
    if lean:
        return f'<li><a href="/{column}/t{day:%Y%m%d}_{n}.html">第{n}号公告</a><span>{day:%Y-%m-%d}</span></li>'
    title = TITLES[n % len(TITLES)].format(n)
    href = f"/{column}/{day:%Y%m}/t{day:%Y%m%d}_{100000 + n}.html"
    if n % 17 == 0:
        href = f"/module/download/downfile.jsp?classid=0&filename={day:%y%m%d}{n}.pdf"
    return f'<li><a href="{href}" title="{title}" target="_blank">{title}</a><span>{day:%Y-%m-%d}</span></li>'


def _block(key: str, name: str, rows: range, lean: bool = False) -> str:
    items = "".join(_row(key, n, lean) for n in rows)
    return (f'<div class="box"><div class="title"><h2>{name}</h2><a href="/{key}/index.html">更多&gt;&gt;</a></div>'
            f'<ul class="list">{items}</ul></div>')


def normal_page() -> str:
    """~60 KB, ~300 links: nav, 10 blocks of 25 dated rows, service tiles, partner links, footer."""
    blocks = "".join(_block(key, name, range(i * 25, i * 25 + 25)) for i, (key, name) in enumerate(COLUMNS))
    tiles = "".join(f'<div class="tile"><a href="/bsfw/item{i}.html"><img src="/images/ico{i}.png" alt="事项{i}">'
                    f'事项{i}</a></div>' for i in range(12))
    return _header() + blocks + f'<div class="tiles">{tiles}</div>' + _footer()


def list_page(count: int) -> str:
    """A page of `count` dated rows in one list (a site map or 全部信息 page), inside the normal template."""
    return _header() + _block("zwgk", "全部信息", range(count), lean=True) + _footer()


def flat_page(count: int) -> str:
    """`count` bare anchors in the body (tests/hostile_sites.py many_links)."""
    links = "".join(f'<a href="/p/{i}.html">条目{i}</a> ' for i in range(count))
    return f"<html><head><title>信息列表</title></head><body><h1>信息列表</h1>{links}</body></html>"


def pages(flat: bool) -> dict[str, bytes]:
    giant = flat_page(100_000) if flat else list_page(100_000)
    return {"normal": normal_page().encode(), "10000": list_page(10_000).encode(), "100000": giant.encode()}


def measure(body: bytes, options, repeat: int) -> tuple[float, int]:
    """Best of `repeat` CPU seconds (process time: what the reactor thread is held for) and the link count."""
    best, links = float("inf"), 0
    for _ in range(repeat):
        started = time.process_time()
        facts = analyse_page(BASE, body, "text/html", REFERENCE, options, is_home=True)
        best = min(best, time.process_time() - started)
        links = len(facts.links)
    return best, links


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5, help="best of N runs per page")
    parser.add_argument("--flat", action="store_true", help="the 100,000 links as bare anchors")
    parser.add_argument("--profile", choices=("normal", "10000", "100000"), help="cProfile this page once")
    parser.add_argument("--cap", type=int, help="anchors read per page (default: crawl.max_links_per_page)")
    args = parser.parse_args()
    config = load_config(REPO / "config")
    cap = config.settings.crawl.max_links_per_page if args.cap is None else args.cap
    options = replace(extract_options(config.profile(), config.dictionaries), max_links=cap)
    built = pages(args.flat)
    if args.profile:
        profiler = cProfile.Profile()
        profiler.runcall(analyse_page, BASE, built[args.profile], "text/html", REFERENCE, options, True)
        for sort in ("cumulative", "tottime"):
            pstats.Stats(profiler).sort_stats(sort).print_stats(35)
        return 0
    print(f"analyse_page, best of N, CPU ms (process time); cap = {cap or 'none'} anchors a page")
    for name, body in built.items():
        repeat = args.repeat if len(body) < 2_000_000 else max(1, args.repeat // 2)
        capped, links = measure(body, options, repeat)
        whole, all_links = measure(body, replace(options, max_links=0), repeat) if cap else (capped, links)
        print(f"{name:>7}: {len(body) / 1024:6.0f} KB {all_links:7d} links: {capped * 1000:8.1f} ms "
              f"({links} links read){'' if not cap else f'; uncapped {whole * 1000:8.1f} ms'}  best of {repeat}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
