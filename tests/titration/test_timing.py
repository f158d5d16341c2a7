"""Late doses (shared/DOMAIN.md, missed doses): take it when remembered unless the next dose is
6 hours away or less; never double up.

`previous_dose_status` takes the patient's local time. The next dose is due at `dose_time` on
`local_now`'s wall-clock date; the 6-hour gap is real elapsed time, so on a daylight-saving
night an aware `local_now` gives the hours that actually pass (a naive one is taken as wall
clock with no clock change).
"""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from titration.timing import LateDose, previous_dose_status

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
BEDTIME = dt.time(21, 30)
MORNING = dt.time(8, 0)
QUIET_DAY = dt.date(2026, 6, 10)  # no clock change anywhere near
SPRING_FORWARD = dt.date(2026, 3, 29)  # London: 01:00 GMT becomes 02:00 BST
FALL_BACK = dt.date(2026, 10, 25)  # London: 02:00 BST becomes 01:00 GMT


def at(hour, minute=0, *, day=QUIET_DAY, tz=LONDON, fold=0):
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=tz).replace(fold=fold)


def status(local_now, dose_time=BEDTIME, *, yesterday_due=True, yesterday_logged=False):
    return previous_dose_status(
        local_now=local_now,
        dose_time=dose_time,
        yesterday_due=yesterday_due,
        yesterday_logged=yesterday_logged,
    )


# Bedtime dose at 21:30, yesterday's dose due and not logged.


def test_just_after_midnight_yesterdays_bedtime_dose_can_still_be_taken():
    assert status(at(0, 30)) is LateDose.TAKE_NOW


def test_six_hours_and_one_minute_before_tonights_dose_it_can_still_be_taken():
    assert status(at(15, 29)) is LateDose.TAKE_NOW


def test_exactly_six_hours_before_tonights_dose_it_is_skipped():
    # "Unless the next dose is less than 6 hours away" is read safely: it must be *more* than 6.
    assert status(at(15, 30)) is LateDose.SKIP


def test_a_few_hours_before_tonights_dose_it_is_skipped():
    assert status(at(20, 0)) is LateDose.SKIP


def test_a_minute_before_tonights_dose_it_is_skipped():
    assert status(at(21, 29)) is LateDose.SKIP


@pytest.mark.parametrize("hour, minute", [(21, 30), (21, 31), (23, 59)])
def test_from_tonights_dose_time_yesterdays_dose_is_simply_missed(hour, minute):
    assert status(at(hour, minute)) is LateDose.NONE


def test_nothing_is_said_when_yesterdays_dose_is_logged():
    assert status(at(0, 30), yesterday_logged=True) is LateDose.NONE


def test_nothing_is_said_when_yesterdays_dose_is_logged_even_close_to_tonights():
    assert status(at(20, 0), yesterday_logged=True) is LateDose.NONE


def test_nothing_is_said_when_no_dose_was_due_yesterday():
    assert status(at(0, 30), yesterday_due=False) is LateDose.NONE


def test_nothing_is_said_when_no_dose_was_due_and_none_logged_close_to_tonights():
    assert status(at(20, 0), yesterday_due=False) is LateDose.NONE


# Morning dose at 08:00.


def test_seven_hours_before_a_morning_dose_yesterdays_can_still_be_taken():
    assert status(at(1, 0), MORNING) is LateDose.TAKE_NOW


def test_exactly_six_hours_before_a_morning_dose_yesterdays_is_skipped():
    assert status(at(2, 0), MORNING) is LateDose.SKIP


def test_after_the_morning_dose_time_yesterdays_is_simply_missed():
    assert status(at(8, 0), MORNING) is LateDose.NONE


def test_at_midnight_before_a_morning_dose_yesterdays_can_still_be_taken():
    assert status(at(0, 0), MORNING) is LateDose.TAKE_NOW


def test_the_answer_is_one_of_the_late_dose_strings():
    assert status(at(0, 30)) == "take_now"
    assert status(at(20, 0)) == "skip"
    assert status(at(22, 0)) == "none"


# Daylight saving: the gap is real elapsed time, not the wall-clock difference.


def test_spring_forward_night_half_past_midnight_to_7am_is_only_five_and_a_half_hours():
    # 00:30 GMT to 07:00 BST reads as 6.5 h on the clock but only 5.5 h pass.
    assert status(at(0, 30, day=SPRING_FORWARD), dt.time(7, 0)) is LateDose.SKIP


def test_spring_forward_night_exactly_six_real_hours_is_skipped():
    # 00:30 GMT to 07:30 BST: 7 h on the clock, 6 h real.
    assert status(at(0, 30, day=SPRING_FORWARD), dt.time(7, 30)) is LateDose.SKIP


def test_spring_forward_night_six_real_hours_and_a_minute_can_be_taken():
    assert status(at(0, 30, day=SPRING_FORWARD), dt.time(7, 31)) is LateDose.TAKE_NOW


def test_spring_forward_night_after_the_clocks_change_the_clock_difference_is_real():
    # 03:00 BST and 09:00 BST are both after the change: 6 h on the clock and 6 h real.
    assert status(at(3, 0, day=SPRING_FORWARD), dt.time(9, 0)) is LateDose.SKIP
    assert status(at(3, 0, day=SPRING_FORWARD), dt.time(9, 1)) is LateDose.TAKE_NOW


def test_spring_forward_night_bedtime_dose_after_midnight_can_be_taken():
    assert status(at(0, 30, day=SPRING_FORWARD)) is LateDose.TAKE_NOW
    assert status(at(3, 0, day=SPRING_FORWARD)) is LateDose.TAKE_NOW


def test_spring_forward_night_bedtime_dose_is_skipped_six_hours_before():
    assert status(at(15, 30, day=SPRING_FORWARD)) is LateDose.SKIP
    assert status(at(15, 29, day=SPRING_FORWARD)) is LateDose.TAKE_NOW


def test_spring_forward_dose_time_that_the_clock_skips_is_already_past_at_3am():
    assert status(at(3, 0, day=SPRING_FORWARD), dt.time(1, 30)) is LateDose.NONE


def test_fall_back_night_first_half_past_one_is_seven_real_hours_before_7_30():
    # 01:30 BST (the first time round) to 07:30 GMT: 6 h on the clock, 7 h real.
    assert status(at(1, 30, day=FALL_BACK, fold=0), dt.time(7, 30)) is LateDose.TAKE_NOW


def test_fall_back_night_second_half_past_one_is_six_real_hours_before_7_30():
    # 01:30 GMT (after the clocks went back) to 07:30 GMT: 6 h on the clock and 6 h real.
    assert status(at(1, 30, day=FALL_BACK, fold=1), dt.time(7, 30)) is LateDose.SKIP


def test_fall_back_night_ten_to_one_is_almost_seven_real_hours_before_6_45():
    # 00:50 BST to 06:45 GMT: 5 h 55 min on the clock, 6 h 55 min real.
    assert status(at(0, 50, day=FALL_BACK), dt.time(6, 45)) is LateDose.TAKE_NOW


def test_new_york_spring_forward_night_uses_real_hours_too():
    # 2026-03-08: 02:00 EST becomes 03:00 EDT. 01:00 EST to 07:30 EDT is 5.5 h real.
    assert status(at(1, 0, day=dt.date(2026, 3, 8), tz=NEW_YORK), dt.time(7, 30)) is (LateDose.SKIP)


def test_a_naive_local_time_is_read_as_wall_clock():
    naive = dt.datetime.combine(SPRING_FORWARD, dt.time(0, 30))

    assert status(naive, dt.time(7, 0)) is LateDose.TAKE_NOW
    assert status(naive, dt.time(6, 30)) is LateDose.SKIP


def test_a_fixed_offset_local_time_works_like_wall_clock():
    local_now = dt.datetime(2026, 3, 29, 0, 30, tzinfo=dt.timezone(dt.timedelta(hours=5)))

    assert status(local_now, dt.time(7, 0)) is LateDose.TAKE_NOW
    assert status(local_now, dt.time(6, 30)) is LateDose.SKIP


# Properties.

times = st.times().map(lambda t: t.replace(second=0, microsecond=0))
zones = st.sampled_from([LONDON, NEW_YORK, ZoneInfo("Australia/Sydney"), ZoneInfo("UTC")])
# Clock-change days in those zones, drawn often: a plain date range would rarely land on one.
clock_change_days = st.sampled_from(
    [
        SPRING_FORWARD,
        FALL_BACK,
        dt.date(2026, 3, 8),
        dt.date(2026, 11, 1),
        dt.date(2026, 4, 5),
        dt.date(2026, 10, 4),
    ]
)
any_days = st.dates(min_value=dt.date(2025, 1, 1), max_value=dt.date(2027, 12, 31))


@given(now=times, dose_time=times, due=st.booleans(), logged=st.booleans())
def test_on_a_day_without_a_clock_change_aware_and_naive_times_agree(now, dose_time, due, logged):
    naive = dt.datetime.combine(QUIET_DAY, now)
    aware = naive.replace(tzinfo=LONDON)

    assert status(naive, dose_time, yesterday_due=due, yesterday_logged=logged) is status(
        aware, dose_time, yesterday_due=due, yesterday_logged=logged
    )


@given(
    day=st.one_of(clock_change_days, any_days),
    now=times,
    dose_time=times,
    tz=zones,
    fold=st.sampled_from([0, 1]),
)
def test_take_now_only_when_more_than_six_real_hours_remain(day, now, dose_time, tz, fold):
    local_now = dt.datetime.combine(day, now, tzinfo=tz).replace(fold=fold)
    next_due = dt.datetime.combine(day, dose_time, tzinfo=tz)
    real_gap = next_due.astimezone(dt.UTC) - local_now.astimezone(dt.UTC)

    result = status(local_now, dose_time)

    if now >= dose_time:
        assert result is LateDose.NONE
    elif real_gap > dt.timedelta(hours=6):
        assert result is LateDose.TAKE_NOW
    else:
        assert result is LateDose.SKIP


@given(
    day=clock_change_days,
    tz=zones,
    fold=st.sampled_from([0, 1]),
    now_minute=st.integers(min_value=0, max_value=4 * 60),
    wall_gap_minutes=st.integers(min_value=4 * 60, max_value=8 * 60),
)
def test_in_the_small_hours_of_a_clock_change_the_six_hours_are_real_hours(
    day, tz, fold, now_minute, wall_gap_minutes
):
    local_now = dt.datetime.combine(day, dt.time(0), tzinfo=tz) + dt.timedelta(minutes=now_minute)
    local_now = local_now.replace(fold=fold)
    dose_time = (local_now + dt.timedelta(minutes=wall_gap_minutes)).time()
    next_due = dt.datetime.combine(day, dose_time, tzinfo=tz)
    real_gap = next_due.astimezone(dt.UTC) - local_now.astimezone(dt.UTC)

    expected = LateDose.TAKE_NOW if real_gap > dt.timedelta(hours=6) else LateDose.SKIP

    assert status(local_now, dose_time) is expected


@given(now=times, dose_time=times, logged=st.booleans())
def test_never_offers_a_dose_when_none_was_due(now, dose_time, logged):
    local_now = dt.datetime.combine(QUIET_DAY, now, tzinfo=LONDON)

    assert status(local_now, dose_time, yesterday_due=False, yesterday_logged=logged) is (
        LateDose.NONE
    )


@given(now=times, dose_time=times)
def test_never_offers_a_dose_that_is_already_logged(now, dose_time):
    local_now = dt.datetime.combine(QUIET_DAY, now, tzinfo=LONDON)

    assert status(local_now, dose_time, yesterday_logged=True) is LateDose.NONE
