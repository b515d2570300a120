"""The scan's own home-page probes and TLS checks, in a process of their own.

A probe's clock must not run while our crawler holds the interpreter: starting Scrapy, parsing a page with
20,000 links or a nesting bomb keeps the scan process's one interpreter lock for seconds, and a probe
thread beside it would time out on a healthy site (our overload as the unit's V1/D1). The child
(`python -m sitecensus.probing`) has its own interpreter. It reads its task from stdin and sends each round
back on stdout as soon as it is taken, so a stopped or killed scan keeps the rounds already taken; the end
of its stdin (the scan closing it, or dying) means: start no new round.
"""
from __future__ import annotations

import asyncio
import logging
import os
import pickle
import signal
import subprocess
import sys
import threading

from crawler.probe import probe_rounds, tls_round
from crawler.resolver import HostsMap

log = logging.getLogger("sitecensus.scan")


def start_probes(urls: list[str], rounds: int, spacing: float, timeout: float, user_agent: str, hosts: HostsMap,
                 out: list, tls: dict, stop: threading.Event | None = None) -> threading.Thread:
    """Probe `urls` in a child process; the returned thread collects its rounds into `out` and the TLS facts
    into `tls`, and ends when the child is done (once `stop` is set, no new round starts). Its `first_round`
    event is set once the first round is in `out` (or the child ended without one)."""
    child = subprocess.Popen([sys.executable, "-m", "sitecensus.probing"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE)
    pickle.dump((urls, rounds, spacing, timeout, user_agent, hosts), child.stdin)
    child.stdin.flush()

    def tell_stop():
        stop.wait()
        _close(child.stdin)

    first_round = threading.Event()

    def collect():
        try:
            while True:
                kind, payload = pickle.load(child.stdout)
                if kind == "round":
                    out.extend(payload)
                    first_round.set()
                elif kind == "tls":
                    tls.update(payload)
                elif kind == "error":
                    log.error("home-page probes failed: %s", payload)
        except (EOFError, pickle.UnpicklingError, OSError):
            pass   # done, or killed: what it sent is kept
        first_round.set()
        _close(child.stdin)
        child.wait()

    if stop is not None:
        threading.Thread(target=tell_stop, name="probes-stop", daemon=True).start()
    thread = threading.Thread(target=collect, name="probes", daemon=True)
    thread.first_round = first_round
    thread.start()
    return thread


def _close(pipe) -> None:
    try:
        pipe.close()
    except OSError:
        pass


def _until_closed(fd: int, stop: threading.Event) -> None:
    """Set `stop` at the end of stdin (raw reads: a buffered reader's lock would trouble the exit)."""
    while os.read(fd, 4096):
        pass
    stop.set()


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C reaches the whole group: the scan decides (stdin)
    task, answers = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr   # stdout carries the answers only
    urls, rounds, spacing, timeout, user_agent, hosts = pickle.load(task)
    stop = threading.Event()
    threading.Thread(target=_until_closed, args=(task.fileno(), stop), daemon=True).start()

    def send(kind: str, payload) -> None:
        pickle.dump((kind, payload), answers)
        answers.flush()

    async def both():
        # TLS alongside the first round rather than after the last: an interrupted scan keeps its facts too
        tls_facts = asyncio.ensure_future(tls_round(urls, timeout, hosts))
        await probe_rounds(urls, rounds, spacing, timeout, user_agent, hosts, stop,
                           on_round=lambda taken: send("round", taken))
        send("tls", await tls_facts)

    try:
        asyncio.run(both())
    except BrokenPipeError:
        pass   # the scan is gone
    except Exception as exc:  # noqa: BLE001 - probes must never take the scan down
        send("error", f"{type(exc).__name__}: {exc}")


if __name__ == "__main__":
    main()
