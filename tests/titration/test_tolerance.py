"""Tolerance rules (shared/DOMAIN.md, titration): when a step-up waits, when to offer a step
back, when to suggest a morning dose. Pure functions, so no database."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from titration.tolerance import (
    MILD,
    MODERATE,
    SEVERE,
    gate_holds,
    step_back_trigger,
    suggests_morning,
)

NONE = 0
TODAY = dt.date(2026, 3, 15)
STEP_UP_DAY = TODAY
SEVERITIES = st.sampled_from([NONE, MILD, MODERATE, SEVERE])


def back(days: int, from_day: dt.date = TODAY) -> dt.date:
    return from_day - dt.timedelta(days=days)


def diaries(first: int = -10, last: int = 3):
    """{date: worst severity} over days `first`..`last` relative to TODAY, any of them missing."""
    days = [TODAY + dt.timedelta(days=offset) for offset in range(first, last + 1)]
    return st.dictionaries(st.sampled_from(days), SEVERITIES)


# gate_holds: the window is the three full days before the step-up day.


@pytest.mark.parametrize("days_before", [1, 2, 3])
def test_gate_holds_for_moderate_on_any_of_the_three_days_before_the_step_up(days_before):
    assert gate_holds(STEP_UP_DAY, {back(days_before): MODERATE}) is True


@pytest.mark.parametrize("days_before", [1, 2, 3])
def test_gate_holds_for_severe_on_any_of_the_three_days_before_the_step_up(days_before):
    assert gate_holds(STEP_UP_DAY, {back(days_before): SEVERE}) is True


def test_gate_does_not_hold_for_moderate_four_days_before_the_step_up():
    assert gate_holds(STEP_UP_DAY, {back(4): MODERATE}) is False


def test_gate_does_not_hold_for_severe_four_days_before_the_step_up():
    assert gate_holds(STEP_UP_DAY, {back(4): SEVERE}) is False


def test_gate_does_not_hold_for_moderate_on_the_step_up_day_itself():
    # Tonight's diary is filled in after tonight's dose: it can't change that dose in hindsight.
    assert gate_holds(STEP_UP_DAY, {STEP_UP_DAY: MODERATE}) is False


def test_gate_does_not_hold_for_severe_on_the_step_up_day_itself():
    assert gate_holds(STEP_UP_DAY, {STEP_UP_DAY: SEVERE}) is False


def test_gate_does_not_hold_for_side_effects_after_the_step_up_day():
    assert gate_holds(STEP_UP_DAY, {back(-1): SEVERE, back(-2): MODERATE}) is False


def test_mild_side_effects_on_every_day_never_hold_the_gate():
    diary = {back(days): MILD for days in range(0, 10)}

    assert gate_holds(STEP_UP_DAY, diary) is False


def test_gate_does_not_hold_with_an_empty_diary():
    assert gate_holds(STEP_UP_DAY, {}) is False


def test_gate_does_not_hold_when_the_three_days_before_are_missing_from_the_diary():
    assert gate_holds(STEP_UP_DAY, {back(4): SEVERE, STEP_UP_DAY: SEVERE}) is False


def test_gate_window_reaches_back_across_a_year_boundary():
    new_year = dt.date(2027, 1, 1)

    assert gate_holds(new_year, {dt.date(2026, 12, 29): MODERATE}) is True
    assert gate_holds(new_year, {dt.date(2026, 12, 28): MODERATE}) is False


@given(diary=diaries())
def test_gate_holds_exactly_when_one_of_the_three_days_before_is_moderate_or_worse(diary):
    window = [back(1), back(2), back(3)]

    expected = any(diary.get(day, NONE) >= MODERATE for day in window)

    assert gate_holds(STEP_UP_DAY, diary) is expected


@given(diary=diaries(), outside=diaries())
def test_gate_ignores_every_day_outside_the_three_days_before(diary, outside):
    window = {back(1), back(2), back(3)}
    noise = {day: severity for day, severity in outside.items() if day not in window}

    assert gate_holds(STEP_UP_DAY, {**diary, **noise}) == gate_holds(
        STEP_UP_DAY, {day: s for day, s in diary.items() if day in window}
    )


# step_back_trigger: severe today or yesterday, or moderate-or-worse three days in a row.


def test_step_back_is_triggered_by_severe_today():
    assert step_back_trigger(TODAY, {TODAY: SEVERE}) == TODAY


def test_step_back_is_triggered_by_severe_yesterday():
    assert step_back_trigger(TODAY, {back(1): SEVERE}) == back(1)


def test_step_back_is_not_triggered_by_severe_two_days_ago_alone():
    assert step_back_trigger(TODAY, {back(2): SEVERE}) is None


def test_step_back_gives_today_when_severe_both_today_and_yesterday():
    assert step_back_trigger(TODAY, {TODAY: SEVERE, back(1): SEVERE}) == TODAY


def test_step_back_is_triggered_by_moderate_three_days_in_a_row_ending_today():
    diary = {TODAY: MODERATE, back(1): MODERATE, back(2): MODERATE}

    assert step_back_trigger(TODAY, diary) == TODAY


def test_step_back_is_triggered_by_moderate_three_days_in_a_row_ending_yesterday():
    diary = {back(1): MODERATE, back(2): MODERATE, back(3): MODERATE}

    assert step_back_trigger(TODAY, diary) == back(1)


def test_step_back_run_ending_yesterday_still_counts_when_today_is_mild():
    diary = {TODAY: MILD, back(1): MODERATE, back(2): MODERATE, back(3): MODERATE}

    assert step_back_trigger(TODAY, diary) == back(1)


def test_step_back_gives_the_later_end_when_the_run_is_four_days_long():
    diary = {back(days): MODERATE for days in range(4)}

    assert step_back_trigger(TODAY, diary) == TODAY


def test_step_back_is_not_triggered_by_moderate_two_days_in_a_row_ending_today():
    assert step_back_trigger(TODAY, {TODAY: MODERATE, back(1): MODERATE}) is None


def test_step_back_is_not_triggered_by_moderate_two_days_in_a_row_ending_yesterday():
    assert step_back_trigger(TODAY, {back(1): MODERATE, back(2): MODERATE}) is None


def test_step_back_is_not_triggered_by_a_run_of_three_ending_two_days_ago():
    diary = {back(2): MODERATE, back(3): MODERATE, back(4): MODERATE}

    assert step_back_trigger(TODAY, diary) is None


def test_a_day_without_a_diary_breaks_a_moderate_run():
    diary = {TODAY: MODERATE, back(2): MODERATE, back(3): MODERATE}

    assert step_back_trigger(TODAY, diary) is None


def test_a_mild_day_breaks_a_moderate_run():
    diary = {TODAY: MODERATE, back(1): MILD, back(2): MODERATE, back(3): MODERATE}

    assert step_back_trigger(TODAY, diary) is None


def test_a_severe_day_two_days_ago_counts_towards_a_moderate_run():
    diary = {TODAY: MODERATE, back(1): MODERATE, back(2): SEVERE}

    assert step_back_trigger(TODAY, diary) == TODAY


def test_step_back_gives_today_when_a_run_ends_today_after_a_severe_yesterday():
    # The date is how the caller tells a new offer from one already answered: today's diary
    # completing three bad nights in a row is new, even though yesterday was severe.
    diary = {TODAY: MODERATE, back(1): SEVERE, back(2): MODERATE}

    assert step_back_trigger(TODAY, diary) == TODAY


def test_step_back_ignores_a_severe_day_after_today():
    assert step_back_trigger(TODAY, {back(-1): SEVERE}) is None


def test_step_back_is_not_triggered_by_an_empty_diary():
    assert step_back_trigger(TODAY, {}) is None


def test_step_back_is_not_triggered_by_mild_every_day():
    assert step_back_trigger(TODAY, {back(days): MILD for days in range(10)}) is None


def _bad(diary, day):
    return diary.get(day, NONE) >= MODERATE


def _triggers_on(diary, day):
    run = all(_bad(diary, back(days, day)) for days in range(3))
    return diary.get(day, NONE) >= SEVERE or run


@given(diary=diaries())
def test_step_back_gives_the_latest_of_today_and_yesterday_that_meets_the_rule(diary):
    expected = next((day for day in (TODAY, back(1)) if _triggers_on(diary, day)), None)

    assert step_back_trigger(TODAY, diary) == expected


@given(diary=diaries())
def test_step_back_only_ever_gives_today_or_yesterday(diary):
    assert step_back_trigger(TODAY, diary) in (TODAY, back(1), None)


# suggests_morning: two sleep-effect days in the last 7 days, today included.


def test_morning_is_suggested_after_two_sleep_effect_days_in_the_last_seven():
    assert suggests_morning(TODAY, {TODAY, back(6)}) is True


def test_morning_is_suggested_after_two_sleep_effect_days_in_a_row():
    assert suggests_morning(TODAY, {back(1), back(2)}) is True


def test_morning_is_not_suggested_after_one_sleep_effect_day():
    assert suggests_morning(TODAY, {TODAY}) is False


def test_morning_is_not_suggested_without_sleep_effects():
    assert suggests_morning(TODAY, set()) is False


def test_the_eighth_day_back_does_not_count_towards_a_morning_suggestion():
    assert suggests_morning(TODAY, {TODAY, back(7)}) is False


def test_days_after_today_do_not_count_towards_a_morning_suggestion():
    assert suggests_morning(TODAY, {TODAY, back(-1)}) is False


def test_morning_suggestion_accepts_a_frozenset():
    assert suggests_morning(TODAY, frozenset({back(3), back(4)})) is True


@given(offsets=st.sets(st.integers(min_value=-5, max_value=20)))
def test_morning_is_suggested_exactly_when_two_days_fall_in_the_last_seven(offsets):
    days = {back(offset) for offset in offsets}
    in_window = sum(1 for offset in offsets if 0 <= offset <= 6)

    assert suggests_morning(TODAY, days) is (in_window >= 2)
