"""The rule catalogue and the big-dictionary text pass."""
import random
import time

import pytest

from crawler.extract.textscan import Entry, TextMatcher, find_personal_data
from scoring.catalogue import markdown, ordered_codes
from scoring.rules import RULES
from sitecensus.config import load_config
from tests.conftest import REPO, run_cli


def test_docs_rules_md_is_generated_from_the_registry():
    cfg = load_config(REPO / "config")
    expected = markdown([cfg.profile("census2015"), cfg.profile("inspection2019")])
    assert (REPO / "docs" / "rules.md").read_text(encoding="utf-8").strip() == expected.strip(), \
        "docs/rules.md is stale: run `sitecensus rules --markdown > docs/rules.md`"


def test_rules_command_lists_every_rule_with_the_profile_numbers():
    result = run_cli("rules", "--profile", "inspection2019", "--config", str(REPO / "config"))
    assert result.returncode == 0, result.stderr
    for code in RULES:
        assert f" {code} " in result.stdout
    assert "一级栏目" in result.stdout            # a 2019-only number
    census = run_cli("rules", "--config", str(REPO / "config"))
    assert "本方案不适用" in census.stdout         # V6 does not exist in 2015


def test_catalogue_has_every_design_code():
    assert ordered_codes()[:6] == ["V1", "V2", "V3", "V4", "V5", "V6"]
    assert {f"D{i}" for i in range(1, 11)} | {f"J{i}" for i in range(1, 4)} | {"G1", "G2", "G3", "S1", "S2", "S3", "S4"} \
        <= set(RULES)


def test_ten_thousand_word_dictionary_over_a_one_megabyte_page():
    rng = random.Random(7)
    alphabet = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经"
    words = {"".join(rng.choice(alphabet) for _ in range(6)) for _ in range(12000)}
    words = sorted(words)[:10000]
    matcher = TextMatcher([Entry("banned", w) for w in words])
    text = "".join(rng.choice(alphabet) for _ in range(1_000_000))
    planted = words[1234]
    text = text[:500_000] + "。" + planted + "出现在这里。" + text[500_000:]
    started = time.perf_counter()
    hits, _ = matcher.scan(text)
    elapsed = time.perf_counter() - started
    assert any(h["word"] == planted and planted + "出现在这里" in h["context"] for h in hits)
    assert len(hits) <= 50                      # capped per page
    print(f"10,000-word automaton over {len(text):,} chars: {elapsed * 1000:.1f} ms")


def test_personal_data_needs_a_valid_id_checksum():
    found = find_personal_data("甲 11010519491231002X 乙 110105194912310021 丙 13812345678 丁 12345678901")
    assert [(f["kind"], f["masked"]) for f in found] == [("id_card", "110***********002X"), ("mobile", "138****5678")]


@pytest.mark.parametrize("text, numbers", [
    ("11010519491231002X在句首，13812345678也是", ["110***********002X", "138****5678"]),
    ("编号A11010519491231002X、913812345678、13812345678a", ["138****5678"]),   # glued to letters or digits
    ("公网安备 33020602002141号 电话：0574-13812345678。", ["138****5678"]),
    ("身份证11010519491231002Xy", []),
])
def test_personal_numbers_stand_alone(text, numbers):
    assert [f["masked"] for f in find_personal_data(text)] == numbers
