"""The patient's side: share by code or emailed link, see who has access, revoke, and see
who viewed the record."""

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse

from clinic.models import AuditEvent, CareLink
from clinic.services import care_invite_create

from .conftest import NOW, Personas, login_redirect, mfa_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def invite(frozen, doctor):
    return care_invite_create(clinician=doctor)


def test_a_patient_shares_by_typing_the_code(client, frozen, patient, doctor, invite):
    client.force_login(patient)
    typed = f" {invite.code[:4].lower()}-{invite.code[4:]} "
    response = client.post(reverse("clinic:sharing"), {"code": typed})
    assert response["Location"] == reverse("clinic:sharing_accept", args=[invite.code])
    page = client.get(response["Location"]).content.decode()
    assert "Share your record with Dr Lee?" in page
    assert not CareLink.objects.active().exists()  # opening the page shares nothing
    client.post(response["Location"])
    link = CareLink.objects.active().get()
    assert (link.patient, link.clinician) == (patient, doctor)
    assert "Dr Lee" in client.get(reverse("clinic:sharing")).content.decode()


def test_an_emailed_invitation_needs_login_and_one_click(
    client, frozen, patient, doctor, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        care_invite_create(clinician=doctor, email="alex@example.org")
    invite = CareLink.objects.get()
    [message] = mail.outbox
    assert message.subject == "An invitation to share your diary"
    accept_url = reverse("clinic:sharing_accept", args=[invite.code])
    assert accept_url in message.body
    assert login_redirect(client.get(accept_url))
    client.force_login(patient)
    client.post(accept_url)
    assert CareLink.objects.active().get().patient == patient


@pytest.mark.parametrize(
    "change,message",
    [
        ({"accepted_at": NOW}, "already been used"),
        ({"expires_at": NOW - dt.timedelta(seconds=1)}, "expired"),
    ],
)
def test_a_used_or_expired_code_is_explained(
    client, frozen, patient, other_patient, invite, change, message
):
    if "accepted_at" in change:
        change["patient"] = other_patient
    CareLink.objects.filter(pk=invite.pk).update(**change)
    client.force_login(patient)
    response = client.post(reverse("clinic:sharing_accept", args=[invite.code]), follow=True)
    assert message in response.content.decode()
    assert not CareLink.objects.filter(patient=patient).exists()


def test_a_wrong_code_is_explained(client, frozen, patient):
    client.force_login(patient)
    response = client.post(reverse("clinic:sharing"), {"code": "ABCD-EFGH"}, follow=True)
    assert "recognise that code" in response.content.decode()


def test_revoking_ends_access_on_the_clinicians_next_request(client, linked_patient, doctor):
    detail = reverse("clinic:patient_detail", args=[linked_patient.pk])
    assert mfa_login(client, doctor).get(detail).status_code == 200
    link = CareLink.objects.active().get()
    from django.test import Client

    patient_client = Client()
    patient_client.force_login(linked_patient)
    patient_client.post(reverse("clinic:sharing_revoke", args=[link.pk]))
    link.refresh_from_db()
    assert link.revoked_at is not None and link.revoked_by == linked_patient
    assert client.get(detail).status_code == 404


def test_a_patient_cannot_revoke_someone_elses_link(client, linked_patient, other_patient):
    link = CareLink.objects.active().get()
    client.force_login(other_patient)
    assert client.post(reverse("clinic:sharing_revoke", args=[link.pk])).status_code == 404
    assert CareLink.objects.active().exists()


def test_the_patient_sees_who_viewed_their_record_and_when(client, linked_patient, doctor):
    mfa_login(client, doctor).get(reverse("clinic:patient_detail", args=[linked_patient.pk]))
    client.force_login(linked_patient)
    body = client.get(reverse("clinic:sharing_log")).content.decode()
    assert "Dr Lee, opened the record" in body
    assert "20 Nov 2026, 19:00" in body  # in the patient's time zone (London = UTC in Nov)


@pytest.mark.parametrize("name", ["sharing", "sharing_log"])
def test_sharing_pages_are_for_patients(client, doctor, name):
    assert Personas(client, reverse(f"clinic:{name}")).request(doctor).status_code == 404
    assert login_redirect(Personas(client, reverse(f"clinic:{name}")).request(None))
    assert not AuditEvent.objects.exists()
