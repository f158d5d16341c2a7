"""
Tolerance rules from clinic practice (shared/DOMAIN.md, titration rules). Pure functions over
plain values so they can be tested exhaustively; the diary is the only source of side effects.

Severity levels follow the diary: 0 none, 1 mild, 2 moderate, 3 severe.
"""

import datetime as dt
from collections.abc import Mapping, Set

MILD, MODERATE, SEVERE = 1, 2, 3
GATE_WINDOW_DAYS = 3  # no moderate or severe side effect in the last 3 days before a step-up
PERSISTENT_DAYS = 3  # moderate or worse this many days in a row suggests a step back
SLEEP_WINDOW_DAYS = 7
SLEEP_REPORTS_FOR_MORNING = 2


def gate_holds(day: dt.date, worst_by_day: Mapping[dt.date, int]) -> bool:
    """Whether a step-up due on `day` waits because side effects have not settled.

    The window is the three full days before `day`: a diary filled in the evening after
    tonight's dose never changes tonight's dose in hindsight.
    """
    return any(
        worst_by_day.get(day - dt.timedelta(days=back), 0) >= MODERATE
        for back in range(1, GATE_WINDOW_DAYS + 1)
    )


def step_back_trigger(today: dt.date, worst_by_day: Mapping[dt.date, int]) -> dt.date | None:
    """The diary date that makes a step back worth offering, or None.

    Severe on today or yesterday, or moderate-or-worse on three days in a row ending today or
    yesterday. Returning the date lets the caller skip an offer the patient already answered,
    so it is the latest day that meets either rule: a run completed today after a severe
    yesterday is a new reason to offer, not the one already answered.
    """
    for day in (today, today - dt.timedelta(days=1)):
        if worst_by_day.get(day, 0) >= SEVERE:
            return day
        run = [day - dt.timedelta(days=back) for back in range(PERSISTENT_DAYS)]
        if all(worst_by_day.get(run_day, 0) >= MODERATE for run_day in run):
            return day
    return None


def suggests_morning(today: dt.date, sleep_effect_days: Set[dt.date]) -> bool:
    """Vivid dreams or trouble sleeping on 2 or more of the last 7 days."""
    window = {today - dt.timedelta(days=back) for back in range(SLEEP_WINDOW_DAYS)}
    return len(window & set(sleep_effect_days)) >= SLEEP_REPORTS_FOR_MORNING
