"""Which plan changes fit the patient's state, and the schedule each would leave. Pure: the
clinician's plan page shows only the changes that make sense, each with its result, worked
out by the titration engine on a hypothetical plan before anything is recorded."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from titration import decision
from titration import schedule as engine

ORDER = (
    "step_up",
    "release",
    "hold",
    "step_back",
    "target",
    "custom",
    "dose_time",
    "pause",
    "resume",
    "stop",
)
EVENT_CHANGES = {"step_up", "release", "hold", "step_back", "pause", "resume", "stop"}
HORIZON_DAYS = 120
MAX_CHANGES_NAMED = 3


def available_changes(due: engine.DayDose, steps: int) -> list[str]:
    """The changes that mean something today: approve a held step-up only when one is held,
    end a hold only when one was asked for, step back only when there is a lower step,
    resume only a paused plan; nothing but a look once the plan has stopped."""
    status, last = due.status, steps - 1
    if status == engine.DayStatus.STOPPED:
        return []
    fits = {"target", "custom", "dose_time", "stop"}
    if status == engine.DayStatus.PAUSED:
        fits.add("resume")
    elif due.is_due:
        fits.add("pause")
        if status == engine.DayStatus.HELD and due.step_index < last:
            fits.add("step_up")
        if due.held_by == engine.HoldCause.REQUESTED:
            fits.add("release")
        elif due.step_index < last:
            fits.add("hold")
        if due.step_index > 0:
            fits.add("step_back")
    return [name for name in ORDER if name in fits]


def with_event(spec: engine.PlanSpec, day: dt.date, kind: str, days: int | None = None):
    """The plan as it would be with one more event recorded today."""
    return replace(spec, events=(*spec.events, engine.Event(day, engine.EventKind(kind), days)))


def schedule_words(spec: engine.PlanSpec, today: dt.date) -> str:
    """The schedule from today in a clinician's words: "tonight 3.0 mg; 4.5 mg from
    16 December", or "tonight no dose (paused)"."""
    days = engine.schedule(spec, until=today + dt.timedelta(days=HORIZON_DAYS), since=today)
    first = days[0]

    def dose(d: engine.DayDose) -> str:
        return decision.mg(d.dose_mg) if d.is_due else f"no dose ({d.status.value})"

    parts = [f"tonight {dose(first)}"]
    previous = first.dose_mg
    for later in days[1:]:
        if later.dose_mg != previous:
            parts.append(f"{dose(later)} from {later.day:%-d %B}")
            previous = later.dose_mg
            if len(parts) > MAX_CHANGES_NAMED:
                break
    words = "; ".join(parts)
    if first.status == engine.DayStatus.HELD and len(parts) == 1:
        words += " until the hold ends"
    return words
