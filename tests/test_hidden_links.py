"""S1 暗链: offsite links inside elements hidden inline or by a <style> rule on a class, an id or a tag."""
from __future__ import annotations

from crawler.extract.hidden import hidden_offsite_links
from crawler.extract.page import parse_text

STYLE = "<style>.gone { display:none } #away{visibility:hidden} marquee{font-size:0}</style>"
BODY = """
<div class="menu gone"><a href="http://casino.example/a">a</a></div>
<div id="away"><span><a href="http://casino.example/b">b</a></span></div>
<marquee><a href="http://casino.example/c">c</a></marquee>
<p style="position:absolute; left:-9999px"><a href="http://casino.example/d">d</a></p>
<div class="menu" id="nav"><a href="http://shown.example/e">e</a></div>
<div class="gone"><a href="http://www.other.gov.cn/f">a drop-down to a government platform</a></div>
"""


def _found(head: str) -> list[str]:
    tree = parse_text(f"<html><head>{head}</head><body>{BODY}</body></html>")
    return [link["url"] for link in hidden_offsite_links(tree, "http://127.0.0.1/", "utf-8")]


def test_links_hidden_by_class_id_tag_and_inline_style_rules():
    assert _found(STYLE) == ["http://casino.example/a", "http://casino.example/b", "http://casino.example/c",
                             "http://casino.example/d"]


def test_without_style_rules_only_inline_hiding_counts():
    assert _found("") == ["http://casino.example/d"]
