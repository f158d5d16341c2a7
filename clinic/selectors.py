"""Reads for the clinician workspace. Nothing here writes."""

import copy
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.core.paginator import Paginator
from django.db.models import Exists, F, OuterRef, Q, Subquery
from django.utils import timezone

from accounts.models import User
from symptoms import fhir, progress
from symptoms.models import SIDE_EFFECTS, DiaryEntry, Severity
from titration import adherence as adherence_rules
from titration import schedule as engine
from titration import selectors as titration_selectors
from titration.models import SafetyScreening

from . import alert_rules, plan_actions
from .models import (
    Alert,
    AlertThresholds,
    AuditEvent,
    CareLink,
    ClinicianMembership,
    PatientSummary,
)

PANEL_PAGE_SIZE = 50
SIDE_EFFECT_DAYS = 7


def linked_patients(clinician):
    """Patients with an active link to this clinician, directly or through their clinic."""
    links = CareLink.objects.active().reaching(clinician).filter(patient_id=OuterRef("pk"))
    return User.objects.filter(role=User.Role.PATIENT).filter(Exists(links))


@dataclass(frozen=True)
class Review:
    """What the alert rules read and what the panel row shows, from one read of the data."""

    facts: alert_rules.Facts
    summary: dict  # PatientSummary field values


def _step_status(days: list[engine.DayDose]) -> str:
    Status = PatientSummary.StepStatus
    today = days[-1]
    if today.status == engine.DayStatus.STOPPED:
        return Status.STOPPED
    if today.status == engine.DayStatus.PAUSED:
        return Status.PAUSED
    if today.status == engine.DayStatus.NOT_STARTED:
        return Status.NOT_STARTED
    if today.status == engine.DayStatus.HELD:
        return Status.ON_HOLD if today.held_by == engine.HoldCause.REQUESTED else Status.HELD
    if any(d.step_index > today.step_index for d in days if d.is_due):
        return Status.STEPPED_BACK
    return Status.ON_TRACK


def _side_effects_line(entries, today: dt.date) -> str:
    since = today - dt.timedelta(days=SIDE_EFFECT_DAYS - 1)
    for entry in entries:  # newest first
        if entry.date < since:
            break
        found = [
            f"{label} ({Severity(getattr(entry, name)).label.lower()})"
            for name, label in SIDE_EFFECTS.items()
            if (getattr(entry, name) or 0) >= Severity.MILD
        ]
        if found:
            return f"{', '.join(found)} · {entry.date:%-d %b}"[:200]
    return ""


def patient_review(patient, now: dt.datetime | None = None) -> Review:
    """Everything the alert rules and the panel row need for one patient: six queries."""
    now = now or timezone.now()
    profile = patient.profile
    today = profile.local_today(now)
    screening = SafetyScreening.objects.filter(patient=patient).first()
    opioid_on = (
        profile.local_today(screening.created_at) if screening and screening.opioid_use else None
    )
    plan = titration_selectors.current_plan(patient)
    if plan is None:
        facts = alert_rules.Facts(today=today, opioid_reported_on=opioid_on)
        summary = {"step_status": PatientSummary.StepStatus.NO_PLAN, "as_of": today}
        return Review(facts, summary)

    record = titration_selectors.record_of(patient, plan, now=now)
    spec = record.decide(now or timezone.now()).spec
    days = engine.schedule(spec, until=today, since=plan.start_date)
    due_days = [d.day for d in days if d.is_due]
    first = plan.start_date - dt.timedelta(days=progress.WINDOW)
    entries = list(
        DiaryEntry.objects.filter(patient=patient, date__gte=first, date__lte=today).order_by(
            "-date"
        )
    )
    pain = {e.date: e.pain for e in entries if e.pain is not None}
    side_effects = {}
    for entry in entries:
        levels = {label: getattr(entry, name) or 0 for name, label in SIDE_EFFECTS.items()}
        if any(levels.values()):
            side_effects[entry.date] = levels
    last_log = max(record.logs.values(), key=lambda log: log.date, default=None)
    facts = alert_rules.Facts(
        today=today,
        plan_start=plan.start_date,
        opioid_reported_on=opioid_on,
        side_effects=side_effects,
        pain=pain,
        due_days=due_days,
        logged=spec.logged,
        counted_from=spec.counted_from,
        last_diary=entries[0].date if entries else None,
        last_dose=last_log.date if last_log else None,
    )

    baseline = progress.baseline_of(pain, plan.start_date)
    base = baseline.mean if baseline else None
    current = progress.mean_of_window(pain, today)
    ready = baseline is not None and baseline.ready(today)
    change = progress.Change(base, current) if ready and current is not None else None
    week = adherence_rules.adherence(
        today=today, days=7, due_days=due_days, logs=spec.logged, counted_from=spec.counted_from
    )
    activity = [e.updated_at for e in entries[:1]] + [log.logged_at for log in record.logs.values()]
    today_dose = days[-1] if days else engine.dose_on(spec, today)
    summary = {
        "as_of": today,
        "plan_day": today_dose.plan_day or None,
        "dose_mg": today_dose.dose_mg,
        "step_status": _step_status(days) if days else PatientSummary.StepStatus.NOT_STARTED,
        "adherence_7": week.percent,
        "non_adherent": week.is_non_adherent,
        "pain_baseline": base,
        "pain_current": current,
        "pain_change_percent": change.percent if change else None,
        "response_band": progress.pain_response(change).value if change else "",
        "latest_side_effects": _side_effects_line(entries, today),
        "last_activity_at": max(activity, default=None),
    }
    return Review(facts, summary)


def patient_thresholds(patient) -> alert_rules.Thresholds:
    """The thresholds this patient's alerts use: the defaults with any adjustments.

    Reads the row a `select_related("alert_thresholds")` already fetched (the sweeps do), so
    evaluating many patients costs no query per patient for this.
    """
    if User.alert_thresholds.is_cached(patient):
        row = getattr(patient, "alert_thresholds", None)
    else:
        row = AlertThresholds.objects.filter(patient=patient).first()
    return row.thresholds() if row is not None else alert_rules.DEFAULTS


def linked_clinician_emails(patient) -> list[str]:
    """Everyone who can see this patient now: clinicians linked directly, and the approved
    members of linked clinics."""
    links = CareLink.objects.active().filter(patient=patient)
    direct = links.filter(clinician__isnull=False).values_list("clinician__email", flat=True)
    via_clinic = (
        ClinicianMembership.objects.approved()
        .filter(clinic__in=links.filter(clinic__isnull=False).values("clinic_id"))
        .values_list("clinician__email", flat=True)
    )
    return sorted(set(direct) | set(via_clinic))


# Panel ------------------------------------------------------------------------------------

PANEL_FILTERS = {
    "attention": ("Needs attention", Q(top_urgency__isnull=False)),
    "holding": (
        "Holding",
        Q(
            clinic_summary__step_status__in=[
                PatientSummary.StepStatus.HELD,
                PatientSummary.StepStatus.ON_HOLD,
            ]
        ),
    ),
    "non_adherent": ("Non-adherent", Q(clinic_summary__non_adherent=True)),
    "responders": (
        "Responders",
        Q(clinic_summary__response_band__in=[progress.Band.MODERATE, progress.Band.SUBSTANTIAL]),
    ),
}

PANEL_SORTS = {
    "attention": ("Needs attention", ["top_urgency", "top_alert_opened"]),
    "name": ("Name", ["first_name"]),
    "plan_day": ("Plan day", ["clinic_summary__plan_day"]),
    "adherence": ("Adherence", ["clinic_summary__adherence_7"]),
    "pain": ("Pain change", ["clinic_summary__pain_change_percent"]),
    "activity": ("Last activity", ["clinic_summary__last_activity_at"]),
}


def _ordering(sort: str, descending: bool):
    fields = PANEL_SORTS.get(sort, PANEL_SORTS["attention"])[1]
    out = []
    for name in fields:
        expr = F(name)
        out.append(
            expr.desc(nulls_last=True) if descending else expr.asc(nulls_last=True),
        )
    return [*out, F("first_name").asc(), F("email").asc()]


@dataclass(frozen=True)
class PanelRow:
    patient: object
    summary: PatientSummary | None
    alerts: list


def panel(clinician, *, filter_by="", sort="attention", descending=False, search="", page=1):
    """The clinician's patients, needs-attention first: a fixed number of queries whatever
    the number of patients or the length of their histories."""
    open_alerts = (
        Alert.objects.open().filter(patient=OuterRef("pk")).order_by("urgency", "opened_at")
    )
    patients = (
        linked_patients(clinician)
        .select_related("clinic_summary")
        .annotate(
            top_urgency=Subquery(open_alerts.values("urgency")[:1]),
            top_alert_opened=Subquery(open_alerts.values("opened_at")[:1]),
        )
    )
    if filter_by in PANEL_FILTERS:
        patients = patients.filter(PANEL_FILTERS[filter_by][1])
    if search.strip():
        term = search.strip()
        patients = patients.filter(Q(first_name__icontains=term) | Q(email__icontains=term))
    patients = patients.order_by(*_ordering(sort, descending))
    page_obj = Paginator(patients, PANEL_PAGE_SIZE).get_page(page)
    on_page = list(page_obj.object_list)
    alerts_by_patient = {}
    for alert in Alert.objects.open().filter(patient__in=[p.pk for p in on_page]):
        alerts_by_patient.setdefault(alert.patient_id, []).append(alert)
    rows = [
        PanelRow(p, getattr(p, "clinic_summary", None), alerts_by_patient.get(p.pk, []))
        for p in on_page
    ]
    return page_obj, rows


# Patient detail ---------------------------------------------------------------------------

DIARY_FILTERS = {
    "": "All days",
    "side_effects": "Moderate or severe side effects",
    "high_pain": "Pain 7 or more",
    "notes": "With shared notes",
}


def diary_rows(patient, *, since: dt.date, until: dt.date, show: str = ""):
    entries = DiaryEntry.objects.for_patient_between(patient, since, until).order_by("-date")
    if show == "side_effects":
        entries = entries.with_side_effect_at_least(Severity.MODERATE)
    elif show == "high_pain":
        entries = entries.filter(pain__gte=7)
    elif show == "notes":
        entries = entries.filter(share_notes=True).exclude(notes="")
    return list(entries)


def access_log_for_patient(patient, limit: int | None = 200):
    """Who saw the patient's record and when, newest first: what the patient is shown (the
    page shows the latest `limit`; the data export all of them)."""
    return list(
        AuditEvent.objects.filter(patient=patient, outcome=AuditEvent.Outcome.ALLOWED)
        .select_related("actor")
        .order_by("-at", "-id")[:limit]
    )


def record_number_link(clinician, patient) -> CareLink | None:
    """The active link through which this clinician sees the patient, the one holding the
    clinic's record number if any: a clinic's link before a personal one."""
    return (
        CareLink.objects.active()
        .reaching(clinician)
        .filter(patient=patient)
        .select_related("clinic", "clinician")
        .order_by("clinic_id", "-accepted_at")
        .first()
    )


def record_number_for(clinician, patient) -> fhir.RecordNumber | None:
    """The clinic's record number for the FHIR export, in a system of its own per clinic
    (or per clinician without a clinic), with the clinic named as its assigner."""
    link = record_number_link(clinician, patient)
    if link is None or not link.mrn:
        return None
    if link.clinic_id:
        system, assigner = fhir.site_system(f"clinic/{link.clinic_id}/mrn"), link.clinic.name
    else:
        system = fhir.site_system(f"clinician/{link.clinician_id}/mrn")
        assigner = link.clinician.first_name or link.clinician.email
    return fhir.RecordNumber(value=link.mrn, system=system, assigner=assigner)


def clinic_paper_size(clinician) -> str:
    """The paper of the clinician's clinic for printed reports; "" (the patient's setting)
    when the clinic has none or the clinician has no clinic."""
    membership = (
        ClinicianMembership.objects.filter(clinician=clinician).select_related("clinic").first()
    )
    if membership is None or membership.clinic is None:
        return ""
    return membership.clinic.paper_size


@dataclass(frozen=True)
class PlanChangePreview:
    change: str
    words: str  # the schedule it would leave, or what it means for the dose time
    big_rise: bool  # a rise of more than 1.5 mg at once: the clinician must tick to confirm


def plan_state(patient, plan, now: dt.datetime | None = None):
    """Today's dose as the decision sees it, and the plan changes that fit it."""
    now = now or timezone.now()
    d = titration_selectors.dose_decision(patient, plan, now=now)
    today = patient.profile.local_today(now)
    due = engine.dose_on(d.spec, today)
    return d, plan_actions.available_changes(due, len(d.spec.steps))


def plan_change_preview(
    patient, plan, change: str, values: dict, now: dt.datetime | None = None
) -> PlanChangePreview:
    """The schedule a change would leave, from the engine on the plan as it would be, before
    anything is recorded. Raises ValueError with a plain message when the change can't be."""
    now = now or timezone.now()
    profile = patient.profile
    today = profile.local_today(now)
    d = titration_selectors.dose_decision(patient, plan, now=now)
    if change in plan_actions.EVENT_CHANGES:
        days = values.get("days") if change == "hold" else None
        spec = plan_actions.with_event(d.spec, today, change, days)
        return PlanChangePreview(change, plan_actions.schedule_words(spec, today), False)
    if change == "dose_time":
        changed = copy.copy(profile)
        changed.dose_time = values["dose_time"]
        changed.reminder_time = (
            profile.DEFAULT_MORNING
            if values["dose_time"] == profile.DoseTime.MORNING
            else profile.DEFAULT_BEDTIME
        )
        lines = titration_selectors.profile_change_preview(patient, plan, changed, now=now).lines
        return PlanChangePreview(change, " ".join(lines), False)
    current = engine.dose_on(d.spec, today)
    if change == "target":
        target = Decimal(values["target_mg"])
        written = [
            engine.Step(Decimal(str(s["dose_mg"])), s.get("min_days")) for s in plan.custom_steps
        ]
        ahead = engine.protocol_steps(plan.protocol, target, written)
        steps, start = engine.steps_continuing(plan.steps(), current, ahead, target)
    else:
        steps = tuple(engine.Step(Decimal(s["dose_mg"]), s["min_days"]) for s in values["steps"])
        start = 0
    spec = engine.PlanSpec(
        start_date=today,
        steps=steps,
        start_index=start,
        worst_side_effect_by_day=d.spec.worst_side_effect_by_day,
    )
    before = current.dose_mg or Decimal(0)
    big = steps[start].dose_mg - before > engine.BIG_RISE_MG or bool(engine.big_rises(steps))
    return PlanChangePreview(change, plan_actions.schedule_words(spec, today), big)
