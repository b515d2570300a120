"""Probe-round benchmark: one round over N loopback hosts of which some hang, and the idle memory of
`sitecensus serve` probing them.

    python benchmarks/bench_probes.py [--hosts 200] [--hanging 20] [--timeout 15]

The hosts run in a separate process (an asyncio server per port, one name per host in the hosts map,
no DNS), so the CPU time measured is the prober's own. Prints one JSON line.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from crawler.probe import probe_round  # noqa: E402
from crawler.resolver import HostsMap  # noqa: E402

PAGE = ("<html><head><title>首页</title></head><body>" + "<p>政务动态 通知公告</p>" * 1500 + "</body></html>").encode()


async def _serve(count: int, hanging: int) -> None:
    async def answer(reader, writer):
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nConnection: close\r\n"
                     b"Content-Length: %d\r\n\r\n" % len(PAGE) + PAGE)
        await writer.drain()
        writer.close()

    async def hang(reader, writer):
        await asyncio.sleep(3600)

    ports = []
    for index in range(count):
        server = await asyncio.start_server(hang if index < hanging else answer, "127.0.0.1", 0)
        ports.append(server.sockets[0].getsockname()[1])
    print(json.dumps(ports), flush=True)
    await asyncio.Event().wait()


def start_hosts(count: int, hanging: int) -> tuple[subprocess.Popen, list[int]]:
    process = subprocess.Popen([sys.executable, __file__, "--serve", str(count), str(hanging)], stdout=subprocess.PIPE,
                               text=True)
    return process, json.loads(process.stdout.readline())


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def service_idle_rss(urls: list[str], hosts: dict[str, str], timeout: float) -> dict:
    """Start `sitecensus serve` on these sites, let it finish its first probe round, then read its RSS."""
    base = Path(tempfile.mkdtemp(prefix="bench-service-"))
    config = base / "config"
    config.mkdir()
    shutil.copytree(REPO / "config" / "criteria", config / "criteria")
    units = [{"name": f"单位{i:03d}", "kind": "部门", "urls": [url]} for i, url in enumerate(urls)]
    (config / "units.yaml").write_text(yaml.safe_dump({"units": units}, allow_unicode=True), encoding="utf-8")
    settings = yaml.safe_load((REPO / "config" / "settings.yaml").read_text(encoding="utf-8"))
    settings.update(store_url=f"sqlite:///{base / 'out' / 'db.sqlite'}", output_dir=str(base / "out"))
    settings["crawl"].update(hosts=hosts, resolve_only_listed=True)
    settings["probes"]["timeout_seconds"] = timeout
    settings["service"].update(log_file=None, scan_schedule={"year": 2099})
    (config / "settings.yaml").write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    service = subprocess.Popen([sys.executable, "-m", "sitecensus", "serve", "--config", str(config)],
                               stderr=subprocess.PIPE, text=True, cwd=base)
    for line in service.stderr:
        if "探测一轮" in line:
            break
    time.sleep(5)   # idle: the next round is 30 minutes away
    figure = {"service_idle_rss_mb": round(rss_mb(service.pid), 1), "first_round_log": line.strip()[-80:]}
    service.send_signal(signal.SIGTERM)
    service.communicate(timeout=60)
    figure["service_exit_code"] = service.returncode
    shutil.rmtree(base, ignore_errors=True)
    return figure


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hosts", type=int, default=200)
    parser.add_argument("--hanging", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=15)
    args = parser.parse_args()
    server, ports = start_hosts(args.hosts, args.hanging)
    try:
        names = {f"site{i:03d}.bench.invalid": "127.0.0.1" for i in range(args.hosts)}
        urls = [f"http://site{i:03d}.bench.invalid:{port}/" for i, port in enumerate(ports)]
        wall, cpu = time.perf_counter(), time.process_time()
        results = asyncio.run(probe_round(urls, args.timeout, "sitecensus-bench", HostsMap(names, only_listed=True)))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        errors: dict[str, int] = {}
        for result in results:
            errors[result.error or "ok"] = errors.get(result.error or "ok", 0) + 1
        figures = {"hosts": args.hosts, "hanging": args.hanging, "timeout_s": args.timeout,
                   "round_wall_s": round(wall, 2), "round_cpu_s": round(cpu, 2), "outcomes": errors,
                   "prober_rss_mb": round(rss_mb(os.getpid()), 1)}
        figures.update(service_idle_rss(urls, names, args.timeout))
    finally:
        server.kill()
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--serve":
        asyncio.run(_serve(int(sys.argv[2]), int(sys.argv[3])))
    else:
        main()
