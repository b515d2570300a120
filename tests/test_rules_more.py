"""V4-V6, D5-D10, G1-G3, S1-S4 on sites served over 127.0.0.1, under both profiles where they differ."""
import json

import pytest

from tests.conftest import run_cli


@pytest.fixture(scope="module")
def inspection(world, tmp_path_factory):
    """The same scan judged again under the 2019 indicators (no crawling)."""
    config = world.private_copy(tmp_path_factory.mktemp("inspection"))
    result = run_cli("rescore", str(world.document["scan"]["id"]), "--profile", "inspection2019", "--json",
                     "--as-of", world.as_of.strftime("%Y-%m-%dT%H:%M"), config=config, check=True)
    document = json.loads(result.stdout)
    return {s["url"]: s for s in document["sites"] if s["url"]}


def codes_2019(inspection, world, key):
    return [f["code"] for f in inspection[world.urls[key]]["findings"]]


def test_v4_serious_errors_with_the_sentence_around(world):
    v4 = {f["title"]: f for f in world.findings("bad", "V4")}
    wrong = next(f for t, f in v4.items() if "不忘出心" in t)
    assert "应为“不忘初心”" in wrong["title"] and "不忘出心、牢记使命" in wrong["evidence"][0]["detail"]
    assert any("六合彩" in t for t in v4)
    assert world.site("bad")["vetoed"]
    assert "V4" not in world.codes("healthy")


def test_v5_message_unanswered_over_three_months(world):
    v5 = world.findings("bad", "V5")
    assert len(v5) == 1 and v5[0]["count"] == 1 and "未回复" in v5[0]["evidence"][0]["detail"]
    assert "V5" not in world.codes("healthy")  # every message answered


def test_v5_no_channel_only_in_2019(world, inspection):
    assert "V5" not in world.codes("blank")                  # 2015: no such veto
    v5 = [f for f in inspection[world.urls["blank"]]["findings"] if f["code"] == "V5"]
    assert v5 and "没有可用的在线咨询建言渠道" in v5[0]["title"]
    assert "V5" not in codes_2019(inspection, world, "healthy")


def test_d5_channel_missing(world):
    assert "D5" in world.codes("blank") and "D5" not in world.codes("healthy")


def test_d6_d7_activities(world):
    d6, d7 = world.findings("bad", "D6")[0], world.findings("bad", "D7")[0]
    assert d6["points"] == 3 and d6["count"] == 2        # held, but fewer than 6
    assert d7["points"] == 5 and "未开设" in d7["title"]    # none at all
    assert "D6" not in world.codes("healthy") and "D7" not in world.codes("healthy")


def test_d8_guide_elements_by_profile(world, inspection):
    d8 = world.findings("bad", "D8")
    assert len(d8) == 6 and all(f["count"] == 3 for f in d8)            # 2015: 8 elements, 3 missing
    d8_2019 = [f for f in inspection[world.urls["bad"]]["findings"] if f["code"] == "D8"]
    assert all(f["count"] == 5 for f in d8_2019)                         # 2019: 10 elements, 5 missing
    assert "办理机构" in d8_2019[0]["evidence"][0]["detail"]
    assert "D8" not in world.codes("healthy")


def test_v6_only_in_2019(world, inspection):
    assert "V6" not in world.codes("bad")
    v6 = [f for f in inspection[world.urls["bad"]]["findings"] if f["code"] == "V6"]
    assert v6 and v6[0]["count"] == 6
    assert "V6" not in codes_2019(inspection, world, "healthy")


def test_d9_attachments_that_do_not_download(world):
    d9 = world.findings("bad", "D9")[0]
    details = {e["url"].rsplit("/", 1)[-1]: e["detail"] for e in d9["evidence"]}
    assert "无法下载" in details["missing.doc"] and "错误页" in details["form.xls"]
    assert "D9" not in world.codes("healthy")


def test_d10_online_system_that_does_not_open(world):
    d10 = world.findings("bad", "D10")[0]
    assert d10["evidence"][0]["url"].endswith("/online/apply") and "在线办理" in d10["evidence"][0]["detail"]
    assert "D10" not in world.codes("healthy")


def test_g1_g3_footer_and_meta(world):
    g1 = world.findings("bad", "G1")[0]
    assert "ICP备案编号" in g1["title"]
    g3 = world.findings("bad", "G3")[0]
    assert "9999999999" in g3["title"]
    assert "G1" not in world.codes("healthy") and "G3" not in world.codes("healthy")


def test_g2_host_not_under_gov_cn(world):
    assert "IP 地址" in world.findings("healthy", "G2")[0]["title"]  # every loopback site is a bare IP


def test_s1_hidden_link(world):
    s1 = world.findings("bad", "S1")[0]
    assert s1["evidence"][0]["url"].endswith("/spam/casino") and "display:none" in s1["evidence"][0]["detail"]
    assert "S1" not in world.codes("healthy")


def test_s2_personal_data_masked(world):
    s2 = world.findings("bad", "S2")[0]
    details = " ".join(e["detail"] for e in s2["evidence"])
    assert "110***********002X" in details and "138****5678" in details
    assert "11010519491231002X" not in json.dumps(world.document, ensure_ascii=False)
    assert "S2" not in world.codes("healthy")


def test_s4_item_dated_in_the_future(world):
    s4 = world.findings("bad", "S4")[0]
    assert s4["count"] == 1
    assert "S4" not in world.codes("healthy")


def test_advisory_rules_take_no_points_by_default(world):
    for code in ("G1", "G2", "G3", "S1", "S2", "S4"):
        assert all(f["severity"] == "advisory" and f["points"] == 0 for f in world.findings("bad", code))


def test_s3_link_to_a_banned_host(world):
    s3 = world.findings("broken", "S3")[0]
    assert s3["evidence"][0]["url"].startswith(world.urls["dead"].rstrip("/"))
    assert "S3" not in world.codes("healthy")
