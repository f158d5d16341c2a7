"""A patient with a story to report: a run-in week, a hold with a reason, a step back, missed
and skipped nights, side effects, questionnaires and a shared note. Shared by the report
tests and the browser test that looks at the PDF."""

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from symptoms.models import DiaryEntry, QuestionnaireResponse
from titration import services as titration_services
from titration.models import DoseLog

from .conftest import TODAY, add_history, patient_on_day

PLAN_DAYS = 40
START = TODAY - dt.timedelta(days=PLAN_DAYS - 1)  # 12 Oct 2026
BIRTH_DATE = dt.date(1980, 3, 14)


def day(plan_day):
    return START + dt.timedelta(days=plan_day - 1)


def visit_patient(email="alex@example.org"):
    patient = patient_on_day(PLAN_DAYS, email=email)
    patient.first_name = "Alex Rivera"
    patient.save(update_fields=["first_name"])
    profile = patient.profile
    profile.formulation = profile.Formulation.LIQUID
    profile.concentration_mg_per_ml = Decimal("1.00")
    profile.date_of_birth = BIRTH_DATE
    profile.save()
    plan = patient.plans.get()
    # As onboarding writes it: a reason that repeats the kind.
    plan.events.filter(kind="start").update(reason="Plan started")
    add_history(patient, notes_for={TODAY - dt.timedelta(days=3): ("Flare after gardening", True)})
    titration_services.plan_hold(
        plan=plan, actor=patient, day=day(12), days=4, reason="waiting for the dreams to settle"
    )
    titration_services.plan_step_back(
        plan=plan, actor=patient, day=day(30), reason="nausea at 4.5 mg"
    )
    # Two nights missed, one skipped.
    DoseLog.objects.filter(patient=patient, date__in=[day(20), day(21)]).delete()
    DoseLog.objects.filter(patient=patient, date=day(25)).update(
        status=DoseLog.Status.SKIPPED, skip_reason="Out of the house"
    )
    DiaryEntry.objects.filter(patient=patient, date__in=[day(9), day(10)]).update(vivid_dreams=2)
    DiaryEntry.objects.filter(patient=patient, date__in=[day(27), day(28), day(29)]).update(
        nausea=2
    )
    DiaryEntry.objects.filter(patient=patient, date=day(28)).update(nausea=3)
    now = timezone.now()
    for kind, week, score in (("fiqr", 0, "60.0"), ("fiqr", 4, "48.0"), ("pgic", 4, "5")):
        QuestionnaireResponse.objects.create(
            patient=patient,
            kind=kind,
            week=week,
            answers={},
            score=Decimal(score),
            completed_at=now - dt.timedelta(days=PLAN_DAYS - 1 - 7 * week),
        )
    return patient
