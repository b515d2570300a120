"""Extraction measured on labelled real pages: ../shared/realpages (measurement data only, never copied here).

    .venv/bin/python benchmarks/bench_realpages.py [--realpages DIR] [--show-misses]

Prints, per label field, correct / total: article publication dates (ours, and htmldate alone on the same
pages), page kinds, list items (count and newest date of the main list), home-page columns, footer
identifiers, and closure notices found on pages that carry none.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crawler.extract.page import ExtractOptions, analyse_page  # noqa: E402
from crawler.extract.text import decode_html  # noqa: E402
from sitecensus.config import load_config  # noqa: E402
from sitecensus.scan import extract_options  # noqa: E402

REFERENCE = date(2026, 11, 26)
DEFAULT_DIR = Path(__file__).resolve().parents[2] / "shared" / "realpages"
REPO = Path(__file__).resolve().parents[1]


def shipped_options() -> ExtractOptions:
    """The options a scan uses: the default profile's vocabulary, placeholders and dictionaries."""
    config = load_config(REPO / "config")
    return extract_options(config.profile(), config.dictionaries)


class Tally:
    def __init__(self):
        self.fields: dict[str, list[int]] = {}
        self.misses: dict[str, list[str]] = {}

    def add(self, field: str, ok: bool, miss: str = "") -> None:
        right, total = self.fields.setdefault(field, [0, 0])
        self.fields[field] = [right + ok, total + 1]
        if not ok:
            self.misses.setdefault(field, []).append(miss)

    def report(self, show_misses: bool) -> None:
        width = max(map(len, self.fields))
        for field, (right, total) in self.fields.items():
            print(f"{field:<{width}}  {right:>3} / {total:<3}  {right / total:6.1%}")
            if show_misses:
                for miss in self.misses.get(field, []):
                    print(f"{'':<{width}}    miss: {miss}")


def htmldate_alone(body: bytes) -> str | None:
    from htmldate import find_date

    text, _ = decode_html(body)
    try:
        return find_date(text, original_date=True, max_date=REFERENCE.isoformat())
    except Exception:  # noqa: BLE001 - a library failure is a miss, not a crash of the benchmark
        return None


def main_list(facts) -> tuple[int, str | None]:
    """The page's main list: the group with the most dated items (then the most items)."""
    if not facts.groups:
        return 0, None
    group = max(facts.groups, key=lambda g: (g.dated, len(g.items)))
    dates = [i.date for i in group.items if i.date]
    return group.dated, max(dates, default=None)


def column_names(facts) -> set[str]:
    names = {text for text, _ in facts.nav}
    names |= {g.heading for g in facts.groups if g.heading}
    return {"".join(n.split()) for n in names}


def measure(root: Path, tally: Tally) -> None:
    options = shipped_options()
    for label in json.loads((root / "labels.json").read_text("utf-8")):
        body = (root / label["file"]).read_bytes()
        name = label["file"]
        is_home = label["kind"] == "home"
        facts = analyse_page(f"http://{label.get('site_host') or 'example.gov.cn'}/{name}", body, None,
                             REFERENCE, options, is_home=is_home)
        if not is_home:
            tally.add("page kind", facts.kind == label["kind"], f"{name}: {facts.kind} (label {label['kind']})")
        if label["kind"] in ("article", "other") and label.get("published"):
            got = facts.article_date
            tally.add("date (ours)", got == label["published"],
                      f"{name}: {got} via {facts.article_date_source} (label {label['published']})")
            alone = htmldate_alone(body)
            tally.add("date (htmldate alone)", alone == label["published"], f"{name}: {alone}")
        if label.get("list_items"):
            count, newest = main_list(facts)
            want = label["list_items"]
            tally.add("list newest date", newest == want.get("newest"), f"{name}: {newest} (label {want.get('newest')})")
            tally.add("list item count", count == want.get("count"), f"{name}: {count} (label {want.get('count')})")
        if label.get("columns"):
            found = column_names(facts)
            for column in label["columns"]:
                tally.add("home columns (labelled names found)", "".join(column.split()) in found, f"{name}: {column}")
        ids = label.get("identifiers") or {}
        for key in ("site_code", "icp", "psb"):
            got = facts.identifiers.get(key)
            want = ids.get(key)
            tally.add(f"identifier {key}", (got or None) == (want or None), f"{name}: {got!r} (label {want!r})")
        as_home = facts if is_home else analyse_page(f"http://example.gov.cn/{name}", body, None, REFERENCE, options,
                                                     is_home=True)
        if not label.get("closure_notice"):
            tally.add("no closure notice where none", as_home.notice is None,
                      f"{name}: {(as_home.notice or {}).get('text', '')[:80]}")


def measure_dates(root: Path, tally: Tally) -> None:
    options = shipped_options()
    for label in json.loads((root / "dates" / "labels.json").read_text("utf-8")):
        body = (root / label["file"]).read_bytes()
        facts = analyse_page(f"http://example.cn/{label['file']}", body, None, REFERENCE, options)
        tally.add("dates/ date (ours)", facts.article_date == label["published"],
                  f"{label['file']}: {facts.article_date} via {facts.article_date_source} (label {label['published']})")
        alone = htmldate_alone(body)
        tally.add("dates/ date (htmldate alone)", alone == label["published"], f"{label['file']}: {alone}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--realpages", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args()
    if not (args.realpages / "labels.json").exists():
        sys.exit(f"没有找到标注页面：{args.realpages}/labels.json")
    tally = Tally()
    started = time.perf_counter()
    measure(args.realpages, tally)
    measure_dates(args.realpages, tally)
    tally.report(args.show_misses)
    print(f"({time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
