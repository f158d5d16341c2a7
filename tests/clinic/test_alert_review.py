import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from clinic import services
from clinic.models import Alert, AlertReviewRequest, CareLink
from titration.models import DoseLog

from ..factories import onboarded_patient
from .conftest import link

pytestmark = pytest.mark.django_db


def test_a_diary_save_by_a_sharing_patient_asks_for_a_review_and_the_sweep_opens_the_alert(
    client, doctor
):
    patient = onboarded_patient(email="shared@example.org")
    link(patient, clinician=doctor)
    client.force_login(patient)
    client.post(reverse("diary"), {"nausea": "3"})
    assert AlertReviewRequest.objects.filter(patient=patient).exists()
    assert not Alert.objects.filter(patient=patient).exists()  # nothing heavy in the request

    assert services.alerts_review_pending() == 1
    assert Alert.objects.filter(patient=patient, rule="severe_side_effect").exists()
    assert not AlertReviewRequest.objects.exists()
    assert services.alerts_review_pending() == 0


def test_a_patient_who_shares_with_nobody_leaves_no_request(client):
    patient = onboarded_patient(email="private@example.org")
    client.force_login(patient)
    client.post(reverse("dose_take"))
    assert not AlertReviewRequest.objects.exists()


def test_a_request_renewed_during_the_sweep_is_kept_for_the_next_one(doctor):
    patient = onboarded_patient(email="busy@example.org")
    link(patient, clinician=doctor)
    services.alerts_review_request(patient=patient)
    stale = AlertReviewRequest.objects.get(patient=patient).requested_at
    AlertReviewRequest.objects.filter(patient=patient).update(
        requested_at=stale + dt.timedelta(seconds=1)
    )
    # A sweep that read the old timestamp claims nothing.
    claimed, _ = AlertReviewRequest.objects.filter(patient=patient, requested_at=stale).delete()
    assert claimed == 0
    assert services.alerts_review_pending() == 1


def test_asking_again_moves_the_one_request_forward(doctor, django_assert_num_queries):
    patient = onboarded_patient(email="again@example.org")
    link(patient, clinician=doctor)
    first = dt.datetime(2026, 11, 27, 20, 0, tzinfo=dt.UTC)
    services.alerts_review_request(patient=patient, now=first)
    with django_assert_num_queries(1):  # the link check inside one upsert
        assert services.alerts_review_request(patient=patient, now=first + dt.timedelta(hours=1))
    assert list(AlertReviewRequest.objects.values_list("requested_at", flat=True)) == [
        first + dt.timedelta(hours=1)
    ]


def test_a_revoked_or_unaccepted_link_asks_for_nothing(doctor):
    revoked = onboarded_patient(email="revoked@example.org")
    link(revoked, clinician=doctor)
    CareLink.objects.filter(patient=revoked).update(revoked_at=timezone.now())
    invited = onboarded_patient(email="invited@example.org")
    link(invited, clinician=doctor)
    CareLink.objects.filter(patient=invited).update(accepted_at=None)
    assert services.alerts_review_request(patient=revoked) is False
    assert services.alerts_review_request(patient=invited) is False
    assert not AlertReviewRequest.objects.exists()


@pytest.mark.parametrize("accepted", [True, False])
@pytest.mark.parametrize("revoked", [True, False])
def test_the_request_follows_the_care_links_own_idea_of_active(doctor, accepted, revoked):
    patient = onboarded_patient(email="links@example.org")
    link(patient, clinician=doctor)
    CareLink.objects.filter(patient=patient).update(
        accepted_at=timezone.now() if accepted else None,
        revoked_at=timezone.now() if revoked else None,
    )
    active = CareLink.objects.filter(patient=patient).active().exists()
    assert services.alerts_review_request(patient=patient) is active
    assert AlertReviewRequest.objects.filter(patient=patient).exists() is active


def test_an_opioid_answer_alerts_the_clinician_at_once(client, doctor):
    patient = onboarded_patient(email="opioid@example.org")
    link(patient, clinician=doctor)
    client.force_login(patient)
    client.post(
        reverse("onboarding_step", kwargs={"step": "safety"}),
        {"opioid_use": "yes", "alcohol": "no", "liver_medications": "no", "liver_disease": "no"},
    )
    assert Alert.objects.filter(patient=patient, rule="opioid_use").exists()


@pytest.mark.django_db(transaction=True)
def test_a_dose_logged_outside_a_test_transaction_lands_with_its_review_request(client, doctor):
    """The production path (no transaction around the request): the dose and the request
    are one statement on PostgreSQL; a second tap is reported, and leaves one dose."""
    patient = onboarded_patient(email="evening@example.org")
    link(patient, clinician=doctor)
    client.force_login(patient)
    client.post(reverse("dose_take"))
    assert DoseLog.objects.filter(patient=patient).count() == 1
    first = AlertReviewRequest.objects.get(patient=patient).requested_at

    response = client.post(reverse("dose_take"), HTTP_HX_REQUEST="true")
    assert "That dose is already logged (taken)." in response.content.decode()
    assert DoseLog.objects.filter(patient=patient).count() == 1
    assert AlertReviewRequest.objects.get(patient=patient).requested_at == first
