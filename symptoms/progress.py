"""
Progress arithmetic (shared/DOMAIN.md, progress and response). Pure: dates and numbers in,
numbers out, so every threshold can be tested by hand.

- Baseline: mean of the ratings in the 7 days before the first dose, or the first 7 days of
  the plan when there is no run-in.
- Response on 7-day mean pain against baseline (IMMPACT): a drop of >= 30% or >= 2 points is
  moderate improvement; >= 50% is substantial.
"""

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from statistics import fmean

WINDOW = 7
MIN_PATTERN_DAYS = 8
PRECISION = 9  # decimal places kept when comparing a change with a band's line


class Band(StrEnum):
    NONE = "none"
    MODERATE = "moderate"
    SUBSTANTIAL = "substantial"


BAND_LABELS = {
    Band.NONE: "no clear change yet",
    Band.MODERATE: "moderate improvement",
    Band.SUBSTANTIAL: "substantial improvement",
}


def _mean(values):
    values = [v for v in values if v is not None]
    return fmean(values) if values else None


class BaselineKind(StrEnum):
    RUN_IN = "run_in"  # the 7 days before the first dose
    FIRST_WEEK = "first_week"  # no diary before the first dose: the plan's first 7 days


# What "compared with ..." says on every page: a first-week baseline is already on LDN, so
# calling it "before LDN" would overstate any change.
BASELINE_COMPARED_WITH = {
    BaselineKind.RUN_IN: "before LDN",
    BaselineKind.FIRST_WEEK: "your first week on LDN",
}
BASELINE_KIND_LABELS = {
    BaselineKind.RUN_IN: "the 7 days before the first dose",
    BaselineKind.FIRST_WEEK: "the first 7 days on LDN (no diary before the first dose)",
}


@dataclass(frozen=True)
class Baseline:
    mean: float
    kind: BaselineKind
    start: dt.date  # the window's first and last day, whatever days in it were rated
    end: dt.date
    days_rated: int

    @property
    def compared_with(self) -> str:
        return BASELINE_COMPARED_WITH[self.kind]

    @property
    def kind_label(self) -> str:
        return BASELINE_KIND_LABELS[self.kind]

    @property
    def days(self) -> int:
        return self.days_rated

    @property
    def complete_on(self) -> dt.date:
        """The first day after its 7 days: it is compared from then on (the first dose for
        a run-in, the plan's 8th day for its first week)."""
        return self.end + dt.timedelta(days=1)

    def ready(self, today: dt.date) -> bool:
        """A baseline is compared only once its 7 days are over: before that, the first
        days of the plan would be compared with themselves."""
        return today >= self.complete_on


def baseline_kind(rated_days, first_dose: dt.date) -> BaselineKind:
    """The run-in week when any day in it has a rating, else the plan's first week. The
    wording of a page with no baseline yet follows this rule too."""
    run_in = first_dose - dt.timedelta(days=WINDOW)
    if any(run_in <= day < first_dose for day in rated_days):
        return BaselineKind.RUN_IN
    return BaselineKind.FIRST_WEEK


def baseline_window(kind: BaselineKind, first_dose: dt.date) -> tuple[dt.date, dt.date]:
    start = first_dose - dt.timedelta(days=WINDOW) if kind == BaselineKind.RUN_IN else first_dose
    return start, start + dt.timedelta(days=WINDOW - 1)


def baseline_of(values: Mapping[dt.date, float], first_dose: dt.date) -> Baseline | None:
    """The baseline and where it comes from; None while its week has no rating."""
    rated_days = [day for day, value in values.items() if value is not None]
    kind = baseline_kind(rated_days, first_dose)
    start, end = baseline_window(kind, first_dose)
    rated = [values[day] for day in rated_days if start <= day <= end]
    if not rated:
        return None
    return Baseline(fmean(rated), kind, start, end, len(rated))


def baseline(values: Mapping[dt.date, float], first_dose: dt.date) -> float | None:
    found = baseline_of(values, first_dose)
    return found.mean if found else None


def mean_of_window(values: Mapping[dt.date, float], end: dt.date, days: int = WINDOW):
    """Mean of the days (end - days, end], skipping days with nothing recorded."""
    return _mean(values.get(end - dt.timedelta(days=n)) for n in range(days))


def rolling_means(values: Mapping[dt.date, float], since: dt.date, until: dt.date):
    """{date: 7-day mean ending that date} for every date with at least one value in window."""
    out, day = {}, since
    while day <= until:
        mean = mean_of_window(values, day)
        if mean is not None:
            out[day] = mean
        day += dt.timedelta(days=1)
    return out


@dataclass(frozen=True)
class Change:
    baseline: float
    current: float

    @property
    def points(self) -> float:
        return self.current - self.baseline

    @property
    def percent(self) -> float | None:
        if self.baseline == 0:
            return None
        return 100 * (self.current - self.baseline) / self.baseline


def pain_response(change: Change | None) -> Band:
    """Higher pain is worse, so improvement is a drop."""
    if change is None:
        return Band.NONE
    # Rounded before comparing: means are floats, and 6.0 -> 4.2 (exactly 30%) would
    # otherwise come out as a 29.999999999999996% drop and miss the band.
    drop_points = round(change.baseline - change.current, PRECISION)
    drop_percent = round(-(change.percent or 0), PRECISION)
    if drop_percent >= 50:
        return Band.SUBSTANTIAL
    if drop_percent >= 30 or drop_points >= 2:
        return Band.MODERATE
    return Band.NONE


@dataclass(frozen=True)
class Pattern:
    factor: str
    with_days: int
    without_days: int
    pain_difference: float | None  # mean with minus mean without
    fatigue_difference: float | None


def patterns(
    factor_days: Mapping[str, Mapping[dt.date, bool]],
    pain: Mapping[dt.date, float],
    fatigue: Mapping[dt.date, float],
) -> list[Pattern]:
    """For each factor with at least 8 diary days with it and 8 without, the mean difference.

    Fewer days than that and no pattern is reported: a handful of days proves nothing.
    """
    found = []
    for factor, days in factor_days.items():
        with_days = [d for d, present in days.items() if present]
        without_days = [d for d, present in days.items() if not present]
        if len(with_days) < MIN_PATTERN_DAYS or len(without_days) < MIN_PATTERN_DAYS:
            continue

        def difference(values, with_days=with_days, without_days=without_days):
            with_mean = _mean(values.get(d) for d in with_days)
            without_mean = _mean(values.get(d) for d in without_days)
            if with_mean is None or without_mean is None:
                return None
            return with_mean - without_mean

        found.append(
            Pattern(
                factor, len(with_days), len(without_days), difference(pain), difference(fatigue)
            )
        )
    return found


def pattern_sentence(pattern: Pattern, label: str) -> str:
    """A hedged, plain-language line: patterns in a diary are hints, not causes."""
    diff = pattern.pain_difference
    if diff is None or abs(diff) < 0.5:
        return (
            f"On days with {label.lower()}, your pain was about the same as on other days "
            f"({pattern.with_days} days with, {pattern.without_days} without)."
        )
    direction = "higher" if diff > 0 else "lower"
    return (
        f"On days with {label.lower()}, your pain was on average {abs(diff):.1f} points "
        f"{direction} than on other days ({pattern.with_days} days with, "
        f"{pattern.without_days} without). This may be chance; it is worth mentioning to "
        "your clinician."
    )
