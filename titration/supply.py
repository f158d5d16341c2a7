"""
Supply arithmetic for capsules and liquid (shared/DOMAIN.md, formulations). Pure.

Capsules are compounded at fixed strengths, so a dose is a whole number of capsules or it
cannot be made from the current batch. Liquid is drawn up in mL at the label concentration.
"""

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from fractions import Fraction

WARN_DAYS_BEFORE_RUNNING_OUT = 7


def capsules_for(dose_mg: Decimal, strength_mg: Decimal) -> int | None:
    """Whole capsules that make the dose, or None when this strength cannot make it."""
    if strength_mg <= 0:
        raise ValueError("capsule strength must be positive")
    count = Decimal(dose_mg) / Decimal(strength_mg)
    if count != count.to_integral_value() or count < 1:
        return None
    return int(count)


def units_for(dose_mg: Decimal, *, capsule_strength_mg=None, concentration_mg_per_ml=None):
    """What one dose uses up: capsules (int) or mL (Decimal, unrounded). None if impossible."""
    # `is not None`, not truthiness: a zero strength or concentration is a mistake to refuse,
    # not a sign of the other formulation.
    if capsule_strength_mg is not None:
        return capsules_for(dose_mg, capsule_strength_mg)
    if concentration_mg_per_ml is not None:
        if concentration_mg_per_ml <= 0:
            raise ValueError("liquid concentration must be positive")
        return Decimal(dose_mg) / Decimal(concentration_mg_per_ml)
    return None


def runs_out_on(
    *,
    on_hand: Decimal,
    upcoming_doses: Iterable[tuple[dt.date, Decimal]],
    capsule_strength_mg=None,
    concentration_mg_per_ml=None,
) -> dt.date | None:
    """The first date whose dose the supply on hand can no longer cover.

    `upcoming_doses` are (date, dose in mg) from the schedule, starting with the next dose to
    be taken; a dose of None (nothing due that day) uses nothing. None when the supply lasts
    beyond the horizon given, or a dose can't be made from this strength (flagged separately).
    """
    # Exact fractions: mL per dose can repeat (0.5 mg at 3 mg/mL is 1/6 mL), and Decimal's
    # rounded-up last digit would add up to more than the bottle holds, a day early.
    left = Fraction(Decimal(on_hand))
    for day, dose_mg in upcoming_doses:
        if dose_mg is None:
            continue
        units = units_for(
            dose_mg,
            capsule_strength_mg=capsule_strength_mg,
            concentration_mg_per_ml=concentration_mg_per_ml,
        )
        if units is None:
            return None
        if isinstance(units, int):
            need = Fraction(units)
        else:
            need = Fraction(Decimal(dose_mg)) / Fraction(Decimal(concentration_mg_per_ml))
        if left < need:
            return day
        left -= need
    return None


def needs_refill_warning(today: dt.date, runs_out: dt.date | None) -> bool:
    return runs_out is not None and (runs_out - today).days <= WARN_DAYS_BEFORE_RUNNING_OUT
