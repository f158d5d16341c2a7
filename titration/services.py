"""Writes that touch several models: starting a plan, recording the safety screen, logging doses."""

import datetime as dt
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import services as account_services
from accounts.models import PatientProfile

from . import decision, selectors
from . import schedule as engine
from .models import DoseLog, Plan, PlanEvent, SafetyScreening, SupplyEntry


def _record_changed(patient, now=None):
    # The clinic's minute sweep evaluates alerts for patients whose record changed.
    PatientProfile.objects.record_changed_mark(patient, now)


class PlanNotAllowed(Exception):
    """The safety screen stops this patient starting a plan in the app."""


class DoseRefused(Exception):
    """The dose decision does not allow this entry; the message says why in plain words,
    and `allowed_from` when it would be allowed."""

    def __init__(self, refusal: decision.Refusal):
        super().__init__(refusal.reason)
        self.refusal = refusal


class NoUndo(Exception):
    pass


class PlanChangeNotAllowed(Exception):
    """The change makes no sense for the plan as it stands (e.g. step back from the first step)."""


class BigChange(PlanChangeNotAllowed):
    """A rise of more than 1.5 mg at once: the clinician must confirm, seeing both doses."""

    def __init__(self, *, before, after, rises):
        parts = []
        if after - before > engine.BIG_RISE_MG:
            parts.append(
                f"This changes tonight's dose from {before.normalize():f} mg to "
                f"{after.normalize():f} mg, a rise of more than 1.5 mg at once."
            )
        parts += [
            f"A step rises from {a.normalize():f} mg to {b.normalize():f} mg, more than 1.5 mg "
            "at once."
            for a, b in rises
        ]
        parts.append("Tick the confirmation to go ahead.")
        super().__init__(" ".join(parts))
        self.before, self.after = before, after


@transaction.atomic
def safety_screening_record(
    *,
    patient,
    opioid_use: bool,
    alcohol: bool,
    liver_medications: bool,
    liver_disease: bool,
    opioid_free_confirmed: bool = False,
) -> SafetyScreening:
    screening = SafetyScreening.objects.create(
        patient=patient,
        opioid_use=opioid_use,
        opioid_free_confirmed=opioid_free_confirmed and not opioid_use,
        alcohol=alcohol,
        liver_medications=liver_medications,
        liver_disease=liver_disease,
    )
    _record_changed(patient)
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
    if screening is None or SafetyScreening.objects.plan_blocked(patient):
        raise PlanNotAllowed(
            "A plan can't start in the app until the safety questions are answered "
            "and your prescriber has confirmed LDN is safe with your other medicines."
        )
    today = patient.profile.local_today()
    plan = Plan(
        patient=patient,
        protocol=protocol,
        start_date=start_date,
        target_mg=target_mg,
        tracked_from=today if start_date < today else None,
    )
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


LATE_ENTRY_DAYS = decision.LATE_ENTRY_DAYS


@transaction.atomic
def dose_log(
    *,
    patient,
    plan: Plan,
    day: dt.date | None,
    status: str,
    skip_reason: str = "",
    source: str = DoseLog.Source.APP,
    now: dt.datetime | None = None,
    taken_at: dt.datetime | None = None,
    late: bool = False,
    client_id=None,
) -> DoseLog:
    """Record a dose as the dose decision allows it at `now`, or raise DoseRefused.

    From Today's card (`late=False`), `day` is the date the page showed (None: whatever the
    decision says now); it must still be the date the decision's action is about, so a page
    left open or a second tap never records another date. A late entry (`late=True`) records
    a missed `day` as skipped, or as taken at the stated `taken_at`. A press queued offline
    goes the late way too, with the instant it was pressed (`dose_replay`).
    """
    now = now or timezone.now()
    # One writer at a time per patient: the spacing rule spans dates, which the one-per-day
    # constraint alone cannot see.
    PatientProfile.objects.select_for_update().filter(user=patient).first()
    record = selectors.record_of(patient, plan, now=now)
    inputs = record.inputs
    d = decision.decide(inputs, now)
    if late:
        if status == DoseLog.Status.TAKEN and taken_at is None:
            taken_at = now
        refusal = decision.check_late(inputs, day, status, taken_at, now)
    else:
        if day is None:
            day = d.dose_day
        if day != d.dose_day:
            refusal = (
                decision.check_take(inputs, d.spec, day, now, now) if day in inputs.logs else None
            ) or decision.Refusal("This page was out of date. Here is your dose now.")
        elif status == DoseLog.Status.TAKEN:
            refusal, taken_at = d.take, now
        else:
            refusal = d.skip
    if refusal is not None:
        raise DoseRefused(refusal)
    taken = status == DoseLog.Status.TAKEN
    log = DoseLog(
        patient=patient,
        plan=plan,
        date=day,
        status=status,
        dose_mg=engine.dose_on(d.spec, day).dose_mg,
        skip_reason=skip_reason if not taken else "",
        is_late_entry=late or day < d.local_today,
        source=source,
        logged_at=now,
        taken_at=taken_at if taken else None,
        client_id=client_id,
    )
    try:
        with transaction.atomic():
            log.save()
    except IntegrityError:
        raise DoseRefused(decision.Refusal("That dose is already logged.")) from None
    _record_changed(patient, now)
    return log


@transaction.atomic
def doses_report_when_joining(
    *, patient, plan: Plan, taken_days: set[dt.date], now: dt.datetime | None = None
) -> list[DoseLog]:
    """Record the nights before joining in one step, on the patient's word: `taken_days` as
    taken, every other reportable night as missed. A second submit finds nothing left to
    report and records nothing."""
    now = now or timezone.now()
    PatientProfile.objects.select_for_update().filter(user=patient).first()
    record = selectors.record_of(patient, plan, now=now)
    reportable = set(decision.reportable_days(record.inputs, now))
    report = decision.joining_report(record.inputs, now, set(taken_days) & reportable)
    logs = DoseLog.objects.bulk_create(
        [
            DoseLog(
                patient=patient,
                plan=plan,
                date=night.day,
                status=night.status,
                dose_mg=night.dose_mg,
                skip_reason="" if night.status == DoseLog.Status.TAKEN else "Missed before joining",
                source=DoseLog.Source.REPORTED,
                logged_at=now,
                taken_at=night.taken_at,
            )
            for night in report
        ]
    )
    if logs:
        _record_changed(patient, now)
    return logs


@transaction.atomic
def dose_replay(
    *,
    patient,
    plan: Plan,
    client_id,
    day: dt.date,
    pressed_at: dt.datetime,
    now: dt.datetime | None = None,
) -> tuple[DoseLog, bool]:
    """ "I took it" pressed offline, sent when the connection returned: recorded through the
    dose decision as taken at the instant it was pressed (spacing and window checked for
    that instant, as for a stated time). Returns the dose and whether this call recorded it:
    the same client id sent again returns the dose it recorded, and nothing more."""
    now = now or timezone.now()
    # The lock first, so two copies of one queue sent at once see each other's dose.
    PatientProfile.objects.select_for_update().filter(user=patient).first()
    existing = DoseLog.objects.filter(patient=patient, client_id=client_id).first()
    if existing is not None:
        return existing, False
    log = dose_log(
        patient=patient,
        plan=plan,
        day=day,
        status=DoseLog.Status.TAKEN,
        now=now,
        taken_at=min(pressed_at, now),
        late=True,
        client_id=client_id,
    )
    # Pressed on time, only sent late: not a late entry unless its date had passed.
    on_time = day >= log.taken_at.astimezone(patient.profile.zone).date()
    if log.is_late_entry and on_time:
        log.is_late_entry = False
        log.save(update_fields=["is_late_entry"])
    return log, True


@transaction.atomic
def dose_undo(*, patient, plan: Plan, day: dt.date, now: dt.datetime | None = None) -> None:
    now = now or timezone.now()
    PatientProfile.objects.select_for_update().filter(user=patient).first()
    record = selectors.record_of(patient, plan, now=now)
    refusal = decision.check_undo(record.inputs, day, now)
    if refusal is not None:
        raise NoUndo(refusal.reason)
    DoseLog.objects.filter(patient=patient, date=day).delete()
    _record_changed(patient, now)


def _current_due(plan: Plan, day: dt.date) -> engine.DayDose:
    """The dose on `day` as the decision sees it (tolerance rules and the log applied)."""
    patient = plan.patient
    now = timezone.now()
    d = selectors.record_of(patient, plan, now=now).decide(now)
    return engine.dose_on(d.spec, day)


def _event_append(
    *, plan, kind, day, actor=None, reason="", days=None, automatic=False, confirmation_key=""
):
    """Append a plan event. Plan events are append-only: the schedule is derived from them,
    so no row is ever edited. With a `confirmation_key`, a repeated confirm returns the
    event already recorded instead of adding another."""
    if confirmation_key:
        existing = PlanEvent.objects.filter(plan=plan, confirmation_key=confirmation_key).first()
        if existing is not None:
            return existing
    try:
        with transaction.atomic():
            event = PlanEvent.objects.create(
                plan=plan,
                kind=kind,
                effective_date=day,
                days=days,
                reason=reason[:300],
                automatic=automatic,
                actor=actor,
                confirmation_key=confirmation_key,
            )
    except IntegrityError:
        return PlanEvent.objects.get(plan=plan, confirmation_key=confirmation_key)
    _record_changed(plan.patient)
    return event


@transaction.atomic
def plan_hold(*, plan: Plan, actor, day: dt.date, days: int | None, reason: str) -> PlanEvent:
    """Stay at the current dose: `days` long, or until released when `days` is None."""
    if days is not None and not 1 <= days <= 60:
        raise PlanChangeNotAllowed("A hold lasts between 1 and 60 days.")
    due = _current_due(plan, day)
    if due.status in (engine.DayStatus.STOPPED, engine.DayStatus.NOT_STARTED):
        raise PlanChangeNotAllowed("There is no dose to stay at on that day.")
    return _event_append(
        plan=plan, kind=PlanEvent.Kind.HOLD, day=day, actor=actor, reason=reason, days=days
    )


@transaction.atomic
def plan_step_back(
    *, plan: Plan, actor, day: dt.date, reason: str, confirmation_key: str = ""
) -> PlanEvent:
    """Go back to the previous step. `confirmation_key` names the offer or form answered:
    confirming it twice (double tap, two tabs) records one step back."""
    # Locked, so two confirms at once see each other: the second finds the first's event.
    Plan.objects.select_for_update().filter(pk=plan.pk).first()
    if confirmation_key:
        existing = PlanEvent.objects.filter(plan=plan, confirmation_key=confirmation_key).first()
        if existing is not None:
            return existing
    due = _current_due(plan, day)
    if due.step_index == 0 or not due.is_due:
        raise PlanChangeNotAllowed("You are already on the first dose of the plan.")
    return _event_append(
        plan=plan,
        kind=PlanEvent.Kind.STEP_BACK,
        day=day,
        actor=actor,
        reason=reason,
        confirmation_key=confirmation_key,
    )


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
def profile_dose_clock_change(
    *, patient, time_zone: str, dose_time: str, reminder_time: dt.time, now=None
) -> PatientProfile:
    """Save a new time zone or dose time from the profile. The dose log keeps the instants
    doses were taken, so the decision checks spacing and windows against the new clock; a
    switch between bedtime and morning is recorded in the plan's story, as the morning
    suggestion's answer is. Saving the same values again changes nothing."""
    profile = PatientProfile.objects.select_for_update().get(user=patient)
    switched = profile.dose_time != dose_time
    account_services.profile_update(
        profile=profile, time_zone=time_zone, dose_time=dose_time, reminder_time=reminder_time
    )
    plan = selectors.current_plan(patient)
    if switched and plan is not None:
        _event_append(
            plan=plan,
            kind=PlanEvent.Kind.DOSE_TIME,
            day=profile.local_today(now),
            actor=patient,
            reason=f"Changed in the profile to {profile.get_dose_time_display().lower()}",
        )
    _record_changed(patient, now)
    patient.profile = profile
    return profile


@transaction.atomic
def profile_medicine_change(
    *, patient, formulation: str, concentration_mg_per_ml, now=None
) -> PatientProfile:
    profile = PatientProfile.objects.select_for_update().get(user=patient)
    account_services.profile_update(
        profile=profile, formulation=formulation, concentration_mg_per_ml=concentration_mg_per_ml
    )
    _record_changed(patient, now)
    patient.profile = profile
    return profile


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
    due = _current_due(plan, day)
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
    big_change_confirmed: bool = False,
) -> Plan:
    """Change the target or the schedule from `day`: the old plan stops, a new one starts.

    The old plan's past stays as it was (those were the doses the patient was told to take).
    Unless the clinician writes the steps out, the new plan continues from today's dose: it
    keeps the steps below it (so stepping back stays possible), finishes the days left on the
    current step, then takes the chosen protocol's steps above it up to the new target.
    A rise of more than 1.5 mg at once, tonight or between two steps, needs
    `big_change_confirmed` (BigChange names tonight's dose before and after).
    """
    target = Decimal(str(target_mg)) if target_mg is not None else plan.target_mg
    if not engine.MIN_DOSE_MG <= target <= engine.MAX_DOSE_MG:
        raise PlanChangeNotAllowed("The target must be between 0.5 mg and 6.0 mg.")
    protocol = protocol or plan.protocol
    current = _current_due(plan, day)
    start_step = 0
    if custom_steps is None:
        ahead = engine.protocol_steps(protocol, target, _steps_of(plan.custom_steps))
        try:
            steps, start_step = engine.steps_continuing(plan.steps(), current, ahead, target)
        except ValueError as exc:
            raise PlanChangeNotAllowed(str(exc)) from None
        custom_steps = [{"dose_mg": str(s.dose_mg), "min_days": s.min_days} for s in steps]
    errors = engine.validate_custom_steps(_steps_of(custom_steps))
    if errors:
        raise PlanChangeNotAllowed(" ".join(errors))
    if any(Decimal(str(s["dose_mg"])) > target for s in custom_steps):
        raise PlanChangeNotAllowed("A step is above the target dose.")
    before = current.dose_mg or Decimal(0)
    after = Decimal(str(custom_steps[start_step]["dose_mg"]))
    rises = engine.big_rises(_steps_of(custom_steps))
    if not big_change_confirmed and (after - before > engine.BIG_RISE_MG or rises):
        raise BigChange(before=before, after=after, rises=rises)
    new_plan = Plan(
        patient=plan.patient,
        protocol=Plan.Protocol.CUSTOM,
        target_mg=target,
        start_date=day,
        custom_steps=custom_steps,
        start_step=start_step,
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
    now = now or timezone.now()
    today = plan.patient.profile.local_today(now)
    d = selectors.record_of(plan.patient, plan, now=now).decide(now)
    due = engine.dose_on(d.spec, today)
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


@transaction.atomic
def opioid_block_clear(*, patient, clinician, now: dt.datetime | None = None) -> int:
    """A linked clinician lifts the block of the patient's opioid reports (the caller checks
    the link and audits). Returns how many reports were cleared."""
    now = now or timezone.now()
    cleared = SafetyScreening.objects.filter(
        patient=patient, opioid_use=True, cleared_at__isnull=True
    ).update(cleared_at=now, cleared_by=clinician)
    _record_changed(patient, now)
    return cleared
