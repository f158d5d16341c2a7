"""
Clinician alerts (shared/DOMAIN.md, clinician alerts). Pure functions over plain values: no
ORM, so every threshold and boundary can be tested by hand.

Each rule answers with a Finding or None. A finding names its *episode*: the date the
condition began (a run's first day, the severe day, the screening day). An alert is opened
once per episode, so a condition that simply continues does not reopen an alert a clinician
has acknowledged, while a new episode (a new severe day, a new run) does.

Severity levels follow the diary: 0 none, 1 mild, 2 moderate, 3 severe.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from enum import IntEnum, StrEnum

from symptoms.progress import PRECISION, baseline, mean_of_window
from titration.adherence import counted

MODERATE, SEVERE = 2, 3
# How far back a severe rating or a finished run still calls for a look: a week, the span a
# clinician reviews between appointments.
LOOKBACK_DAYS = 7
# How far back to look for where a worsening began; older data adds nothing.
WORSENING_SCAN_DAYS = 120


class Rule(StrEnum):
    OPIOID_USE = "opioid_use"
    SEVERE_SIDE_EFFECT = "severe_side_effect"
    PERSISTENT_SIDE_EFFECTS = "persistent_side_effects"
    PAIN_WORSENING = "pain_worsening"
    MISSED_DOSES = "missed_doses"
    GONE_QUIET = "gone_quiet"


class Urgency(IntEnum):
    # Lower sorts first: the panel lists the most urgent at the top.
    URGENT = 1
    HIGH = 2
    MEDIUM = 3
    LOW = 4


RULE_LABELS = {
    Rule.OPIOID_USE: "Opioid use reported",
    Rule.SEVERE_SIDE_EFFECT: "Severe side effect",
    Rule.PERSISTENT_SIDE_EFFECTS: "Persistent side effects",
    Rule.PAIN_WORSENING: "Pain worsening",
    Rule.MISSED_DOSES: "Missed doses",
    Rule.GONE_QUIET: "Gone quiet",
}

URGENCY = {
    Rule.OPIOID_USE: Urgency.URGENT,
    Rule.SEVERE_SIDE_EFFECT: Urgency.HIGH,
    Rule.PERSISTENT_SIDE_EFFECTS: Urgency.HIGH,
    Rule.PAIN_WORSENING: Urgency.MEDIUM,
    Rule.MISSED_DOSES: Urgency.MEDIUM,
    Rule.GONE_QUIET: Urgency.LOW,
}

# Rules that can become true with nothing saved: only the passing of days triggers them,
# so the daily sweep evaluates them.
TIME_BASED = frozenset({Rule.MISSED_DOSES, Rule.GONE_QUIET})


@dataclass(frozen=True)
class Thresholds:
    """The DOMAIN.md defaults; a clinic may adjust them per patient."""

    persistent_days: int = 3
    pain_points: float = 2.0
    pain_percent: float = 30.0
    missed_in_a_row: int = 3
    quiet_days: int = 5


DEFAULTS = Thresholds()

ADJUSTABLE = tuple(f.name for f in fields(Thresholds))

# What a clinician may set for one patient, inclusive. Wide enough for a cautious or a relaxed
# clinic; narrow enough that a slip of the keyboard cannot make a rule fire every day or never.
BOUNDS: Mapping[str, tuple[float, float]] = {
    "persistent_days": (2, 14),
    "pain_points": (0.5, 5.0),
    "pain_percent": (10, 100),
    "missed_in_a_row": (1, 14),
    "quiet_days": (2, 30),
}


def thresholds_with(adjusted: Mapping[str, float | None]) -> Thresholds:
    """The defaults with a clinician's adjustments over them; None keeps a default."""
    return replace(
        DEFAULTS,
        **{
            name: type(getattr(DEFAULTS, name))(value)
            for name, value in adjusted.items()
            if name in ADJUSTABLE and value is not None
        },
    )


@dataclass(frozen=True)
class Finding:
    rule: Rule
    episode: dt.date
    detail: str  # for the clinician's screen only, never an email

    @property
    def urgency(self) -> Urgency:
        return URGENCY[self.rule]


@dataclass(frozen=True)
class Facts:
    """What the rules read about one patient, as plain values."""

    today: dt.date  # the patient's local date
    plan_start: dt.date | None = None
    opioid_reported_on: dt.date | None = None  # the latest screening, if it reports opioids
    # {date: {side effect label: severity}} for days with any side effect recorded
    side_effects: Mapping[dt.date, Mapping[str, int]] = field(default_factory=dict)
    pain: Mapping[dt.date, float] = field(default_factory=dict)
    due_days: Sequence[dt.date] = ()  # days a dose was due, up to today
    logged: Mapping[dt.date, str] = field(default_factory=dict)  # {date: "taken" | "skipped"}
    last_diary: dt.date | None = None
    last_dose: dt.date | None = None
    # The day the patient joined: unlogged days before it are unknown, not missed or quiet.
    counted_from: dt.date | None = None


def _day(day: dt.date) -> str:
    return f"{day:%-d %b}"


def opioid_use(facts: Facts) -> Finding | None:
    """Any report: LDN blocks opioids and can bring on withdrawal."""
    if facts.opioid_reported_on is None:
        return None
    return Finding(
        Rule.OPIOID_USE,
        facts.opioid_reported_on,
        f"Opioid use reported on the safety questions on {_day(facts.opioid_reported_on)}",
    )


def severe_side_effect(facts: Facts) -> Finding | None:
    """Any severe rating in the last week; the episode is the latest severe day."""
    since = facts.today - dt.timedelta(days=LOOKBACK_DAYS - 1)
    severe_days = sorted(
        (day, sorted(name for name, level in effects.items() if level >= SEVERE))
        for day, effects in facts.side_effects.items()
        if since <= day <= facts.today and any(level >= SEVERE for level in effects.values())
    )
    if not severe_days:
        return None
    day, names = severe_days[-1]
    return Finding(
        Rule.SEVERE_SIDE_EFFECT, day, f"Severe {', '.join(names).lower()} on {_day(day)}"
    )


def _runs(days: Iterable[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """Consecutive dates as (first, last) pairs, in date order."""
    runs: list[tuple[dt.date, dt.date]] = []
    for day in sorted(set(days)):
        if runs and day - runs[-1][1] == dt.timedelta(days=1):
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def persistent_side_effects(facts: Facts, thresholds: Thresholds = DEFAULTS) -> Finding | None:
    """Moderate or worse on `persistent_days` days in a row, the run ending in the last week.

    The episode is the run's first day: the run going on does not make a new alert.
    """
    bad = [
        day
        for day, effects in facts.side_effects.items()
        if day <= facts.today and max(effects.values(), default=0) >= MODERATE
    ]
    since = facts.today - dt.timedelta(days=LOOKBACK_DAYS - 1)
    runs = [
        (first, last)
        for first, last in _runs(bad)
        if (last - first).days + 1 >= thresholds.persistent_days and last >= since
    ]
    if not runs:
        return None
    first, last = runs[-1]
    days = (last - first).days + 1
    return Finding(
        Rule.PERSISTENT_SIDE_EFFECTS,
        first,
        f"Moderate or worse side effects {days} days in a row ({_day(first)} to {_day(last)})",
    )


def _worse_than_baseline(current: float | None, base: float, thresholds: Thresholds) -> bool:
    if current is None:
        return False
    # Rounded like symptoms.progress: float means must not miss a line they sit exactly on.
    rise = round(current - base, PRECISION)
    if rise >= thresholds.pain_points:
        return True
    return base > 0 and round(100 * rise / base, PRECISION) >= thresholds.pain_percent


def pain_worsening(facts: Facts, thresholds: Thresholds = DEFAULTS) -> Finding | None:
    """7-day mean pain at least 2 points or 30% above the baseline.

    The episode is the first day of the current spell above the line, so a clinician who
    acknowledged it is not asked again while the spell lasts.
    """
    if facts.plan_start is None or facts.today < facts.plan_start:
        return None
    base = baseline(facts.pain, facts.plan_start)
    if base is None:
        return None
    current = mean_of_window(facts.pain, facts.today)
    if not _worse_than_baseline(current, base, thresholds):
        return None
    episode = facts.today
    earliest = max(facts.plan_start, facts.today - dt.timedelta(days=WORSENING_SCAN_DAYS))
    while episode > earliest:
        before = episode - dt.timedelta(days=1)
        if not _worse_than_baseline(mean_of_window(facts.pain, before), base, thresholds):
            break
        episode = before
    return Finding(
        Rule.PAIN_WORSENING,
        episode,
        f"7-day mean pain {current:.1f} against a baseline of {base:.1f}",
    )


def missed_doses(facts: Facts, thresholds: Thresholds = DEFAULTS) -> Finding | None:
    """The latest due doses before today, `missed_in_a_row` or more with nothing logged.

    Tonight's dose is not missed before the day is over; a logged skip is a decision the
    patient told us about, so it ends a run.
    """
    past = sorted(d for d in set(facts.due_days) if d < facts.today)
    run: list[dt.date] = []
    for day in reversed(past):
        if day in facts.logged or not counted(day, facts.logged, facts.counted_from):
            break
        run.append(day)
    if len(run) < thresholds.missed_in_a_row:
        return None
    first = run[-1]
    return Finding(
        Rule.MISSED_DOSES,
        first,
        f"{len(run)} doses in a row with nothing logged since {_day(first)}",
    )


def gone_quiet(facts: Facts, thresholds: Thresholds = DEFAULTS) -> Finding | None:
    """No dose and no diary on `quiet_days` whole days (from the plan start at the earliest)."""
    if facts.plan_start is None:
        return None
    activity = [d for d in (facts.last_diary, facts.last_dose) if d is not None]
    # A plan that has not started yet, or has just started, is not quiet.
    joined = [facts.counted_from - dt.timedelta(days=1)] if facts.counted_from else []
    last = max([*activity, *joined, facts.plan_start - dt.timedelta(days=1)])
    # Whole days only: the `quiet_days` days after the last activity must all be over.
    if (facts.today - last).days <= thresholds.quiet_days:
        return None
    episode = last + dt.timedelta(days=1)
    return Finding(Rule.GONE_QUIET, episode, f"No dose or diary logged since {_day(last)}")


def evaluate(facts: Facts, thresholds: Thresholds = DEFAULTS) -> list[Finding]:
    """Every rule that holds today, most urgent first."""
    findings = [
        opioid_use(facts),
        severe_side_effect(facts),
        persistent_side_effects(facts, thresholds),
        pain_worsening(facts, thresholds),
        missed_doses(facts, thresholds),
        gone_quiet(facts, thresholds),
    ]
    return sorted((f for f in findings if f is not None), key=lambda f: f.urgency)
