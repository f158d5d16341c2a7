"""Adherence (shared/DOMAIN.md): doses taken / doses due; below 80% is non-adherent. Tonight's
dose is not due until the day is over, unless it is already logged."""

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from titration.adherence import SKIPPED, TAKEN, Adherence, adherence, missed_days, streak

TODAY = dt.date(2026, 3, 15)


def back(days: int) -> dt.date:
    return TODAY - dt.timedelta(days=days)


def every_day(first_back: int, last_back: int = 0) -> list[dt.date]:
    """Due every day from `first_back` days ago to `last_back` days ago, oldest first."""
    return [back(days) for days in range(first_back, last_back - 1, -1)]


def taken_on(days) -> dict[dt.date, str]:
    return dict.fromkeys(days, TAKEN)


# adherence over 7 days


def test_seven_days_all_taken_with_tonight_still_to_come_is_100_percent_of_six():
    due = every_day(30)
    result = adherence(today=TODAY, days=7, due_days=due, logs=taken_on(every_day(30, 1)))

    assert result == Adherence(days=7, due=6, taken=6)
    assert result.rate == Decimal(1)
    assert result.percent == 100
    assert result.is_non_adherent is False


def test_tonight_unlogged_is_not_due_yet():
    result = adherence(today=TODAY, days=7, due_days=[TODAY], logs={})

    assert (result.due, result.taken) == (0, 0)


def test_tonight_logged_as_taken_counts_as_due_and_taken():
    result = adherence(today=TODAY, days=7, due_days=every_day(30), logs=taken_on(every_day(30)))

    assert (result.due, result.taken) == (7, 7)


def test_tonight_logged_as_skipped_counts_as_due_not_taken():
    logs = {**taken_on(every_day(30, 1)), TODAY: SKIPPED}

    result = adherence(today=TODAY, days=7, due_days=every_day(30), logs=logs)

    assert (result.due, result.taken) == (7, 6)


def test_a_skipped_dose_counts_as_due_not_taken():
    logs = {**taken_on(every_day(30, 1)), back(3): SKIPPED}

    result = adherence(today=TODAY, days=7, due_days=every_day(30), logs=logs)

    assert (result.due, result.taken) == (6, 5)


def test_a_due_day_with_nothing_logged_counts_as_due_not_taken():
    logs = taken_on(every_day(30, 1))
    del logs[back(2)]

    result = adherence(today=TODAY, days=7, due_days=every_day(30), logs=logs)

    assert (result.due, result.taken) == (6, 5)


def test_seven_day_window_starts_six_days_before_today():
    logs = {back(6): TAKEN, back(7): SKIPPED, back(20): SKIPPED}

    result = adherence(today=TODAY, days=7, due_days=[back(20), back(7), back(6)], logs=logs)

    assert (result.due, result.taken) == (1, 1)


def test_days_before_the_window_are_ignored_even_when_missed():
    result = adherence(today=TODAY, days=7, due_days=every_day(30), logs=taken_on(every_day(6, 1)))

    assert (result.due, result.taken) == (6, 6)


def test_days_not_due_are_not_counted():
    # A paused plan: nothing due on days 4 and 5 back.
    due = [day for day in every_day(6) if day not in (back(4), back(5))]

    result = adherence(today=TODAY, days=7, due_days=due, logs=taken_on(due))

    assert (result.due, result.taken) == (5, 5)


def test_a_log_on_a_day_not_due_is_not_counted():
    result = adherence(today=TODAY, days=7, due_days=[back(1)], logs=taken_on([back(1), back(2)]))

    assert (result.due, result.taken) == (1, 1)


def test_due_days_after_today_are_not_counted():
    due = [back(1), back(-1), back(-2)]

    result = adherence(today=TODAY, days=7, due_days=due, logs=taken_on(due))

    assert (result.due, result.taken) == (1, 1)


def test_a_due_day_listed_twice_counts_once():
    result = adherence(today=TODAY, days=7, due_days=[back(1), back(1)], logs={back(1): TAKEN})

    assert (result.due, result.taken) == (1, 1)


def test_due_days_can_be_any_iterable():
    due = (day for day in every_day(6, 1))

    result = adherence(today=TODAY, days=7, due_days=due, logs=taken_on(every_day(6, 1)))

    assert (result.due, result.taken) == (6, 6)


# adherence over 28 days


def test_twenty_eight_day_window_starts_twenty_seven_days_before_today():
    logs = {**taken_on(every_day(27, 1)), back(28): SKIPPED}

    result = adherence(today=TODAY, days=28, due_days=every_day(40), logs=logs)

    assert result == Adherence(days=28, due=27, taken=27)


def test_twenty_eight_days_with_four_skips_and_tonight_taken():
    logs = taken_on(every_day(27))
    for days in (3, 9, 15, 21):
        logs[back(days)] = SKIPPED

    result = adherence(today=TODAY, days=28, due_days=every_day(27), logs=logs)

    assert (result.due, result.taken, result.percent) == (28, 24, 86)
    assert result.is_non_adherent is False


def test_twenty_eight_days_with_six_missed_is_non_adherent():
    logs = taken_on(every_day(27, 1))
    for days in (2, 5, 8, 11, 14, 17):
        del logs[back(days)]

    result = adherence(today=TODAY, days=28, due_days=every_day(27), logs=logs)

    assert (result.due, result.taken, result.percent) == (27, 21, 78)
    assert result.is_non_adherent is True


# no doses due


def test_with_no_doses_due_the_rate_is_unknown_not_zero():
    result = adherence(today=TODAY, days=7, due_days=[], logs={})

    assert result == Adherence(days=7, due=0, taken=0)
    assert result.rate is None
    assert result.percent is None
    assert result.is_non_adherent is False


def test_on_the_first_night_before_the_dose_is_logged_nothing_is_due():
    result = adherence(today=TODAY, days=28, due_days=[TODAY], logs={})

    assert result.rate is None
    assert result.is_non_adherent is False


# the 80% line


def test_exactly_80_percent_is_adherent():
    result = Adherence(days=7, due=5, taken=4)

    assert result.rate == Decimal("0.8")
    assert result.percent == 80
    assert result.is_non_adherent is False


def test_exactly_80_percent_over_28_days_is_adherent():
    logs = taken_on(every_day(24, 5))  # 20 of the 25 due days 25..1 back

    result = adherence(today=TODAY, days=28, due_days=every_day(25, 1), logs=logs)

    assert (result.due, result.taken, result.percent) == (25, 20, 80)
    assert result.is_non_adherent is False


def test_79_percent_is_non_adherent():
    result = Adherence(days=100, due=100, taken=79)

    assert result.percent == 79
    assert result.is_non_adherent is True


def test_a_rate_just_under_80_percent_never_shows_as_80_percent():
    # 35 of 44 is 79.5%: rounding half up would show "80%" beside "non-adherent".
    result = Adherence(days=84, due=44, taken=35)

    assert result.is_non_adherent is True
    assert result.percent == 79


def test_a_missed_dose_never_shows_as_100_percent():
    result = Adherence(days=365, due=200, taken=199)  # 99.5%

    assert result.percent == 99


@pytest.mark.parametrize(
    "taken, due, percent",
    [(6, 7, 86), (5, 7, 71), (1, 3, 33), (2, 3, 67), (1, 8, 13), (0, 7, 0), (7, 7, 100)],
)
def test_percent_is_rounded_half_up_to_a_whole_number(taken, due, percent):
    assert Adherence(days=28, due=due, taken=taken).percent == percent


def test_percent_is_an_int():
    assert isinstance(Adherence(days=7, due=3, taken=2).percent, int)


statuses = st.sampled_from([TAKEN, SKIPPED])
window_days = st.integers(min_value=1, max_value=120)


@st.composite
def histories(draw, span=150):
    """Due days and logs over the `span` days up to a week after TODAY."""
    days = [back(offset) for offset in range(-7, span)]
    due = draw(st.lists(st.sampled_from(days), max_size=30))
    logs = draw(st.dictionaries(st.sampled_from(days), statuses, max_size=30))
    return due, logs


@given(history=histories(), days=window_days)
def test_taken_never_exceeds_due_and_due_never_exceeds_the_days(history, days):
    due, logs = history

    result = adherence(today=TODAY, days=days, due_days=due, logs=logs)

    assert 0 <= result.taken <= result.due <= days
    assert result.days == days


@given(history=histories(), days=window_days)
def test_percent_is_between_0_and_100_or_unknown(history, days):
    due, logs = history

    result = adherence(today=TODAY, days=days, due_days=due, logs=logs)

    if result.due:
        assert 0 <= result.percent <= 100
        assert Decimal(0) <= result.rate <= Decimal(1)
    else:
        assert result.percent is None
        assert result.rate is None


@given(history=histories(), days=window_days)
def test_adherence_counts_only_due_days_in_the_window_that_are_over_or_logged(history, days):
    due, logs = history
    start = TODAY - dt.timedelta(days=days - 1)
    counted = {d for d in due if start <= d < TODAY or (d == TODAY and d in logs)}

    result = adherence(today=TODAY, days=days, due_days=due, logs=logs)

    assert result.due == len(counted)
    assert result.taken == sum(1 for d in counted if logs.get(d) == TAKEN)


@given(due=st.integers(min_value=1, max_value=400), data=st.data())
def test_the_percent_shown_never_contradicts_the_verdict(due, data):
    taken = data.draw(st.integers(min_value=0, max_value=due))

    result = Adherence(days=due, due=due, taken=taken)

    assert result.is_non_adherent is (result.percent < 80)
    assert (result.percent == 100) is (taken == due)
    assert abs(Decimal(result.percent) - result.rate * 100) < 1


# streak


def test_streak_counts_taken_doses_back_from_tonight_when_logged():
    assert streak(today=TODAY, due_days=every_day(9), logs=taken_on(every_day(4))) == 5


def test_streak_counts_back_from_yesterday_while_tonight_is_unlogged():
    assert streak(today=TODAY, due_days=every_day(9), logs=taken_on(every_day(4, 1))) == 4


def test_streak_is_zero_when_tonight_is_skipped():
    logs = {**taken_on(every_day(4, 1)), TODAY: SKIPPED}

    assert streak(today=TODAY, due_days=every_day(9), logs=logs) == 0


def test_a_skip_breaks_the_streak():
    logs = {**taken_on(every_day(9)), back(3): SKIPPED}

    assert streak(today=TODAY, due_days=every_day(9), logs=logs) == 3


def test_a_missed_day_breaks_the_streak():
    logs = taken_on(every_day(9))
    del logs[back(2)]

    assert streak(today=TODAY, due_days=every_day(9), logs=logs) == 2


def test_a_missed_yesterday_leaves_no_streak_while_tonight_is_unlogged():
    assert streak(today=TODAY, due_days=every_day(9), logs=taken_on(every_day(9, 2))) == 0


def test_days_not_due_are_passed_over_by_the_streak():
    # A paused plan: nothing due 3 and 4 days back, and nothing logged then.
    due = [day for day in every_day(9) if day not in (back(3), back(4))]

    assert streak(today=TODAY, due_days=due, logs=taken_on(due)) == 8


def test_streak_counts_every_due_day_when_all_were_taken():
    assert streak(today=TODAY, due_days=every_day(9), logs=taken_on(every_day(9))) == 10


def test_streak_is_zero_with_nothing_due():
    assert streak(today=TODAY, due_days=[], logs=taken_on(every_day(3))) == 0


def test_streak_is_zero_on_the_first_night_before_the_dose_is_logged():
    assert streak(today=TODAY, due_days=[TODAY], logs={}) == 0


def test_streak_ignores_due_days_after_today():
    due = every_day(2, -3)

    assert streak(today=TODAY, due_days=due, logs=taken_on(every_day(2, 1))) == 2


def test_streak_does_not_depend_on_the_order_of_due_days():
    due = list(reversed(every_day(5)))

    assert streak(today=TODAY, due_days=due, logs=taken_on(every_day(5))) == 6


def test_a_due_day_listed_twice_counts_once_in_the_streak():
    due = [back(1), back(1), back(2)]

    assert streak(today=TODAY, due_days=due, logs=taken_on([back(1), back(2)])) == 2


@given(history=histories())
def test_streak_is_the_run_of_taken_doses_ending_at_the_last_day_that_is_over(history):
    due, logs = history
    days = sorted({d for d in due if d <= TODAY}, reverse=True)
    if days and days[0] == TODAY and TODAY not in logs:
        days = days[1:]
    expected = 0
    for day in days:
        if logs.get(day) != TAKEN:
            break
        expected += 1

    assert streak(today=TODAY, due_days=due, logs=logs) == expected


@given(history=histories())
def test_streak_never_exceeds_the_doses_taken(history):
    due, logs = history
    taken = {d for d in due if d <= TODAY and logs.get(d) == TAKEN}

    assert 0 <= streak(today=TODAY, due_days=due, logs=logs) <= len(taken)


# missed_days


def test_missed_days_are_due_days_before_today_with_nothing_logged():
    logs = taken_on(every_day(5, 1))
    del logs[back(2)]
    del logs[back(4)]

    assert missed_days(today=TODAY, due_days=every_day(5), logs=logs) == [back(4), back(2)]


def test_a_skipped_dose_is_not_a_missed_day():
    logs = {back(1): SKIPPED}

    assert missed_days(today=TODAY, due_days=[back(1)], logs=logs) == []


def test_tonight_unlogged_is_not_a_missed_day():
    assert missed_days(today=TODAY, due_days=[TODAY], logs={}) == []


def test_days_not_due_are_not_missed_days():
    # Nothing was due 2 days back (a paused plan), so it is not listed though nothing is logged.
    assert missed_days(today=TODAY, due_days=[back(3), back(1)], logs={}) == [back(3), back(1)]


def test_due_days_after_today_are_not_missed_days():
    assert missed_days(today=TODAY, due_days=[back(-1), back(-2)], logs={}) == []


def test_no_missed_days_when_everything_was_logged():
    due = every_day(9)

    assert missed_days(today=TODAY, due_days=due, logs=taken_on(every_day(9, 1))) == []


@given(history=histories())
def test_missed_days_are_exactly_the_past_due_days_with_no_log(history):
    due, logs = history

    missed = missed_days(today=TODAY, due_days=due, logs=logs)

    assert set(missed) == {d for d in due if d < TODAY and d not in logs}
    assert all(d < TODAY and d not in logs for d in missed)
