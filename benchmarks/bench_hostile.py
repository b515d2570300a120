"""The hostile-site suite (tests/hostile_sites.py) scanned with the SHIPPED settings, as a user gets them
(only the store, the portal, the hosts map and resolve_only_listed differ: nothing may leave loopback):
per case the verdict, its reason, the requests its server received and how long the scanner kept at it;
for the whole scan the wall time and the scan process's peak RSS.

    .venv/bin/python benchmarks/bench_hostile.py [--test-settings] [--keep DIR]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

TESTS = Path(__file__).resolve().parents[1] / "tests"
sys.path.insert(0, str(TESTS))

from hostile_sites import HostileWorld, budget_of, run_scan_measured, site_notes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--test-settings", action="store_true", help="the test-sized settings of tests/test_hostile.py")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (config, store, reports)")
    parser.add_argument("--timeout", type=float, default=3600, help="give up on the scan after this many seconds")
    args = parser.parse_args()
    crawl = probes = None
    if args.test_settings:
        from test_hostile import CRAWL as crawl
        from test_hostile import PROBES as probes
    with tempfile.TemporaryDirectory(prefix="bench-hostile-") as scratch:
        base = args.keep or Path(scratch)
        with HostileWorld(base / "sites") as world:
            config = world.write_config(base / "config", base / "out", crawl=crawl, probes=probes)
            as_of = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%dT%H:%M")
            measured = run_scan_measured(config, base, as_of, timeout=args.timeout)
            settings = yaml.safe_load((config / "settings.yaml").read_text(encoding="utf-8"))
            results = site_notes(settings["store_url"]) if measured.returncode == 0 else {}
            budget = budget_of(config)
            print(f"{'case':<16} {'verdict':<6} {'requests':>8} {'bound':>6} {'busy s':>7}  reason / findings")
            for key, served in world.served.items():
                doc = results.get(served.url, {})
                codes = ",".join(sorted({f["code"] for f in doc.get("findings", [])}))
                print(f"{key:<16} {doc.get('verdict', '-'):<6} {served.hits.count:>8} {served.case.bound(budget):>6} "
                      f"{served.hits.busy_seconds:>7.1f}  {doc.get('note') or ''} [{codes}]")
            blocked = [e for e in measured.guard if e["kind"] in ("connect", "dns", "open")]
            print(f"\nscan exit {measured.returncode}, wall {measured.wall_seconds:.1f} s, peak RSS "
                  f"{measured.peak_rss_mb:.0f} MB, canary requests {world.canary.hits.count}, "
                  f"refused outside loopback {len(blocked)} {blocked[:5]}")
            if measured.returncode != 0:
                print(measured.stderr[-3000:])
            if "Traceback" in measured.stderr:
                print("Traceback in the scan's output")
    return 0 if measured.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
