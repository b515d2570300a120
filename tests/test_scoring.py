"""Scoring on constructed snapshots: threshold edges, caps, the 75 × 4/3 rule, silencing. The rules
are pure functions of a snapshot, so these exercise exactly the code a scan runs."""
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from scoring.findings import Evidence
from scoring.interaction import add_months
from scoring.score import judge
from scoring.snapshot import ColumnFact, Home, ProbeFact, SiteSnapshot, Target
from sitecensus.config import load_config
from tests.conftest import REPO

AS_OF = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
TODAY = AS_OF.date()
CONFIG = load_config(REPO / "config")
CENSUS, INSPECTION = CONFIG.profile("census2015"), CONFIG.profile("inspection2019")


def column(name, newest_age=1, from_home=True, items=None, blank=False):
    newest = TODAY - timedelta(days=newest_age) if newest_age is not None else None
    return ColumnFact(url=f"http://x.gov.cn/{abs(hash(name))}/", name=name, from_home=from_home, item_count=5,
                      dated_count=5, newest_date=newest, blank=blank, items=items or [])


def healthy_columns():
    fresh = [{"title": f"t{i}", "url": f"http://x.gov.cn/a{i}.html", "date": (TODAY - timedelta(days=i)).isoformat()}
             for i in range(12)]
    consult = [{"title": f"问{i}", "url": f"http://x.gov.cn/q{i}.html", "date": (TODAY - timedelta(days=10 * i)).isoformat(),
                "status": "answered"} for i in range(3)]
    yearly = [{"title": f"活{i}", "url": f"http://x.gov.cn/h{i}.html", "date": (TODAY - timedelta(days=20 * i)).isoformat()}
              for i in range(6)]
    return [column("工作动态", 1, items=fresh), column("领导信箱", 10, items=consult),
            column("网上调查", 1, items=yearly), column("在线访谈", 1, items=yearly), column("办事指南", 3)]


def snapshot(columns=None, probes=None, targets=None, **extra):
    home_items = [{"title": "x", "url": "http://x.gov.cn/a.html", "date": (TODAY - timedelta(days=i)).isoformat()}
                  for i in range(10)]
    home = Home(url="http://x.gov.cn/", final_url="http://x.gov.cn/", status=200, outcome="ok", error=None,
                items=home_items)
    return SiteSnapshot(unit="区测试局", url="http://x.gov.cn/", as_of=AS_OF, home=home,
                        columns=healthy_columns() + (columns or []), probes=probes or [], targets=targets or [],
                        **extra)


def codes(result):
    return [f.code for f in result.findings if not f.silenced]


def test_a_healthy_snapshot_scores_full_marks():
    result = judge(snapshot(), CENSUS)
    assert result.verdict == "合格" and result.score == 100 and codes(result) == []


@pytest.mark.parametrize("stale, vetoed", [(4, False), (5, True)])
def test_v3_four_versus_five_stale_key_columns(stale, vetoed):
    columns = [column(f"通知公告{i}", 200) for i in range(stale)]
    assert ("V3" in codes(judge(snapshot(columns), CENSUS))) is vetoed


@pytest.mark.parametrize("blank, vetoed", [(4, False), (5, True)])
def test_v3_four_versus_five_blank_columns(blank, vetoed):
    columns = [column(f"统计数据{i}", None, blank=True) for i in range(blank)]
    assert ("V3" in codes(judge(snapshot(columns), CENSUS))) is vetoed


def test_v3_six_month_rule_counts_only_top_level_columns_in_2019():
    columns = [column(f"通知公告{i}", 200, from_home=False) for i in range(5)]
    assert "V3" in codes(judge(snapshot(columns), CENSUS))
    assert "V3" not in codes(judge(snapshot(columns), INSPECTION))


def probes(total, failed):
    start, step = AS_OF - timedelta(days=7), timedelta(days=7) / total
    return [ProbeFact(at=start + step * (i + 1), ok=i >= failed) for i in range(total)]


@pytest.mark.parametrize("total, failed, vetoed", [(10000, 499, False), (10000, 500, True), (140, 7, True), (140, 6, False)])
def test_v1_at_the_five_percent_edge(total, failed, vetoed):
    result = judge(snapshot(probes=probes(total, failed)), CENSUS)
    assert ("V1" in codes(result)) is vetoed
    d1 = [f for f in result.findings if f.code == "D1"]
    assert d1 and d1[0].points == pytest.approx(100 * failed / total * CENSUS.availability.points_per_percent, abs=0.01)


def test_v1_from_fewer_probes_than_a_week_is_provisional_and_the_site_unchecked():
    """3 probes, all failing: V1 shown as 暂定 with why, no veto, verdict 无法检测 (not 不合格)."""
    result = judge(snapshot(probes=probes(3, 3)), CENSUS)
    v1 = next(f for f in result.findings if f.code == "V1")
    assert v1.provisional and "暂定" in v1.title and "140" in v1.provisional_reason
    assert result.verdict == "无法检测" and not result.vetoed and result.score is None
    assert "可用性尚无法确定" in result.note
    assert not any(word in v1.provisional_reason + result.note for word in ("provisional", "insufficient", "`"))


def test_v1_from_a_full_week_vetoes():
    """7 x 20 probes, 6% failing: V1 vetoes as the census says."""
    result = judge(snapshot(probes=probes(140, 9)), CENSUS)
    v1 = next(f for f in result.findings if f.code == "V1")
    assert not v1.provisional and "暂定" not in v1.title
    assert result.verdict == "不合格" and result.vetoed


def test_a_provisional_v1_does_not_hide_a_certain_failure():
    columns = [column(f"通知公告{i}", 200) for i in range(5)]   # V3 vetoes on its own
    result = judge(snapshot(columns, probes=probes(3, 3)), CENSUS)
    assert result.verdict == "不合格" and result.vetoed and "V3" in codes(result)


def test_unreachable_home_page_gets_no_findings_about_its_content():
    """Nobody read the home page: no D5-D7 "未开设…栏目", no G1, no V2-V6, only availability and the address."""
    snap = snapshot(probes=probes(3, 3))
    snap.home = Home(url=snap.url, final_url=None, status=None, outcome="broken", error="connect")
    snap.columns, snap.identifiers = [], {}
    result = judge(snap, CENSUS)
    assert {f.code for f in result.findings} == {"V1", "D1"}
    assert result.verdict == "无法检测" and result.score is None and "无法连接" in result.note
    assert all(f.for_reference for f in result.findings if f.severity == "deduction")


def test_d1_is_shown_after_its_cap():
    result = judge(snapshot(probes=probes(3, 3)), CENSUS)
    d1 = result.indicators["D1"]
    assert d1["points"] == 500 and d1["taken"] == CENSUS.availability.cap


@pytest.mark.parametrize("waited, vetoed", [(-1, False), (0, False), (1, True)])
def test_v5_three_months_minus_or_plus_a_day(waited, vetoed):
    submitted = add_months(TODAY, -3) - timedelta(days=waited)   # waited: days beyond three months
    message = {"title": "问", "url": "http://x.gov.cn/m.html", "date": submitted.isoformat(), "status": "pending"}
    result = judge(snapshot([column("在线咨询", 1, items=[message])]), CENSUS)
    assert ("V5" in codes(result)) is vetoed


def test_v5_excludes_reporting_columns_in_2019_only():
    old = {"title": "信", "url": "http://x.gov.cn/m.html", "date": (TODAY - timedelta(days=150)).isoformat(),
           "status": "pending"}
    columns = [column("网上信访信箱", 1, items=[old])]
    assert "V5" in codes(judge(snapshot(columns), CENSUS))
    assert "V5" not in codes(judge(snapshot(columns), INSPECTION))


def test_deductions_are_capped_per_indicator():
    targets = [Target(url=f"http://x.gov.cn/{i}.html", kind="page", internal=True, outcome="broken", status=404,
                      error="http_404", sources=["http://x.gov.cn/"], on_home=True) for i in range(30)]
    result = judge(snapshot(targets=targets), CENSUS)
    d2 = result.indicators["D2"]
    assert d2["points"] == 30 and d2["cap"] == CENSUS.links.cap and d2["taken"] == CENSUS.links.cap
    assert result.score == 100 - CENSUS.links.cap and len(d2["findings"]) == 30


def test_unit_without_external_services_is_scored_out_of_75_times_four_thirds():
    targets = [Target(url=f"http://x.gov.cn/{i}.html", kind="page", internal=True, outcome="broken", status=404,
                      error="http_404", sources=["http://x.gov.cn/"], on_home=True) for i in range(3)]
    plain = judge(snapshot(targets=targets), INSPECTION)
    scaled = judge(snapshot(targets=targets, no_external_services=True), INSPECTION)
    assert plain.score == 97
    assert scaled.score == pytest.approx((75 - 3) * INSPECTION.no_services_scaling.factor, abs=0.01)
    census = judge(snapshot(targets=targets, no_external_services=True), CENSUS)
    assert census.score == 97  # 2015 has no such rule


def test_vetoed_site_keeps_deductions_for_reference():
    columns = [column(f"通知公告{i}", 200) for i in range(5)]
    result = judge(snapshot(columns), CENSUS)
    assert result.vetoed and result.verdict == "不合格"
    assert all(f.for_reference for f in result.findings if f.severity == "deduction")


def test_silenced_finding_is_kept_but_not_scored():
    target = Target(url="http://x.gov.cn/old/a.html", kind="page", internal=True, outcome="broken", status=404,
                    error="http_404", sources=["http://x.gov.cn/"], on_home=True)
    silences = [{"rule": "D2", "url": "http://x.gov.cn/old/*", "reason": "页面已撤销，链接为历史存档"}]
    result = judge(snapshot(targets=[target], silences=silences), CENSUS)
    d2 = next(f for f in result.findings if f.code == "D2")
    assert d2.silenced and d2.silence_reason == "页面已撤销，链接为历史存档"
    assert result.score == 100 and "D2" not in result.indicators
    loud = judge(snapshot(targets=[target]), CENSUS)
    assert loud.score == 99


def test_every_finding_names_its_evidence():
    columns = [column(f"通知公告{i}", 200) for i in range(5)]
    for f in judge(snapshot(columns), CENSUS).findings:
        assert f.evidence and isinstance(f.evidence[0], Evidence) and f.hint and f.criterion


def test_add_months_clamps_to_month_end():
    assert add_months(date(2026, 11, 30), -9) == date(2026, 2, 28)


def portal_page(links):
    from scoring.snapshot import Context, LinkFact
    snap = snapshot(role="portal_page", context=Context(disclosure_hosts=["xxgk.bl.gov.cn"], service_hosts=["zjzwfw.gov.cn"]))
    snap.page_links = [LinkFact("http://www.bl.gov.cn/bm/x/", target, "page", text, None) for text, target in links]
    return judge(snap, CENSUS)


def test_j5_disclosure_entry_on_the_wrong_host():
    result = portal_page([("政府信息公开", "http://www.bl.gov.cn/xxgk/"), ("办事服务", "http://bl.zjzwfw.gov.cn/x")])
    assert [f.code for f in result.findings] == ["J5"] and result.verdict == "不合格"
    assert "www.bl.gov.cn" in result.findings[0].evidence[0].detail


def test_j5_j6_missing_entries_and_a_correct_page():
    missing = portal_page([("首页", "http://www.bl.gov.cn/")])
    assert sorted(f.code for f in missing.findings) == ["J5", "J6"]
    good = portal_page([("信息公开", "http://xxgk.bl.gov.cn/x"), ("互动交流", "http://www.zjzwfw.gov.cn/hd")])
    assert good.findings == [] and good.verdict == "合格" and good.score is None


def sheet_html(result) -> str:
    """The HTML problem sheet of a judged snapshot, as the reports render it."""
    from reports.html import _env
    from reports.sheet import unit_sheet
    site = {"unit": "区测试局", "unit_kind": "部门", "url": "http://x.gov.cn/", "verdict": result.verdict,
            "vetoed": result.vetoed, "score": result.score, "findings": [f.to_dict() for f in result.findings],
            "indicators": result.indicators, "stats": {"pages": 1, "links": 0, "broken_links": 0, "columns": 0},
            "plan": {}, "note": result.note, "unverified": [], "columns": []}
    scan = {"id": 1, "as_of": AS_OF.isoformat(), "profile": "census2015"}
    return _env().get_template("sheet.html.j2").render(scan=scan, site=site, sheet=unit_sheet(scan, [site], {}),
                                                        rule_names={}, docx=None)


def test_a_vetoed_sheet_shows_no_score_and_deductions_after_their_cap():
    columns = [column(f"通知公告{i}", 200) for i in range(5)]   # V3 vetoes
    html = sheet_html(judge(snapshot(columns, probes=probes(140, 140)), CENSUS))
    assert "—（单项否决，不计分）" in html and "扣分项不再计分" in html
    assert "扣 500 分" not in html and "扣 20 分" in html and "已达该项上限" in html   # D1: 100% of 140 probes


def test_a_sheet_lists_a_bounded_number_of_problems_per_indicator_and_counts_the_rest():
    from reports.html import _env
    from reports.sheet import unit_sheet
    result = judge(snapshot([column(f"通知公告{i}", 200) for i in range(7)]), CENSUS)
    site = {"unit": "区测试局", "unit_kind": "部门", "url": "http://x.gov.cn/", "verdict": result.verdict,
            "vetoed": result.vetoed, "score": result.score, "findings": [f.to_dict() for f in result.findings],
            "indicators": result.indicators, "stats": {}, "plan": {}, "note": result.note, "unverified": [], "columns": []}
    scan = {"id": 1, "as_of": AS_OF.isoformat(), "profile": "census2015"}
    sheet = unit_sheet(scan, [site], {}, max_listed=2)
    stale = next(g for g in sheet["groups"] if g["code"] == "D4")
    assert (len(stale["problems"]), stale["total"], stale["more"]) == (2, 7, 5)
    html = _env().get_template("sheet.html.j2").render(scan=scan, site=site, sheet=sheet, rule_names={}, docx=None)
    assert "D4 （7 项" in html and "另有 5 项同类问题未在此列出" in html
