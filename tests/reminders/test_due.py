"""Due-time arithmetic across time zones and both daylight-saving transitions."""

import datetime as dt
import zoneinfo
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accounts.models import available_time_zones
from reminders.due import due_at, due_between, wall_ranges, wall_time_exists

UTC = dt.UTC
ZONES = sorted(available_time_zones())
# Zones with daylight saving, so hypothesis spends most of its examples near a transition.
DST_ZONES = [
    "Europe/London",
    "America/New_York",
    "America/Santiago",
    "Australia/Sydney",
    "Australia/Lord_Howe",  # a 30-minute change
    "Antarctica/Troll",  # a 2-hour change
    "Pacific/Chatham",
    "America/Havana",  # changes at midnight
]
PROPERTY = settings(max_examples=300, deadline=None)

zones = st.one_of(st.sampled_from(DST_ZONES), st.sampled_from(ZONES)).map(zoneinfo.ZoneInfo)
days = st.dates(min_value=dt.date(2026, 1, 1), max_value=dt.date(2030, 12, 31))
times = st.times().map(lambda t: t.replace(second=0, microsecond=0))


def local(instant, zone):
    return instant.astimezone(zone).replace(tzinfo=None)


def test_an_ordinary_evening_is_that_wall_time_in_utc():
    london = zoneinfo.ZoneInfo("Europe/London")

    assert due_at(dt.date(2026, 1, 15), dt.time(21, 30), london) == dt.datetime(
        2026, 1, 15, 21, 30, tzinfo=UTC
    )
    assert due_at(dt.date(2026, 7, 15), dt.time(21, 30), london) == dt.datetime(
        2026, 7, 15, 20, 30, tzinfo=UTC
    )


def test_a_time_skipped_by_spring_forward_fires_at_the_first_valid_minute_after():
    new_york = zoneinfo.ZoneInfo("America/New_York")
    # 8 March 2026: 02:00 EST becomes 03:00 EDT.

    instant = due_at(dt.date(2026, 3, 8), dt.time(2, 30), new_york)

    assert local(instant, new_york) == dt.datetime(2026, 3, 8, 3, 0)
    assert instant == dt.datetime(2026, 3, 8, 7, 0, tzinfo=UTC)


def test_a_time_repeated_by_fall_back_fires_once_at_its_first_occurrence():
    new_york = zoneinfo.ZoneInfo("America/New_York")
    # 1 November 2026: 01:30 happens at 05:30 UTC (EDT) and again at 06:30 UTC (EST).
    night = dt.date(2026, 11, 1)

    instant = due_at(night, dt.time(1, 30), new_york)
    hits = list(
        due_between(
            dt.time(1, 30),
            new_york,
            dt.datetime(2026, 11, 1, 0, 0, tzinfo=UTC),
            dt.datetime(2026, 11, 2, 0, 0, tzinfo=UTC),
        )
    )

    assert instant == dt.datetime(2026, 11, 1, 5, 30, tzinfo=UTC)
    assert hits == [(night, instant)]


@PROPERTY
@given(zone=zones, day=days, at=times)
def test_the_reminder_keeps_its_wall_time_or_the_first_minute_after_a_gap(zone, day, at):
    instant = due_at(day, at, zone)
    wanted = dt.datetime.combine(day, at)
    wall = local(instant, zone)

    if wall_time_exists(wanted, zone):
        assert wall == wanted
        # Of two occurrences (fall back), the first.
        assert instant <= wanted.replace(tzinfo=zone, fold=1).astimezone(UTC)
    else:
        assert wanted < wall <= wanted + dt.timedelta(hours=3)
        assert not any(
            wall_time_exists(wanted + dt.timedelta(minutes=m), zone)
            for m in range(int((wall - wanted).total_seconds() // 60))
        )


@PROPERTY
@given(zone=zones, day=days, at=times)
def test_consecutive_nights_are_about_a_day_apart(zone, day, at):
    gap = due_at(day + dt.timedelta(days=1), at, zone) - due_at(day, at, zone)

    assert dt.timedelta(hours=21) <= gap <= dt.timedelta(hours=27)


@PROPERTY
@given(
    zone=zones,
    day=days,
    at=times,
    cuts=st.lists(st.integers(min_value=1, max_value=4 * 24 * 60 - 1), max_size=40),
)
def test_ticks_that_share_their_edges_see_each_night_exactly_once(zone, day, at, cuts):
    start = dt.datetime.combine(day, dt.time(), tzinfo=UTC)
    edges = [start + dt.timedelta(minutes=m) for m in sorted({0, *cuts, 4 * 24 * 60})]

    seen = [hit for a, b in pairwise(edges) for hit in due_between(at, zone, a, b)]
    nights = [night for night, _ in seen]

    assert len(nights) == len(set(nights))
    assert nights == sorted(nights)
    assert len(nights) in (3, 4, 5)
    assert all(edges[0] < instant <= edges[-1] for _, instant in seen)


def within(at, ranges):
    return ranges is None or any(first <= at <= last for first, last in ranges)


@PROPERTY
@given(
    zone=zones,
    day=days,
    at=times,
    before=st.integers(min_value=0, max_value=179),
    length=st.integers(min_value=1, max_value=180),
)
def test_the_wall_ranges_hold_every_time_due_in_the_window(zone, day, at, before, length):
    # A window (after, until] of `length` minutes holding this night's due instant.
    instant = due_at(day, at, zone)
    after = instant - dt.timedelta(minutes=min(before, length - 1)) - dt.timedelta(seconds=30)
    until = after + dt.timedelta(minutes=length)

    assert within(at, wall_ranges(zone, after, until))


@pytest.mark.parametrize(
    ("zone", "tick", "at"),
    [
        # New York, 8 March 2026: 02:30 does not exist, its reminder goes at 03:00 EDT.
        ("America/New_York", dt.datetime(2026, 3, 8, 7, 0, tzinfo=UTC), dt.time(2, 30)),
        # New York, 1 November 2026: 01:59 EDT, the last minute before the clocks go back.
        ("America/New_York", dt.datetime(2026, 11, 1, 5, 59, tzinfo=UTC), dt.time(1, 59)),
        # Lord Howe changes by 30 minutes.
        ("Australia/Lord_Howe", dt.datetime(2026, 10, 3, 15, 30, tzinfo=UTC), dt.time(2, 15)),
    ],
)
def test_the_wall_ranges_hold_the_times_a_clock_change_makes_due(zone, tick, at):
    zone = zoneinfo.ZoneInfo(zone)
    after = tick - dt.timedelta(minutes=1)
    assert [day for day, _ in due_between(at, zone, after, tick)]  # due in this window

    assert within(at, wall_ranges(zone, after, tick))


def test_a_minute_without_a_clock_change_is_one_minute_of_wall_time():
    london = zoneinfo.ZoneInfo("Europe/London")
    tick = dt.datetime(2026, 1, 15, 21, 30, 0, 200_000, tzinfo=UTC)

    assert wall_ranges(london, tick - dt.timedelta(minutes=1), tick) == [
        (dt.time(21, 29, 0, 200_000), dt.time(21, 30, 0, 200_000))
    ]


def test_a_window_across_midnight_is_two_ranges_and_a_long_one_is_any_time():
    tokyo = zoneinfo.ZoneInfo("Asia/Tokyo")
    tick = dt.datetime(2026, 1, 15, 15, 0, 30, tzinfo=UTC)  # 00:00:30 in Tokyo

    assert wall_ranges(tokyo, tick - dt.timedelta(minutes=1), tick) == [
        (dt.time(23, 59, 30), dt.time.max),
        (dt.time.min, dt.time(0, 0, 30)),
    ]
    assert wall_ranges(tokyo, tick - dt.timedelta(hours=3), tick) is None
