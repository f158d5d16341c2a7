"""The minute sweep: a patient's save only marks their record; the clinic evaluates the
alerts of linked patients whose record changed since it last looked, once per change."""

import datetime as dt
import threading
from unittest import mock

import pytest
import time_machine
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.models import PatientProfile
from clinic import services
from clinic.models import Alert, AlertReview, CareLink, PatientSummary

from ..factories import onboarded_patient
from .conftest import link

pytestmark = pytest.mark.django_db


def changed_at(patient):
    return PatientProfile.objects.values_list("record_changed_at", flat=True).get(user=patient)


def test_a_diary_save_marks_the_record_and_one_sweep_opens_the_alert(client, doctor):
    patient = onboarded_patient(email="shared@example.org")
    link(patient, clinician=doctor)
    client.force_login(patient)
    client.post(reverse("diary"), {"nausea": "3"})
    assert changed_at(patient) is not None
    assert not Alert.objects.filter(patient=patient).exists()  # nothing heavy in the request

    assert services.alerts_review_changed() == 1
    assert Alert.objects.filter(patient=patient, rule="severe_side_effect").exists()
    assert services.alerts_review_changed() == 0  # the same change is not evaluated again


def test_two_sweeps_that_read_the_same_change_evaluate_it_once(doctor):
    patient = onboarded_patient(email="twice@example.org")
    link(patient, clinician=doctor)
    PatientProfile.objects.record_changed_mark(patient)
    change = changed_at(patient)
    with mock.patch.object(services, "alerts_evaluate", wraps=services.alerts_evaluate) as spy:
        assert services.alerts_review(patient_id=patient.pk, changed_at=change) is True
        assert services.alerts_review(patient_id=patient.pk, changed_at=change) is False
    assert spy.call_count == 1
    assert AlertReview.objects.get(patient=patient).record_seen_at == change


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_evaluate_the_same_change_once(doctor):
    """Real concurrency: the second worker's claim waits on the first's row and then finds
    the mark already moved (or the row already made)."""
    if connection.vendor != "postgresql":
        pytest.skip("needs row locks between connections")
    patient = onboarded_patient(email="race@example.org")
    link(patient, clinician=doctor)
    PatientProfile.objects.record_changed_mark(patient)
    change = changed_at(patient)
    both_reading = threading.Barrier(2)
    results, evaluations = [], []
    evaluate = services.alerts_evaluate

    def counting_evaluate(**kwargs):
        evaluations.append(kwargs["patient"].pk)
        return evaluate(**kwargs)

    def worker():
        try:
            both_reading.wait(timeout=5)
            results.append(services.alerts_review(patient_id=patient.pk, changed_at=change))
        finally:
            connection.close()

    with mock.patch.object(services, "alerts_evaluate", side_effect=counting_evaluate):
        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    assert sorted(results) == [False, True]
    assert evaluations == [patient.pk]


def test_a_change_after_the_sweep_is_evaluated_by_the_next_one(doctor):
    patient = onboarded_patient(email="busy@example.org")
    link(patient, clinician=doctor)
    first = timezone.now()
    PatientProfile.objects.record_changed_mark(patient, first)
    assert services.alerts_review_changed() == 1
    PatientProfile.objects.record_changed_mark(patient, first + dt.timedelta(seconds=1))
    assert services.alerts_review_changed() == 1
    assert AlertReview.objects.get(patient=patient).record_seen_at == first + dt.timedelta(
        seconds=1
    )


def test_a_patient_who_shares_with_nobody_is_not_evaluated(client):
    patient = onboarded_patient(email="private@example.org")
    client.force_login(patient)
    client.post(reverse("diary"), {"nausea": "3"})
    assert changed_at(patient) is not None
    assert services.alerts_review_changed() == 0
    assert not PatientSummary.objects.exists()
    assert not AlertReview.objects.exists()


@pytest.mark.parametrize("accepted", [True, False])
@pytest.mark.parametrize("revoked", [True, False])
def test_the_sweep_follows_the_care_links_own_idea_of_active(doctor, accepted, revoked):
    patient = onboarded_patient(email="links@example.org")
    link(patient, clinician=doctor)
    CareLink.objects.filter(patient=patient).update(
        accepted_at=timezone.now() if accepted else None,
        revoked_at=timezone.now() if revoked else None,
    )
    PatientProfile.objects.record_changed_mark(patient)
    active = CareLink.objects.filter(patient=patient).active().exists()
    assert services.alerts_review_changed() == int(active)


def test_one_patients_failure_does_not_hold_up_the_others(doctor):
    first = onboarded_patient(email="first@example.org")
    second = onboarded_patient(email="second@example.org")
    for patient in (first, second):
        link(patient, clinician=doctor)
    now = timezone.now()
    PatientProfile.objects.record_changed_mark(first, now)
    PatientProfile.objects.record_changed_mark(second, now + dt.timedelta(seconds=1))
    evaluate = services.alerts_evaluate

    def failing_for_first(*, patient, **kwargs):
        if patient.pk == first.pk:
            raise RuntimeError("boom")
        return evaluate(patient=patient, **kwargs)

    with mock.patch.object(services, "alerts_evaluate", side_effect=failing_for_first):
        assert services.alerts_review_changed() == 1
    assert not AlertReview.objects.filter(patient=first).exists()  # left for the next sweep
    assert services.alerts_review_changed() == 1


def test_an_opioid_answer_alerts_the_clinician_within_one_sweep(client, doctor):
    patient = onboarded_patient(email="opioid@example.org")
    link(patient, clinician=doctor)
    client.force_login(patient)
    client.post(
        reverse("onboarding_step", kwargs={"step": "safety"}),
        {"opioid_use": "yes", "alcohol": "no", "liver_medications": "no", "liver_disease": "no"},
    )
    assert services.alerts_review_changed() == 1
    alert = Alert.objects.get(patient=patient, rule="opioid_use")
    assert alert.is_urgent


@time_machine.travel(dt.datetime(2026, 11, 20, 20, 0, tzinfo=dt.UTC), tick=False)
def test_a_dose_logged_marks_the_record_for_the_sweep(client, doctor):
    # 20:00 in London: tonight's dose can be logged.
    patient = onboarded_patient(email="evening@example.org")
    link(patient, clinician=doctor)
    client.force_login(patient)
    client.post(reverse("dose_take"))
    assert changed_at(patient) is not None
    assert services.alerts_review_changed() == 1
    assert PatientSummary.objects.filter(patient=patient).exists()
