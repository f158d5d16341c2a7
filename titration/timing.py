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
    """What to say about yesterday's dose at `local_now` (the patient's wall-clock time).

    The next dose is due at `dose_time` on `local_now`'s date. Pass `local_now` aware, in the
    patient's zone: the 6-hour gap is then real elapsed time, so on the night the clocks go
    forward 00:30 to 07:00 is 5.5 hours, not 6.5. A naive `local_now` is taken as wall-clock
    time with no clock change.
    """
    if not yesterday_due or yesterday_logged:
        return LateDose.NONE
    next_due = dt.datetime.combine(local_now.date(), dose_time, tzinfo=local_now.tzinfo)
    if local_now.time() >= dose_time:
        return LateDose.NONE  # today's dose time has come: yesterday's is simply missed
    if _elapsed(local_now, next_due) > MIN_GAP:
        return LateDose.TAKE_NOW
    return LateDose.SKIP


def _elapsed(start: dt.datetime, end: dt.datetime) -> dt.timedelta:
    # Python subtracts two datetimes that share a tzinfo by wall clock, ignoring a
    # daylight-saving change between them; going through UTC counts the hours that pass.
    if start.tzinfo is None:
        return end - start
    return end.astimezone(dt.UTC) - start.astimezone(dt.UTC)
