"""
What page 1 of the doctor report says, from numbers and dates. Pure: the dose steps and
their dates, the worst side effect at each step, missed and skipped dates, the dose in words
and the questionnaire changes, so each can be tested by hand.
"""

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from titration.templatetags.dose import mg as _mg

SEVERITY_LABELS = {0: "none", 1: "mild", 2: "moderate", 3: "severe"}


@dataclass(frozen=True)
class StepRun:
    """Consecutive days on one dose. A pause or a stop ends a run."""

    dose_mg: Decimal
    start: dt.date
    end: dt.date
    held_days: int  # days the step-up waited (a hold, automatic or asked for)
    stepped_back: bool  # a lower dose than the run before it

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def step_runs(days: Iterable) -> list[StepRun]:
    """`days`: the schedule's DayDose rows in date order (anything with `day`, `dose_mg` and
    `status`, where a held day's status is "held")."""
    runs: list[dict] = []
    previous_day = None
    for d in days:
        if d.dose_mg is None:
            previous_day = None
            continue
        current = runs[-1] if runs else None
        continues = (
            current is not None
            and current["dose_mg"] == d.dose_mg
            and previous_day is not None
            and d.day == previous_day + dt.timedelta(days=1)
        )
        if continues:
            current["end"] = d.day
        else:
            runs.append(
                {
                    "dose_mg": d.dose_mg,
                    "start": d.day,
                    "end": d.day,
                    "held_days": 0,
                    "stepped_back": current is not None and d.dose_mg < current["dose_mg"],
                }
            )
        if str(d.status) == "held":
            runs[-1]["held_days"] += 1
        previous_day = d.day
    return [StepRun(**run) for run in runs]


@dataclass(frozen=True)
class StepSideEffects:
    run: StepRun
    diary_days: int  # days in the run with a diary entry
    effect: str | None  # the worst side effect's key; None when none was noted
    effect_label: str
    severity: int  # 0-3
    days: int  # days on which that effect reached that severity

    @property
    def severity_label(self) -> str:
        return SEVERITY_LABELS[self.severity]


def worst_side_effect_per_step(
    runs: Sequence[StepRun],
    ratings: Mapping[dt.date, Mapping[str, int | None]],
    labels: Mapping[str, str],
) -> list[StepSideEffects]:
    """For each run, the side effect rated most severe; of those equally severe, the one on
    the most days, then the first in `labels` (the diary's order). `ratings`: {date: {effect:
    severity}} for the days with a diary entry."""
    rank = {name: i for i, name in enumerate(labels)}
    out = []
    for run in runs:
        days = [day for day in ratings if run.start <= day <= run.end]
        counts: dict[tuple[str, int], int] = {}
        for day in days:
            for effect, level in ratings[day].items():
                if level:
                    counts[(effect, level)] = counts.get((effect, level), 0) + 1
        if not counts:
            out.append(StepSideEffects(run, len(days), None, "", 0, 0))
            continue
        (effect, level), n = min(
            counts.items(), key=lambda item: (-item[0][1], -item[1], rank.get(item[0][0], 99))
        )
        out.append(StepSideEffects(run, len(days), effect, labels.get(effect, effect), level, n))
    return out


def dates_text(dates: Iterable[dt.date]) -> str:
    """ "3 Nov, 9–11 Nov, 2 Dec 2026": consecutive days as one range, the year once at the end
    (and where it changes), so a month of missed nights fits on a line."""
    days = sorted(set(dates))
    if not days:
        return ""
    runs, start = [], days[0]
    for before, after in zip(days, [*days[1:], None], strict=True):
        if after is None or after != before + dt.timedelta(days=1):
            runs.append((start, before))
            start = after
    parts = []
    for i, (first, last) in enumerate(runs):
        next_year = runs[i + 1][0].year if i + 1 < len(runs) else None
        year = f" {last.year}" if next_year != last.year else ""
        if first == last:
            parts.append(f"{last.day} {last:%b}{year}")
        elif first.month == last.month and first.year == last.year:
            parts.append(f"{first.day}–{last.day} {last:%b}{year}")
        else:
            first_year = f" {first.year}" if first.year != last.year else ""
            parts.append(f"{first.day} {first:%b}{first_year}–{last.day} {last:%b}{year}")
    return ", ".join(parts)


def dose_statement(
    dose_mg: Decimal | None,
    *,
    liquid: bool,
    concentration_mg_per_ml: Decimal | None = None,
    dose_ml: Decimal | None = None,
    capsule_strength_mg: Decimal | None = None,
) -> str:
    """The dose with what is measured out: "4.5 mg = 4.5 mL of 1 mg/mL liquid", "4.5 mg =
    3 capsules of 1.5 mg". `dose_ml` comes from the dose decision (its rounding rule)."""
    if dose_mg is None:
        return "no dose due"
    dose = f"{_mg(dose_mg)} mg"
    if liquid:
        if concentration_mg_per_ml and dose_ml is not None:
            strength = f"{Decimal(concentration_mg_per_ml).normalize():f}"
            return f"{dose} = {dose_ml} mL of {strength} mg/mL liquid"
        return f"{dose}, liquid (strength not recorded)"
    if capsule_strength_mg:
        count = Decimal(dose_mg) / Decimal(capsule_strength_mg)
        strength = f"{_mg(capsule_strength_mg)} mg"
        if count == count.to_integral_value():
            n = int(count)
            return f"{dose} = {n} capsule{'s' if n != 1 else ''} of {strength}"
        return f"{dose}, capsules of {strength} (this strength does not make the dose)"
    return f"{dose}, capsules (strength not recorded)"


@dataclass(frozen=True)
class ScoreChange:
    week: int
    on: dt.date
    score: Decimal
    points: Decimal | None  # against the first in the period; None for the first
    percent: Decimal | None


def score_changes(rows: Sequence[tuple[int, dt.date, Decimal]]) -> list[ScoreChange]:
    """`rows`: (week, date, score) in week order; each later one against the first."""
    out = []
    for i, (week, on, score) in enumerate(rows):
        first = rows[0][2]
        if i == 0:
            out.append(ScoreChange(week, on, score, None, None))
            continue
        points = score - first
        percent = (100 * points / first).quantize(Decimal("1")) if first else None
        out.append(ScoreChange(week, on, score, points, percent))
    return out
