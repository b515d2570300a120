"""Small inline SVG charts for the dashboard, as plain numbers a template draws (no script, no
external assets: the pages open from a file share or a mail attachment)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Timeline:
    """Failed probes over a window, as x positions on a strip `width` wide (one day per `day` px)."""

    width: int
    day: float
    marks: list[tuple[float, str]]     # (x, label)


def failure_timeline(figure, width: int = 168) -> Timeline:
    span = (figure.end - figure.start).total_seconds()
    days = max(1, round(span / 86400))
    marks = [(round(width * (at - figure.start).total_seconds() / span, 1), f"{at:%m-%d %H:%M} 探测失败")
             for at in figure.failures]
    return Timeline(width, width / days, marks)
