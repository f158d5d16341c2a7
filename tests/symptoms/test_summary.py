"""Page 1 of the doctor report (symptoms/summary.py): pure, no database."""

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest

from symptoms import summary
from symptoms.models import SIDE_EFFECTS

START = dt.date(2026, 10, 12)


def day(n):
    return START + dt.timedelta(days=n)


def rows(*runs):
    """[(dose or None, status, days)] -> schedule-like rows from START."""
    out, n = [], 0
    for dose, status, count in runs:
        for _ in range(count):
            out.append(
                SimpleNamespace(
                    day=day(n), dose_mg=None if dose is None else Decimal(dose), status=status
                )
            )
            n += 1
    return out


# --- dose steps -----------------------------------------------------------------------------


def test_a_run_is_the_days_on_one_dose_with_its_first_and_last_date():
    runs = summary.step_runs(rows(("1.5", "due", 7), ("3.0", "due", 7), ("4.5", "due", 3)))
    assert [(r.dose_mg, r.start, r.end, r.days) for r in runs] == [
        (Decimal("1.5"), day(0), day(6), 7),
        (Decimal("3.0"), day(7), day(13), 7),
        (Decimal("4.5"), day(14), day(16), 3),
    ]
    assert not any(r.stepped_back or r.held_days for r in runs)


def test_held_days_stay_in_their_run_and_are_counted():
    (run, _next) = summary.step_runs(rows(("3.0", "due", 7), ("3.0", "held", 4), ("4.5", "due", 1)))
    assert run.days == 11 and run.held_days == 4


def test_a_lower_dose_after_a_higher_one_is_a_step_back():
    runs = summary.step_runs(rows(("3.0", "due", 2), ("4.5", "due", 2), ("3.0", "due", 2)))
    assert [r.stepped_back for r in runs] == [False, False, True]


def test_a_pause_ends_a_run_and_days_with_no_dose_are_not_steps():
    runs = summary.step_runs(
        rows((None, "not_started", 3), ("3.0", "due", 2), (None, "paused", 2), ("3.0", "due", 2))
    )
    assert [(r.start, r.end) for r in runs] == [(day(3), day(4)), (day(7), day(8))]
    assert not runs[1].stepped_back


def test_no_days_no_runs():
    assert summary.step_runs([]) == []


# --- worst side effect per step -------------------------------------------------------------


def test_the_worst_side_effect_is_the_most_severe_then_the_most_frequent():
    (run,) = summary.step_runs(rows(("3.0", "due", 7)))
    ratings = {
        day(0): {"headache": 1, "nausea": 2},
        day(1): {"headache": 2},
        day(2): {"headache": 2, "vivid_dreams": 0},
        day(3): {"nausea": None},
    }
    (row,) = summary.worst_side_effect_per_step([run], ratings, SIDE_EFFECTS)
    assert (row.effect, row.effect_label, row.severity, row.days, row.diary_days) == (
        "headache",
        "Headache",
        2,
        2,
        4,
    )
    assert row.severity_label == "moderate"


def test_a_single_severe_day_outranks_many_moderate_ones():
    (run,) = summary.step_runs(rows(("4.5", "due", 5)))
    ratings = {day(n): {"headache": 2} for n in range(4)} | {day(4): {"nausea": 3}}
    (row,) = summary.worst_side_effect_per_step([run], ratings, SIDE_EFFECTS)
    assert (row.effect, row.severity, row.days) == ("nausea", 3, 1)


def test_a_tie_goes_to_the_diarys_order():
    (run,) = summary.step_runs(rows(("1.5", "due", 2)))
    ratings = {day(0): {"nausea": 1}, day(1): {"vivid_dreams": 1}}
    (row,) = summary.worst_side_effect_per_step([run], ratings, SIDE_EFFECTS)
    assert row.effect == "vivid_dreams"


def test_a_step_with_no_side_effect_says_none_and_counts_its_diary_days():
    runs = summary.step_runs(rows(("1.5", "due", 3), ("3.0", "due", 3)))
    ratings = {day(0): {"nausea": 0}, day(1): {}, day(4): {"nausea": 1}}
    first, second = summary.worst_side_effect_per_step(runs, ratings, SIDE_EFFECTS)
    assert (first.effect, first.severity, first.severity_label, first.diary_days) == (
        None,
        0,
        "none",
        2,
    )
    assert (second.effect, second.days, second.diary_days) == ("nausea", 1, 1)


# --- dates ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dates", "text"),
    [
        ([], ""),
        ([dt.date(2026, 11, 3)], "3 Nov 2026"),
        ([dt.date(2026, 11, 3), dt.date(2026, 11, 9)], "3 Nov, 9 Nov 2026"),
        (
            [dt.date(2026, 11, d) for d in (9, 3, 10, 11)],
            "3 Nov, 9–11 Nov 2026",
        ),
        ([dt.date(2026, 10, 31), dt.date(2026, 11, 1)], "31 Oct–1 Nov 2026"),
        ([dt.date(2026, 12, 31), dt.date(2027, 1, 1)], "31 Dec 2026–1 Jan 2027"),
        ([dt.date(2026, 12, 30), dt.date(2027, 1, 5)], "30 Dec 2026, 5 Jan 2027"),
        ([dt.date(2026, 11, 3), dt.date(2026, 11, 3)], "3 Nov 2026"),
    ],
)
def test_dates_are_listed_compactly_with_ranges_and_the_year_once(dates, text):
    assert summary.dates_text(dates) == text


# --- the dose in words ----------------------------------------------------------------------


def test_a_liquid_dose_says_the_volume_and_the_strength():
    text = summary.dose_statement(
        Decimal("4.5"),
        liquid=True,
        concentration_mg_per_ml=Decimal("1.00"),
        dose_ml=Decimal("4.5"),
    )
    assert text == "4.5 mg = 4.5 mL of 1 mg/mL liquid"


def test_a_liquid_dose_uses_the_volume_it_is_given_not_its_own_arithmetic():
    # The dose decision rounds halves down to 0.1 mL; this module only words it.
    text = summary.dose_statement(
        Decimal("0.75"), liquid=True, concentration_mg_per_ml=Decimal("5"), dose_ml=Decimal("0.1")
    )
    assert text == "0.75 mg = 0.1 mL of 5 mg/mL liquid"


@pytest.mark.parametrize(
    ("dose", "strength", "text"),
    [
        ("4.5", "1.5", "4.5 mg = 3 capsules of 1.5 mg"),
        ("3", "3", "3.0 mg = 1 capsule of 3.0 mg"),
        ("4.5", "2", "4.5 mg, capsules of 2.0 mg (this strength does not make the dose)"),
        ("4.5", None, "4.5 mg, capsules (strength not recorded)"),
    ],
)
def test_a_capsule_dose_says_how_many_of_which_strength(dose, strength, text):
    assert (
        summary.dose_statement(
            Decimal(dose), liquid=False, capsule_strength_mg=strength and Decimal(strength)
        )
        == text
    )


def test_no_dose_due_says_so():
    assert summary.dose_statement(None, liquid=True) == "no dose due"
    assert summary.dose_statement(Decimal("1.5"), liquid=True) == (
        "1.5 mg, liquid (strength not recorded)"
    )


# --- questionnaires -------------------------------------------------------------------------


def test_each_score_is_compared_with_the_first():
    first, second, third = summary.score_changes(
        [
            (0, day(0), Decimal("60.0")),
            (4, day(28), Decimal("48.0")),
            (8, day(56), Decimal("66.0")),
        ]
    )
    assert (first.points, first.percent) == (None, None)
    assert (second.week, second.on, second.points, second.percent) == (
        4,
        day(28),
        Decimal("-12.0"),
        Decimal("-20"),
    )
    assert (third.points, third.percent) == (Decimal("6.0"), Decimal("10"))


def test_a_first_score_of_zero_has_a_change_in_points_but_no_percentage():
    _first, second = summary.score_changes([(0, day(0), Decimal("0")), (4, day(28), Decimal("5"))])
    assert (second.points, second.percent) == (Decimal("5"), None)


def test_no_scores_no_changes():
    assert summary.score_changes([]) == []
