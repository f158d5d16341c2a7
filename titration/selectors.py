"""Read-only queries and derived views for titration pages. Nothing here writes.

`record_of` gathers what the dose decision (titration.decision) reads; every page, the
reminders and the clinic ask the decision through it, so they all give the same answer.
"""

import calendar
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from symptoms.models import SIDE_EFFECTS, DiaryEntry

from . import adherence as adherence_rules
from . import decision, offers, safety, tolerance
from . import schedule as engine
from . import supply as supply_rules
from .models import DoseLog, Plan, PlanEvent, SafetyScreening, SupplyEntry

UPCOMING_DAYS = 28


def current_plan(patient) -> Plan | None:
    return Plan.objects.current_for(patient)


def plan_blocked_by_screening(patient) -> bool:
    """Opioid use reported and not cleared: no dose is shown until the prescriber decides."""
    return SafetyScreening.objects.plan_blocked(patient)


def latest_screening(patient) -> SafetyScreening | None:
    return SafetyScreening.objects.filter(patient=patient).first()


@dataclass(frozen=True)
class OpioidBlock:
    reported_at: dt.datetime
    clinician_linked: bool
    # From when the patient may lift it by answering again; None when only a clinician can.
    patient_clear_from: dt.datetime | None
    patient_may_clear_now: bool


def opioid_block(patient, now: dt.datetime | None = None) -> OpioidBlock | None:
    """The open opioid report blocking the plan, with who may lift it and from when."""
    report, may_clear = SafetyScreening.objects.open_report(patient)
    if report is None:
        return None
    clear_from = safety.patient_clear_from(report) if may_clear else None
    return OpioidBlock(
        reported_at=report.created_at,
        clinician_linked=not may_clear,
        patient_clear_from=clear_from,
        patient_may_clear_now=clear_from is not None and clear_from <= (now or timezone.now()),
    )


def _log_entry(log: DoseLog) -> decision.LogEntry:
    return decision.LogEntry(
        status=log.status, dose_mg=log.dose_mg, logged_at=log.logged_at, taken_at=log.taken_at
    )


def clock_of(profile) -> decision.Clock:
    return decision.Clock(zone=profile.zone, dose_time=profile.dose_clock_time)


@dataclass(frozen=True)
class Record:
    """A patient's plan with everything the dose decision and the pages around it read,
    fetched once per request: the plan, its events, the dose log and the diary's side
    effects."""

    plan: Plan
    events: list
    logs: dict  # {date: DoseLog}
    inputs: decision.Inputs
    sleep_days: frozenset

    def decide(self, now: dt.datetime) -> decision.Decision:
        return decision.decide(self.inputs, now)


def record_of(patient, plan: Plan, *, now: dt.datetime | None = None) -> Record:
    """Gather the decision's inputs for one patient (four queries)."""
    now = now or timezone.now()
    profile = patient.profile
    events = list(plan.events.all())
    logs = {log.date: log for log in DoseLog.objects.filter(patient=patient, plan=plan)}
    today = profile.local_today(now)
    side_effects = DiaryEntry.objects.side_effects_between(
        patient,
        plan.start_date - dt.timedelta(days=tolerance.GATE_WINDOW_DAYS + 7),
        today + dt.timedelta(days=1),
    )
    return Record(
        plan=plan,
        events=events,
        logs=logs,
        inputs=_inputs(
            plan,
            profile,
            events=events,
            logs={day: _log_entry(log) for day, log in logs.items()},
            worst_by_day=side_effects.worst_by_day,
            blocked=plan_blocked_by_screening(patient),
        ),
        sleep_days=frozenset(side_effects.sleep_days),
    )


def _inputs(plan, profile, *, events, logs, worst_by_day, blocked) -> decision.Inputs:
    """The decision's inputs from what was read: one shape for one patient or a chunk."""
    return decision.Inputs(
        spec=plan.spec(events, worst_side_effect_by_day=worst_by_day),
        logs=logs,
        clock=clock_of(profile),
        concentration_mg_per_ml=profile.concentration_mg_per_ml if profile.is_liquid else None,
        blocked=blocked,
    )


def reportable_days(patient, plan: Plan, now: dt.datetime | None = None) -> list[dt.date]:
    """The nights before joining that the patient may still report (decision.reportable_days)."""
    now = now or timezone.now()
    return decision.reportable_days(record_of(patient, plan, now=now).inputs, now)


def profile_change_preview(
    patient, plan: Plan, changed, now: dt.datetime | None = None
) -> decision.ClockChange:
    """What a changed profile (`changed`: an unsaved copy with the new time zone, dose
    time or strength) means for the dose now, from the decision under the new clock."""
    now = now or timezone.now()
    return decision.clock_change(
        record_of(patient, plan, now=now).inputs,
        now,
        clock=clock_of(changed),
        concentration_mg_per_ml=changed.concentration_mg_per_ml if changed.is_liquid else None,
    )


def dose_decision(patient, plan: Plan, now: dt.datetime | None = None) -> decision.Decision:
    now = now or timezone.now()
    return record_of(patient, plan, now=now).decide(now)


def dose_decisions(patient_ids, *, now: dt.datetime) -> dict[int, decision.Decision]:
    """The decision at `now` for each patient id (reminders: the tick and the send). Reads
    in a few queries per chunk of patients, not per patient."""
    ids = sorted(set(patient_ids))
    result = {}
    for chunk in _chunks(ids):
        plans = {}
        for plan in (
            Plan.objects.filter(patient_id__in=chunk)
            .select_related("patient__profile")
            .order_by("patient_id", *Plan._meta.ordering)
        ):
            plans.setdefault(plan.patient_id, plan)
        events, logs, blocked = {}, {}, SafetyScreening.objects.blocked_among(chunk)
        for event in PlanEvent.objects.filter(plan__in=plans.values()):
            events.setdefault(event.plan_id, []).append(event)
        for log in DoseLog.objects.filter(plan__in=plans.values()):
            logs.setdefault(log.patient_id, {})[log.date] = _log_entry(log)
        worst = _worst_side_effects_among(chunk)
        for pk, plan in plans.items():
            inputs = _inputs(
                plan,
                plan.patient.profile,
                events=sorted(
                    events.get(plan.pk, []), key=lambda e: (e.effective_date, e.created_at, e.pk)
                ),
                logs=logs.get(pk, {}),
                worst_by_day=worst.get(pk, {}),
                blocked=pk in blocked,
            )
            result[pk] = decision.decide(inputs, now)
    return result


def _worst_side_effects_among(patient_ids) -> dict[int, dict[dt.date, int]]:
    """{patient id: {date: worst side effect severity}} for the patients' diaries."""
    worst = {}
    for pk, day, *levels in DiaryEntry.objects.filter(patient_id__in=patient_ids).values_list(
        "patient_id", "date", *SIDE_EFFECTS
    ):
        level = max((value for value in levels if value is not None), default=0)
        if level:
            worst.setdefault(pk, {})[day] = level
    return worst


def _chunks(items: list, size: int = 2000):
    for i in range(0, len(items), size):
        yield items[i : i + size]


def dose_ml(dose_mg, profile) -> Decimal | None:
    if dose_mg is None or not profile.is_liquid or not profile.concentration_mg_per_ml:
        return None
    return decision.liquid_dose(dose_mg, profile.concentration_mg_per_ml).ml


@dataclass(frozen=True)
class Tonight:
    """Everything the Today page says about the dose to take (or log) now."""

    plan: Plan
    d: decision.Decision
    local_today: dt.date
    dose_day: dt.date  # the date "I took it" records
    due: engine.DayDose
    dose_ml: Decimal | None
    liquid_warning: str
    scheduled_at: dt.datetime
    next_step: dt.date | None
    next_step_dose_mg: Decimal | None
    at_target: bool
    log: DoseLog | None  # what is recorded for the window's date (tonight, or last night)
    logged_day: dt.date | None
    logged_plan_day: int  # the plan day of `logged_day` (0 when none)
    take_refusal: str
    take_from: dt.datetime | None
    can_take: bool
    can_skip: bool
    can_undo: bool
    missed_earlier: bool  # the date before `dose_day` was due and is not logged
    hold_reason: str
    adherence_7: adherence_rules.Adherence
    adherence_28: adherence_rules.Adherence
    streak: int
    step_back_offer: dt.date | None
    step_back_unavailable: bool  # side effects call for a step back, but this is the first step
    previous_step_dose_mg: Decimal | None
    suggest_morning: bool
    latest_change: PlanEvent | None

    @property
    def is_last_night(self):
        return self.dose_day < self.local_today

    @property
    def is_tomorrow(self):
        return self.dose_day > self.local_today


def _hold_reason(events, due: engine.DayDose) -> str:
    if due.held_by == engine.HoldCause.SIDE_EFFECTS:
        return (
            "Your next step is waiting until side effects settle: there was a moderate or "
            "severe side effect in the last 3 days."
        )
    if due.held_by == engine.HoldCause.MISSED_DOSES:
        return (
            "Your next step is waiting because several doses were missed. It carries on "
            "after 2 doses taken in a row."
        )
    return offers.requested_hold_reason(
        [(e.kind, e.effective_date, e.days, e.reason) for e in events], due.day
    )


def tonight(patient, plan: Plan, now: dt.datetime | None = None, record=None) -> Tonight:
    """What to take now, from the dose decision. Pass the request's `record` to save
    reading the plan, the dose log and the diary again."""
    now = now or timezone.now()
    record = record or record_of(patient, plan, now=now)
    d = record.decide(now)
    today = d.local_today
    spec = d.spec
    month_ago = today - dt.timedelta(days=27)
    days = engine.schedule(spec, until=today, since=min(month_ago, d.dose_day))
    due_days = [x.day for x in days if x.is_due and x.day <= d.window_day]
    statuses = spec.logged
    next_step = engine.next_step_date(spec, d.dose_day)
    next_dose = engine.dose_on(spec, next_step).dose_mg if next_step else None
    due = d.due
    at_target = (
        due.is_due and due.step_index == len(spec.steps) - 1 and due.status != engine.DayStatus.HELD
    )
    week_ago = today - dt.timedelta(days=6)
    worst = {
        day: level
        for day, level in spec.worst_side_effect_by_day.items()
        if week_ago <= day <= today
    }
    answered = [(e.kind, e.effective_date) for e in record.events]
    trigger = offers.step_back_offer(today, worst, answered)
    first_step = due.step_index == 0
    morning = patient.profile.dose_time != patient.profile.DoseTime.MORNING and (
        offers.morning_offer(today, record.sleep_days, answered)
    )
    latest_change = next(
        (e for e in reversed(record.events) if e.actor_id and e.actor_id != patient.pk), None
    )
    logged_day = d.window_day if d.window_log is not None else None
    before = d.dose_day - dt.timedelta(days=1)
    missed_earlier = (
        before >= plan.start_date
        and before not in d.spec.logged
        and engine.dose_on(spec, before).is_due
        and before < d.window_day
    )
    return Tonight(
        plan=plan,
        d=d,
        local_today=today,
        dose_day=d.dose_day,
        due=due,
        dose_ml=d.dose_ml,
        liquid_warning=d.liquid.warning if d.liquid else "",
        scheduled_at=d.scheduled_at,
        next_step=next_step,
        next_step_dose_mg=next_dose,
        at_target=at_target,
        log=record.logs.get(logged_day) if logged_day else None,
        logged_day=logged_day,
        logged_plan_day=engine.dose_on(spec, logged_day).plan_day if logged_day else 0,
        take_refusal=d.take.reason if d.take else "",
        take_from=d.next_take_from,
        can_take=d.can_take,
        can_skip=d.can_skip,
        can_undo=d.undo_day is not None,
        missed_earlier=missed_earlier,
        hold_reason=_hold_reason(record.events, due) if due.status == engine.DayStatus.HELD else "",
        adherence_7=adherence_rules.adherence(
            today=today, days=7, due_days=due_days, logs=statuses, counted_from=spec.counted_from
        ),
        adherence_28=adherence_rules.adherence(
            today=today, days=28, due_days=due_days, logs=statuses, counted_from=spec.counted_from
        ),
        streak=adherence_rules.streak(today=today, due_days=due_days, logs=statuses),
        step_back_offer=None if first_step else trigger,
        step_back_unavailable=first_step and trigger is not None,
        previous_step_dose_mg=(
            spec.steps[due.step_index - 1].dose_mg if due.step_index > 0 else None
        ),
        suggest_morning=morning,
        latest_change=latest_change,
    )


@dataclass(frozen=True)
class DayRow:
    day: dt.date
    dose_mg: Decimal | None
    dose_ml: Decimal | None
    plan_day: int
    status: str  # taken, skipped, missed, held, paused, stopped, due, upcoming
    step_changes: bool
    late: bool
    reported: bool = False  # recorded on the patient's word when they joined


def day_rows(patient, record: Record, since: dt.date, until: dt.date, now=None) -> list[DayRow]:
    profile = patient.profile
    d_now = record.decide(now or timezone.now())
    rows, previous_dose = [], None
    for d in engine.schedule(d_now.spec, until=until, since=since):
        log = record.logs.get(d.day)
        if log is not None:
            status = log.status
        elif not d.is_due:
            status = d.status.value
        elif d.day < d_now.window_day and not adherence_rules.counted(
            d.day, d_now.spec.logged, d_now.spec.counted_from
        ):
            status = "unknown"  # before the patient joined, and not reported
        elif d.day < d_now.window_day:
            status = "missed"
        elif d.day == d_now.dose_day:
            status = "due"
        elif d.status == engine.DayStatus.HELD:
            status = "held"
        else:
            status = "upcoming"
        rows.append(
            DayRow(
                day=d.day,
                dose_mg=d.dose_mg,
                dose_ml=dose_ml(d.dose_mg, profile),
                plan_day=d.plan_day,
                status=status,
                step_changes=previous_dose is not None and d.dose_mg != previous_dose,
                late=bool(log and log.is_late_entry),
                reported=bool(log and log.is_reported_when_joining),
            )
        )
        if d.dose_mg is not None:
            previous_dose = d.dose_mg
    return rows


def plan_overview(patient, plan: Plan, now: dt.datetime | None = None):
    now = now or timezone.now()
    today = patient.profile.local_today(now)
    record = record_of(patient, plan, now=now)
    until = today + dt.timedelta(days=UPCOMING_DAYS)
    rows = day_rows(patient, record, since=plan.start_date, until=until, now=now)
    spec = record.decide(now).spec
    return {
        "record": record,
        "past": [r for r in rows if r.day < today][::-1],
        "today_row": next((r for r in rows if r.day == today), None),
        "upcoming": [r for r in rows if r.day > today],
        "events": record.events[::-1],
        "next_step": engine.next_step_date(spec, today),
    }


def month_weeks(patient, plan: Plan, year: int, month: int, now=None):
    """A month as weeks of DayRow-or-None (None for padding days), for the printable calendar."""
    now = now or timezone.now()
    record = record_of(patient, plan, now=now)
    first = dt.date(year, month, 1)
    last = dt.date(year, month, calendar.monthrange(year, month)[1])
    rows = {r.day: r for r in day_rows(patient, record, since=first, until=last, now=now)}
    weeks = []
    for week in calendar.Calendar(firstweekday=0).monthdatescalendar(year, month):
        weeks.append([(day, rows.get(day)) if day.month == month else (day, None) for day in week])
    return weeks


@dataclass(frozen=True)
class SupplyStatus:
    entry: SupplyEntry  # the latest refill or count: its strength is the current batch
    on_hand: Decimal
    unit: str  # "capsules" or "mL"
    runs_out: dt.date | None
    warn_refill: bool
    discard_on: dt.date | None
    discard_passed: bool
    cannot_make: list  # [(date, dose_mg)] upcoming doses this batch cannot make


def supply_status(
    patient, plan: Plan, now: dt.datetime | None = None, record: Record | None = None
) -> SupplyStatus | None:
    """What is on hand and when it runs out. Pass the request's `record` to save reading the
    plan, the dose log and the diary again."""
    now = now or timezone.now()
    entries = list(SupplyEntry.objects.filter(patient=patient))
    if not entries:
        return None
    latest = entries[0]
    base = next(
        (e for e in entries if e.kind == SupplyEntry.Kind.COUNT),
        None,
    )
    counted_from = base.recorded_at if base else None
    on_hand = base.amount if base else Decimal(0)
    on_hand += sum(
        (
            e.amount
            for e in entries
            if e.kind == SupplyEntry.Kind.REFILL
            and (counted_from is None or e.recorded_at > counted_from)
        ),
        Decimal(0),
    )
    today = patient.profile.local_today(now)
    record = record or record_of(patient, plan, now=now)
    spec = record.decide(now).spec
    taken = [
        log.dose_mg
        for log in record.logs.values()
        if log.status == DoseLog.Status.TAKEN
        and (counted_from is None or log.logged_at > counted_from)
    ]
    for dose in taken:
        used = supply_rules.units_for(
            dose,
            capsule_strength_mg=latest.capsule_strength_mg,
            concentration_mg_per_ml=latest.concentration_mg_per_ml,
        )
        on_hand -= Decimal(used or 0)
    on_hand = max(on_hand, Decimal(0))

    horizon = engine.schedule(spec, until=today + dt.timedelta(days=180), since=today)
    tonight_done = today in record.logs
    upcoming = [
        (d.day, d.dose_mg) for d in horizon if d.is_due and (d.day > today or not tonight_done)
    ]
    cannot_make = []
    strength = latest.capsule_strength_mg
    if strength:
        seen = set()
        for day, dose in upcoming:
            if dose not in seen and supply_rules.capsules_for(dose, strength) is None:
                cannot_make.append((day, dose))
            seen.add(dose)
    runs_out = supply_rules.runs_out_on(
        on_hand=on_hand,
        upcoming_doses=upcoming,
        capsule_strength_mg=latest.capsule_strength_mg,
        concentration_mg_per_ml=latest.concentration_mg_per_ml,
    )
    discard_on = latest.discard_on if latest.is_liquid else None
    return SupplyStatus(
        entry=latest,
        on_hand=on_hand.quantize(Decimal("0.1")),
        unit="mL" if latest.is_liquid else "capsules",
        runs_out=runs_out,
        warn_refill=supply_rules.needs_refill_warning(today, runs_out),
        discard_on=discard_on,
        discard_passed=discard_on is not None and discard_on < today,
        cannot_make=cannot_make,
    )
