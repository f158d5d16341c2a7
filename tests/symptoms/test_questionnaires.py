"""FIQR scoring and the questionnaire schedule (symptoms/questionnaires.py): pure."""

import datetime as dt
from decimal import Decimal

import pytest

from symptoms import questionnaires as q

FUNCTION = [key for key, _ in q.FIQR_FUNCTION]
OVERALL = [key for key, _ in q.FIQR_OVERALL]
SYMPTOMS = [item[0] for item in q.FIQR_SYMPTOMS]


def answers(function, overall, symptoms):
    return (
        dict(zip(FUNCTION, function, strict=True))
        | dict(zip(OVERALL, overall, strict=True))
        | dict(zip(SYMPTOMS, symptoms, strict=True))
    )


def all_items(value):
    return dict.fromkeys(q.FIQR_ITEMS, value)


# --- FIQR scoring -------------------------------------------------------------------------


def test_fiqr_has_twenty_one_items_in_three_domains():
    assert (len(FUNCTION), len(OVERALL), len(SYMPTOMS)) == (9, 2, 10)
    assert len(set(q.FIQR_ITEMS)) == 21


def test_fiqr_all_zeros_scores_zero():
    assert q.fiqr_score(all_items(0)) == Decimal("0.0")


def test_fiqr_all_tens_scores_one_hundred():
    # 90 / 3 + 20 + 100 / 2 = 30 + 20 + 50
    assert q.fiqr_score(all_items(10)) == Decimal("100.0")


def test_fiqr_mixed_answers_score_by_domain():
    # function 1..9 = 45, / 3 = 15.0; overall 3 + 4 = 7; symptoms 0..9 = 45, / 2 = 22.5.
    # 15.0 + 7 + 22.5 = 44.5
    score = q.fiqr_score(answers(range(1, 10), [3, 4], range(10)))
    assert score == Decimal("44.5")


def test_fiqr_rounds_to_one_decimal_down():
    # function 10 / 3 = 3.333...; overall 5; symptoms 33 / 2 = 16.5 -> 24.833... -> 24.8
    score = q.fiqr_score(answers([1] * 8 + [2], [2, 3], [3] * 9 + [6]))
    assert score == Decimal("24.8")


def test_fiqr_rounds_to_one_decimal_up():
    # function 11 / 3 = 3.666...; overall 0; symptoms 1 / 2 = 0.5 -> 4.166... -> 4.2
    score = q.fiqr_score(answers([1] * 7 + [2, 2], [0, 0], [1] + [0] * 9))
    assert score == Decimal("4.2")


def test_fiqr_weighs_the_domains_differently():
    # One point is worth 1/3 in function, 1 in overall and 1/2 in symptoms.
    assert q.fiqr_score(all_items(0) | {"f1": 3}) == Decimal("1.0")
    assert q.fiqr_score(all_items(0) | {"o1": 1}) == Decimal("1.0")
    assert q.fiqr_score(all_items(0) | {"s1": 2}) == Decimal("1.0")


def test_fiqr_ignores_extra_keys():
    assert q.fiqr_score(all_items(0) | {"csrfmiddlewaretoken": "x"}) == Decimal("0.0")


@pytest.mark.parametrize("missing", ["f1", "o2", "s10"])
def test_fiqr_with_a_missing_item_raises(missing):
    partial = all_items(5)
    del partial[missing]
    with pytest.raises(ValueError, match=missing):
        q.fiqr_score(partial)


@pytest.mark.parametrize("value", [-1, 11, 100, None, "5", 5.0, True, False])
def test_fiqr_with_an_out_of_range_or_wrongly_typed_item_raises(value):
    with pytest.raises(ValueError, match="s3"):
        q.fiqr_score(all_items(5) | {"s3": value})


@pytest.mark.parametrize(
    ("earlier", "later", "meaningful"),
    [
        ("50.0", "43.0", True),  # 14% lower exactly
        ("50.0", "43.1", False),  # 13.8%
        ("50.0", "57.0", True),  # 14% worse is a meaningful change too
        ("0.0", "0.0", False),
        ("0.0", "1.0", True),
    ],
)
def test_fiqr_change_of_fourteen_percent_is_meaningful(earlier, later, meaningful):
    assert q.fiqr_change_is_meaningful(Decimal(earlier), Decimal(later)) is meaningful


# --- schedule -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("until", "weeks"),
    [
        (0, [0]),
        (3, [0]),
        (4, [0, 4]),
        (11, [0, 4, 8]),
        (12, [0, 4, 8, 12]),
        (23, [0, 4, 8, 12]),
        (24, [0, 4, 8, 12, 24]),
        (60, [0, 4, 8, 12, 24, 36, 48, 60]),
    ],
)
def test_schedule_is_weeks_0_4_8_12_then_every_12(until, weeks):
    assert q.schedule_weeks(until) == weeks


def test_due_date_is_whole_weeks_after_the_start():
    assert q.due_on(dt.date(2026, 11, 10), 4) == dt.date(2026, 12, 8)


START = dt.date(2026, 11, 10)


def open_on(offset_days, done=frozenset()):
    today = START + dt.timedelta(days=offset_days)
    return [(kind, week) for kind, week, _ in q.open_questionnaires(START, today, set(done))]


def test_nothing_is_open_before_the_start():
    assert open_on(-1) == []
    assert open_on(-30) == []


def test_week_zero_offers_the_fiqr_only():
    # There is no change to rate before the first dose, so no PGIC.
    assert open_on(0) == [("fiqr", 0)]
    due = q.open_questionnaires(START, START, set())[0][2]
    assert due == START


def test_a_questionnaire_stays_open_for_seven_days_from_its_due_date():
    assert open_on(6) == [("fiqr", 0)]
    assert open_on(7) == []


def test_from_week_four_both_the_fiqr_and_the_pgic_are_offered():
    assert open_on(27) == []
    assert open_on(28) == [("fiqr", 4), ("pgic", 4)]
    assert open_on(34) == [("fiqr", 4), ("pgic", 4)]
    assert open_on(35) == []


def test_weeks_between_twelve_and_twenty_four_have_nothing_open():
    assert open_on(12 * 7) == [("fiqr", 12), ("pgic", 12)]
    assert [open_on(n) for n in range(12 * 7 + 7, 24 * 7)] == [[]] * (12 * 7 - 7)
    assert open_on(24 * 7) == [("fiqr", 24), ("pgic", 24)]
    assert open_on(36 * 7 + 3) == [("fiqr", 36), ("pgic", 36)]


def test_answered_questionnaires_are_not_offered_again():
    assert open_on(0, done={("fiqr", 0)}) == []
    assert open_on(29, done={("fiqr", 4)}) == [("pgic", 4)]
    assert open_on(29, done={("fiqr", 4), ("pgic", 4)}) == []


def test_an_answer_for_another_week_does_not_close_this_one():
    assert open_on(56, done={("fiqr", 4), ("pgic", 4)}) == [("fiqr", 8), ("pgic", 8)]
