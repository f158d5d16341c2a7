"""Clinicians and the admin site need two-factor authentication (TOTP)."""

import pytest
from allauth.mfa.models import Authenticator
from django.urls import reverse

from tests.factories import PASSWORD, UserFactory

from .conftest import approved_clinician, mfa_login, totp_code

pytestmark = pytest.mark.django_db
CLINICIAN_URLS = ["clinic:panel", "clinic:care_invite"]


@pytest.mark.parametrize("name", CLINICIAN_URLS)
def test_a_clinician_without_an_app_is_sent_to_set_one_up(client, clinic, name):
    user = approved_clinician("new@example.org", clinic, with_totp=False)
    client.force_login(user)
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_activate_totp"))


def test_the_patient_detail_also_needs_the_app(client, linked_patient, clinic):
    user = approved_clinician("new@example.org", clinic, with_totp=False)
    client.force_login(user)
    response = client.get(reverse("clinic:patient_detail", args=[linked_patient.pk]))
    assert response["Location"].startswith(reverse("mfa_activate_totp"))


def test_a_session_without_the_code_is_asked_for_it(client, doctor):
    client.force_login(doctor)  # as if logged in by password only
    response = client.get(reverse("clinic:panel"))
    assert response["Location"].startswith(reverse("mfa_reauthenticate"))


def test_a_clinician_logs_in_with_password_and_code(client, doctor):
    response = client.post(reverse("account_login"), {"login": doctor.email, "password": PASSWORD})
    assert response["Location"] == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session  # not logged in until the code
    response = client.post(reverse("mfa_authenticate"), {"code": totp_code(doctor.totp_secret)})
    assert response.status_code == 302
    assert client.get(reverse("clinic:panel")).status_code == 200


def test_setting_up_the_app_with_a_code_opens_the_clinician_pages(client, clinic):
    user = approved_clinician("new@example.org", clinic, with_totp=False)
    client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    response = client.get(reverse("clinic:panel"))
    assert response["Location"].startswith(reverse("mfa_activate_totp"))
    # The password was typed moments ago: the set-up page opens without asking again.
    page = client.get(response["Location"]).content.decode()
    secret = client.session["mfa.totp.secret"]  # shown on the page as text and a QR code
    assert secret in page
    response = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
    assert response.status_code == 302
    assert Authenticator.objects.filter(user=user, type="recovery_codes").exists()
    assert client.get(reverse("clinic:panel")).status_code == 200


def test_the_admin_needs_the_code_too(client, doctor):
    admin = UserFactory(email="root@example.org", is_staff=True, is_superuser=True, role="admin")
    client.force_login(admin)
    response = client.get(reverse("admin:index"))
    assert response["Location"].startswith(reverse("mfa_activate_totp"))
    client.logout()
    # The admin's own password form logs in, but the admin pages still ask for the code.
    client.post(reverse("admin:login"), {"username": admin.email, "password": PASSWORD})
    response = client.get(reverse("admin:clinic_auditevent_changelist"))
    assert response["Location"].startswith(reverse("mfa_activate_totp"))


def test_the_admin_opens_after_two_factor(client, clinic):
    admin = approved_clinician("root@example.org", clinic)
    admin.is_staff = admin.is_superuser = True
    admin.save()
    assert mfa_login(client, admin).get(reverse("admin:index")).status_code == 200


def test_patient_pages_are_not_affected(client, patient):
    client.force_login(patient)
    assert client.get(reverse("today")).status_code == 200
