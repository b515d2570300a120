"""Our own overload is never a unit's problem (issue 11, must-work 1): a few loopback sites with some
really broken links, scanned on an idle machine and then with two CPU hogs beside the scan (started by
the test under a hard `timeout`, killed in a finally): the set of broken targets is the same."""
import json
import os
import signal
import subprocess
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from conftest import run_cli
from hostile_sites import page, write_config
from sitecensus.demo.server import DemoServer, Reply, SiteFiles, closed_port_url

SITES, PAGES = 6, 60
HOG_SECONDS = 240      # a hog outlives no test run, even if the finally never ran


def build_site(index: int, dead: str) -> SiteFiles:
    """PAGES pages (some text to parse, each linking its neighbours) and three broken targets: two 404s
    and a port where nothing listens."""
    filler = "<p>" + "区政府工作动态正文内容。" * 300 + "</p>"
    def links(i: int) -> str:
        return "".join(f'<a href="/p/{(i + k) % PAGES}.html">第{(i + k) % PAGES}篇</a>' for k in (1, 2, 7))
    pages = {f"/p/{i}.html": page(f"文章{i}", f"<h1>文章{i}</h1>{filler}{links(i)}") for i in range(PAGES)}
    pages["/p/5.html"] = page("文章5", f"<h1>文章5</h1>{filler}<a href='/gone-{index}.pdf'>附件</a>{links(5)}")
    pages["/p/9.html"] = page("文章9", f"<h1>文章9</h1><img src='/missing-{index}.png'><a href='{dead}x{index}'>外链</a>{links(9)}")
    pages["/"] = page(f"区单位{index}", f"<h1>区单位{index}</h1>" + "".join(
        f'<a href="/p/{i}.html">第{i}篇</a>' for i in range(0, PAGES, 6)))
    return SiteFiles(pages=pages, fallback=Reply(404, b"<html><body>404</body></html>"))


def broken_targets(document: dict) -> set[tuple[str, str]]:
    return {(site["unit"], e["url"]) for site in document["sites"] for f in site["findings"] if f["code"] == "D2"
            for e in f["evidence"]}


def scan(config) -> set[tuple[str, str]]:
    as_of = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%dT%H:%M")
    result = run_cli("scan", "--json", "--as-of", as_of, config=config, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return broken_targets(json.loads(result.stdout))


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    base = tmp_path_factory.mktemp("under-load")
    servers = [DemoServer() for _ in range(SITES + 1)]
    dead = closed_port_url()
    try:
        servers[0].serve(SiteFiles(fallback=page("北仑之窗", "北仑之窗")))
        for index, server in enumerate(servers[1:]):
            server.serve(build_site(index, dead))
        units = [{"name": f"测试单位{i}", "kind": "部门", "urls": [s.base_url]} for i, s in enumerate(servers[1:])]
        # The shipped crawl settings (timeouts, second tries); one probe, since probes do not judge links.
        yield write_config(base / "config", base / "out", servers[0].base_url, units,
                           probes=dict(per_scan=1, spacing_seconds=0), crawl=dict(render={"enabled": False}))
    finally:
        for server in servers:
            server.close()


def test_two_cpu_hogs_change_no_broken_link(config):
    idle = scan(config)
    assert len(idle) == 3 * SITES, sorted(idle)   # the seeded ones, and only those
    hogs = [subprocess.Popen(["timeout", str(HOG_SECONDS), "sh", "-c", "while :; do :; done"], start_new_session=True)
            for _ in range(2)]
    try:
        loaded = scan(config)
        assert all(h.poll() is None for h in hogs), "the hogs stopped before the scan ended"
    finally:
        for hog in hogs:
            os.killpg(hog.pid, signal.SIGKILL)
            hog.wait()
    assert loaded == idle, f"only under load: {sorted(loaded - idle)}; missed: {sorted(idle - loaded)}"
