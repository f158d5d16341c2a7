"""The clinician sign-up form (/clinic/join/) does not tell anyone whether an email has an
account: the answer is the same either way, and the owner of an existing account gets an
email (through a real SMTP server) instead."""

import pytest
from django.urls import reverse

from accounts.models import User
from clinic.models import ClinicianMembership

pytestmark = pytest.mark.django_db

JOIN = reverse("clinic:clinician_signup")


def sign_up(client, email, capture):
    with capture(execute=True):
        return client.post(
            JOIN,
            {
                "first_name": "Dr Rae",
                "email": email,
                "registration_number": "GMC 1234567",
                "password": "another-calm-sentence-8",
            },
        )


def test_a_known_and_an_unknown_email_get_the_same_answer(
    client, patient, smtp_mailer, django_capture_on_commit_callbacks
):
    known = sign_up(client, "alex@example.org", django_capture_on_commit_callbacks)
    unknown = sign_up(client, "new.doctor@example.org", django_capture_on_commit_callbacks)

    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"] == reverse("clinic:clinician_signup_done")
    page = client.get(known["Location"]).content.decode()
    assert "already" not in page


def test_the_existing_account_is_untouched_and_its_owner_is_emailed(
    client, patient, smtp_mailer, django_capture_on_commit_callbacks
):
    password_before = patient.password

    sign_up(client, "Alex@Example.org", django_capture_on_commit_callbacks)

    patient.refresh_from_db()
    assert patient.password == password_before
    assert not patient.is_clinician
    assert not ClinicianMembership.objects.exists()
    [message] = smtp_mailer.messages
    assert message["To"] == "alex@example.org"
    assert message["Subject"] == "Someone tried to sign up with your email"
    body = message.get_content()
    assert "/accounts/login/" in body and "/accounts/password/reset/" in body
    # No health words, and nothing the person asking typed.
    assert "Dr Rae" not in body and "GMC" not in body
    assert "LDN" not in message["Subject"]


def test_a_new_email_gets_an_account_waiting_for_approval_and_no_email(
    client, smtp_mailer, django_capture_on_commit_callbacks
):
    sign_up(client, "new.doctor@example.org", django_capture_on_commit_callbacks)

    user = User.objects.get(email="new.doctor@example.org")
    assert user.clinician_membership.status == ClinicianMembership.Status.PENDING
    assert smtp_mailer.messages == []


def test_bad_input_still_gets_a_message_next_to_the_field(client, patient):
    response = client.post(
        JOIN,
        {"first_name": "", "email": "alex@example.org", "registration_number": "", "password": ""},
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.errors) == {"first_name", "registration_number", "password"}
