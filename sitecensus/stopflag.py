"""A scanning process's (or the service's) stop request (SIGTERM), in a module light enough to be imported before
anything else: a SIGTERM that arrives while the program is still importing then stops the scan at
its next safe point instead of killing the process outright.

Never raise from this handler: an exception landing inside an import leaves the import lock held,
and the probe thread then waits on it forever."""
import signal
import threading

requested = threading.Event()
# Commands that stop at a safe point on SIGTERM (the service too: a stop while it starts is a clean stop).
SCANNING_COMMANDS = ("scan", "audit", "recheck", "demo", "serve")


def request(_signum=None, _frame=None) -> None:
    requested.set()


def install() -> None:
    signal.signal(signal.SIGTERM, request)
