"""Supply arithmetic (shared/DOMAIN.md, formulations): capsules come in fixed strengths, liquid
is drawn up in mL at the label concentration; forecast the day the supply runs out."""

import datetime as dt
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from titration.supply import capsules_for, needs_refill_warning, runs_out_on, units_for

D = Decimal
TODAY = dt.date(2026, 3, 15)


def day(n: int) -> dt.date:
    """The n-th upcoming dose date, counting TODAY as the first."""
    return TODAY + dt.timedelta(days=n - 1)


def doses(*runs: tuple[int, str]) -> list[tuple[dt.date, Decimal]]:
    """Consecutive daily doses from TODAY: doses((7, "1.5"), (7, "3.0")) is a standard start."""
    out = []
    for count, mg in runs:
        out.extend((day(len(out) + 1), D(mg)) for _ in range(count))
    return out


# capsules_for


@pytest.mark.parametrize(
    "dose, strength, capsules",
    [("1.5", "1.5", 1), ("3.0", "1.5", 2), ("4.5", "1.5", 3), ("4.5", "4.5", 1), ("6.0", "1.5", 4)],
)
def test_capsules_for_a_dose_that_is_a_whole_number_of_capsules(dose, strength, capsules):
    assert capsules_for(D(dose), D(strength)) == capsules


def test_capsules_for_gives_an_int():
    assert type(capsules_for(D("3.0"), D("1.5"))) is int


def test_three_mg_cannot_be_made_from_4_5_mg_capsules():
    assert capsules_for(D("3.0"), D("4.5")) is None


def test_three_quarters_of_a_mg_cannot_be_made_from_1_5_mg_capsules():
    assert capsules_for(D("0.75"), D("1.5")) is None


def test_a_dose_between_whole_capsules_cannot_be_made():
    assert capsules_for(D("2.25"), D("1.5")) is None


def test_no_dose_needs_no_capsules_and_is_not_a_dose_that_can_be_made():
    assert capsules_for(D("0"), D("1.5")) is None


@pytest.mark.parametrize("strength", ["0", "-1.5"])
def test_a_capsule_strength_that_is_not_positive_is_refused(strength):
    with pytest.raises(ValueError, match="strength must be positive"):
        capsules_for(D("3.0"), D(strength))


quarter_mg = st.integers(min_value=1, max_value=24).map(lambda quarters: D(quarters) / 4)


@given(strength=quarter_mg, count=st.integers(min_value=1, max_value=24))
def test_any_whole_number_of_capsules_is_found(strength, count):
    assert capsules_for(strength * count, strength) == count


@given(dose=quarter_mg, strength=quarter_mg)
def test_capsules_make_exactly_the_dose_or_none_is_given(dose, strength):
    capsules = capsules_for(dose, strength)

    if capsules is None:
        assert dose % strength != 0 or dose < strength
    else:
        assert capsules >= 1
        assert capsules * strength == dose


# units_for


def test_units_for_capsules_is_a_whole_number_of_capsules():
    assert units_for(D("3.0"), capsule_strength_mg=D("1.5")) == 2


def test_units_for_capsules_that_cannot_make_the_dose_is_none():
    assert units_for(D("3.0"), capsule_strength_mg=D("4.5")) is None


def test_units_for_liquid_is_mL_at_the_label_concentration():
    assert units_for(D("1.5"), concentration_mg_per_ml=D("1")) == D("1.5")
    assert units_for(D("4.5"), concentration_mg_per_ml=D("5")) == D("0.9")


def test_units_for_liquid_is_not_rounded_to_the_syringe():
    ml = units_for(D("0.5"), concentration_mg_per_ml=D("3"))

    assert ml == D("0.5") / D("3")
    assert ml != ml.quantize(D("0.1"))
    assert isinstance(ml, Decimal)


def test_units_for_without_a_strength_or_a_concentration_is_none():
    assert units_for(D("3.0")) is None


@pytest.mark.parametrize("strength", ["0", "-1.5"])
def test_units_for_refuses_a_capsule_strength_that_is_not_positive(strength):
    with pytest.raises(ValueError, match="strength must be positive"):
        units_for(D("3.0"), capsule_strength_mg=D(strength))


@pytest.mark.parametrize("concentration", ["0", "-1"])
def test_units_for_refuses_a_concentration_that_is_not_positive(concentration):
    with pytest.raises(ValueError, match="concentration must be positive"):
        units_for(D("3.0"), concentration_mg_per_ml=D(concentration))


# runs_out_on: capsules


def test_capsules_run_out_on_the_first_dose_they_cannot_cover():
    assert runs_out_on(
        on_hand=D(10), upcoming_doses=doses((20, "1.5")), capsule_strength_mg=D("1.5")
    ) == day(11)


def test_exactly_enough_capsules_last_the_whole_horizon():
    assert (
        runs_out_on(on_hand=D(7), upcoming_doses=doses((7, "1.5")), capsule_strength_mg=D("1.5"))
        is None
    )


def test_exactly_enough_capsules_run_out_the_day_after():
    assert runs_out_on(
        on_hand=D(7), upcoming_doses=doses((8, "1.5")), capsule_strength_mg=D("1.5")
    ) == day(8)


def test_no_capsules_run_out_on_the_next_dose():
    assert runs_out_on(
        on_hand=D(0), upcoming_doses=doses((3, "1.5")), capsule_strength_mg=D("1.5")
    ) == day(1)


def test_a_step_up_mid_way_uses_capsules_faster():
    # 7 x 1 capsule, then 2 a night: 14 capsules cover days 1-10 with 1 left over.
    upcoming = doses((7, "1.5"), (14, "3.0"))

    assert runs_out_on(on_hand=D(14), upcoming_doses=upcoming, capsule_strength_mg=D("1.5")) == (
        day(11)
    )


def test_a_step_up_runs_out_on_a_night_that_needs_more_than_is_left():
    # One capsule left is not enough for a 2-capsule night, even though it is not zero.
    upcoming = doses((1, "1.5"), (1, "3.0"))

    assert runs_out_on(on_hand=D(2), upcoming_doses=upcoming, capsule_strength_mg=D("1.5")) == (
        day(2)
    )


def test_a_dose_the_capsule_strength_cannot_make_gives_no_date():
    upcoming = doses((7, "1.5"), (7, "3.0"), (7, "4.5"))

    assert runs_out_on(on_hand=D(30), upcoming_doses=upcoming, capsule_strength_mg=D("3.0")) is (
        None
    )


def test_a_dose_the_strength_cannot_make_after_the_supply_ran_out_still_gives_the_date():
    upcoming = doses((3, "3.0"), (3, "4.5"))

    assert runs_out_on(on_hand=D(2), upcoming_doses=upcoming, capsule_strength_mg=D("3.0")) == (
        day(3)
    )


def test_no_upcoming_doses_give_no_date():
    assert runs_out_on(on_hand=D(0), upcoming_doses=[], capsule_strength_mg=D("1.5")) is None


def test_a_day_with_nothing_due_uses_no_supply():
    # The schedule gives None for a paused day; it neither uses a capsule nor stops the forecast.
    upcoming = [(day(1), D("1.5")), (day(2), None), (day(3), D("1.5")), (day(4), D("1.5"))]

    assert runs_out_on(on_hand=D(2), upcoming_doses=upcoming, capsule_strength_mg=D("1.5")) == (
        day(4)
    )


def test_upcoming_doses_can_be_a_generator():
    upcoming = iter(doses((5, "1.5")))

    assert runs_out_on(on_hand=D(3), upcoming_doses=upcoming, capsule_strength_mg=D("1.5")) == (
        day(4)
    )


def test_a_forecast_without_a_strength_or_a_concentration_gives_no_date():
    assert runs_out_on(on_hand=D(3), upcoming_doses=doses((5, "1.5"))) is None


# runs_out_on: liquid


def test_liquid_runs_out_on_the_first_dose_it_cannot_cover():
    # 30 mL at 1 mg/mL is 20 doses of 1.5 mg.
    assert runs_out_on(
        on_hand=D(30), upcoming_doses=doses((40, "1.5")), concentration_mg_per_ml=D(1)
    ) == day(21)


def test_exactly_enough_liquid_lasts_the_whole_horizon():
    assert (
        runs_out_on(on_hand=D(30), upcoming_doses=doses((20, "1.5")), concentration_mg_per_ml=D(1))
        is None
    )


def test_a_step_up_mid_way_uses_liquid_faster():
    # 5 mg/mL: 0.3 mL a night for 7 nights (2.1 mL), then 0.6 mL; 5 mL covers 4 more nights.
    upcoming = doses((7, "1.5"), (14, "3.0"))

    assert runs_out_on(on_hand=D(5), upcoming_doses=upcoming, concentration_mg_per_ml=D(5)) == (
        day(12)
    )


def test_liquid_with_a_repeating_decimal_dose_lasts_every_dose_it_holds():
    # 0.5 mg at 3 mg/mL is 1/6 mL: 1 mL holds exactly 6 doses, not 5.
    upcoming = doses((10, "0.5"))

    assert runs_out_on(on_hand=D(1), upcoming_doses=upcoming, concentration_mg_per_ml=D(3)) == (
        day(7)
    )


def test_liquid_can_make_any_dose():
    upcoming = doses((3, "0.25"), (3, "5.75"))

    assert runs_out_on(on_hand=D(100), upcoming_doses=upcoming, concentration_mg_per_ml=D(1)) is (
        None
    )


# runs_out_on: properties against exact arithmetic

mg_doses = st.integers(min_value=2, max_value=24).map(lambda quarters: D(quarters) / 4)
concentrations = st.sampled_from([D(1), D(5), D(3), D("1.5"), D("0.75"), D("2.5"), D(7)])


def _exact_runs_out(on_hand, upcoming, per_dose):
    left = Fraction(on_hand)
    for when, mg in upcoming:
        need = per_dose(mg)
        if need is None:
            return None
        if left < need:
            return when
        left -= need
    return None


@given(
    mgs=st.lists(mg_doses, max_size=60),
    concentration=concentrations,
    on_hand=st.integers(min_value=0, max_value=1000).map(lambda tenths: D(tenths) / 10),
)
def test_liquid_runs_out_on_the_first_date_the_bottle_cannot_cover(mgs, concentration, on_hand):
    upcoming = [(day(n), mg) for n, mg in enumerate(mgs, start=1)]

    expected = _exact_runs_out(on_hand, upcoming, lambda mg: Fraction(mg) / Fraction(concentration))

    assert (
        runs_out_on(on_hand=on_hand, upcoming_doses=upcoming, concentration_mg_per_ml=concentration)
        == expected
    )


@given(
    mgs=st.lists(st.sampled_from([D("1.5"), D("3.0"), D("4.5"), D("6.0")]), max_size=60),
    strength=st.sampled_from([D("1.5"), D("3.0"), D("4.5")]),
    on_hand=st.integers(min_value=0, max_value=200).map(D),
)
def test_capsules_run_out_on_the_first_date_the_supply_cannot_cover(mgs, strength, on_hand):
    upcoming = [(day(n), mg) for n, mg in enumerate(mgs, start=1)]

    def per_dose(mg):
        count = Fraction(mg) / Fraction(strength)
        return count if count.denominator == 1 else None

    expected = _exact_runs_out(on_hand, upcoming, per_dose)

    assert (
        runs_out_on(on_hand=on_hand, upcoming_doses=upcoming, capsule_strength_mg=strength)
        == expected
    )


@given(mg=mg_doses, concentration=concentrations, multiple=st.integers(min_value=1, max_value=5))
def test_a_bottle_holding_a_whole_number_of_doses_lasts_exactly_that_many(
    mg, concentration, multiple
):
    per_dose_ml = Fraction(mg) / Fraction(concentration)
    nights = per_dose_ml.denominator * multiple  # so the bottle holds a whole number of mL
    on_hand = D(int(per_dose_ml * nights))
    upcoming = [(day(n), mg) for n in range(1, nights + 2)]

    assert runs_out_on(
        on_hand=on_hand, upcoming_doses=upcoming, concentration_mg_per_ml=concentration
    ) == day(nights + 1)


@given(
    mgs=st.lists(mg_doses, min_size=1, max_size=60),
    on_hand=st.integers(min_value=0, max_value=500).map(lambda tenths: D(tenths) / 10),
    extra=st.integers(min_value=1, max_value=100).map(lambda tenths: D(tenths) / 10),
)
def test_more_supply_never_runs_out_sooner(mgs, on_hand, extra):
    upcoming = [(day(n), mg) for n, mg in enumerate(mgs, start=1)]

    less = runs_out_on(on_hand=on_hand, upcoming_doses=upcoming, concentration_mg_per_ml=D(3))
    more = runs_out_on(
        on_hand=on_hand + extra, upcoming_doses=upcoming, concentration_mg_per_ml=D(3)
    )

    assert less is not None or more is None
    if less is not None and more is not None:
        assert more >= less


# needs_refill_warning


def test_refill_warning_seven_days_before_running_out():
    assert needs_refill_warning(TODAY, TODAY + dt.timedelta(days=7)) is True


def test_no_refill_warning_eight_days_before_running_out():
    assert needs_refill_warning(TODAY, TODAY + dt.timedelta(days=8)) is False


def test_refill_warning_on_the_day_it_runs_out():
    assert needs_refill_warning(TODAY, TODAY) is True


def test_refill_warning_once_it_has_already_run_out():
    assert needs_refill_warning(TODAY, TODAY - dt.timedelta(days=2)) is True


def test_no_refill_warning_when_the_supply_outlasts_the_forecast():
    assert needs_refill_warning(TODAY, None) is False


@given(days_left=st.integers(min_value=-30, max_value=400))
def test_refill_warning_is_given_exactly_from_seven_days_before(days_left):
    assert needs_refill_warning(TODAY, TODAY + dt.timedelta(days=days_left)) is (days_left <= 7)
