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
    marks = [(min(width - 2, round(width * (at - figure.start).total_seconds() / span, 1)), f"{at.astimezone(figure.end.tzinfo):%m-%d %H:%M} 探测失败")
             for at in figure.failures]
    return Timeline(width, width / days, marks)


@dataclass
class Trend:
    """Scores over the last scans as a polyline `width` × `height` (higher score = higher line)."""

    width: int
    height: int
    points: list[tuple[float, float, str]]   # (x, y, label); a scan without a score is left out

    @property
    def polyline(self) -> str:
        return " ".join(f"{x},{y}" for x, y, _ in self.points)


def score_trend(entries: list[dict], width: int = 120, height: int = 30, top: float | None = None) -> Trend:
    """`top`: the profile's full score (the chart's upper edge); without it, the best score shown."""
    top = top or max([e["score"] for e in entries if e["score"]] or [1])
    step = width / max(1, len(entries) - 1)
    points = [(round(i * step, 1), round(height - 2 - (height - 4) * max(0.0, min(e["score"], top)) / top, 1),
               f"第 {e['scan_id']} 次检测 {e['as_of']}：{e['score']:g} 分，{e['verdict']}")
              for i, e in enumerate(entries) if e["score"] is not None]
    return Trend(width, height, points)
