"""Progress arithmetic (symptoms/progress.py): pure, no database."""

import datetime as dt

import pytest

from symptoms import progress
from symptoms.progress import Band, Change, Pattern

FIRST_DOSE = dt.date(2026, 11, 10)


def day(offset):
    """A date relative to the first dose: day(-1) is the last run-in day, day(0) the first dose."""
    return FIRST_DOSE + dt.timedelta(days=offset)


# --- baseline ---------------------------------------------------------------------------


def test_baseline_is_the_mean_of_the_seven_run_in_days_before_the_first_dose():
    values = {day(-n): n for n in range(1, 8)}  # 1..7, mean 4
    values[day(-8)] = 10  # too early: outside the run-in
    values[day(0)] = 10  # the first dose day is not run-in
    assert progress.baseline(values, FIRST_DOSE) == 4


def test_baseline_skips_run_in_days_with_no_value():
    values = {day(-1): 6, day(-4): 8, day(-7): None}
    assert progress.baseline(values, FIRST_DOSE) == 7


def test_baseline_uses_the_first_seven_plan_days_when_there_is_no_run_in():
    values = {day(n): n for n in range(10)}  # plan days 0..6 are 0..6, mean 3
    assert progress.baseline(values, FIRST_DOSE) == 3


def test_baseline_falls_back_only_when_the_run_in_has_no_value_at_all():
    values = {day(-8): 9, day(0): 2, day(6): 4, day(7): 10}
    assert progress.baseline(values, FIRST_DOSE) == 3


def test_baseline_is_none_without_any_value_in_either_window():
    assert progress.baseline({}, FIRST_DOSE) is None
    assert progress.baseline({day(-9): 5, day(8): 5}, FIRST_DOSE) is None


# --- rolling means ------------------------------------------------------------------------


def test_mean_of_window_covers_the_seven_days_ending_on_the_given_day():
    values = {day(n): n for n in range(10)}
    # Days 3..9 -> (3+4+5+6+7+8+9) / 7 = 6
    assert progress.mean_of_window(values, day(9)) == 6


def test_mean_of_window_skips_days_with_no_value():
    values = {day(0): 2, day(3): 4, day(4): None}
    assert progress.mean_of_window(values, day(6)) == 3
    assert progress.mean_of_window(values, day(20)) is None


def test_rolling_means_give_a_seven_day_mean_for_each_day_with_data_in_its_window():
    values = {day(0): 7, day(1): 5, day(9): 1}
    means = progress.rolling_means(values, day(0), day(9))
    assert means[day(0)] == 7
    assert means[day(1)] == 6  # (7 + 5) / 2
    assert means[day(7)] == 5  # day 0 has left the window, day 1 has not
    assert day(8) not in means  # days 2..8 hold nothing
    assert means[day(9)] == 1
    assert min(means) == day(0) and max(means) == day(9)


# --- change -------------------------------------------------------------------------------


def test_change_reports_points_and_percent_against_baseline():
    change = Change(baseline=8.0, current=6.0)
    assert change.points == -2.0
    assert change.percent == -25.0


def test_change_percent_is_none_when_the_baseline_is_zero():
    change = Change(baseline=0.0, current=3.0)
    assert change.points == 3.0
    assert change.percent is None


# --- pain response bands (IMMPACT) -------------------------------------------------------


@pytest.mark.parametrize(
    ("baseline", "current", "band"),
    [
        # 6.0 -> 4.2: a drop of 1.8 points = 1.8 / 6.0 = exactly 30%: moderate. In floats
        # 4.2 - 6.0 is -1.7999999999999998, which must not fall below the line.
        (6.0, 4.2, Band.MODERATE),
        # 6.0 -> 4.3: 1.7 points = 28.3%, under both lines.
        (6.0, 4.3, Band.NONE),
        # 5.0 -> 3.0: 2 points (40%): moderate.
        (5.0, 3.0, Band.MODERATE),
        # 9.0 -> 7.0: exactly 2 points but only 22.2%: moderate on points alone.
        (9.0, 7.0, Band.MODERATE),
        # 9.0 -> 7.1: 1.9 points, 21.1%: none.
        (9.0, 7.1, Band.NONE),
        # 8.2 -> 6.2: 2 points, 24.4%: moderate on points; in floats the drop is
        # 1.9999999999999991.
        (8.2, 6.2, Band.MODERATE),
        # 6.0 -> 3.0: 50%: substantial.
        (6.0, 3.0, Band.SUBSTANTIAL),
        # 7.0 -> 3.6: 3.4 / 7.0 = 48.6%: moderate, not substantial.
        (7.0, 3.6, Band.MODERATE),
        # 8.0 -> 4.0: 50% exactly: substantial.
        (8.0, 4.0, Band.SUBSTANTIAL),
        # Pain rising is never an improvement.
        (4.0, 6.0, Band.NONE),
        (4.0, 4.0, Band.NONE),
        # Baseline 0 (no pain to lose): nothing to improve.
        (0.0, 0.0, Band.NONE),
        (0.0, 3.0, Band.NONE),
    ],
)
def test_pain_response_bands(baseline, current, band):
    assert progress.pain_response(Change(baseline, current)) == band


def test_pain_response_is_none_without_a_change_to_judge():
    assert progress.pain_response(None) == Band.NONE


def test_pain_response_from_diary_means_at_exactly_thirty_percent_is_moderate():
    # Baseline 6, 6, 6, 6, 6, 6, 6 = 6.0; latest week 4, 4, 4, 4, 5 = 21 / 5 = 4.2.
    values = {day(-n): 6 for n in range(1, 8)}
    values.update({day(20 + n): v for n, v in enumerate([4, 4, 4, 4, 5])})
    base = progress.baseline(values, FIRST_DOSE)
    current = progress.mean_of_window(values, day(24))
    assert (base, current) == (6.0, 4.2)
    assert progress.pain_response(Change(base, current)) == Band.MODERATE


# --- patterns -----------------------------------------------------------------------------


def _factor_days(with_count, without_count):
    days = {day(n): True for n in range(with_count)}
    days.update({day(100 + n): False for n in range(without_count)})
    return days


def test_a_pattern_needs_at_least_eight_days_with_and_eight_without():
    pain = {day(n): 7 for n in range(8)} | {day(100 + n): 4 for n in range(8)}
    found = progress.patterns({"alcohol": _factor_days(8, 8)}, pain, {})
    assert found == [Pattern("alcohol", 8, 8, 3.0, None)]


@pytest.mark.parametrize(("with_count", "without_count"), [(7, 8), (8, 7), (7, 30), (30, 7)])
def test_seven_days_on_either_side_shows_no_pattern(with_count, without_count):
    pain = dict.fromkeys(_factor_days(30, 30), 5)
    assert progress.patterns({"stress": _factor_days(with_count, without_count)}, pain, pain) == []


def test_pattern_differences_are_mean_with_minus_mean_without_skipping_missing_values():
    factor = _factor_days(8, 8)
    pain = {day(0): 8, day(1): 6}  # the other "with" days have no pain rating
    pain |= {day(100 + n): 3 for n in range(8)}
    fatigue = {day(n): 4 for n in range(8)} | {day(100 + n): 6 for n in range(8)}
    (pattern,) = progress.patterns({"exercise": factor}, pain, fatigue)
    assert pattern.pain_difference == 4.0  # 7 - 3
    assert pattern.fatigue_difference == -2.0


def test_pattern_difference_is_none_when_one_side_has_no_ratings():
    (pattern,) = progress.patterns({"weather": _factor_days(8, 8)}, {day(0): 5}, {})
    assert pattern.pain_difference is None


def test_each_factor_is_judged_on_its_own_days():
    pain = dict.fromkeys(_factor_days(10, 10), 5)
    factors = {"alcohol": _factor_days(10, 10), "stress": _factor_days(3, 10)}
    assert [p.factor for p in progress.patterns(factors, pain, pain)] == ["alcohol"]


def test_pattern_sentence_is_hedged_and_gives_the_day_counts():
    sentence = progress.pattern_sentence(Pattern("alcohol", 9, 12, 1.25, None), "Alcohol")
    assert sentence == (
        "On days with alcohol, your pain was on average 1.2 points higher than on other "
        "days (9 days with, 12 without). This may be chance; it is worth mentioning to "
        "your clinician."
    )


def test_pattern_sentence_says_lower_when_pain_was_lower():
    sentence = progress.pattern_sentence(Pattern("exercise", 8, 8, -2.0, None), "Exercise")
    assert "2.0 points lower than on other days" in sentence
    assert "This may be chance" in sentence


@pytest.mark.parametrize("difference", [None, 0.0, 0.49, -0.49])
def test_pattern_sentence_says_about_the_same_for_small_or_unknown_differences(difference):
    sentence = progress.pattern_sentence(Pattern("stress", 8, 8, difference, None), "Stress")
    assert sentence == (
        "On days with stress, your pain was about the same as on other days "
        "(8 days with, 8 without)."
    )


# --- where the baseline comes from ------------------------------------------------------


def test_a_run_in_baseline_says_before_ldn_with_its_dates():
    values = {day(-3): 6, day(-1): 8, day(0): 1}
    base = progress.baseline_of(values, FIRST_DOSE)
    assert base.kind == progress.BaselineKind.RUN_IN
    assert (base.mean, base.start, base.end, base.days_rated) == (7, day(-7), day(-1), 2)
    assert base.compared_with == "before LDN"
    assert base.kind_label == "the 7 days before the first dose"


def test_with_no_run_in_the_baseline_is_the_first_week_on_ldn_and_says_so():
    values = {day(0): 4, day(6): 6, day(7): 10}
    base = progress.baseline_of(values, FIRST_DOSE)
    assert base.kind == progress.BaselineKind.FIRST_WEEK
    assert (base.mean, base.start, base.end, base.days_rated) == (5, day(0), day(6), 2)
    assert base.compared_with == "your first week on LDN"
    assert "first 7 days on LDN" in base.kind_label


def test_a_day_left_blank_in_the_run_in_does_not_make_it_a_run_in():
    assert progress.baseline_of({day(-2): None, day(1): 3}, FIRST_DOSE).kind == (
        progress.BaselineKind.FIRST_WEEK
    )


def test_no_rating_in_either_week_no_baseline():
    assert progress.baseline_of({day(-8): 5, day(7): 5}, FIRST_DOSE) is None


@pytest.mark.parametrize(
    ("rated", "kind"),
    [
        ([], progress.BaselineKind.FIRST_WEEK),
        ([day(-7)], progress.BaselineKind.RUN_IN),
        ([day(-1), day(3)], progress.BaselineKind.RUN_IN),
        ([day(-8), day(0)], progress.BaselineKind.FIRST_WEEK),
        ([day(0)], progress.BaselineKind.FIRST_WEEK),
    ],
)
def test_the_wording_before_a_baseline_exists_follows_the_same_rule(rated, kind):
    assert progress.baseline_kind(rated, FIRST_DOSE) == kind


def test_the_plain_baseline_is_the_named_baselines_mean():
    values = {day(n): (n * 3) % 11 for n in range(-9, 9)}
    assert progress.baseline(values, FIRST_DOSE) == progress.baseline_of(values, FIRST_DOSE).mean
