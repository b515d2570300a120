"""Playwright's browser on an event loop of its own, in a thread: the caller may be inside another loop (the
crawl's asyncio reactor), where Playwright refuses to run."""
from __future__ import annotations

import asyncio
import threading


def in_thread(coroutine):
    """asyncio.run(coroutine) in a new thread; its result, or its exception raised here."""
    box: dict = {}

    def run() -> None:
        try:
            box["value"] = asyncio.run(coroutine)
        except BaseException as exc:  # noqa: BLE001 - raised again in the caller
            box["error"] = exc
    thread = threading.Thread(target=run, name="browser")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]
