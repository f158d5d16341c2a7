"""The titration engine (titration/schedule.py): plain values in, no database."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from titration.schedule import (
    DayStatus,
    Event,
    EventKind,
    PlanSpec,
    Protocol,
    Step,
    dose_on,
    next_step_date,
    protocol_steps,
    schedule,
    validate_custom_steps,
)

START = dt.date(2026, 3, 2)
D = Decimal


def day(n, start=START):
    """The date of plan day `n` (day 1 is the start date)."""
    return start + dt.timedelta(days=n - 1)


def make_plan(protocol="standard", target="4.5", events=(), start=START, custom=()):
    return PlanSpec(start, protocol_steps(protocol, D(target), custom), tuple(events))


def ev(n, kind, days=None, start=START):
    return Event(day(n, start), EventKind(kind), days)


def dose(plan, n):
    return dose_on(plan, day(n, plan.start_date)).dose_mg


def doses(plan, first, last):
    return [dose(plan, n) for n in range(first, last + 1)]


# Protocols ------------------------------------------------------------------------------


@pytest.mark.parametrize("n", range(1, 31))
def test_the_standard_protocol_gives_1_5_then_3_0_then_4_5_mg(n):
    expected = D("1.5") if n <= 7 else D("3.0") if n <= 14 else D("4.5")
    assert dose(make_plan(), n) == expected


@pytest.mark.parametrize("n", range(1, 36))
def test_the_gentle_protocol_stays_on_1_5_mg_for_two_weeks(n):
    expected = D("1.5") if n <= 14 else D("3.0") if n <= 21 else D("4.5")
    assert dose(make_plan("gentle"), n) == expected


def test_the_sensitive_protocol_adds_0_5_mg_every_7_days_up_to_the_target():
    plan = make_plan("sensitive", "4.5")
    for week in range(9):
        expected = D("0.5") * (week + 1)
        assert doses(plan, 7 * week + 1, 7 * week + 7) == [expected] * 7
    assert doses(plan, 57, 120) == [D("4.5")] * 64


def test_the_sensitive_protocol_ends_on_a_target_between_its_steps():
    steps = protocol_steps("sensitive", D("1.75"))
    assert [s.dose_mg for s in steps] == [D("0.5"), D("1.0"), D("1.5"), D("1.75")]
    assert steps[-1].min_days is None


def test_a_protocol_can_be_named_by_its_string_value():
    assert protocol_steps("standard") == protocol_steps(Protocol.STANDARD)


def test_custom_steps_are_followed_as_set_by_the_clinician():
    custom = [Step(D("1.0"), 3), Step(D("2.25"), 10), Step(D("4.5"), None)]
    plan = make_plan("custom", "4.5", custom=custom)
    assert doses(plan, 1, 3) == [D("1.0")] * 3
    assert doses(plan, 4, 13) == [D("2.25")] * 10
    assert doses(plan, 14, 40) == [D("4.5")] * 27


def test_the_last_custom_step_is_taken_from_then_on_whatever_its_days():
    steps = protocol_steps("custom", D("6.0"), [Step(D("1.5"), 7), Step(D("3.0"), 7)])
    assert steps == (Step(D("1.5"), 7), Step(D("3.0"), None))


def test_custom_steps_accept_float_doses_without_binary_rounding():
    steps = protocol_steps("custom", D("4.5"), [Step(1.25, 7), Step(4.5, None)])
    assert [s.dose_mg for s in steps] == [D("1.25"), D("4.5")]


# Target cap -----------------------------------------------------------------------------


def test_a_target_of_3_mg_stops_the_standard_protocol_at_3_mg():
    plan = make_plan("standard", "3.0")
    assert doses(plan, 1, 7) == [D("1.5")] * 7
    assert doses(plan, 8, 60) == [D("3.0")] * 53


def test_a_target_between_steps_becomes_the_last_step():
    assert protocol_steps("standard", D("4.0")) == (
        Step(D("1.5"), 7),
        Step(D("3.0"), 7),
        Step(D("4.0"), None),
    )
    assert dose(make_plan("standard", "4.0"), 15) == D("4.0")


def test_a_target_below_the_first_step_is_the_only_step():
    assert protocol_steps("gentle", D("1.0")) == (Step(D("1.0"), None),)


def test_a_6_mg_target_does_not_add_steps_to_the_standard_protocol():
    # The target is a ceiling, not an instruction: reaching 6 mg takes a sensitive or custom
    # plan that the clinician sets out.
    assert protocol_steps("standard", D("6.0"))[-1] == Step(D("4.5"), None)


@pytest.mark.parametrize("protocol", ["standard", "gentle", "sensitive"])
def test_nothing_is_ever_above_6_mg_even_with_a_higher_target(protocol):
    steps = protocol_steps(protocol, D("9.0"))
    assert max(s.dose_mg for s in steps) <= D("6.0")


def test_the_sensitive_protocol_stops_at_6_mg_with_a_higher_target():
    assert protocol_steps("sensitive", D("7.5"))[-1] == Step(D("6.0"), None)


def test_custom_steps_above_the_target_are_left_out():
    custom = [Step(D("1.5"), 7), Step(D("3.0"), 7), Step(D("4.5"), None)]
    assert protocol_steps("custom", D("4.0"), custom) == (Step(D("1.5"), 7), Step(D("3.0"), None))


# Custom step validation -----------------------------------------------------------------


def test_valid_custom_steps_have_no_errors():
    steps = [Step(D("0.5"), 7), Step(D("1.25"), 14), Step(D("6.0"), None)]
    assert validate_custom_steps(steps) == []


def test_custom_steps_need_at_least_one_step():
    assert validate_custom_steps([]) == ["Add at least one step."]


@pytest.mark.parametrize("bad", ["0.25", "0.0", "-1.5", "6.25", "50"])
def test_custom_doses_must_be_between_0_5_and_6_mg(bad):
    assert validate_custom_steps([Step(D(bad), None)]) == [
        "Step 1: the dose must be between 0.5 mg and 6.0 mg."
    ]


@pytest.mark.parametrize("bad", ["1.1", "1.3", "2.333", "4.6"])
def test_custom_doses_must_be_multiples_of_0_25_mg(bad):
    assert validate_custom_steps([Step(D("0.5"), 7), Step(D(bad), None)]) == [
        "Step 2: the dose must be a multiple of 0.25 mg, such as 1.25 or 1.5 mg."
    ]


@pytest.mark.parametrize("bad", [None, "abc", "NaN", "Infinity"])
def test_custom_doses_must_be_numbers(bad):
    assert validate_custom_steps([Step(bad, None)]) == [
        "Step 1: the dose must be a number of mg, such as 1.5."
    ]


@pytest.mark.parametrize("second", ["1.5", "1.0"])
def test_each_custom_dose_must_be_higher_than_the_one_before(second):
    assert validate_custom_steps([Step(D("1.5"), 7), Step(D(second), None)]) == [
        "Step 2: the dose must be higher than step 1 (1.5 mg)."
    ]


@pytest.mark.parametrize("bad", [None, 0, -3, 2.5, "7", True])
def test_every_custom_step_but_the_last_needs_a_whole_number_of_days(bad):
    assert validate_custom_steps([Step(D("1.5"), bad), Step(D("3.0"), None)]) == [
        "Step 1: the number of days must be a whole number, at least 1."
    ]


def test_every_problem_with_custom_steps_is_listed():
    errors = validate_custom_steps([Step(D("7.0"), 0), Step(D("1.1"), None)])
    assert errors == [
        "Step 1: the dose must be between 0.5 mg and 6.0 mg.",
        "Step 1: the number of days must be a whole number, at least 1.",
        "Step 2: the dose must be a multiple of 0.25 mg, such as 1.25 or 1.5 mg.",
    ]


def test_invalid_custom_steps_never_become_a_schedule():
    with pytest.raises(ValueError, match="multiple of 0.25 mg"):
        protocol_steps("custom", D("4.5"), [Step(D("1.1"), 7), Step(D("3.0"), None)])


def test_an_empty_custom_plan_does_not_start_on_the_target_dose():
    with pytest.raises(ValueError, match="at least one step"):
        protocol_steps("custom", D("4.5"), [])


# Days before and around the start -------------------------------------------------------


def test_nothing_is_due_before_the_start_date():
    due = dose_on(make_plan(), day(0))
    assert due.status == DayStatus.NOT_STARTED
    assert due.dose_mg is None
    assert not due.is_due
    assert due.plan_day == 0


def test_a_schedule_covers_since_to_until_inclusive():
    days = schedule(make_plan(), until=day(10), since=day(-1))
    assert [d.day for d in days] == [day(n) for n in range(-1, 11)]
    assert [d.plan_day for d in days] == [0, 0, *range(1, 11)]


def test_it_counts_the_days_completed_on_the_current_step():
    days = schedule(make_plan(), until=day(9))
    assert [d.days_on_step for d in days] == [0, 1, 2, 3, 4, 5, 6, 0, 1]
    assert [d.step_index for d in days] == [0] * 7 + [1] * 2


def test_events_recorded_in_any_order_give_the_same_schedule():
    events = [ev(3, "hold", 4), ev(12, "step_back"), ev(20, "pause"), ev(23, "resume")]
    forwards = schedule(make_plan(events=events), until=day(60))
    backwards = schedule(make_plan(events=events[::-1]), until=day(60))
    assert forwards == backwards


# Holds ----------------------------------------------------------------------------------


def test_it_holds_the_step_when_a_timed_hold_is_recorded():
    plan = make_plan(events=[ev(6, "hold", 5)])
    days = schedule(plan, until=day(25))
    assert [d.status for d in days[5:10]] == [DayStatus.HELD] * 5
    assert all(d.dose_mg == D("1.5") for d in days[5:10])
    assert days[10].status == DayStatus.ACTIVE
    # Every later step moves back by the 5 held days.
    assert doses(plan, 12, 13) == [D("1.5"), D("3.0")]
    assert doses(plan, 19, 20) == [D("3.0"), D("4.5")]


def test_it_holds_the_step_when_the_hold_starts_on_the_step_up_day():
    plan = make_plan(events=[ev(8, "hold", 3)])
    assert doses(plan, 7, 12) == [D("1.5")] * 4 + [D("3.0")] * 2
    assert dose_on(plan, day(10)).status == DayStatus.HELD
    assert dose_on(plan, day(11)).status == DayStatus.ACTIVE


def test_it_holds_the_step_until_an_open_hold_is_released():
    plan = make_plan(events=[ev(6, "hold"), ev(20, "release")])
    assert doses(plan, 1, 21) == [D("1.5")] * 21
    assert dose_on(plan, day(19)).status == DayStatus.HELD
    assert dose_on(plan, day(20)).status == DayStatus.ACTIVE
    # 5 days were counted before the hold, 2 more after it: the step comes on day 22.
    assert dose(plan, 22) == D("3.0")


def test_it_holds_the_step_indefinitely_while_a_hold_is_open():
    plan = make_plan(events=[ev(6, "hold")])
    assert doses(plan, 6, 200) == [D("1.5")] * 195


def test_a_release_ends_a_timed_hold_early():
    plan = make_plan(events=[ev(6, "hold", 30), ev(9, "release")])
    # Days 6-8 held: the step comes 3 days late, on day 11.
    assert doses(plan, 10, 11) == [D("1.5"), D("3.0")]


def test_a_hold_of_no_days_is_not_an_open_hold():
    plan = make_plan(events=[ev(3, "hold", 0)])
    assert dose_on(plan, day(3)).status == DayStatus.ACTIVE
    assert dose(plan, 8) == D("3.0")


def test_overlapping_timed_holds_cover_the_days_either_covers():
    plan = make_plan(events=[ev(3, "hold", 5), ev(5, "hold", 5)])
    held = [d.day for d in schedule(plan, until=day(30)) if d.status == DayStatus.HELD]
    assert held == [day(n) for n in range(3, 10)]
    assert dose(plan, 15) == D("3.0")


def test_a_hold_on_the_last_step_keeps_the_dose():
    plan = make_plan(events=[ev(20, "hold")])
    assert doses(plan, 15, 40) == [D("4.5")] * 26


# Step up and step back ------------------------------------------------------------------


def test_it_steps_up_at_once_when_a_step_up_is_recorded():
    plan = make_plan(events=[ev(3, "step_up")])
    assert doses(plan, 1, 3) == [D("1.5"), D("1.5"), D("3.0")]
    # The new step still lasts its full 7 days.
    assert doses(plan, 9, 10) == [D("3.0"), D("4.5")]


def test_a_step_up_ends_an_open_hold():
    plan = make_plan(events=[ev(5, "hold"), ev(12, "step_up")])
    assert dose_on(plan, day(12)).status == DayStatus.ACTIVE
    assert doses(plan, 11, 12) == [D("1.5"), D("3.0")]
    assert dose(plan, 19) == D("4.5")


def test_two_step_ups_on_one_day_move_one_step():
    plan = make_plan(events=[ev(3, "step_up"), ev(3, "step_up")])
    assert dose(plan, 3) == D("3.0")


def test_a_step_up_on_the_last_step_changes_nothing():
    plan = make_plan(events=[ev(20, "step_up")])
    assert doses(plan, 19, 21) == [D("4.5")] * 3


def test_a_step_up_on_the_day_an_automatic_step_is_due_moves_one_step():
    plan = make_plan(events=[ev(8, "step_up")])
    assert doses(plan, 7, 9) == [D("1.5"), D("3.0"), D("3.0")]


def test_it_steps_back_to_the_previous_dose_when_a_step_back_is_recorded():
    plan = make_plan(events=[ev(10, "step_back")])
    assert doses(plan, 9, 10) == [D("3.0"), D("1.5")]
    # The previous step is taken again for its full 7 days before stepping up.
    assert doses(plan, 16, 17) == [D("1.5"), D("3.0")]


def test_a_step_back_from_the_last_step_returns_to_the_step_before():
    plan = make_plan(events=[ev(20, "step_back")])
    assert doses(plan, 19, 20) == [D("4.5"), D("3.0")]


def test_a_step_back_on_the_first_step_keeps_the_first_dose_and_restarts_its_days():
    plan = make_plan(events=[ev(3, "step_back")])
    assert dose(plan, 3) == D("1.5")
    assert doses(plan, 9, 10) == [D("1.5"), D("3.0")]


def test_a_step_back_on_the_day_the_first_step_up_is_due_keeps_the_first_dose():
    plan = make_plan(events=[ev(8, "step_back")])
    assert doses(plan, 8, 14) == [D("1.5")] * 7
    assert dose(plan, 15) == D("3.0")


def test_a_step_back_on_the_day_a_step_up_is_due_returns_to_the_step_before():
    plan = make_plan(events=[ev(15, "step_back")])
    assert doses(plan, 14, 15) == [D("3.0"), D("1.5")]


def test_a_step_up_recorded_after_a_step_back_on_the_same_day_undoes_it():
    # Events are append-only: correcting a mistaken step back is a step up the same day.
    plan = make_plan(events=[ev(10, "step_back"), ev(10, "step_up")])
    assert dose(plan, 10) == D("3.0")


# Pause, resume, stop --------------------------------------------------------------------


def test_nothing_is_due_while_paused_and_paused_days_do_not_count():
    plan = make_plan(events=[ev(4, "pause"), ev(10, "resume")])
    days = schedule(plan, until=day(14))
    assert [d.status for d in days[3:9]] == [DayStatus.PAUSED] * 6
    assert all(d.dose_mg is None for d in days[3:9])
    assert dose_on(plan, day(10)).dose_mg == D("1.5")
    # 3 days before the pause and 4 after it: the step comes on day 14, 6 days late.
    assert doses(plan, 13, 14) == [D("1.5"), D("3.0")]


def test_a_pause_without_a_resume_lasts():
    plan = make_plan(events=[ev(4, "pause")])
    assert doses(plan, 4, 100) == [None] * 97


def test_nothing_is_due_after_a_stop_even_after_a_resume():
    plan = make_plan(events=[ev(10, "stop"), ev(12, "resume"), ev(13, "step_up")])
    days = schedule(plan, until=day(60))
    assert all(d.status == DayStatus.STOPPED and d.dose_mg is None for d in days[9:])
    assert dose(plan, 9) == D("3.0")


def test_a_stop_recorded_before_the_start_date_means_no_dose_is_ever_due():
    plan = make_plan(events=[ev(-3, "stop")])
    assert dose_on(plan, day(0)).status == DayStatus.NOT_STARTED
    assert doses(plan, 1, 30) == [None] * 30
    assert next_step_date(plan, day(-5)) is None


def test_a_pause_recorded_before_the_start_date_holds_off_the_first_dose():
    plan = make_plan(events=[ev(-2, "pause"), ev(5, "resume")])
    assert doses(plan, 1, 5) == [None] * 4 + [D("1.5")]
    assert next_step_date(plan, day(-5)) == day(5)


def test_the_dose_time_does_not_change_the_dose():
    plan = make_plan(events=[ev(5, "dose_time")])
    assert schedule(plan, until=day(40)) == schedule(make_plan(), until=day(40))


# Next step date -------------------------------------------------------------------------


@pytest.mark.parametrize(("n", "expected"), [(1, 8), (7, 8), (8, 15), (14, 15)])
def test_the_next_step_date_on_the_standard_protocol(n, expected):
    assert next_step_date(make_plan(), day(n)) == day(expected)


def test_there_is_no_next_step_on_the_last_step():
    assert next_step_date(make_plan(), day(15)) is None


def test_the_next_step_before_the_start_is_the_start_date():
    assert next_step_date(make_plan(), day(-10)) == START


def test_the_next_step_before_a_distant_start_is_still_the_start_date():
    plan = make_plan(start=dt.date(2027, 6, 1))
    assert next_step_date(plan, dt.date(2026, 1, 1)) == dt.date(2027, 6, 1)


def test_the_next_step_comes_after_a_timed_hold():
    plan = make_plan(events=[ev(8, "hold", 3)])
    assert next_step_date(plan, day(8)) == day(11)


def test_there_is_no_next_step_during_an_open_hold():
    assert next_step_date(make_plan(events=[ev(6, "hold")]), day(6)) is None


def test_there_is_no_next_step_while_paused_or_stopped():
    assert next_step_date(make_plan(events=[ev(4, "pause")]), day(5)) is None
    assert next_step_date(make_plan(events=[ev(4, "stop")]), day(5)) is None


def test_the_next_step_after_a_step_back_is_a_week_later():
    plan = make_plan(events=[ev(10, "step_back")])
    assert next_step_date(plan, day(10)) == day(17)


def test_the_next_step_on_the_sensitive_protocol_is_weekly():
    assert next_step_date(make_plan("sensitive"), day(1)) == day(8)


# Daylight saving ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "start", "hours_in_first_week"),
    [
        ("Europe/London", dt.date(2026, 3, 29), 167),  # clocks go forward at 01:00
        ("America/New_York", dt.date(2026, 11, 1), 169),  # clocks go back at 02:00
    ],
)
def test_day_8_is_seven_calendar_days_later_across_a_clock_change(zone, start, hours_in_first_week):
    tz = ZoneInfo(zone)
    plan = make_plan(start=start)
    first_midnight = dt.datetime.combine(start, dt.time(0), tz).astimezone(dt.UTC)
    day_8_midnight = dt.datetime.combine(day(8, start), dt.time(0), tz).astimezone(dt.UTC)
    # The first week is not 7 * 24 hours long...
    assert day_8_midnight - first_midnight == dt.timedelta(hours=hours_in_first_week)
    # ...yet the dose changes exactly at local midnight 7 calendar days later, because the
    # engine works on the patient's local dates.
    instant = first_midnight
    while instant < day_8_midnight + dt.timedelta(days=1):
        local_day = instant.astimezone(tz).date()
        expected = D("3.0") if instant >= day_8_midnight else D("1.5")
        assert dose_on(plan, local_day).dose_mg == expected, instant
        instant += dt.timedelta(minutes=30)
    assert next_step_date(plan, start) == start + dt.timedelta(days=7)
    assert dose_on(plan, start + dt.timedelta(days=14)).dose_mg == D("4.5")


# Liquid volumes -------------------------------------------------------------------------


def test_a_step_back_recorded_ahead_on_the_last_step_is_the_next_change():
    # On the last step the engine stops looking ahead only when nothing is recorded ahead.
    plan = make_plan(events=[ev(30, "step_back")])
    assert next_step_date(plan, day(20)) == day(30)
    assert next_step_date(plan, day(31)) == day(37)  # 7 days at 3.0 mg again
