"""When a reminder is due: pure functions of a local date, a wall-clock time and a time zone.

No ORM imports, so the daylight-saving rules can be tested exhaustively.
"""

import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

UTC = dt.UTC
MINUTE = dt.timedelta(minutes=1)

# A reminder up to this late (beat or workers were down) is still worth sending; a later one
# would arrive in the middle of the night, so it is recorded as missed-send instead.
CATCH_UP = dt.timedelta(hours=2)
NUDGE_AFTER = dt.timedelta(minutes=90)
SNOOZE_FOR = dt.timedelta(minutes=30)
REPEAT_EVERY = dt.timedelta(minutes=30)  # "every 30 minutes, up to 3 more times"


def wall_time_exists(naive: dt.datetime, zone: ZoneInfo) -> bool:
    """False for a wall time skipped when the clocks go forward (it maps back to another)."""
    round_trip = naive.replace(tzinfo=zone).astimezone(UTC).astimezone(zone)
    return round_trip.replace(tzinfo=None) == naive


def due_at(day: dt.date, at: dt.time, zone: ZoneInfo) -> dt.datetime:
    """The UTC instant of wall time `at` on local date `day` in `zone`.

    Spring forward: a time in the gap does not exist, so the reminder goes at the first
    minute after it that does (the end of the gap), not an hour early or an hour late.
    Fall back: a time that happens twice means its first occurrence (fold=0); the reminder
    row is unique per local date, so it goes once.
    """
    naive = dt.datetime.combine(day, at.replace(second=0, microsecond=0, tzinfo=None))
    for _ in range(24 * 60):  # no gap in the tz database lasts a day
        if wall_time_exists(naive, zone):
            return naive.replace(tzinfo=zone, fold=0).astimezone(UTC)
        naive += MINUTE
    raise ValueError(f"No valid wall time after {at} on {day} in {zone}")


def due_between(
    at: dt.time, zone: ZoneInfo, after: dt.datetime, until: dt.datetime
) -> Iterator[tuple[dt.date, dt.datetime]]:
    """(local date, due instant) for each day whose reminder falls in (after, until].

    Consecutive windows that share their edges see every local date exactly once.
    """
    first = after.astimezone(zone).date() - dt.timedelta(days=1)
    last = until.astimezone(zone).date() + dt.timedelta(days=1)
    day = first
    while day <= last:
        instant = due_at(day, at, zone)
        if after < instant <= until:
            yield day, instant
        day += dt.timedelta(days=1)


def is_too_late(due: dt.datetime, now: dt.datetime) -> bool:
    return now - due > CATCH_UP


# Within a window shorter than this a zone changes its clocks at most once; a longer one
# (a catch-up after an outage) is matched against every wall time.
WALL_RANGE_LIMIT = dt.timedelta(hours=2)
# More than any clock change in the tz database (Antarctica/Troll's is 2 hours).
WIDEST_CLOCK_CHANGE = dt.timedelta(hours=3)


def wall_ranges(zone: ZoneInfo, after: dt.datetime, until: dt.datetime):
    """Inclusive (first, last) ranges of wall times in `zone` that hold every reminder time
    due in (after, until], or None when any wall time may be. A superset: `due_between`
    decides. It lets the database find a minute's patients by zone and wall time with an
    index instead of the tick reading every patient's.

    Without a clock change in the window the wall times are exactly those of its instants.
    With one, a time in a spring-forward gap is due at the end of the gap and a repeated
    time at its first occurrence, both within the largest change of the window's ends.
    """
    if until - after >= WALL_RANGE_LIMIT:
        return None
    start, end = after.astimezone(zone), until.astimezone(zone)
    first, last = start.replace(tzinfo=None), end.replace(tzinfo=None)
    if start.utcoffset() != end.utcoffset():
        first, last = min(first, last) - WIDEST_CLOCK_CHANGE, max(first, last) + WIDEST_CLOCK_CHANGE
    if last - first >= dt.timedelta(days=1):
        return None
    if first.date() == last.date():
        return [(first.time(), last.time())]
    return [(first.time(), dt.time.max), (dt.time.min, last.time())]
