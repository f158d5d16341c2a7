"""Writes that touch several models: starting a plan, recording the safety screen, logging doses."""

import datetime as dt
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import PatientProfile
from ldn_tracker.prepared import PreparedInsert

from . import schedule as engine
from . import selectors
from .models import DoseLog, Plan, PlanEvent, SafetyScreening, SupplyEntry

LATE_ENTRY_DAYS = 2  # a dose can be logged for today or the two days before


def _clinician_alerts_update(patient, now=None, *, urgent=False):
    """Let a linked clinician's alerts follow this change: urgent ones (the safety screen)
    at once, the rest within a minute through the review sweep."""
    # Imported here: clinic builds on titration, so titration must not import it at load.
    from clinic.services import alerts_evaluate_if_shared, alerts_review_request

    if urgent:
        alerts_evaluate_if_shared(patient=patient, now=now)
    else:
        alerts_review_request(patient=patient, now=now)


class PlanNotAllowed(Exception):
    """The safety screen stops this patient starting a plan in the app."""


class DoseAlreadyLogged(Exception):
    def __init__(self, log):
        super().__init__(f"A dose is already logged for {log.date}.")
        self.log = log


class DoseDateNotAllowed(Exception):
    pass


class NothingDue(Exception):
    """No dose is due on that date (before the plan starts, paused or stopped)."""


class NoUndo(Exception):
    pass


class PlanChangeNotAllowed(Exception):
    """The change makes no sense for the plan as it stands (e.g. step back from the first step)."""


@transaction.atomic
def safety_screening_record(
    *, patient, opioid_use: bool, alcohol: bool, liver_medications: bool, liver_disease: bool
) -> SafetyScreening:
    screening = SafetyScreening.objects.create(
        patient=patient,
        opioid_use=opioid_use,
        alcohol=alcohol,
        liver_medications=liver_medications,
        liver_disease=liver_disease,
    )
    _clinician_alerts_update(patient, urgent=True)
    return screening


@transaction.atomic
def plan_start(
    *,
    patient,
    start_date: dt.date,
    protocol: str = "standard",
    target_mg=engine.DEFAULT_TARGET_MG,
    actor=None,
) -> Plan:
    screening = SafetyScreening.objects.filter(patient=patient).first()
    if screening is None or screening.blocks_plan:
        raise PlanNotAllowed(
            "A plan can't start in the app until the safety questions are answered "
            "and your prescriber has confirmed LDN is safe with your other medicines."
        )
    plan = Plan(patient=patient, protocol=protocol, start_date=start_date, target_mg=target_mg)
    plan.full_clean()
    plan.save()
    PlanEvent.objects.create(
        plan=plan,
        kind=PlanEvent.Kind.START,
        effective_date=start_date,
        actor=actor or patient,
        reason="Plan started",
    )
    profile = patient.profile
    profile.onboarded_at = profile.onboarded_at or timezone.now()
    profile.save(update_fields=["onboarded_at", "updated_at"])
    return plan


# Every dose logged: compiled once (ldn_tracker.prepared). DoseLog has no save signals.
_DOSE_INSERT = PreparedInsert(
    DoseLog,
    [
        "patient",
        "plan",
        "date",
        "status",
        "dose_mg",
        "skip_reason",
        "is_late_entry",
        "source",
        "logged_at",
    ],
)


def allowed_log_dates(today: dt.date) -> list[dt.date]:
    return [today - dt.timedelta(days=n) for n in range(LATE_ENTRY_DAYS + 1)]


def dose_log(
    *,
    patient,
    plan: Plan,
    day: dt.date,
    status: str,
    skip_reason: str = "",
    source: str = DoseLog.Source.APP,
    now: dt.datetime | None = None,
    state: selectors.PlanState | None = None,
) -> DoseLog:
    """Log a dose. `state`, if the caller already built it for this plan and local date,
    saves reading the plan, the log and the diary twice in one request."""
    now = now or timezone.now()
    today = patient.profile.local_today(now)
    if day not in allowed_log_dates(today):
        raise DoseDateNotAllowed(
            "You can log a dose for today or the 2 days before, not other dates."
        )
    state = selectors.plan_state_reused(patient, plan, today, state)
    due = engine.dose_on(state.spec, day)
    if not due.is_due:
        raise NothingDue("No dose is due on that date.")
    existing = state.logs.get(day)
    if existing is not None:
        raise DoseAlreadyLogged(existing)
    log = DoseLog(
        patient=patient,
        plan=plan,
        date=day,
        status=status,
        dose_mg=due.dose_mg,
        skip_reason=skip_reason if status == DoseLog.Status.SKIPPED else "",
        is_late_entry=day != today,
        source=source,
        logged_at=now,
    )
    # Imported here: clinic builds on titration, so titration must not import it at load.
    from clinic.services import alerts_review_request_statement

    try:
        # The dose and the clinician's review request land together (one statement on
        # PostgreSQL), and a second tap at the same moment fails on the unique constraint.
        _DOSE_INSERT.insert(log, also=alerts_review_request_statement(patient=patient, now=now))
    except IntegrityError:
        # Two taps at once: the unique constraint lets one through; report the other as done.
        raise DoseAlreadyLogged(DoseLog.objects.get(patient=patient, date=day)) from None
    return log


UNDO_WINDOW = dt.timedelta(hours=12)


@transaction.atomic
def dose_undo(*, patient, day: dt.date, now: dt.datetime | None = None) -> None:
    """Undo is for a slip of the finger the same evening, not for rewriting history."""
    now = now or timezone.now()
    today = patient.profile.local_today(now)
    log = DoseLog.objects.filter(patient=patient, date=day).first()
    if log is None:
        raise NoUndo("There is nothing logged tonight to undo.")
    if day not in (today, today - dt.timedelta(days=1)) or now - log.logged_at > UNDO_WINDOW:
        raise NoUndo("Only tonight's entry can be undone.")
    log.delete()
    _clinician_alerts_update(patient, now)


def _event_append(*, plan, kind, day, actor=None, reason="", days=None, automatic=False):
    # Plan events are append-only: the schedule is derived from them, so no row is ever edited.
    return PlanEvent.objects.create(
        plan=plan,
        kind=kind,
        effective_date=day,
        days=days,
        reason=reason[:300],
        automatic=automatic,
        actor=actor,
    )


@transaction.atomic
def plan_hold(*, plan: Plan, actor, day: dt.date, days: int | None, reason: str) -> PlanEvent:
    """Stay at the current dose: `days` long, or until released when `days` is None."""
    if days is not None and not 1 <= days <= 60:
        raise PlanChangeNotAllowed("A hold lasts between 1 and 60 days.")
    due = plan.dose_on(day)
    if due.status in (engine.DayStatus.STOPPED, engine.DayStatus.NOT_STARTED):
        raise PlanChangeNotAllowed("There is no dose to stay at on that day.")
    event = _event_append(
        plan=plan, kind=PlanEvent.Kind.HOLD, day=day, actor=actor, reason=reason, days=days
    )
    _clinician_alerts_update(plan.patient)
    return event


@transaction.atomic
def plan_step_back(*, plan: Plan, actor, day: dt.date, reason: str) -> PlanEvent:
    due = plan.dose_on(day)
    if due.step_index == 0 or not due.is_due:
        raise PlanChangeNotAllowed("You are already on the first dose of the plan.")
    event = _event_append(
        plan=plan, kind=PlanEvent.Kind.STEP_BACK, day=day, actor=actor, reason=reason
    )
    _clinician_alerts_update(plan.patient)
    return event


@transaction.atomic
def plan_keep_dose(*, plan: Plan, actor, day: dt.date, reason: str) -> PlanEvent:
    return _event_append(
        plan=plan, kind=PlanEvent.Kind.KEEP_DOSE, day=day, actor=actor, reason=reason
    )


@transaction.atomic
def plan_dose_time_switch(*, plan: Plan, actor, day: dt.date, dose_time: str, reason: str):
    """Switch between bedtime and morning dosing; the reminder moves with it."""
    profile = plan.patient.profile
    if dose_time == profile.dose_time:
        raise PlanChangeNotAllowed("That is already your dose time.")
    profile.dose_time = dose_time
    profile.reminder_time = (
        PatientProfile.DEFAULT_MORNING
        if dose_time == PatientProfile.DoseTime.MORNING
        else PatientProfile.DEFAULT_BEDTIME
    )
    profile.save(update_fields=["dose_time", "reminder_time", "updated_at"])
    return _event_append(
        plan=plan, kind=PlanEvent.Kind.DOSE_TIME, day=day, actor=actor, reason=reason
    )


@transaction.atomic
def plan_keep_time(*, plan: Plan, actor, day: dt.date, reason: str) -> PlanEvent:
    return _event_append(
        plan=plan, kind=PlanEvent.Kind.KEEP_TIME, day=day, actor=actor, reason=reason
    )


@transaction.atomic
def supply_record(
    *,
    patient,
    kind: str,
    received_on: dt.date,
    amount,
    capsule_strength_mg=None,
    concentration_mg_per_ml=None,
    discard_on: dt.date | None = None,
    now: dt.datetime | None = None,
) -> SupplyEntry:
    entry = SupplyEntry(
        patient=patient,
        kind=kind,
        received_on=received_on,
        amount=amount,
        capsule_strength_mg=capsule_strength_mg,
        concentration_mg_per_ml=concentration_mg_per_ml,
        discard_on=discard_on,
        recorded_at=now or timezone.now(),
    )
    entry.full_clean()
    entry.save()
    return entry


@transaction.atomic
def plan_step_up(*, plan: Plan, actor, day: dt.date, reason: str) -> PlanEvent:
    """Move to the next step now, e.g. a clinician approving a step-up that was held."""
    due = plan.dose_on(day)
    if not due.is_due or due.step_index >= len(plan.steps()) - 1:
        raise PlanChangeNotAllowed("The plan is already at its last step.")
    return _event_append(
        plan=plan, kind=PlanEvent.Kind.STEP_UP, day=day, actor=actor, reason=reason
    )


@transaction.atomic
def plan_release(*, plan: Plan, actor, day: dt.date, reason: str) -> PlanEvent:
    return _event_append(
        plan=plan, kind=PlanEvent.Kind.RELEASE, day=day, actor=actor, reason=reason
    )


@transaction.atomic
def plan_pause(*, plan: Plan, actor, day: dt.date, reason: str) -> PlanEvent:
    return _event_append(plan=plan, kind=PlanEvent.Kind.PAUSE, day=day, actor=actor, reason=reason)


@transaction.atomic
def plan_resume(*, plan: Plan, actor, day: dt.date, reason: str) -> PlanEvent:
    return _event_append(plan=plan, kind=PlanEvent.Kind.RESUME, day=day, actor=actor, reason=reason)


@transaction.atomic
def plan_stop(*, plan: Plan, actor, day: dt.date, reason: str) -> PlanEvent:
    if not reason.strip():
        raise PlanChangeNotAllowed("Please give a reason for stopping the plan.")
    return _event_append(plan=plan, kind=PlanEvent.Kind.STOP, day=day, actor=actor, reason=reason)


@transaction.atomic
def plan_change(
    *,
    plan: Plan,
    actor,
    day: dt.date,
    reason: str,
    target_mg=None,
    protocol: str | None = None,
    custom_steps: list[dict] | None = None,
) -> Plan:
    """Change the target or the schedule from `day`: the old plan stops, a new one starts.

    The old plan's past stays as it was (those were the doses the patient was told to take).
    Unless the clinician writes the steps out, the new plan continues from today's dose: it
    finishes the days left on the current step, then takes the chosen protocol's steps above
    it up to the new target, so a change never makes the dose jump.
    """
    target = Decimal(str(target_mg)) if target_mg is not None else plan.target_mg
    if not engine.MIN_DOSE_MG <= target <= engine.MAX_DOSE_MG:
        raise PlanChangeNotAllowed("The target must be between 0.5 mg and 6.0 mg.")
    protocol = protocol or plan.protocol
    if custom_steps is None:
        current = plan.dose_on(day)
        if current.dose_mg is None:
            raise PlanChangeNotAllowed("The plan has no current dose to continue from.")
        dose = min(current.dose_mg, target)
        ahead = engine.protocol_steps(protocol, target, _steps_of(plan.custom_steps))
        current_step = plan.steps()[current.step_index]
        left = max((current_step.min_days or 0) - current.days_on_step, 1)
        higher = [s for s in ahead if s.dose_mg > dose]
        custom_steps = [{"dose_mg": str(dose), "min_days": left if higher else None}]
        custom_steps += [
            {"dose_mg": str(s.dose_mg), "min_days": s.min_days if i < len(higher) - 1 else None}
            for i, s in enumerate(higher)
        ]
    errors = engine.validate_custom_steps(_steps_of(custom_steps))
    if errors:
        raise PlanChangeNotAllowed(" ".join(errors))
    if any(Decimal(str(s["dose_mg"])) > target for s in custom_steps):
        raise PlanChangeNotAllowed("A step is above the target dose.")
    new_plan = Plan(
        patient=plan.patient,
        protocol=Plan.Protocol.CUSTOM,
        target_mg=target,
        start_date=day,
        custom_steps=custom_steps,
    )
    new_plan.full_clean()
    new_plan.save()
    _event_append(
        plan=plan, kind=PlanEvent.Kind.STOP, day=day, actor=actor, reason=f"Replaced: {reason}"
    )
    _event_append(plan=new_plan, kind=PlanEvent.Kind.START, day=day, actor=actor, reason=reason)
    return new_plan


def _steps_of(raw: list[dict]) -> list:
    return [engine.Step(Decimal(str(s["dose_mg"])), s.get("min_days")) for s in raw]


AUTOMATIC_CAUSES = {
    engine.HoldCause.SIDE_EFFECTS: "Step-up held: side effects in the last 3 days",
    engine.HoldCause.MISSED_DOSES: "Step-up held: waiting for 2 doses taken in a row",
}


@transaction.atomic
def plan_automatic_hold_record(*, plan: Plan, now: dt.datetime | None = None) -> PlanEvent | None:
    """Record today's automatic hold, if the clinic rules hold today's step-up.

    The schedule already applies the rules from the diary and the dose log; recording a
    one-day hold makes the decision part of the plan's history, visible to the clinician and
    fixed even if the diary is edited later. Safe to call any number of times a day.
    """
    today = plan.patient.profile.local_today(now)
    due = engine.dose_on(selectors.plan_state(plan.patient, plan, today).spec, today)
    reason = AUTOMATIC_CAUSES.get(due.held_by)
    if reason is None:
        return None
    already = PlanEvent.objects.filter(
        plan=plan, kind=PlanEvent.Kind.HOLD, automatic=True, effective_date=today
    ).exists()
    if already:
        return None
    return _event_append(
        plan=plan, kind=PlanEvent.Kind.HOLD, day=today, days=1, reason=reason, automatic=True
    )


def automatic_holds_record_all(*, now: dt.datetime | None = None) -> int:
    """The periodic sweep: check each patient's current plan once. Returns holds recorded."""
    recorded = 0
    latest_plans = Plan.objects.order_by("patient_id", "-created_at", "-id").select_related(
        "patient__profile"
    )
    seen = set()
    for plan in latest_plans.iterator(chunk_size=500):
        if plan.patient_id in seen:
            continue
        seen.add(plan.patient_id)
        if plan_automatic_hold_record(plan=plan, now=now) is not None:
            recorded += 1
    return recorded
