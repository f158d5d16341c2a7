"""Adherence (shared/DOMAIN.md: doses taken / doses due; under 80% is non-adherent). Pure."""

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

NON_ADHERENT_BELOW = Decimal("0.80")
TAKEN, SKIPPED = "taken", "skipped"


@dataclass(frozen=True)
class Adherence:
    days: int
    due: int
    taken: int

    @property
    def rate(self) -> Decimal | None:
        if not self.due:
            return None
        return Decimal(self.taken) / Decimal(self.due)

    @property
    def percent(self) -> int | None:
        rate = self.rate
        if rate is None:
            return None
        percent = int((rate * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))
        # Rounding half up must not cross a line that means something: 79.5% shown as "80%"
        # beside "non-adherent", or 99.5% shown as "100%" when a dose was missed.
        if self.is_non_adherent:
            percent = min(percent, int(NON_ADHERENT_BELOW * 100) - 1)
        if self.taken < self.due:
            percent = min(percent, 99)
        return percent

    @property
    def is_non_adherent(self) -> bool:
        return self.rate is not None and self.rate < NON_ADHERENT_BELOW


def counted(day: dt.date, logs: Mapping[dt.date, str], counted_from: dt.date | None) -> bool:
    """Whether a due day counts for adherence and the missed-dose rules: a day before the
    patient joined counts only if they reported it (when joining they could log only two
    past days, so the others are unknown, not missed)."""
    return counted_from is None or day >= counted_from or day in logs


def adherence(
    *,
    today: dt.date,
    days: int,
    due_days: Iterable[dt.date],
    logs: Mapping[dt.date, str],
    counted_from: dt.date | None = None,
) -> Adherence:
    """Over the `days` local days ending today. Tonight counts only once it is logged:
    a dose is not missed before the day is over."""
    start = today - dt.timedelta(days=days - 1)
    # A set: a day listed twice is still one dose due.
    due = {
        d
        for d in due_days
        if start <= d <= today and (d < today or d in logs) and counted(d, logs, counted_from)
    }
    taken = sum(1 for d in due if logs.get(d) == TAKEN)
    return Adherence(days=days, due=len(due), taken=taken)


def streak(*, today: dt.date, due_days: Iterable[dt.date], logs: Mapping[dt.date, str]) -> int:
    """Doses taken in a row up to today (or yesterday, while tonight is still to come).

    Days with nothing due (a paused plan) neither break nor extend the streak.
    """
    count = 0
    for day in sorted({d for d in due_days if d <= today}, reverse=True):
        status = logs.get(day)
        if status == TAKEN:
            count += 1
        elif day == today and status is None:
            continue
        else:
            break  # a miss, a skip, or a day before joining that nobody knows about
    return count


def missed_days(
    *,
    today: dt.date,
    due_days: Iterable[dt.date],
    logs: Mapping[dt.date, str],
    counted_from: dt.date | None = None,
):
    """Due days before today with nothing logged (not counting days before joining)."""
    return [d for d in due_days if d < today and d not in logs and counted(d, logs, counted_from)]
