"""SVG chart geometry (symptoms/charts.py): numbers in, coordinates out."""

import datetime as dt

import pytest

from symptoms import charts

SINCE = dt.date(2026, 11, 2)  # a Monday
LEFT, RIGHT = charts.PAD_LEFT, charts.SCREEN_WIDTH - charts.PAD_RIGHT
NAMES = ("pain", "sleep", "fatigue", "fog", "mood")


def day(offset):
    return SINCE + dt.timedelta(days=offset)


def doses(*runs):
    """[(label, held, days)] -> one (date, label, held) per day from SINCE."""
    out, offset = [], 0
    for label, held, count in runs:
        for _ in range(count):
            out.append((day(offset), label, held))
            offset += 1
    return out


def series(values=None, rolling=None, baseline=None):
    return [
        charts.Series(
            name=name,
            label=name.title(),
            higher_is_better=name in ("sleep", "mood"),
            values=values or {},
            rolling=rolling or {},
            baseline=baseline,
            response_lines=name == "pain",
        )
        for name in NAMES
    ]


def figure(values=None, rolling=None, band=(), until=None, baseline=None, width=None):
    return charts.small_multiples(
        series(values, rolling, baseline),
        list(band),
        SINCE,
        until or day(27),
        width=width or charts.SCREEN_WIDTH,
    )


def polyline(points):
    return [tuple(float(n) for n in pair.split(",")) for pair in points.split()]


def test_one_panel_per_rating_stacked_on_one_date_axis():
    fig = figure({day(0): 10, day(27): 0})
    assert [p.name for p in fig.panels] == list(NAMES)
    tops = [p.top for p in fig.panels]
    assert tops == sorted(tops)
    for above, below in zip(fig.panels, fig.panels[1:], strict=False):
        assert above.bottom < below.title_y - charts.FONT + 1
    pain = fig.panels[0]
    # The first day at the left edge, the last at the right; 10 at the top, 0 at the bottom.
    assert pain.daily == [(LEFT, pain.top), (RIGHT, pain.bottom)]


def test_ratings_map_from_ten_at_the_top_to_zero_at_the_bottom_of_each_panel():
    fig = figure({day(0): 0, day(1): 5, day(2): 10}, until=day(2))
    for p in fig.panels:
        middle = round((p.top + p.bottom) / 2, 1)
        assert [y for _, y in p.daily] == [p.bottom, middle, p.top]
        assert p.gridlines == [(p.bottom, "0"), (middle, "5"), (p.top, "10")]


def test_the_dose_band_is_under_the_last_panel_and_the_dates_under_the_band():
    fig = figure(band=doses(("1.5 mg", False, 28)))
    assert fig.band_y > fig.panels[-1].bottom
    assert fig.tick_y > fig.band_y + fig.band_height
    assert fig.height >= fig.tick_y


def test_the_axis_has_dated_ticks_on_mondays_for_a_month():
    fig = figure(until=day(27))
    assert [label for _, label in fig.ticks] == ["2 Nov", "9 Nov", "16 Nov", "23 Nov"]
    assert fig.ticks[0][0] == LEFT


@pytest.mark.parametrize(
    ("days", "most", "expected"),
    [
        (1, 5, [dt.date(2026, 11, 2)]),
        (5, 5, [day(n) for n in range(5)]),
        (9, 5, [day(n) for n in range(0, 9, 2)]),
        (28, 4, [day(n) for n in (0, 7, 14, 21)]),
        (90, 5, [day(n) for n in (0, 28, 56, 84)]),
        (400, 6, [dt.date(2026, 12, 1), *(dt.date(2027, m, 1) for m in (3, 6, 9, 12))]),
    ],
)
def test_date_ticks_stay_within_the_period_and_the_count(days, most, expected):
    ticks = charts.date_ticks(SINCE, day(days - 1), most)
    assert ticks == expected
    assert all(SINCE <= t <= day(days - 1) for t in ticks)


def test_pain_gets_its_baseline_and_the_30_and_50_percent_lines():
    fig = figure({day(0): 6}, baseline=6.0)
    pain, *others = fig.panels
    assert [(r.kind, r.value) for r in pain.refs] == [
        ("baseline", 6.0),
        ("moderate", 4.2),
        ("substantial", 3.0),
    ]
    assert [r.y for r in pain.refs] == [charts._y(v, pain.top, pain.bottom) for v in (6, 4.2, 3)]
    assert all(not p.refs for p in others)


def test_no_baseline_no_response_lines():
    assert figure({day(0): 6}).panels[0].refs == []


def test_reference_labels_never_overlap_even_when_the_lines_do():
    fig = figure({day(0): 1}, baseline=1.0)
    ys = sorted(r.label_y for r in fig.panels[0].refs)
    assert all(b - a >= charts.LABEL_GAP - 0.1 for a, b in zip(ys, ys[1:], strict=False))


def test_spread_labels_keeps_order_and_gaps():
    assert charts.spread_labels([10, 11, 12], 5, 0, 100) == [10, 15, 20]
    assert charts.spread_labels([98, 99, 100], 5, 0, 100) == [90, 95, 100]
    assert charts.spread_labels([50, 10], 5, 0, 100) == [50, 10]


@pytest.mark.parametrize("days", [1, 2, 7, 28, 180, 400])
@pytest.mark.parametrize("width", [charts.SCREEN_WIDTH, charts.PRINT_WIDTH])
def test_every_coordinate_stays_inside_its_panel(days, width):
    until = day(days - 1)
    values = {day(n): (n * 7) % 11 for n in range(days)}
    rolling = {day(n): ((n * 3) % 101) / 10 for n in range(days)}
    band = doses(("1.5 mg", False, 3), ("1.5 mg", True, 2), ("3 mg", False, days))[:days]
    fig = figure(values, rolling, band, until=until, baseline=5.0, width=width)
    right = width - charts.PAD_RIGHT
    for p in fig.panels:
        for x, y in [*p.daily, *polyline(p.rolling)]:
            assert LEFT <= x <= right
            assert p.top <= y <= p.bottom
    for segment in fig.segments:
        assert segment.x >= LEFT
        assert segment.x + segment.width <= right + 0.1
        assert segment.width > 0
    for x, _label in fig.ticks:
        assert LEFT <= x <= right


def test_values_outside_the_period_are_not_drawn():
    values = {day(-1): 3, day(0): 4, day(5): 6, day(6): 7}
    fig = figure(values, values, doses(("1.5 mg", False, 10)), until=day(5))
    assert len(fig.panels[0].daily) == 2
    assert len(polyline(fig.panels[0].rolling)) == 2
    last = fig.segments[-1]
    assert last.x + last.width == pytest.approx(RIGHT)


def test_the_dose_band_merges_consecutive_days_and_splits_held_ones():
    band = doses(("3 mg", False, 4), ("3 mg", True, 3), ("3 mg", False, 2), ("4.5 mg", False, 19))
    fig = figure(band=band)
    assert [(s.label, s.held) for s in fig.segments] == [
        ("3 mg", False),
        ("3 mg (held)", True),
        ("3 mg", False),
        ("4.5 mg", False),
    ]
    assert fig.has_held
    for before, after in zip(fig.segments, fig.segments[1:], strict=False):
        assert before.x + before.width == pytest.approx(after.x, abs=0.15)


def test_a_band_label_is_shown_only_where_it_fits():
    fig = figure(band=doses(("1.5 mg", False, 1), ("4.5 mg", False, 27)))
    assert [s.show_label for s in fig.segments] == [False, True]
