"""The DOMAIN.md alert rules, at and either side of each line. Pure: no database."""

import datetime as dt

import pytest

from clinic import alert_rules as rules
from clinic.alert_rules import Facts, Rule, Urgency

TODAY = dt.date(2026, 11, 20)
START = dt.date(2026, 10, 1)


def day(n):
    """n days before today (0 is today)."""
    return TODAY - dt.timedelta(days=n)


def effects(*levels_by_days_ago, name="Headache"):
    return {day(n): {name: level} for n, level in levels_by_days_ago}


# Opioid use --------------------------------------------------------------------------------


def test_any_opioid_report_is_urgent_and_dated_by_the_screening():
    finding = rules.opioid_use(Facts(today=TODAY, opioid_reported_on=day(3)))
    assert finding.rule == Rule.OPIOID_USE
    assert finding.urgency == Urgency.URGENT
    assert finding.episode == day(3)


def test_no_opioid_report_no_alert():
    assert rules.opioid_use(Facts(today=TODAY)) is None


# Severe side effect ------------------------------------------------------------------------


@pytest.mark.parametrize("level,expected", [(2, False), (3, True)])
def test_only_a_severe_rating_counts(level, expected):
    facts = Facts(today=TODAY, side_effects=effects((0, level)))
    assert (rules.severe_side_effect(facts) is not None) is expected


@pytest.mark.parametrize("days_ago,expected", [(6, True), (7, False)])
def test_a_severe_rating_counts_for_a_week(days_ago, expected):
    facts = Facts(today=TODAY, side_effects=effects((days_ago, 3)))
    assert (rules.severe_side_effect(facts) is not None) is expected


def test_the_severe_episode_is_the_latest_severe_day_and_names_the_effect():
    facts = Facts(
        today=TODAY,
        side_effects={day(4): {"Nausea": 3}, day(1): {"Headache": 3, "Nausea": 1}},
    )
    finding = rules.severe_side_effect(facts)
    assert finding.episode == day(1)
    assert finding.urgency == Urgency.HIGH
    assert "headache" in finding.detail and "nausea" not in finding.detail


# Persistent side effects -------------------------------------------------------------------


@pytest.mark.parametrize(
    "run,expected",
    [
        ([(0, 2), (1, 2)], False),  # two days
        ([(0, 2), (1, 2), (2, 2)], True),  # three moderate days in a row
        ([(0, 2), (1, 1), (2, 2), (3, 2)], False),  # mild breaks the run
        ([(0, 2), (2, 2), (3, 2)], False),  # a day with nothing recorded breaks the run
        ([(0, 3), (1, 2), (2, 3)], True),  # severe counts as "moderate or worse"
    ],
)
def test_persistent_needs_moderate_or_worse_three_days_in_a_row(run, expected):
    facts = Facts(today=TODAY, side_effects=effects(*run))
    assert (rules.persistent_side_effects(facts) is not None) is expected


def test_the_persistent_episode_is_the_first_day_of_the_run_so_a_longer_run_is_the_same():
    three = Facts(today=TODAY, side_effects=effects((2, 2), (3, 2), (4, 2)))
    five = Facts(today=TODAY, side_effects=effects((0, 2), (1, 2), (2, 2), (3, 2), (4, 2)))
    assert rules.persistent_side_effects(three).episode == day(4)
    assert rules.persistent_side_effects(five).episode == day(4)


@pytest.mark.parametrize("ended_days_ago,expected", [(6, True), (7, False)])
def test_a_run_that_ended_more_than_a_week_ago_is_history(ended_days_ago, expected):
    n = ended_days_ago
    facts = Facts(today=TODAY, side_effects=effects((n, 2), (n + 1, 2), (n + 2, 2)))
    assert (rules.persistent_side_effects(facts) is not None) is expected


def test_the_threshold_can_be_adjusted_per_patient():
    facts = Facts(today=TODAY, side_effects=effects((0, 2), (1, 2)))
    assert rules.persistent_side_effects(facts, rules.Thresholds(persistent_days=2))


# Pain worsening ----------------------------------------------------------------------------


def pain_facts(baseline, last_week):
    """A run-in week at `baseline`, then the last 7 days as given (None: not recorded)."""
    pain = {START - dt.timedelta(days=n): baseline for n in range(1, 8)}
    for n, value in enumerate(reversed(last_week)):
        if value is not None:
            pain[day(n)] = value
    return Facts(today=TODAY, plan_start=START, pain=pain)


@pytest.mark.parametrize(
    "baseline,week,expected",
    [
        (5, [6] * 7, False),  # +1 point, +20%
        (5, [7] * 7, True),  # +2 points exactly
        (8, [9] * 7, False),  # +1 point, 12.5%
        (3, [3.9] * 7, True),  # +0.9 points but exactly 30%
        (3, [3.8] * 7, False),  # 26.7%
        (0, [1] * 7, False),  # no percentage of a zero baseline; 1 point is under 2
        (0, [2] * 7, True),
        (5, [None, None, 7, 7, 7, 7, 7], True),  # days with nothing recorded are skipped
    ],
)
def test_pain_worsening_at_two_points_or_thirty_percent(baseline, week, expected):
    assert (rules.pain_worsening(pain_facts(baseline, week)) is not None) is expected


def test_no_baseline_no_pain_alert():
    facts = Facts(today=TODAY, plan_start=START, pain={day(0): 9})
    assert rules.pain_worsening(facts) is None


def test_the_pain_episode_is_where_the_spell_above_the_line_began():
    facts = pain_facts(4, [4, 4, 4, 4, 9, 9, 9])  # the mean crosses 6 on the 6th day
    finding = rules.pain_worsening(facts)
    assert finding.episode == day(1)
    assert finding.urgency == Urgency.MEDIUM


# Missed doses ------------------------------------------------------------------------------


def dose_facts(due_days_ago, logged_days_ago):
    return Facts(
        today=TODAY,
        plan_start=START,
        due_days=[day(n) for n in due_days_ago],
        logged={day(n): "taken" for n in logged_days_ago},
    )


@pytest.mark.parametrize(
    "logged,expected",
    [
        ([3, 4], False),  # yesterday and the day before missed: 2
        ([4], True),  # 3 in a row
        ([1, 4], False),  # yesterday was taken
    ],
)
def test_missed_doses_at_three_in_a_row(logged, expected):
    facts = dose_facts(range(0, 6), logged)
    assert (rules.missed_doses(facts) is not None) is expected


def test_tonight_is_not_missed_before_the_day_is_over():
    facts = dose_facts([0, 1, 2, 3], [3])  # today, yesterday, 2 days ago: only 2 are past
    assert rules.missed_doses(facts) is None


def test_a_logged_skip_ends_a_run():
    facts = Facts(
        today=TODAY,
        due_days=[day(n) for n in range(1, 5)],
        logged={day(2): "skipped"},
    )
    assert rules.missed_doses(facts) is None


def test_days_with_nothing_due_do_not_break_a_run():
    facts = dose_facts([1, 3, 5, 7], [7])  # a paused plan on the days between
    finding = rules.missed_doses(facts)
    assert finding.episode == day(5)


# Gone quiet --------------------------------------------------------------------------------


@pytest.mark.parametrize("last_days_ago,expected", [(5, False), (6, True)])
def test_gone_quiet_after_five_whole_days(last_days_ago, expected):
    facts = Facts(today=TODAY, plan_start=START, last_dose=day(last_days_ago))
    assert (rules.gone_quiet(facts) is not None) is expected


def test_either_a_dose_or_a_diary_is_a_sign_of_life():
    facts = Facts(today=TODAY, plan_start=START, last_dose=day(10), last_diary=day(2))
    assert rules.gone_quiet(facts) is None


def test_a_plan_that_just_started_is_not_quiet():
    facts = Facts(today=TODAY, plan_start=day(4))
    assert rules.gone_quiet(facts) is None
    assert rules.gone_quiet(Facts(today=TODAY, plan_start=day(5))).episode == day(5)


def test_evaluate_lists_the_most_urgent_first():
    facts = Facts(
        today=TODAY,
        plan_start=START,
        opioid_reported_on=day(0),
        side_effects=effects((0, 3)),
    )
    found = [f.rule for f in rules.evaluate(facts)]
    assert found[:2] == [Rule.OPIOID_USE, Rule.SEVERE_SIDE_EFFECT]
    assert Rule.GONE_QUIET in found
