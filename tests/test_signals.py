"""A signal whose handler runs while an earlier handler is inside Event.set (holding its lock): the scan once hung
there for good after two SIGTERMs (`timeout` forwarding one, a kill of the process group the other)."""
from __future__ import annotations

import threading

import pytest

from sitecensus.stopflag import SignalEvent


def _second_signal_during_set(event: threading.Event) -> bool:
    """True when event.set() returns although a second handler's set() ran inside the first's notify_all, as a
    signal arriving there does (the handler runs in the same thread, between two bytecodes)."""
    notify_all = event._cond.notify_all

    def interrupted():
        event.set()            # the second SIGTERM's handler
        notify_all()
    event._cond.notify_all = interrupted
    runner = threading.Thread(target=event.set, daemon=True)
    runner.start()
    runner.join(3)
    return not runner.is_alive()


def test_a_signal_event_set_twice_at_once_returns():
    event = SignalEvent()
    assert _second_signal_during_set(event)
    assert event.is_set()


def test_control_a_plain_event_deadlocks_there():
    assert not _second_signal_during_set(threading.Event())   # what the scan's process did


@pytest.mark.parametrize("times", [1, 3])
def test_a_signal_event_clears_and_sets_again(times):
    event = SignalEvent()
    for _ in range(times):
        event.set()
        assert event.is_set()
        event.clear()
        assert not event.is_set()
