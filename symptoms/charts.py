"""Server-side SVG chart geometry: numbers in, coordinates out. No JavaScript, no CDN."""

import datetime as dt
from dataclasses import dataclass

WIDTH, HEIGHT = 360, 150
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 28, 8, 8, 8
BAND_HEIGHT = 26


@dataclass(frozen=True)
class Segment:
    x: float
    width: float
    label: str
    held: bool


@dataclass(frozen=True)
class Chart:
    daily: list  # [(x, y)] one dot per diary day
    rolling: str  # polyline points for the 7-day mean
    segments: list  # dose band under the chart
    gridlines: list  # [(y, label)]
    width: int = WIDTH
    height: int = HEIGHT
    band_y: int = HEIGHT + 6
    total_height: int = HEIGHT + 6 + BAND_HEIGHT


def _x(day, since, days):
    span = max(days - 1, 1)
    return round(PAD_LEFT + (WIDTH - PAD_LEFT - PAD_RIGHT) * (day - since).days / span, 1)


def _y(value):
    return round(PAD_TOP + (HEIGHT - PAD_TOP - PAD_BOTTOM) * (10 - value) / 10, 1)


def build(values, rolling, doses, since: dt.date, until: dt.date) -> Chart:
    """`values`/`rolling`: {date: 0-10}; `doses`: [(date, dose label, held)] for each day."""
    days = (until - since).days + 1
    daily = [(_x(d, since, days), _y(v)) for d, v in sorted(values.items()) if since <= d <= until]
    line = " ".join(
        f"{_x(d, since, days)},{_y(v)}" for d, v in sorted(rolling.items()) if since <= d <= until
    )
    segments, current = [], None
    step = (WIDTH - PAD_LEFT - PAD_RIGHT) / max(days - 1, 1)
    for day, label, held in doses:
        if not since <= day <= until:
            continue
        if current and current["label"] == label and current["held"] == held:
            current["end"] = day
            continue
        current = {"start": day, "end": day, "label": label, "held": held}
        segments.append(current)
    band = []
    for s in segments:
        # Each day owns a slot centred on its dot; the first and last slots are cut at the
        # edges of the drawing, or a short period would put the band outside it.
        left = max(_x(s["start"], since, days) - step / 2, 0)
        right = min(_x(s["end"], since, days) + step / 2, WIDTH)
        band.append(
            Segment(
                x=round(left, 1),
                width=round(max(right - left, 1), 1),
                label=s["label"],
                held=s["held"],
            )
        )
    gridlines = [(_y(v), str(v)) for v in (0, 5, 10)]
    return Chart(daily=daily, rolling=line, segments=band, gridlines=gridlines)
