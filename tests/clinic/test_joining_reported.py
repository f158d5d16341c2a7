"""The clinician sees nights reported when the patient joined, marked as such, and no
0% adherence for the days before the patient joined."""

import pytest
from django.urls import reverse

from clinic.selectors import patient_review
from titration import selectors
from titration.services import doses_report_when_joining

from .conftest import TODAY, mfa_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def joined_late(linked_patient):
    # The plan began 20 days before the patient joined the app, today.
    plan = linked_patient.plans.get()
    plan.tracked_from = TODAY
    plan.save(update_fields=["tracked_from"])
    return linked_patient


def test_the_timeline_marks_nights_reported_when_joining(client, joined_late, doctor):
    plan = joined_late.plans.get()
    days = selectors.reportable_days(joined_late, plan)
    doses_report_when_joining(patient=joined_late, plan=plan, taken_days=set(days))
    mfa_login(client, doctor)
    body = client.get(reverse("clinic:patient_detail", args=[joined_late.pk])).content.decode()
    assert "reported by the patient when joining" in body
    assert patient_review(joined_late).summary["adherence_7"] == 100


def test_days_before_joining_that_nobody_reported_are_not_zero_adherence(joined_late):
    review = patient_review(joined_late)
    assert review.summary["adherence_7"] is None  # nothing due since joining yet
    assert review.summary["step_status"] != "held"
