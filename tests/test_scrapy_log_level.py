"""A crawl's log builds records only at the level it writes (Scrapy sets its own logger to DEBUG)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

CHILD = """
import json, logging, sys
from sitecensus.config import load_config
from sitecensus.scan import crawler_process, scrapy_settings
from pathlib import Path
settings = scrapy_settings(load_config(), Path(sys.argv[1]) if sys.argv[1] else None, sites=1, site_urls=["http://127.0.0.1:1/"])
process = crawler_process(settings)
from scrapy import Spider
process.crawl(Spider, name="site")   # every crawler installs Scrapy's root handler again
scrapy = logging.getLogger("scrapy.core.engine")
scrapy.info("written at info")
print(json.dumps({"debug": scrapy.isEnabledFor(logging.DEBUG), "info": scrapy.isEnabledFor(logging.INFO)}))
"""


def _child(log_file: str) -> dict:
    done = subprocess.run([sys.executable, "-c", CHILD, log_file], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parent.parent)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_logged_crawl_makes_no_debug_records_and_writes_info(tmp_path):
    log_file = tmp_path / "scan.log"
    assert _child(str(log_file)) == {"debug": False, "info": True}
    assert "written at info" in log_file.read_text(encoding="utf-8")


def test_an_unlogged_crawl_makes_no_debug_records_either():
    assert _child("")["debug"] is False
