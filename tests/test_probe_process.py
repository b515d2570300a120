"""The scan's probes keep their clock while the scan process is busy: a process that holds its interpreter
for seconds (as starting Scrapy or parsing a huge page does) while a probe is in flight. A probe thread in
that process times out on a healthy site (the control); the probe process (sitecensus/probing.py) does not."""
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from sitecensus.demo.server import DemoServer, Reply, SiteFiles

REPO = Path(__file__).resolve().parents[1]
BUSY_PROCESS = """
import asyncio, json, sys, threading, time
from pathlib import Path
from crawler.probe import probe_rounds
from crawler.resolver import HostsMap
from sitecensus.probing import start_probes

url, marker, how = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
out, tls = [], {}
if how == "process":
    done = start_probes([url], 1, 0, 4.0, "sitecensus-test", HostsMap(), out, tls, threading.Event())
else:
    done = threading.Thread(target=lambda: out.extend(asyncio.run(probe_rounds([url], 1, 0, 4.0, "t", HostsMap()))))
    done.start()
while not marker.exists():      # the probe is in flight: the server has it
    time.sleep(0.01)
n = 10 ** 6
started = time.perf_counter(); sum(range(n)); rate = n / (time.perf_counter() - started)
sum(range(int(rate * 8)))       # one C call: the interpreter lock held for ~8 s (the probe's timeout is 4 s)
done.join()
print(json.dumps([[p.ok, p.error] for p in out]))
"""


@pytest.fixture
def slow_healthy_site(tmp_path):
    marker = tmp_path / "asked"

    def answer(_method, _query, _form):
        marker.touch()
        time.sleep(0.3)
        return Reply(200, "<html><body>首页</body></html>".encode())

    server = DemoServer()
    server.serve(SiteFiles(handlers={"/": answer}))
    yield server.base_url, marker
    server.close()


def probes_beside_a_busy_interpreter(url: str, marker: Path, how: str) -> list:
    result = subprocess.run([sys.executable, "-c", BUSY_PROCESS, url, str(marker), how], capture_output=True,
                            text=True, timeout=120, cwd=REPO)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_a_probe_thread_in_a_busy_process_times_out_on_a_healthy_site(slow_healthy_site):
    """The control: shows the busy interpreter really starves a probe thread."""
    assert probes_beside_a_busy_interpreter(*slow_healthy_site, "thread") == [[False, "timeout"]]


def test_the_probe_process_keeps_its_clock_while_the_scan_is_busy(slow_healthy_site):
    assert probes_beside_a_busy_interpreter(*slow_healthy_site, "process") == [[True, None]]


def test_a_stop_ends_the_probe_process_before_its_next_round(slow_healthy_site):
    from crawler.resolver import HostsMap
    from sitecensus.probing import start_probes
    url, _ = slow_healthy_site
    out, tls, stop = [], {}, threading.Event()
    collector = start_probes([url], 5, 2.0, 1.0, "sitecensus-test", HostsMap(), out, tls, stop)
    deadline = time.monotonic() + 30
    while not out and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    collector.join(10)
    assert not collector.is_alive() and len(out) == 1 and out[0].ok   # the round taken is kept, no other starts
    assert url in tls


def test_first_round_is_raised_once_the_round_is_in(slow_healthy_site):
    """The scan waits on it before its second tries: a home page that failed the crawl and its probe alike is
    not asked a third time, even when the probe process starts slower than the crawl ends."""
    from crawler.resolver import HostsMap
    from sitecensus.probing import start_probes
    url, marker = slow_healthy_site
    out, tls, stop = [], {}, threading.Event()
    collector = start_probes([url], 2, 30.0, 4.0, "sitecensus-test", HostsMap(), out, tls, stop)
    assert not collector.first_round.is_set()   # the child is still starting: nothing asked yet
    assert collector.first_round.wait(30)
    assert marker.exists() and len(out) == 1 and out[0].ok
    stop.set()
    collector.join(40)
    assert not collector.is_alive() and len(out) == 1
