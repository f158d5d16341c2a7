"""
Which local date a dose being logged now belongs to (shared/DOMAIN.md, missed doses). Pure.

A bedtime dose taken after midnight still belongs to the previous evening, as long as it is
taken more than 6 hours before the next dose is due; later than that the patient should skip
it and take the next dose as normal: the app never shows a double dose.
"""

import datetime as dt
from enum import StrEnum

MIN_GAP = dt.timedelta(hours=6)


class LateDose(StrEnum):
    NONE = "none"  # yesterday is logged, or nothing was due
    TAKE_NOW = "take_now"  # yesterday's dose can still be taken and logged for yesterday
    SKIP = "skip"  # too close to the next dose: skip it, take tonight's as normal


def previous_dose_status(
    *,
    local_now: dt.datetime,
    dose_time: dt.time,
    yesterday_due: bool,
    yesterday_logged: bool,
) -> LateDose:
    """What to say about yesterday's dose at `local_now` (the patient's wall-clock time)."""
    if not yesterday_due or yesterday_logged:
        return LateDose.NONE
    next_due = dt.datetime.combine(local_now.date(), dose_time, tzinfo=local_now.tzinfo)
    if local_now.time() >= dose_time:
        return LateDose.NONE  # today's dose time has come: yesterday's is simply missed
    if next_due - local_now > MIN_GAP:
        return LateDose.TAKE_NOW
    return LateDose.SKIP
