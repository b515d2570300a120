#!/usr/bin/env python3
"""Cost of the V4/S2 text pass per MB: the Aho-Corasick automaton (config/dictionaries.yaml plus the
guide-element labels, optionally padded to --words entries) and the personal-data regexes, over the
visible text of a govbench site's pages.

    benchmarks/bench_textpass.py --pages /tmp/govbench/sites_47x400/site_00/www [--words 10000]
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import lxml.html  # noqa: E402

from crawler.extract.text import decode_html  # noqa: E402
from crawler.extract.textscan import Entry, TextMatcher, find_personal_data  # noqa: E402
from sitecensus.config import load_config  # noqa: E402
from sitecensus.scan import text_matcher  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", required=True, type=Path, help="a folder of .html files")
    parser.add_argument("--words", type=int, default=0, help="pad the dictionary to this many entries")
    args = parser.parse_args()
    config = load_config(REPO / "config")
    matcher = text_matcher(config.profile(), config.dictionaries)
    if args.words:
        rng = random.Random(1)
        extra = {"".join(rng.choice("政府网站信息公开办事服务互动交流通知公告") for _ in range(6)) for _ in range(args.words)}
        base = [Entry("wrong_form", w.wrong, w.correct) for w in config.dictionaries.wrong_forms]
        matcher = TextMatcher(base + [Entry("banned", w) for w in sorted(extra)])
    texts = []
    for path in sorted(args.pages.rglob("*.html")):
        text, _ = decode_html(path.read_bytes(), None)
        texts.append(" ".join(lxml.html.document_fromstring(text).text_content().split()))
    size_mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    started = time.perf_counter()
    hits = sum(len(matcher.scan(t)[0]) for t in texts)
    automaton = time.perf_counter() - started
    started = time.perf_counter()
    pii = sum(len(find_personal_data(t)) for t in texts)
    regexes = time.perf_counter() - started
    print(f"{len(texts)} pages, {size_mb:.1f} MB of text (UTF-8); dictionary entries: "
          f"{len(matcher.automaton)}; automaton {automaton / size_mb * 1000:.1f} ms/MB ({hits} hits); "
          f"personal-data regexes {regexes / size_mb * 1000:.1f} ms/MB ({pii} hits)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
