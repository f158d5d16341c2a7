"""What the Today page offers after side effects (shared/DOMAIN.md, titration rules). Pure.

Events come in as (kind, effective date) pairs, holds as (kind, date, days, reason), so the
rules can be tested without a database.
"""

import datetime as dt
from collections.abc import Iterable, Mapping, Set

from . import tolerance

STEP_BACK, KEEP_DOSE, DOSE_TIME, KEEP_TIME, HOLD = (
    "step_back",
    "keep_dose",
    "dose_time",
    "keep_time",
    "hold",
)


def _answered_since(answered: Iterable[tuple[str, dt.date]], since: dt.date, kinds) -> bool:
    """Whether the patient (or clinician) already answered a suggestion raised on `since`."""
    return any(kind in kinds and day >= since for kind, day in answered)


def step_back_offer(
    today: dt.date, worst_by_day: Mapping[dt.date, int], answered: Iterable[tuple[str, dt.date]]
) -> dt.date | None:
    """The diary date that makes a step back worth offering, unless already answered."""
    trigger = tolerance.step_back_trigger(today, worst_by_day)
    if trigger is None or _answered_since(answered, trigger, {STEP_BACK, KEEP_DOSE, KEEP_TIME}):
        return None
    return trigger


def morning_offer(
    today: dt.date, sleep_days: Set[dt.date], answered: Iterable[tuple[str, dt.date]]
) -> bool:
    """Vivid dreams or trouble sleeping twice in a week, and not answered this week."""
    week_ago = today - dt.timedelta(days=6)
    return tolerance.suggests_morning(today, sleep_days) and not _answered_since(
        answered, week_ago, {DOSE_TIME, KEEP_DOSE, KEEP_TIME}
    )


def requested_hold_reason(holds: Iterable[tuple], day: dt.date) -> str:
    """The reason of the latest recorded hold in force on `day`."""
    active = [
        reason
        for kind, start, days, reason in holds
        if kind == HOLD and start <= day and (days is None or start + dt.timedelta(days=days) > day)
    ]
    if not active:
        return ""
    return active[-1] or "Your dose is being held."
