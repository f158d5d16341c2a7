"""The panel names a step-up the clinic rules held as needing the clinician's decision."""

import datetime as dt

import pytest
from django.urls import reverse

from clinic.models import PatientSummary
from clinic.services import alerts_evaluate
from symptoms.models import DiaryEntry
from titration.models import PlanEvent

from .conftest import TODAY, add_history, mfa_login

pytestmark = pytest.mark.django_db


def test_a_step_up_held_by_side_effects_needs_your_decision(client, linked_patient, doctor):
    plan = linked_patient.plans.get()
    plan.start_date = TODAY - dt.timedelta(days=7)  # day 8: the step-up to 3.0 mg is due
    plan.save(update_fields=["start_date"])
    add_history(linked_patient, days=8)
    DiaryEntry.objects.filter(patient=linked_patient, date=TODAY - dt.timedelta(days=1)).update(
        nausea=2
    )
    alerts_evaluate(patient=linked_patient)
    summary = PatientSummary.objects.get(patient=linked_patient)
    assert summary.step_status == PatientSummary.StepStatus.HELD
    mfa_login(client, doctor)
    assert (
        "Step-up held: needs your decision" in client.get(reverse("clinic:panel")).content.decode()
    )
    body = client.get(reverse("clinic:patient_plan", args=[linked_patient.pk])).content.decode()
    assert "Step-up held: needs your decision." in body
    assert "Approve the next step" in body


def test_a_hold_someone_asked_for_is_on_hold_not_awaiting_a_decision(linked_patient):
    add_history(linked_patient, days=10)
    PlanEvent.objects.create(
        plan=linked_patient.plans.get(), kind="hold", effective_date=TODAY, actor=linked_patient
    )
    alerts_evaluate(patient=linked_patient)
    summary = PatientSummary.objects.get(patient=linked_patient)
    assert summary.step_status == PatientSummary.StepStatus.ON_HOLD
