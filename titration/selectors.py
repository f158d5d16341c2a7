"""Read-only queries for titration pages."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from . import schedule as engine
from .models import DoseLog, Plan, SafetyScreening


def current_plan(patient) -> Plan | None:
    return Plan.objects.filter(patient=patient).first()


def latest_screening(patient) -> SafetyScreening | None:
    return SafetyScreening.objects.filter(patient=patient).first()


@dataclass(frozen=True)
class Tonight:
    """Everything the Today page says about tonight's dose."""

    plan: Plan
    local_today: dt.date
    due: engine.DayDose
    dose_ml: Decimal | None
    next_step: dt.date | None
    next_step_dose_mg: Decimal | None
    log: DoseLog | None
    missed_yesterday: bool


def tonight(patient, plan: Plan, now: dt.datetime | None = None) -> Tonight:
    profile = patient.profile
    today = profile.local_today(now or timezone.now())
    spec = plan.spec()
    days = engine.schedule(spec, until=today, since=today - dt.timedelta(days=1))
    yesterday, due = days[0], days[-1]
    logs = {
        log.date: log
        for log in DoseLog.objects.filter(patient=patient, date__gte=yesterday.day, date__lte=today)
    }
    next_step = engine.next_step_date(spec, today)
    next_dose = engine.dose_on(spec, next_step).dose_mg if next_step else None
    dose_ml = None
    if due.is_due and profile.is_liquid and profile.concentration_mg_per_ml:
        dose_ml = engine.liquid_ml(due.dose_mg, profile.concentration_mg_per_ml)
    return Tonight(
        plan=plan,
        local_today=today,
        due=due,
        dose_ml=dose_ml,
        next_step=next_step,
        next_step_dose_mg=next_dose,
        log=logs.get(today),
        missed_yesterday=yesterday.is_due and yesterday.day not in logs,
    )
