"""Never judge what could not be read: unverified columns and unread home pages are listed as 无法核实 with
their reason, never blank, stale, missing or 不更新 (scoring on constructed snapshots)."""
from datetime import timedelta

from scoring.certainty import NOTHING_READ, unverified_items
from scoring.score import judge
from scoring.snapshot import ColumnFact, Home, SiteSnapshot
from tests.test_scoring import AS_OF, CENSUS, INSPECTION, TODAY, codes, column, healthy_columns, snapshot

SCRIPT_LIST = "列表由大汉 jpage 脚本加载，未能读取"


def unread_column(name, from_home=True):
    return ColumnFact(url=f"http://x.gov.cn/col/{abs(hash(name))}/", name=name, from_home=from_home, item_count=0,
                      dated_count=0, newest_date=None, blank=False, unverified=SCRIPT_LIST)


def shell_snapshot(columns=None, **home_facts):
    home = Home(url="http://x.gov.cn/", final_url="http://x.gov.cn/", status=200, outcome="ok", error=None,
                items=[], **home_facts)
    return SiteSnapshot(unit="区测试局", url="http://x.gov.cn/", as_of=AS_OF, home=home, columns=columns or [])


def test_unread_columns_are_neither_stale_nor_blank():
    columns = [unread_column(f"通知公告{i}") for i in range(6)]
    result = judge(snapshot(columns), CENSUS)
    assert "V3" not in codes(result) and "D4" not in codes(result)
    assert result.verdict == "合格"
    listed = [u for u in result.unverified if u["reason"] == SCRIPT_LIST]
    assert len(listed) == 6 and all("通知公告" in u["what"] for u in listed)


def test_the_same_columns_read_and_stale_still_veto():
    """The guard only covers what was not read: five stale columns that were read still veto."""
    columns = [column(f"通知公告{i}", 200) for i in range(5)] + [unread_column("政策文件")]
    result = judge(snapshot(columns), CENSUS)
    assert "V3" in codes(result)
    assert [u["what"] for u in result.unverified] == ["栏目“政策文件”的更新情况"]


def test_an_app_shell_home_is_not_a_navigation_only_home():
    result = judge(shell_snapshot(healthy_columns() + [unread_column("要闻动态")], app_shell=True), CENSUS)
    assert "V2" not in codes(result) and "D3" not in codes(result) and "G1" not in codes(result)
    assert any("单页应用" in u["reason"] for u in result.unverified)


def test_nav_only_home_with_an_unread_second_level_column_is_not_vetoed():
    stale = [column(f"动态{i}", 60) for i in range(2)]
    result = judge(shell_snapshot(stale + [unread_column("工作动态")]), CENSUS)
    assert "V2" not in codes(result)
    # all second-level columns read and stale: V2 stands
    assert "V2" in codes(judge(shell_snapshot(stale), CENSUS))


def test_a_site_whose_content_could_not_be_read_at_all_is_unchecked_with_the_reason():
    snap = shell_snapshot([unread_column("要闻动态"), unread_column("通知公告")], app_shell=True)
    result = judge(snap, CENSUS)
    assert result.verdict == "无法检测" and result.score is None
    assert "单页应用" in result.note
    assert not {"V2", "V3", "D3", "D4", "D5", "D6", "D7", "G1"} & set(codes(result))


def test_missing_interaction_columns_are_not_concluded_from_an_unread_home():
    snap = shell_snapshot([column("工作动态", 1, items=[{"title": "t", "url": "http://x.gov.cn/t.html",
                                                   "date": (TODAY - timedelta(days=1)).isoformat()}])],
                          unread=[{"reason": SCRIPT_LIST, "family": "hanweb"}])
    for profile in (CENSUS, INSPECTION):
        result = judge(snap, profile)
        assert not {"V5", "D5", "D6", "D7", "V6"} & set(codes(result)), profile.name
    # the same home page read: the missing columns are facts and are reported
    snap.home.unread = []
    assert {"D5", "D6", "D7"} <= set(codes(judge(snap, CENSUS)))


def test_unread_consultation_list_gives_no_no_message_deduction():
    result = judge(snapshot([unread_column("在线咨询")]), CENSUS)
    assert not [f for f in result.findings if f.code == "D5" and "无有效留言" in f.title]


def test_unverified_items_name_the_home_page_when_its_lists_were_not_read():
    snap = shell_snapshot(unread=[{"reason": SCRIPT_LIST, "family": "hanweb"}])
    items = unverified_items(snap)
    assert items[0]["url"] == "http://x.gov.cn/" and items[0]["reason"] == SCRIPT_LIST
    snap.home.rendered = True   # rendered in Chromium: read; what is left open is only that no item was seen
    assert [u["reason"] for u in unverified_items(snap)] == [NOTHING_READ]
    snap.home.items = [{"title": "通知", "url": "http://x.gov.cn/1.html", "date": "2026-01-01"}]
    assert unverified_items(snap) == []


def test_a_home_page_with_one_unread_block_is_judged_only_on_a_seen_update():
    stale_items = [{"title": "旧闻", "url": "http://x.gov.cn/old.html", "date": (TODAY - timedelta(days=90)).isoformat()}]
    snap = shell_snapshot(healthy_columns(), unread=[{"reason": SCRIPT_LIST, "family": "docwrite"}])
    snap.home.items = stale_items
    assert not {"V2", "D3"} & set(codes(judge(snap, CENSUS)))
    snap.home.unread = []   # every block read and none updated: V2 stands
    assert "V2" in codes(judge(snap, CENSUS))
