"""Every rule of the spine, positive and negative, judged from one real scan of sites on 127.0.0.1."""


def test_v1_d1_unreachable_site(world):
    assert "V1" in world.codes("down") and "D1" in world.codes("down")
    v1 = world.findings("down", "V1")[0]
    assert v1["provisional"] and "暂定" in v1["title"]   # 3 probes, not a week: no veto yet
    assert world.site("down")["verdict"] == "无法检测" and not world.site("down")["vetoed"]
    assert "V1" not in world.codes("healthy") and "D1" not in world.codes("healthy")


def test_v2_home_not_updated(world):
    assert "V2" in world.codes("stale")
    assert "V2" not in world.codes("healthy") and "V2" not in world.codes("gbk")


def test_v2_navigation_only_home_page_judges_second_level_columns(world):
    v2 = world.findings("navonly", "V2")
    assert v2 and "导航入口" in v2[0]["title"]
    assert len(v2[0]["evidence"]) >= 6  # the home page plus every second-level column it judged
    assert "V2" not in world.codes("navfresh")  # nav-only too, but its columns are fresh


def test_v3_stale_key_columns(world):
    v3 = world.findings("stale", "V3")
    assert any("动态要闻、通知公告、政策文件" in f["title"] for f in v3)
    assert "V3" not in world.codes("healthy")


def test_v3_blank_columns(world):
    v3 = world.findings("blank", "V3")
    assert any("空白栏目 5 个" in f["title"] for f in v3)
    assert world.site("blank")["verdict"] == "不合格"


def test_d2_broken_links_home_and_other_pages(world):
    d2 = world.findings("broken", "D2")
    home = [f for f in d2 if f["title"].startswith("首页")]
    other = [f for f in d2 if f["title"].startswith("其他页面")]
    assert len(home) == 2 and all(f["points"] == 1.0 for f in home)       # 1 point each on the home page
    assert len(other) == 5 and all(f["points"] == 0.1 for f in other)     # 0.1 each elsewhere
    assert world.site("broken")["stats"]["broken_links"] == 7
    assert "D2" not in world.codes("healthy")


def test_d3_home_update_volume(world):
    assert "D3" in world.codes("stale")
    assert "D3" not in world.codes("healthy")


def test_d4_stale_and_blank_columns(world):
    titles = [f["title"] for f in world.findings("stale", "D4")]
    assert "栏目未按期更新：工作动态" in titles and "栏目未按期更新：通知公告" in titles
    blank_titles = [f["title"] for f in world.findings("blank", "D4")]
    assert sum(t.startswith("空白栏目") for t in blank_titles) == 5
    assert "D4" not in world.codes("healthy")


def test_vetoed_site_lists_deductions_for_reference(world):
    site = world.site("stale")
    assert site["vetoed"]
    deductions = [f for f in site["findings"] if f["severity"] == "deduction"]
    assert deductions and site["score"] < 100


def test_j1_closure_notice_missing(world):
    assert "J1" in world.codes("nonotice")
    assert "J1" not in world.codes("notice")
    assert "J1" not in world.codes("healthy")   # not participating in consolidation


def test_j2_notice_without_destination(world):
    j2 = world.findings("nolink", "J2")
    assert j2 and "没有链接" in j2[0]["evidence"][0]["detail"]
    assert "J2" not in world.codes("notice")


def test_j3_still_serving_after_planned_closure(world):
    assert "J3" in world.codes("overdue")
    assert "J3" not in world.codes("nonotice")   # its month has not come yet


def test_site_redirected_to_portal_counts_as_closed(world):
    closed = world.site("closed")
    assert closed["verdict"] == "已关停" and [f["code"] for f in closed["findings"]] == ["J4"]


def test_findings_carry_fingerprints_evidence_and_hints(world):
    for site in world.document["sites"]:
        for f in site["findings"]:
            assert len(f["fingerprint"]) == 16 and f["hint"] and f["evidence"]
    prints = [f["fingerprint"] for s in world.document["sites"] for f in s["findings"]]
    assert len(prints) == len(set(prints))


def test_consolidation_states(world):
    state = {key: world.site(key)["consolidation"]["state"] for key in
             ("gbk", "notice", "nonotice", "overdue", "closed", "healthy")}
    assert state == {"gbk": "待关停", "notice": "关停公告期", "nonotice": "关停公告期", "overdue": "应已关停",
                     "closed": "已关停", "healthy": "不参与整合"}
    assert world.site("overdue")["consolidation"]["overdue_days"] > 0
    assert "首页有关停公告" in world.site("notice")["consolidation"]["seen"]
    unregistered = next(s for s in world.document["sites"] if s["url"] is None)
    assert unregistered["consolidation"]["state"] == "未报送意见书"
    board = (world.out / "index.html").read_text(encoding="utf-8")
    assert board.index("应已关停（逾期") < board.index("关停公告期") < board.index("待关停</td>")


def test_j5_j6_retained_portal_page_links(world):
    def retained(unit):
        return next(s for s in world.document["sites"] if s["unit"] == unit and s["role"] == "portal_page")
    page = retained("区农林局")
    assert [f["code"] for f in page["findings"]] == ["J6"]   # 互动交流 stays on the portal: wrong; 信息公开 right
    assert "互动交流" in page["findings"][0]["title"] and page["verdict"] == "不合格"
    other = retained("区环保局")
    assert [f["code"] for f in other["findings"]] == ["J5"]  # 信息公开 on the portal: wrong; services right
    assert other["findings"][0]["evidence"][0]["url"].endswith("/xxgk/hbj/")
    own_site = world.site("notice")
    assert not any(f["code"] in ("J5", "J6") for f in own_site["findings"])


def test_j4_what_remains_to_be_deregistered(world):
    gone = world.site("gone")
    assert gone["verdict"] == "已关停" and gone["consolidation"]["seen"] == "域名无法解析"
    assert not any(f["code"] == "J4" for f in gone["findings"])         # nothing left: the name no longer resolves
    assert world.fetch("gone", "/").error == "dns"
    closed = world.findings("closed", "J4")[0]
    assert "域名仍可解析" in closed["title"] and "跳转到" in closed["title"]
    overdue = world.findings("overdue", "J4")[0]
    assert "页面仍显示网站标识码" in overdue["title"]
    assert not world.findings("nonotice", "J4")                        # its closure month has not come


def test_j7_unregistered_district_site_linked_from_the_portal(world):
    portal = next(s for s in world.document["sites"] if s["url"] == world.urls["portal"])
    j7 = {f["evidence"][0]["url"]: f for f in portal["findings"] if f["code"] == "J7"}
    assert set(j7) == {world.urls["unregistered"], world.urls["lookalike"]}   # under bl.gov.cn; a 北仑-looking .gov.cn
    assert all(f["evidence"][0]["source"] == world.urls["portal"] for f in j7.values())
    assert not any(f["code"] == "J7" for s in world.document["sites"] if s["url"] != world.urls["portal"]
                   for f in s["findings"])   # registered sites and the platforms are never reported
    board = (world.out / "index.html").read_text(encoding="utf-8")
    assert "疑似未经审批开设的网站" in board and "nyxx.bl.gov.cn" in board
