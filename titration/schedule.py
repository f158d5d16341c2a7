"""
The titration schedule: what a patient takes on any date, as a pure function of the plan and
its recorded events.

No ORM imports here: models hand in plain values, so every rule can be tested exhaustively.
Clinical facts are from shared/DOMAIN.md (protocols, the 6.0 mg ceiling, liquid rounding).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple

from .tolerance import gate_holds

MIN_DOSE_MG = Decimal("0.5")
MAX_DOSE_MG = Decimal("6.0")
DOSE_INCREMENT_MG = Decimal("0.25")
DEFAULT_TARGET_MG = Decimal("4.5")
MISSED_IN_A_ROW = 3
TAKEN_IN_A_ROW_TO_RESUME = 2


class Protocol(StrEnum):
    STANDARD = "standard"
    GENTLE = "gentle"
    SENSITIVE = "sensitive"
    CUSTOM = "custom"


class EventKind(StrEnum):
    START = "start"
    HOLD = "hold"  # stay on the current step; `days` long, or open until released
    RELEASE = "release"  # end an open hold; titration carries on from where it was
    STEP_UP = "step_up"  # move to the next step now (e.g. a clinician approves a held step)
    STEP_BACK = "step_back"  # return to the previous step's dose
    PAUSE = "pause"
    RESUME = "resume"
    STOP = "stop"
    DOSE_TIME = "dose_time"  # bedtime <-> morning; does not change the dose


class DayStatus(StrEnum):
    NOT_STARTED = "not_started"
    ACTIVE = "active"
    HELD = "held"
    PAUSED = "paused"
    STOPPED = "stopped"


@dataclass(frozen=True)
class Step:
    dose_mg: Decimal
    min_days: int | None  # None: the last step, taken from then on


@dataclass(frozen=True)
class Event:
    day: dt.date
    kind: EventKind
    days: int | None = None


class DayDose(NamedTuple):
    """One day of the schedule. A named tuple, not a frozen dataclass: every page walks each
    day of the plan, and a tuple is made three times faster (bench: the dose save)."""

    day: dt.date
    status: DayStatus
    dose_mg: Decimal | None  # None when nothing is due (not started, paused, stopped)
    step_index: int
    plan_day: int  # 1 on the start date
    days_on_step: int  # counted days already completed on this step before `day`
    held_by: str | None = None  # HoldCause when status is HELD

    @property
    def is_due(self):
        return self.dose_mg is not None


class HoldCause(StrEnum):
    REQUESTED = "requested"  # a recorded hold (patient, clinician, or recorded automatically)
    SIDE_EFFECTS = "side_effects"  # moderate or severe side effects in the 3 days before
    MISSED_DOSES = "missed_doses"  # 3+ missed in a row: wait for 2 taken in a row


@dataclass(frozen=True)
class PlanSpec:
    """The plan as plain values. The tolerance inputs are optional: without them the engine
    gives the schedule as planned; with them it applies the clinic rules that hold a step-up.

    - `worst_side_effect_by_day`: {date: worst severity 0-3} from the diary.
    - `logged`: {date: "taken" | "skipped"}; due days before `as_of` with no entry are missed.
    """

    start_date: dt.date
    steps: tuple[Step, ...]
    events: tuple[Event, ...] = field(default=())
    worst_side_effect_by_day: Mapping[dt.date, int] = field(default_factory=dict)
    logged: Mapping[dt.date, str] = field(default_factory=dict)
    as_of: dt.date | None = None
    # The step the plan starts on: a changed plan keeps the steps below the current dose, so
    # stepping back stays possible after a target change.
    start_index: int = 0
    # The day the patient joined: a due day before it with nothing logged is unknown, not
    # missed (they could log only the last two days), so it holds nothing back.
    counted_from: dt.date | None = None


def protocol_steps(
    protocol: Protocol | str,
    target_mg: Decimal = DEFAULT_TARGET_MG,
    custom_steps: Sequence[Step] = (),
) -> tuple[Step, ...]:
    """The steps of a protocol, never above the target (itself never above 6.0 mg).

    Raises ValueError for invalid custom steps (see `validate_custom_steps`): an empty custom
    list used to put the patient straight on the target dose from day 1, and a wrong dose must
    fail loudly rather than appear on the Today page.
    """
    target = _decimal(target_mg)
    if not target.is_finite() or target < MIN_DOSE_MG:
        raise ValueError(f"The target must be between {MIN_DOSE_MG} mg and {MAX_DOSE_MG} mg.")
    target = min(target, MAX_DOSE_MG)  # the ceiling holds whatever was asked
    if target % DOSE_INCREMENT_MG != 0:
        raise ValueError(f"The target must be a multiple of {DOSE_INCREMENT_MG} mg.")
    protocol = Protocol(protocol)
    if protocol == Protocol.CUSTOM:
        errors = validate_custom_steps(custom_steps)
        if errors:
            raise ValueError(" ".join(errors))
    if protocol == Protocol.STANDARD:
        raw = [Step(Decimal("1.5"), 7), Step(Decimal("3.0"), 7), Step(Decimal("4.5"), None)]
    elif protocol == Protocol.GENTLE:
        raw = [Step(Decimal("1.5"), 14), Step(Decimal("3.0"), 7), Step(Decimal("4.5"), None)]
    elif protocol == Protocol.SENSITIVE:
        raw, dose = [], MIN_DOSE_MG
        while dose < target:
            raw.append(Step(dose, 7))
            dose += MIN_DOSE_MG
        raw.append(Step(target, None))
    else:
        raw = [Step(_decimal(s.dose_mg), s.min_days) for s in custom_steps]
    capped = [s for s in raw if s.dose_mg <= target]
    if not capped:
        capped = [Step(target, None)]
    if protocol != Protocol.CUSTOM and capped[-1].dose_mg < target and raw[-1].dose_mg > target:
        # A target between two protocol steps (e.g. 4.0 mg) becomes the last step.
        capped.append(Step(target, None))
    last = capped[-1]
    return (*capped[:-1], Step(last.dose_mg, None))


BIG_RISE_MG = Decimal("1.5")


def big_rises(steps: Sequence[Step]) -> list[tuple[Decimal, Decimal]]:
    """(from, to) for every rise between consecutive steps of more than 1.5 mg at once:
    each needs the clinician to confirm a warning (DOMAIN.md, big changes)."""
    doses = [_decimal(step.dose_mg) for step in steps]
    return [(a, b) for a, b in zip(doses, doses[1:], strict=False) if b - a > BIG_RISE_MG]


def validate_custom_steps(steps: Sequence[Step]) -> list[str]:
    """Plain-language problems with a clinician's custom steps; empty when they are fine.

    Doses 0.5-6.0 mg in 0.25 mg steps (DOMAIN.md), each higher than the one before (a
    titration only goes up, and "step back" means the step before), and a whole number of
    days, at least 1, on every step but the last (the last is taken from then on).
    """
    if not steps:
        return ["Add at least one step."]
    errors: list[str] = []
    previous: Decimal | None = None
    for number, step in enumerate(steps, start=1):
        try:
            dose = _decimal(step.dose_mg)
        except (ArithmeticError, TypeError, ValueError):
            dose = None
        if dose is None or not dose.is_finite():
            errors.append(f"Step {number}: the dose must be a number of mg, such as 1.5.")
        elif not MIN_DOSE_MG <= dose <= MAX_DOSE_MG:
            errors.append(
                f"Step {number}: the dose must be between {MIN_DOSE_MG} mg and {MAX_DOSE_MG} mg."
            )
        elif dose % DOSE_INCREMENT_MG != 0:
            errors.append(
                f"Step {number}: the dose must be a multiple of {DOSE_INCREMENT_MG} mg, "
                "such as 1.25 or 1.5 mg."
            )
        elif previous is not None and dose <= previous:
            errors.append(
                f"Step {number}: the dose must be higher than step {number - 1} ({previous} mg)."
            )
        previous = dose if dose is not None and dose.is_finite() else None
        is_last = number == len(steps)
        days = step.min_days
        if not is_last and (isinstance(days, bool) or not isinstance(days, int) or days < 1):
            errors.append(f"Step {number}: the number of days must be a whole number, at least 1.")
    return errors


def _decimal(value) -> Decimal:
    # Via str, so a float such as 0.35 becomes Decimal("0.35"), not 0.34999...
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _events_by_day(events: Iterable[Event], start_date: dt.date) -> dict[dt.date, list[Event]]:
    """Events grouped by the day they take effect, in date order.

    Events dated before the start date take effect on the start date: a plan stopped, paused
    or held before its first dose must not start as if nothing had been recorded. Sorting is
    stable, so events on the same day keep the order they were recorded in.
    """
    by_day: dict[dt.date, list[Event]] = {}
    for event in sorted(events, key=lambda e: e.day):
        by_day.setdefault(max(event.day, start_date), []).append(event)
    return by_day


def schedule(plan: PlanSpec, until: dt.date, since: dt.date | None = None) -> list[DayDose]:
    """Every day from `since` (default: the start date) to `until`, inclusive.

    The engine walks day by day from the start date: held and paused days do not count
    towards a step's minimum days, so a hold moves every later step back by the held days.
    """
    return list(_walk(plan, until, since))


def _walk(plan: PlanSpec, until: dt.date, since: dt.date | None = None) -> Iterator[DayDose]:
    """`schedule`, one day at a time, so a caller looking for the next change can stop there."""
    steps = plan.steps
    last = len(steps) - 1
    by_day = _events_by_day(plan.events, plan.start_date)
    since = since or plan.start_date

    idx, counted = min(max(plan.start_index, 0), last), 0
    hold_until: dt.date | None = None  # exclusive end of a timed hold
    open_hold = paused = stopped = False
    # Missed-dose rule (DOMAIN.md): after 3 or more due doses missed in a row during
    # titration, the next step-up waits until 2 doses in a row have been taken.
    missed_run = taken_run = 0
    waiting_for_doses = False

    # Locals, not attribute lookups: every page walks each day of the plan once.
    start, as_of, logged, worst_by_day, counted_from = (
        plan.start_date,
        plan.as_of,
        plan.logged,
        plan.worst_side_effect_by_day,
        plan.counted_from,
    )
    one_day = dt.timedelta(days=1)
    day = min(start, since)
    while day < start and day <= until:
        if day >= since:
            yield DayDose(day, DayStatus.NOT_STARTED, None, 0, 0, 0)
        day += one_day
    plan_day = (day - start).days  # 1 on the start date, counted up below

    while day <= until:
        plan_day += 1
        stepped_today = False
        # The dose may end a day at most one step above where it began: two step-ups on one
        # day count once, but a step-up that corrects a step back recorded earlier that day
        # still counts.
        start_idx = idx
        for event in by_day.get(day, ()):
            if event.kind == EventKind.HOLD:
                if event.days is None:
                    open_hold = True
                elif event.days > 0:
                    # `days=0` is a hold of no days, not an open hold.
                    end = event.day + dt.timedelta(days=event.days)
                    hold_until = end if hold_until is None else max(hold_until, end)
            elif event.kind == EventKind.RELEASE:
                open_hold, hold_until = False, None
            elif event.kind == EventKind.STEP_UP and idx <= start_idx and idx < last:
                # An approved step-up also ends the wait for doses taken in a row: the
                # clinician has decided, and the next step counts from here.
                idx, counted, stepped_today = idx + 1, 0, True
                open_hold, hold_until = False, None
                waiting_for_doses, missed_run = False, 0
            elif event.kind == EventKind.STEP_BACK:
                # On the first step there is nothing lower: the patient stays on it and its
                # days start again, like any step stepped back to. Either way no automatic
                # step-up may follow the same day (a step back on a step-up day used to step
                # the patient up).
                idx, counted, stepped_today = max(idx - 1, 0), 0, True
            elif event.kind == EventKind.PAUSE:
                paused = True
            elif event.kind == EventKind.RESUME:
                paused = False
            elif event.kind == EventKind.STOP:
                stopped = True

        held = open_hold or (hold_until is not None and day < hold_until)
        held_by = HoldCause.REQUESTED if held else None
        min_days = steps[idx].min_days
        if (
            not (held or paused or stopped or stepped_today)
            and idx < last
            and min_days is not None
            and counted >= min_days
        ):
            if gate_holds(day, worst_by_day):
                held, held_by = True, HoldCause.SIDE_EFFECTS
            elif waiting_for_doses:
                held, held_by = True, HoldCause.MISSED_DOSES
            else:
                idx, counted = idx + 1, 0

        if stopped:
            status, dose = DayStatus.STOPPED, None
        elif paused:
            status, dose = DayStatus.PAUSED, None
        elif held:
            status, dose = DayStatus.HELD, steps[idx].dose_mg
        else:
            status, dose = DayStatus.ACTIVE, steps[idx].dose_mg

        if day >= since:
            cause = held_by if status == DayStatus.HELD else None
            yield DayDose(day, status, dose, idx, plan_day, counted, cause)
        if status == DayStatus.ACTIVE:
            counted += 1
        if dose is not None and as_of is not None and day < as_of:
            entry = logged.get(day)
            if entry == "taken":
                missed_run, taken_run = 0, taken_run + 1
            elif entry is None and counted_from is not None and day < counted_from:
                pass  # before the patient joined: not known, so neither missed nor taken
            elif entry is None:
                missed_run, taken_run = missed_run + 1, 0
            else:  # a deliberate skip is not "missed", but it breaks a run of taken doses
                taken_run = 0
            if missed_run >= MISSED_IN_A_ROW and idx < last:
                waiting_for_doses = True
            if waiting_for_doses and taken_run >= TAKEN_IN_A_ROW_TO_RESUME:
                waiting_for_doses = False
        day += one_day


def steps_continuing(
    steps: Sequence[Step], current: DayDose, ahead: Sequence[Step], target: Decimal
) -> tuple[tuple[Step, ...], int]:
    """The steps of a changed plan that carries on from today's dose, and the index of the
    step it starts on: the steps below today's dose stay (so stepping back stays possible),
    today's dose finishes its days, then the chosen protocol's steps above it (`ahead`)
    climb to the target."""
    if current.dose_mg is None:
        raise ValueError("The plan has no current dose to continue from.")
    dose = min(current.dose_mg, target)
    current_step = steps[current.step_index]
    left = max((current_step.min_days or 0) - current.days_on_step, 1)
    lower = [Step(s.dose_mg, s.min_days or 7) for s in steps if s.dose_mg < dose]
    higher = [s for s in ahead if s.dose_mg > dose]
    new = [*lower, Step(dose, left if higher else None)]
    new += [
        Step(s.dose_mg, s.min_days if i < len(higher) - 1 else None) for i, s in enumerate(higher)
    ]
    return tuple(new), len(lower)


def dose_on(plan: PlanSpec, day: dt.date) -> DayDose:
    return schedule(plan, until=day, since=day)[-1]


def next_step_date(plan: PlanSpec, day: dt.date, horizon_days: int = 400) -> dt.date | None:
    """The first date after `day` on which the dose changes if nothing new is recorded.

    Before the start date, that is the first day a dose is due (normally the start date).
    None when the patient is at the last step, stopped, or a hold is open with no end date.
    """
    until = max(day, plan.start_date) + dt.timedelta(days=horizon_days)
    days = _walk(plan, until, since=day)
    today = next(days)
    if today.status == DayStatus.STOPPED:
        return None
    if today.status == DayStatus.NOT_STARTED:
        # Events recorded before the start (a stop, a pause) can mean no dose is ever due.
        return next((later.day for later in days if later.is_due), None)
    if today.step_index == len(plan.steps) - 1 and not any(e.day > day for e in plan.events):
        return None  # at the last step with nothing recorded ahead: the dose cannot change
    for later in days:
        if later.step_index != today.step_index and later.dose_mg is not None:
            return later.day
    return None
