"""A scanning process's (or the service's) stop request (SIGTERM), in a module light enough to be imported before
anything else: a SIGTERM that arrives while the program is still importing then stops the scan at
its next safe point instead of killing the process outright.

Never raise from this handler: an exception landing inside an import leaves the import lock held,
and the probe thread then waits on it forever."""
import signal
import threading



class SignalEvent(threading.Event):
    """An Event that signal handlers set. Event.set takes a lock; a second signal whose handler runs while the first
    handler is inside set() (holding that lock) waited for it forever: a scan stopped by `timeout` plus a kill of
    its process group (two SIGTERMs) hung for good. The flag goes up before the lock is taken, so a handler that
    interrupts set() finds it up and returns."""

    def __init__(self):
        super().__init__()
        self._asked = False

    def set(self) -> None:
        if self._asked:
            return
        self._asked = True
        super().set()

    def clear(self) -> None:
        self._asked = False
        super().clear()


requested = SignalEvent()
# Commands that stop at a safe point on SIGTERM (the service too: a stop while it starts is a clean stop).
SCANNING_COMMANDS = ("scan", "audit", "recheck", "demo", "serve")


def request(_signum=None, _frame=None) -> None:
    requested.set()


def install() -> None:
    signal.signal(signal.SIGTERM, request)
