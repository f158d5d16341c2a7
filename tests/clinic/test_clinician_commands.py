"""The operator's commands: invite a clinician by email, approve one who is waiting. Both
say what they did."""

import re
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounts.models import User
from clinic.models import Clinic, ClinicianInvite, ClinicianMembership
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_invite_emails_a_link_and_says_so(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        out = run("invite_clinician", "Dr.Rae@Example.ORG")
    assert "Invited Dr.Rae@example.org." in out
    assert "works once, for 7 days" in out
    [message] = mail.outbox
    assert message.to == ["Dr.Rae@example.org"]
    invite = ClinicianInvite.objects.get()
    assert invite.clinic is None
    path = re.search(r"http://localhost:8000(/clinic/invitation/\S+/)", message.body).group(1)
    response = client.post(path, {"first_name": "Dr Rae", "password": "calm-river-stone-42"})
    assert response["Location"] == reverse("clinic:panel")
    assert User.objects.get(email="Dr.Rae@example.org").clinician_membership.status == "approved"


def test_invite_into_a_clinic_creates_it_once(db):
    out = run("invite_clinician", "rae@example.org", "--clinic", "Riverside  Pain Clinic")
    assert "Created the clinic “Riverside Pain Clinic”." in out
    assert "Invited rae@example.org to Riverside Pain Clinic." in out
    out = run("invite_clinician", "sol@example.org", "--clinic", "riverside pain clinic")
    assert "Created" not in out
    assert Clinic.objects.count() == 1
    assert {i.clinic.name for i in ClinicianInvite.objects.all()} == {"Riverside Pain Clinic"}


def test_invite_refuses_an_address_with_an_account(db):
    UserFactory(email="robin@example.org")
    with pytest.raises(CommandError, match=r"robin@example.org already has an account \(Patient\)"):
        run("invite_clinician", "ROBIN@example.org")
    with pytest.raises(CommandError, match="is not an email address"):
        run("invite_clinician", "not-an-address")
    assert not ClinicianInvite.objects.exists()
    assert mail.outbox == []


def _waiting(email="rae@example.org", number="GMC 1234567"):
    user = User.objects.create_user(
        email=email, password="calm-river-stone-42", first_name="Dr Rae", role=User.Role.CLINICIAN
    )
    return ClinicianMembership.objects.create(clinician=user, registration_number=number)


def test_approve_without_an_email_lists_who_is_waiting(db):
    assert run("approve_clinician") == "Nobody is waiting for approval.\n"
    _waiting()
    out = run("approve_clinician")
    assert "rae@example.org  Dr Rae, registration GMC 1234567, asked" in out


def test_approve_approves_into_a_clinic_and_emails_once(db, django_capture_on_commit_callbacks):
    membership = _waiting()
    with django_capture_on_commit_callbacks(execute=True):
        out = run("approve_clinician", "RAE@example.org", "--clinic", "Riverside Pain Clinic")
    assert "Created the clinic “Riverside Pain Clinic”." in out
    assert "Approved rae@example.org at Riverside Pain Clinic and emailed them a login link" in out
    membership.refresh_from_db()
    assert membership.status == "approved"
    assert membership.clinic.name == "Riverside Pain Clinic"
    [message] = mail.outbox
    assert message.subject == "Your clinician account is approved"

    with django_capture_on_commit_callbacks(execute=True):
        out = run("approve_clinician", "rae@example.org")
    assert out == "rae@example.org is already approved at Riverside Pain Clinic. Nothing changed.\n"
    assert len(mail.outbox) == 1


def test_approve_explains_an_unknown_address(db):
    with pytest.raises(
        CommandError, match=r"No clinician account for sol@example.org\. .*/clinic/join/"
    ):
        run("approve_clinician", "sol@example.org")
