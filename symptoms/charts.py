"""Server-side SVG chart geometry: numbers in, coordinates out. No JavaScript, no CDN.

One small-multiples figure: a panel per rating, all on one date axis with dated ticks, the
dose band under them; the pain panel carries its baseline and the 30% and 50% response lines.
"""

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

# Sizes in SVG units. The screen figure is about as wide as a phone's card, so its text is
# drawn near its CSS size; the print figure is wide, and at A4/Letter width its 10-unit text
# prints at ~9 pt.
SCREEN_WIDTH, PRINT_WIDTH = 300, 640
PAD_LEFT, PAD_RIGHT = 24, 36  # the 0/5/10 labels; the reference lines' labels
TITLE_HEIGHT = 15
PLOT_HEIGHT = 56
PANEL_GAP = 6
BAND_GAP, BAND_HEIGHT = 4, 22
TICK_HEIGHT = 18
FONT = 10
CHAR_WIDTH = 6.8  # a generous width per character of a band label (the page may draw it at 12 px)
LABEL_GAP = FONT + 1  # the smallest distance between two labels' baselines

RESPONSE_LINES = (
    ("baseline", "base", 1.0),
    ("moderate", "-30%", 0.7),
    ("substantial", "-50%", 0.5),
)


@dataclass(frozen=True)
class Series:
    name: str
    label: str
    higher_is_better: bool
    values: Mapping[dt.date, float]  # the day's rating
    rolling: Mapping[dt.date, float]  # the 7-day mean ending that day
    baseline: float | None = None
    response_lines: bool = False  # pain: the baseline and the 30% and 50% lines


@dataclass(frozen=True)
class Segment:
    x: float
    width: float
    label: str
    held: bool
    show_label: bool


@dataclass(frozen=True)
class RefLine:
    kind: str  # baseline, moderate, substantial
    value: float
    y: float
    label: str
    label_y: float


@dataclass(frozen=True)
class Panel:
    name: str
    label: str
    higher_is_better: bool
    title_y: float
    top: float
    bottom: float
    daily: list  # [(x, y)] one dot per diary day
    rolling: str  # polyline points for the 7-day mean
    gridlines: list  # [(y, label)]
    refs: list  # [RefLine]


@dataclass(frozen=True)
class Figure:
    width: int
    height: float
    left: float
    right: float
    panels: list
    band_y: float
    band_height: int
    segments: list
    ticks: list  # [(x, label)]
    tick_y: float
    grid_top: float
    grid_bottom: float
    font: int = FONT

    @property
    def title(self) -> str:
        """The figure's alternative text (a tagged PDF reads it); the caption has the figures."""
        names = ", ".join(p.label.lower() for p in self.panels)
        return (
            f"Chart of each day's {names} (0-10) and their 7-day means, on one date axis "
            "with the dose under them. The caption below says how each compares with its "
            "baseline."
        )

    @property
    def has_held(self) -> bool:
        return any(s.held for s in self.segments)


def _x(day, since, span, left, right):
    return round(left + (right - left) * (day - since).days / span, 1)


def _y(value, top, bottom):
    return round(top + (bottom - top) * (10 - value) / 10, 1)


def date_ticks(since: dt.date, until: dt.date, most: int) -> list[dt.date]:
    """At most `most` dates to label on the axis: every day or second day for a short
    period, else Mondays every 1, 2 or 4 weeks, else the first of every 1, 2, 3 or 6 months."""
    span = (until - since).days
    for every in (1, 2):
        days = [since + dt.timedelta(days=n) for n in range(0, span + 1, every)]
        if len(days) <= most:
            return days
    first_monday = since + dt.timedelta(days=(7 - since.weekday()) % 7)
    for weeks in (1, 2, 4):
        days = []
        day = first_monday
        while day <= until:
            days.append(day)
            day += dt.timedelta(weeks=weeks)
        if len(days) <= most:
            return days
    next_month = (since.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    first = since if since.day == 1 else next_month
    for months in (1, 2, 3, 6, 12):
        days = []
        year, month = first.year, first.month
        while (day := dt.date(year, month, 1)) <= until:
            days.append(day)
            month += months
            year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
        if len(days) <= most:
            return days
    return [since, until]


def spread_labels(ys: Sequence[float], gap: float, low: float, high: float) -> list[float]:
    """Move label baselines apart so that none is closer than `gap` to the next, keeping
    their order (top to bottom) and not below `high`; `low` is where the top one may go."""
    order = sorted(range(len(ys)), key=lambda i: ys[i])
    placed = [ys[i] for i in order]
    for i in range(1, len(placed)):
        placed[i] = max(placed[i], placed[i - 1] + gap)
    overflow = placed[-1] - high if placed else 0
    if overflow > 0:
        placed[-1] -= overflow
        for i in range(len(placed) - 2, -1, -1):
            placed[i] = min(placed[i], placed[i + 1] - gap)
    if placed and placed[0] < low:
        # No room for all of them: keep the gaps, let the lowest one pass `high`.
        shift = low - placed[0]
        placed = [y + shift for y in placed]
    out = [0.0] * len(ys)
    for i, y in zip(order, placed, strict=True):
        out[i] = round(y, 1)
    return out


def _band(doses, since, until, span, left, right):
    segments, current = [], None
    for day, label, held in doses:
        if not since <= day <= until:
            continue
        if current and current["label"] == label and current["held"] == held:
            current["end"] = day
            continue
        current = {"start": day, "end": day, "label": label, "held": held}
        segments.append(current)
    step = (right - left) / span
    band = []
    for s in segments:
        # Each day owns a slot centred on its dot; the first and last slots are cut at the
        # plot's edges, or a short period would put the band outside it.
        start = max(_x(s["start"], since, span, left, right) - step / 2, left)
        end = min(_x(s["end"], since, span, left, right) + step / 2, right)
        width = round(max(end - start, 1), 1)
        text = s["label"] + (" (held)" if s["held"] else "")
        band.append(
            Segment(
                x=round(start, 1),
                width=width,
                label=text,
                held=s["held"],
                show_label=width >= len(text) * CHAR_WIDTH + 6,
            )
        )
    return band


def small_multiples(
    series: Sequence[Series], doses, since: dt.date, until: dt.date, width: int = SCREEN_WIDTH
) -> Figure:
    """`doses`: [(date, dose label, held)] for each day of the period."""
    left, right = PAD_LEFT, width - PAD_RIGHT
    span = max((until - since).days, 1)
    panels, top = [], 0.0
    for s in series:
        plot_top = top + TITLE_HEIGHT
        plot_bottom = plot_top + PLOT_HEIGHT
        daily = [
            (_x(d, since, span, left, right), _y(v, plot_top, plot_bottom))
            for d, v in sorted(s.values.items())
            if since <= d <= until and v is not None
        ]
        line = " ".join(
            f"{_x(d, since, span, left, right)},{_y(v, plot_top, plot_bottom)}"
            for d, v in sorted(s.rolling.items())
            if since <= d <= until
        )
        refs = []
        if s.response_lines and s.baseline:
            lines = [(kind, text, s.baseline * f) for kind, text, f in RESPONSE_LINES]
            ys = [_y(v, plot_top, plot_bottom) for _, _, v in lines]
            label_ys = spread_labels(
                [y + FONT / 3 for y in ys], LABEL_GAP, plot_top + FONT, plot_bottom + FONT / 3
            )
            refs = [
                RefLine(kind, round(v, 2), y, text, label_y)
                for (kind, text, v), y, label_y in zip(lines, ys, label_ys, strict=True)
            ]
        panels.append(
            Panel(
                name=s.name,
                label=s.label,
                higher_is_better=s.higher_is_better,
                title_y=top + FONT + 1,
                top=plot_top,
                bottom=plot_bottom,
                daily=daily,
                rolling=line,
                gridlines=[(_y(v, plot_top, plot_bottom), str(v)) for v in (0, 5, 10)],
                refs=refs,
            )
        )
        top = plot_bottom + PANEL_GAP
    band_y = top - PANEL_GAP + BAND_GAP
    most = max(2, int((right - left) // 60))
    # Past half a year the ticks are months, and the year matters more than the day.
    label = "{:%b %Y}" if span > 183 else "{0.day} {0:%b}"
    ticks = [
        (_x(day, since, span, left, right), label.format(day))
        for day in date_ticks(since, until, most)
    ]
    return Figure(
        width=width,
        height=band_y + BAND_HEIGHT + TICK_HEIGHT,
        left=left,
        right=right,
        panels=panels,
        band_y=band_y,
        band_height=BAND_HEIGHT,
        segments=_band(doses, since, until, span, left, right),
        ticks=ticks,
        tick_y=band_y + BAND_HEIGHT + FONT + 4,
        grid_top=panels[0].top if panels else 0,
        grid_bottom=band_y + BAND_HEIGHT,
    )
