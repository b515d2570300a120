"""Stage timings (sitecensus/stages.py): each stage's seconds, CPU and its own peak memory, in the log."""
from __future__ import annotations

import logging
import sys

import pytest

from sitecensus import stages
from sitecensus.stages import stage

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="peak memory is read from /proc")


@linux_only
def test_each_stage_reports_its_own_peak_and_the_outer_one_includes_the_inner(caplog):
    caplog.set_level(logging.INFO, logger="sitecensus.stages")
    with stage("外层"):
        with stage("内层"):
            block = bytearray(120 * 1024 * 1024)   # touched: resident, not only reserved
            del block
        with stage("之后"):
            sum(range(1000))
    inner, after, outer = stages.finished[-3:]
    assert [inner.name, after.name, outer.name] == ["内层", "之后", "外层"]
    assert inner.depth == after.depth == 1 and outer.depth == 0
    assert inner.peak_mb - after.peak_mb > 100        # the high-water mark was reset for the later stage
    assert outer.peak_mb >= inner.peak_mb             # ... and the outer stage still saw the inner one's peak
    assert outer.seconds >= inner.seconds + after.seconds and outer.cpu_seconds >= inner.cpu_seconds
    assert "阶段 内层：用时" in caplog.text and "内存峰值" in caplog.text


def test_a_stage_as_decorator_is_timed_on_every_call_and_ends_on_an_error():
    @stage("装饰")
    def work(fail: bool) -> int:
        if fail:
            raise ValueError("x")
        return 1

    before = len(stages.finished)
    assert work(False) == 1
    with pytest.raises(ValueError):
        work(True)
    assert [t.name for t in stages.finished[before:]] == ["装饰", "装饰"]


def test_a_scan_logs_every_stage_in_its_log(tmp_path):
    """A full scan of one loopback site: the scan's log names each stage, the crawl's CPU included."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    import yaml

    from conftest import loopback_config, run_cli, scan_logs
    from sitecensus.demo.server import DemoServer, Reply, SiteFiles

    as_of = datetime.now(ZoneInfo("Asia/Shanghai")).replace(second=0, microsecond=0)
    portal, site = DemoServer(), DemoServer()
    page = Reply(200, "<html><head><title>区统计局</title></head><body><a href='/a.html'>通知</a></body></html>".encode())
    portal.serve(SiteFiles(fallback=page))
    site.serve(SiteFiles(pages={"/": page, "/a.html": page}))
    try:
        config = loopback_config(tmp_path, portal.base_url, as_of.date())
        register = yaml.safe_load((config / "units.yaml").read_text(encoding="utf-8"))
        register["units"][0]["urls"] = [site.base_url]
        (config / "units.yaml").write_text(yaml.safe_dump(register, allow_unicode=True), encoding="utf-8")
        result = run_cli("scan", "--json", "--as-of", as_of.strftime("%Y-%m-%dT%H:%M"), config=config)
    finally:
        portal.close()
        site.close()
    assert result.returncode == 0, result.stderr
    text = scan_logs(tmp_path)
    for name in ("抓取", "栏目识别", "评分", "台账", "报告"):
        assert f"阶段 {name}：用时" in text, name
