"""SVG chart geometry (symptoms/charts.py): numbers in, coordinates out."""

import datetime as dt

import pytest

from symptoms import charts

SINCE = dt.date(2026, 11, 1)
LEFT, RIGHT = charts.PAD_LEFT, charts.WIDTH - charts.PAD_RIGHT
TOP, BOTTOM = charts.PAD_TOP, charts.HEIGHT - charts.PAD_BOTTOM


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


def polyline(points):
    return [tuple(float(n) for n in pair.split(",")) for pair in points.split()]


def test_the_first_day_is_at_the_left_edge_and_the_last_at_the_right():
    chart = charts.build({day(0): 10, day(27): 0}, {}, [], SINCE, day(27))
    assert chart.daily == [(LEFT, TOP), (RIGHT, BOTTOM)]


def test_ratings_map_from_ten_at_the_top_to_zero_at_the_bottom():
    chart = charts.build({day(0): 0, day(1): 5, day(2): 10}, {}, [], SINCE, day(2))
    assert [y for _, y in chart.daily] == [BOTTOM, (TOP + BOTTOM) / 2, TOP]
    assert chart.gridlines == [(BOTTOM, "0"), ((TOP + BOTTOM) / 2, "5"), (TOP, "10")]


@pytest.mark.parametrize("days", [1, 2, 7, 28, 180, 400])
def test_every_coordinate_stays_inside_the_drawing(days):
    until = day(days - 1)
    values = {day(n): (n * 7) % 11 for n in range(days)}
    rolling = {day(n): ((n * 3) % 101) / 10 for n in range(days)}
    band = doses(("1.5 mg", False, 3), ("1.5 mg", True, 2), ("3 mg", False, days))[:days]
    chart = charts.build(values, rolling, band, until=until, since=SINCE)

    for x, y in [*chart.daily, *polyline(chart.rolling)]:
        assert LEFT <= x <= RIGHT
        assert TOP <= y <= BOTTOM
    for segment in chart.segments:
        assert segment.x >= 0
        assert segment.x + segment.width <= chart.width
        assert segment.width > 0
    assert chart.band_y + charts.BAND_HEIGHT <= chart.total_height


def test_values_outside_the_period_are_not_drawn():
    values = {day(-1): 3, day(0): 4, day(5): 6, day(6): 7}
    chart = charts.build(values, values, doses(("1.5 mg", False, 10)), SINCE, day(5))
    assert len(chart.daily) == 2
    assert len(polyline(chart.rolling)) == 2
    assert chart.segments[-1].x + chart.segments[-1].width == pytest.approx(chart.width)


def test_the_rolling_mean_is_one_polyline_in_date_order():
    rolling = {day(2): 5.0, day(0): 10.0, day(1): 0.0}
    chart = charts.build({}, rolling, [], SINCE, day(2))
    assert chart.rolling == "28.0,8.0 190.0,142.0 352.0,75.0"


def test_no_data_gives_an_empty_chart():
    chart = charts.build({}, {}, [], SINCE, day(27))
    assert chart.daily == [] and chart.rolling == "" and chart.segments == []


def test_the_dose_band_merges_consecutive_days_on_the_same_dose():
    chart = charts.build(
        {},
        {},
        doses(("1.5 mg", False, 7), ("3 mg", False, 7), ("4.5 mg", False, 14)),
        SINCE,
        day(27),
    )
    assert [(s.label, s.held) for s in chart.segments] == [
        ("1.5 mg", False),
        ("3 mg", False),
        ("4.5 mg", False),
    ]
    step = (RIGHT - LEFT) / 27
    widths = [s.width for s in chart.segments]
    # The first segment is cut at the left edge of the drawing; the others are whole days.
    assert widths[1] == pytest.approx(7 * step, abs=0.1)
    assert widths[0] == pytest.approx(6.5 * step + min(step / 2, LEFT), abs=0.1)
    # Segments follow one another without a gap or an overlap.
    for before, after in zip(chart.segments, chart.segments[1:], strict=False):
        assert before.x + before.width == pytest.approx(after.x, abs=0.15)


def test_held_days_get_their_own_segment_even_on_the_same_dose():
    band = doses(("3 mg", False, 4), ("3 mg", True, 3), ("3 mg", False, 2), ("4.5 mg", False, 5))
    chart = charts.build({}, {}, band, SINCE, day(13))
    assert [(s.label, s.held) for s in chart.segments] == [
        ("3 mg", False),
        ("3 mg", True),
        ("3 mg", False),
        ("4.5 mg", False),
    ]


def test_a_single_day_chart_stays_in_bounds():
    chart = charts.build({SINCE: 6}, {SINCE: 6.0}, doses(("1.5 mg", False, 1)), SINCE, SINCE)
    assert chart.daily == [(LEFT, charts._y(6))]
    (segment,) = chart.segments
    assert segment.x >= 0 and segment.x + segment.width <= chart.width
