"""Charts drawn by the server as SVG geometry (no JavaScript library). Templates draw the
shapes; the same numbers are always in a table next to the chart."""

from __future__ import annotations

from dataclasses import dataclass

BAR_HEIGHT = 22
LABEL_WIDTH = 38  # percent of the width kept for labels


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str
    y: int
    width: float  # percent of the plot width


def rate_bars(rows, limit: int = 40) -> dict:
    """Horizontal bars of completion rate (0-100 %), largest groups first."""
    rows = sorted(rows, key=lambda r: -r.enrolled)[:limit]
    bars = [
        Bar(r.label or "", r.rate, f"{r.rate * 100:.0f}%", i * BAR_HEIGHT, r.rate * 100)
        for i, r in enumerate(rows)
    ]
    return {"bars": bars, "height": max(1, len(bars)) * BAR_HEIGHT + 4, "shown": len(bars)}


@dataclass(frozen=True)
class Column:
    label: str
    value: int
    x: float  # percent
    width: float
    height: float  # percent of the plot height


def month_columns(months) -> dict:
    top = max([m.active for m in months] + [1])
    step = 100 / max(1, len(months))
    columns = [
        Column(m.month, m.active, i * step + step * 0.15, step * 0.7, m.active / top * 100)
        for i, m in enumerate(months)
    ]
    return {"columns": columns, "top": top}
