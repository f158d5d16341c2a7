"""
The one answer to "which dose, and what may I record now?" (shared/DOMAIN.md, Dose safety).

Pure: callers hand in the plan specification, the dose log with the instants doses were
taken, the patient's clock and an instant. Today and its card, the late-entry form, skip,
undo, the plan page, the reminder tick and its email, the email link's confirm page, the
clinician's views and the exports all ask `decide`, so they give the same answer at the same
instant. The spacing, window and "never double up" rules live here and nowhere else.

- A date's dose is due at its scheduled instant (the dose time on that date, in the
  patient's zone). It can be recorded as taken from 6 hours before that instant until 6
  hours before the next date's; after that it is missed (skip it, or state an earlier time).
  The windows of consecutive dates meet end to start, so every instant belongs to one date.
- Two taken doses are never less than 6 hours apart in real (UTC) time, whatever the dates,
  zones or clock changes say, and a date is never taken after a later date was.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_DOWN, Decimal

from . import schedule as engine

MIN_GAP = dt.timedelta(hours=6)
LATE_ENTRY_DAYS = 2  # a missed dose can be recorded for the two days before today
UNDO_WINDOW = dt.timedelta(hours=12)
ML_QUANTUM = Decimal("0.1")
LIQUID_TOLERANCE = Decimal("0.10")  # a syringe dose more than 10% off the dose is warned
STATED_TIME_SKEW = dt.timedelta(minutes=2)  # a stated time this far ahead still counts as now

TAKEN, SKIPPED = "taken", "skipped"


@dataclass(frozen=True)
class LogEntry:
    status: str  # "taken" or "skipped"
    dose_mg: Decimal
    logged_at: dt.datetime
    taken_at: dt.datetime | None = None  # when taken; None for a skip


@dataclass(frozen=True)
class Clock:
    """Where the patient lives in time: their zone and the wall time the dose is due."""

    zone: dt.tzinfo
    dose_time: dt.time

    def scheduled(self, day: dt.date) -> dt.datetime:
        """The instant (UTC) the dose for `day` is due. A wall time the clocks skip or repeat
        resolves as zoneinfo does (fold 0): the same instant for every caller."""
        return dt.datetime.combine(day, self.dose_time, tzinfo=self.zone).astimezone(dt.UTC)

    def window(self, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
        """[from, until) in which `day`'s dose can be recorded as taken at that instant."""
        return (
            self.scheduled(day) - MIN_GAP,
            self.scheduled(day + dt.timedelta(days=1)) - MIN_GAP,
        )

    def window_day(self, instant: dt.datetime) -> dt.date:
        """The date whose window holds `instant`."""
        local = instant.astimezone(self.zone).date()
        for day in (local + dt.timedelta(days=1), local, local - dt.timedelta(days=1)):
            start, end = self.window(day)
            if start <= instant < end:
                return day
        raise AssertionError("every instant lies in one date's window")  # pragma: no cover

    def local_date(self, instant: dt.datetime) -> dt.date:
        return instant.astimezone(self.zone).date()

    def wall(self, instant: dt.datetime) -> dt.datetime:
        return instant.astimezone(self.zone)


@dataclass(frozen=True)
class Inputs:
    """Everything the decision reads, as plain values (titration.selectors.dose_inputs)."""

    spec: engine.PlanSpec  # the plan, its events and the diary's side effects
    logs: Mapping[dt.date, LogEntry]
    clock: Clock
    concentration_mg_per_ml: Decimal | None = None  # liquid; None for capsules
    blocked: bool = False  # opioid use reported and not cleared: no dose is offered


@dataclass(frozen=True)
class Refusal:
    reason: str
    allowed_from: dt.datetime | None = None  # when it would be allowed, if ever


@dataclass(frozen=True)
class LiquidDose:
    ml: Decimal
    delivers_mg: Decimal
    warning: str  # empty when the syringe measures the dose within 10%


@dataclass(frozen=True)
class Decision:
    now: dt.datetime
    local_today: dt.date
    window_day: dt.date  # the date whose window holds `now`
    dose_day: dt.date  # the date the primary action is about (take or skip)
    due: engine.DayDose  # the schedule for `dose_day`, tolerance rules applied
    scheduled_at: dt.datetime  # when `dose_day`'s dose is due
    liquid: LiquidDose | None
    log: LogEntry | None  # what is recorded for `dose_day`
    window_log: LogEntry | None  # what is recorded for `window_day`
    take: Refusal | None  # None: "I took it" records `dose_day` as taken now
    skip: Refusal | None
    undo_day: dt.date | None  # the date whose entry Undo removes, if any
    last_taken_at: dt.datetime | None
    spec: engine.PlanSpec  # the spec with the log applied (for the schedule around it)

    @property
    def dose_mg(self) -> Decimal | None:
        return self.due.dose_mg

    @property
    def dose_ml(self) -> Decimal | None:
        return self.liquid.ml if self.liquid else None

    @property
    def can_take(self) -> bool:
        return self.take is None

    @property
    def can_skip(self) -> bool:
        return self.skip is None

    @property
    def is_earlier_day(self) -> bool:
        """The primary action is about a dose due before today (last night's, taken late)."""
        return self.dose_day < self.local_today

    @property
    def next_take_from(self) -> dt.datetime | None:
        return self.take.allowed_from if self.take else self.now


def liquid_dose(dose_mg: Decimal, concentration_mg_per_ml: Decimal) -> LiquidDose:
    """mL for an oral syringe, to 0.1 mL with halves rounded down (never up to a larger
    dose), and a warning when that volume is more than 10% off the dose."""
    concentration = engine._decimal(concentration_mg_per_ml)
    if not concentration.is_finite() or concentration <= 0:
        raise ValueError("concentration must be positive")
    dose = engine._decimal(dose_mg)
    ml = (dose / concentration).quantize(ML_QUANTUM, rounding=ROUND_HALF_DOWN)
    delivers = (ml * concentration).quantize(Decimal("0.01"))
    warning = ""
    if dose > 0 and abs(delivers - dose) > dose * LIQUID_TOLERANCE:
        warning = (
            f"At {concentration.normalize():f} mg/mL the syringe can't measure {dose} mg "
            f"closely: {ml} mL gives {delivers} mg. Ask your pharmacy for a weaker solution "
            "(1 mg/mL)."
        )
    return LiquidDose(ml=ml, delivers_mg=delivers, warning=warning)


def when(instant: dt.datetime, clock: Clock, today: dt.date | None = None) -> str:
    """An instant in the patient's words: "21:30", "21:30 yesterday", "03:30 on Tue 3 Dec"."""
    wall = clock.wall(instant)
    if today is None:
        return f"{wall:%H:%M} on {wall:%a %-d %b}"
    delta = (wall.date() - today).days
    if delta == 0:
        return f"{wall:%H:%M} today"
    if delta == -1:
        return f"{wall:%H:%M} yesterday"
    if delta == 1:
        return f"{wall:%H:%M} tomorrow"
    return f"{wall:%H:%M} on {wall:%a %-d %b}"


def _spec_at(inputs: Inputs, as_of: dt.date) -> engine.PlanSpec:
    logged = {day: entry.status for day, entry in inputs.logs.items()}
    return replace(inputs.spec, logged=logged, as_of=as_of)


def _taken(inputs: Inputs) -> list[tuple[dt.date, dt.datetime]]:
    return sorted(
        (day, entry.taken_at)
        for day, entry in inputs.logs.items()
        if entry.status == TAKEN and entry.taken_at is not None
    )


def check_take(
    inputs: Inputs,
    spec: engine.PlanSpec,
    day: dt.date,
    at: dt.datetime,
    now: dt.datetime,
) -> Refusal | None:
    """Whether `day`'s dose may be recorded as taken at instant `at` (now, or a time the
    patient states). None when it may; otherwise why not and from when it would be."""
    clock = inputs.clock
    today = clock.local_date(now)
    if inputs.blocked:
        return Refusal(
            "Your plan is on hold until your prescriber confirms LDN is safe with your "
            "other medicines."
        )
    due = engine.dose_on(spec, day)
    if not due.is_due:
        return Refusal("No dose is due on that date.")
    entry = inputs.logs.get(day)
    if entry is not None:
        if entry.status == TAKEN and entry.taken_at is not None:
            return Refusal(
                f"That dose is already logged: taken at {when(entry.taken_at, clock, today)}."
            )
        return Refusal(f"That dose is already logged ({entry.status}).")
    if at > now + STATED_TIME_SKEW:
        return Refusal("That time hasn't come yet. Enter the time you took it.")
    start, end = clock.window(day)
    taken = _taken(inputs)
    if at < start:
        last = max((instant for _, instant in taken if instant <= now), default=None)
        allowed_from = max(start, last + MIN_GAP) if last else start
        said = f"Your last dose was taken at {when(last, clock, today)}. " if last else ""
        return Refusal(
            f"{said}This dose can be taken from {when(allowed_from, clock, today)}.",
            allowed_from=allowed_from,
        )
    if at >= end:
        return Refusal(
            "It is too close to the next dose now: skip this one and take the next as normal. "
            "Never take two doses to catch up."
        )
    if any(other > day for other, _ in taken):
        return Refusal(
            "A later dose is already logged as taken, so this one counts as missed: "
            "you can record it as skipped."
        )
    near = [instant for _, instant in taken if abs(at - instant) < MIN_GAP]
    if near:
        last = max(near)
        allowed_from = last + MIN_GAP
        return Refusal(
            f"Your last dose was taken at {when(last, clock, today)}. Doses need at least 6 "
            f"hours between them: the next one can be taken from "
            f"{when(allowed_from, clock, today)}.",
            allowed_from=allowed_from if allowed_from < end else None,
        )
    return None


def check_skip(inputs: Inputs, spec: engine.PlanSpec, day: dt.date, now: dt.datetime):
    today = inputs.clock.local_date(now)
    if inputs.blocked:
        return Refusal("Your plan is on hold until your prescriber confirms it.")
    if day < today - dt.timedelta(days=LATE_ENTRY_DAYS):
        return Refusal("You can record a dose for today or the 2 days before, not earlier.")
    if day > inputs.clock.window_day(now) + dt.timedelta(days=1):
        return Refusal("That date is too far ahead to record.")
    if not engine.dose_on(spec, day).is_due:
        return Refusal("No dose is due on that date.")
    if day in inputs.logs:
        return Refusal(f"That dose is already logged ({inputs.logs[day].status}).")
    return None


def decide(inputs: Inputs, now: dt.datetime) -> Decision:
    """The dose to take or log now, and what may be recorded (see the module docstring)."""
    clock = inputs.clock
    window_day = clock.window_day(now)
    spec = _spec_at(inputs, window_day)
    window_log = inputs.logs.get(window_day)
    window_due = engine.dose_on(spec, window_day)
    # The window's date is the one to take while it is open and unlogged; once it is logged
    # (or nothing is due), the card is about the next date, which opens later.
    if window_log is None and window_due.is_due:
        dose_day, due = window_day, window_due
    else:
        dose_day = window_day + dt.timedelta(days=1)
        due = engine.dose_on(spec, dose_day)
    take = check_take(inputs, spec, dose_day, now, now)
    skip = check_skip(inputs, spec, dose_day, now)
    undo_day = None
    for day in (dose_day, window_day, window_day - dt.timedelta(days=1)):
        entry = inputs.logs.get(day)
        if entry is not None and now - entry.logged_at <= UNDO_WINDOW:
            undo_day = day
            break
    taken = _taken(inputs)
    liquid = None
    if due.dose_mg is not None and inputs.concentration_mg_per_ml:
        liquid = liquid_dose(due.dose_mg, inputs.concentration_mg_per_ml)
    return Decision(
        now=now,
        local_today=clock.local_date(now),
        window_day=window_day,
        dose_day=dose_day,
        due=due,
        scheduled_at=clock.scheduled(dose_day),
        liquid=liquid,
        log=inputs.logs.get(dose_day),
        window_log=window_log,
        take=take,
        skip=skip,
        undo_day=undo_day,
        last_taken_at=max((instant for _, instant in taken), default=None),
        spec=spec,
    )


def late_days(inputs: Inputs, now: dt.datetime) -> list[dt.date]:
    """Dates the late-entry form offers: due, from 2 days before today up to the date whose
    window is open now (one already logged is refused with what is logged)."""
    decision_day = inputs.clock.window_day(now)
    today = inputs.clock.local_date(now)
    spec = _spec_at(inputs, decision_day)
    first = today - dt.timedelta(days=LATE_ENTRY_DAYS)
    days = []
    day = max(decision_day, today)  # today is listed even before its window opens
    while day >= first:
        if engine.dose_on(spec, day).is_due:
            days.append(day)
        day -= dt.timedelta(days=1)
    return days


def check_late(
    inputs: Inputs, day: dt.date, status: str, taken_at: dt.datetime | None, now: dt.datetime
) -> Refusal | None:
    """A late entry: `day` recorded as skipped, or as taken at the stated `taken_at`."""
    if day in inputs.logs:
        return Refusal(f"That day is already logged ({inputs.logs[day].status}).")
    if day not in late_days(inputs, now):
        return Refusal("You can record a dose for today or the 2 days before, not other dates.")
    spec = _spec_at(inputs, inputs.clock.window_day(now))
    if status == SKIPPED:
        return check_skip(inputs, spec, day, now)
    if taken_at is None:
        return Refusal("Enter the time you took it.")
    return check_take(inputs, spec, day, taken_at, now)


def check_undo(inputs: Inputs, day: dt.date, now: dt.datetime) -> Refusal | None:
    """Undo is for a slip of the finger the same evening, not for rewriting history."""
    entry = inputs.logs.get(day)
    if entry is None:
        return Refusal("There is nothing logged tonight to undo.")
    if day < inputs.clock.window_day(now) - dt.timedelta(days=1) or (
        now - entry.logged_at > UNDO_WINDOW
    ):
        return Refusal("Only tonight's entry can be undone.")
    return None


# Joining part-way through a plan --------------------------------------------------------


@dataclass(frozen=True)
class Reported:
    """A past night the patient reports when joining, on their word."""

    day: dt.date
    status: str  # "taken" or "skipped" (a night they say they missed)
    dose_mg: Decimal
    taken_at: dt.datetime | None  # their usual dose time that night; None for a miss


def reportable_days(inputs: Inputs, now: dt.datetime) -> list[dt.date]:
    """The nights a patient who started before joining may report in one step: every due,
    unlogged date from the plan's start up to (not including) the day they joined and the
    date whose window is open now, in date order. The open date is Today's to log, with the
    time it is taken; nights after joining are logged as they come."""
    joined = inputs.spec.counted_from
    if inputs.blocked or joined is None:
        return []
    clock = inputs.clock
    before = min(clock.window_day(now), clock.local_date(now), joined)
    if before <= inputs.spec.start_date:
        return []
    spec = _spec_at(inputs, clock.window_day(now))
    return [
        d.day
        for d in engine.schedule(spec, until=before - dt.timedelta(days=1))
        if d.is_due and d.day not in inputs.logs
    ]


def joining_report(inputs: Inputs, now: dt.datetime, taken: set[dt.date]) -> list[Reported]:
    """What to record for the reportable nights: `taken` ones as taken at the usual dose
    time (two nights are then a day apart, so the spacing rule holds, and the last is
    before the open window), the others as missed on purpose (skipped). Each dose is the
    schedule's for that night with the whole report applied, as the decision would say."""
    days = reportable_days(inputs, now)
    unknown = set(taken) - set(days)
    if unknown:
        raise ValueError(f"Not reportable: {sorted(unknown)}")
    if not days:
        return []
    statuses = {day: (TAKEN if day in taken else SKIPPED) for day in days}
    logged = {day: entry.status for day, entry in inputs.logs.items()} | statuses
    spec = replace(inputs.spec, logged=logged, as_of=inputs.clock.window_day(now))
    schedule = {d.day: d for d in engine.schedule(spec, until=days[-1], since=days[0])}
    return [
        Reported(
            day=day,
            status=statuses[day],
            dose_mg=schedule[day].dose_mg,
            taken_at=inputs.clock.scheduled(day) if statuses[day] == TAKEN else None,
        )
        for day in days
    ]


# Changing the clock (time zone, dose time) or the liquid's strength ---------------------


def place(zone: dt.tzinfo) -> str:
    """A zone as people say it: "Kolkata", "New York", "UTC"."""
    key = getattr(zone, "key", None) or str(zone)
    return key.rsplit("/", 1)[-1].replace("_", " ")


@dataclass(frozen=True)
class ClockChange:
    """What a new clock or strength means for the dose now, before it is saved."""

    before: Decision
    after: Decision
    lines: tuple[str, ...]


def mg(dose: Decimal) -> str:
    """A dose as clinics write it: 1.5, 3.0, 0.75 mg (never 1.50 or 3)."""
    text = f"{dose.quantize(Decimal('0.01')):f}"
    return f"{text[:-1] if text.endswith('0') else text} mg"


def _dose_words(d: Decision) -> str:
    words = mg(d.due.dose_mg) if d.due.dose_mg is not None else ""
    if d.liquid is not None:
        words += f" = {d.liquid.ml} mL"
    return words


def clock_change(
    inputs: Inputs,
    now: dt.datetime,
    *,
    clock: Clock,
    concentration_mg_per_ml: Decimal | None,
) -> ClockChange:
    """The decision now under the new clock and strength, in the patient's words. Nothing
    else changes: the dose log keeps the instants doses were taken, so the 6-hour spacing
    and the windows are checked against the new clock exactly as Today will check them."""
    before = decide(inputs, now)
    changed = replace(inputs, clock=clock, concentration_mg_per_ml=concentration_mg_per_ml)
    after = decide(changed, now)
    old, new = inputs.clock, clock
    old_today, new_today = before.local_today, after.local_today
    here, there = place(old.zone), place(new.zone)
    lines = []
    if inputs.blocked or not after.due.is_due:
        lines.append("No dose is due now, so nothing changes tonight.")
        return ClockChange(before, after, tuple(lines))
    if after.dose_day < new_today:
        end = new.window(after.dose_day)[1]
        lines.append(
            f"Last night's dose ({_dose_words(after)}) can still be logged until "
            f"{when(end, new, new_today)}, {there} time."
        )
    else:
        lines.append(
            f"Your next dose ({_dose_words(after)}) will be due at "
            f"{when(after.scheduled_at, new, new_today)}, {there} time."
        )
    if after.liquid is not None and after.liquid.warning:
        lines.append(after.liquid.warning)
    allowed_from = after.take.allowed_from if after.take else None
    if after.last_taken_at is not None:
        said = f"Your last dose was at {when(after.last_taken_at, old, old_today)}, {here} time"
        if after.can_take:
            lines.append(f"{said}, so you can take the next one now.")
        elif allowed_from is not None:
            lines.append(
                f"{said}, so the next may be taken from "
                f"{when(allowed_from, new, new_today)}, {there} time."
            )
        else:
            lines.append(f"{said}. {after.take.reason}")
    elif after.can_take:
        lines.append("You can take it now.")
    elif allowed_from is not None:
        lines.append(f"It can be taken from {when(allowed_from, new, new_today)}, {there} time.")
    if before.due.dose_mg != after.due.dose_mg and before.due.dose_mg is not None:
        lines.append(
            f"That is the dose for {after.dose_day:%A %-d %B}: "
            f"{mg(before.due.dose_mg)} was the dose for {before.dose_day:%A %-d %B}."
        )
    return ClockChange(before, after, tuple(lines))
