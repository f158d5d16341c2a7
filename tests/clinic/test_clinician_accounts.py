import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse

from accounts.models import User
from clinic.models import ClinicianMembership
from clinic.services import clinician_approve, clinician_invite_send

pytestmark = pytest.mark.django_db


def test_a_clinician_signs_up_and_waits_for_approval(client, clinic):
    response = client.post(
        reverse("clinic:clinician_signup"),
        {
            "first_name": "Dr Rae",
            "email": "rae@example.org",
            "registration_number": "GMC 1234567",
            "password": "calm-river-stone-42",
        },
    )
    assert response["Location"] == reverse("clinic:clinician_signup_done")
    user = User.objects.get(email="rae@example.org")
    assert user.is_clinician
    membership = user.clinician_membership
    assert membership.status == "pending"
    assert not EmailAddress.objects.get(user=user).verified
    admin = User.objects.create_superuser(email="root@example.org", password="x")
    clinician_approve(membership=membership, by=admin, clinic=clinic)
    membership.refresh_from_db()
    assert (membership.status, membership.clinic, membership.decided_by) == (
        "approved",
        clinic,
        admin,
    )


def test_an_invited_clinician_sets_a_password_and_is_approved(
    client, clinic, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        clinician_invite_send(email="new@example.org", clinic=clinic, invited_by=None)
    [message] = mail.outbox
    url = next(line for line in message.body.splitlines() if "/clinic/invitation/" in line)
    path = url.split("localhost:8000")[-1].strip()
    assert client.get(path).status_code == 200
    response = client.post(path, {"first_name": "Dr New", "password": "calm-river-stone-42"})
    assert response["Location"] == reverse("clinic:panel")
    user = User.objects.get(email="new@example.org")
    assert user.clinician_membership.status == ClinicianMembership.Status.APPROVED
    assert user.clinician_membership.clinic == clinic
    # The link works once.
    client.logout()
    assert "can't be used" in client.get(path).content.decode()
    # Next stop: two-factor authentication.
    client.force_login(user)
    assert client.get(reverse("clinic:panel"))["Location"].startswith(reverse("mfa_activate_totp"))


def test_a_bad_invitation_link_is_explained_and_creates_nothing(client, db):
    url = reverse("clinic:clinician_invite_accept", args=["nope"])
    assert "can't be used" in client.get(url).content.decode()
    client.post(url, {"first_name": "Eve", "password": "calm-river-stone-42"})
    assert not User.objects.exists()


def pending_clinician(email="rae@example.org"):
    user = User.objects.create_user(
        email=email, password="calm-river-stone-42", first_name="Dr Rae", role=User.Role.CLINICIAN
    )
    return ClinicianMembership.objects.create(clinician=user)


def test_approval_emails_the_clinician_a_login_link_after_the_commit(
    clinic, django_capture_on_commit_callbacks
):
    membership = pending_clinician()
    admin = User.objects.create_superuser(email="root@example.org", password="x")
    with django_capture_on_commit_callbacks() as callbacks:
        clinician_approve(membership=membership, by=admin, clinic=clinic)
    assert mail.outbox == []  # nothing is sent before the approval is saved
    for callback in callbacks:
        callback()
    [message] = mail.outbox
    assert message.to == ["rae@example.org"]
    assert message.subject == "Your clinician account is approved"
    assert "Dr Rae" in message.body and "Riverside Pain Clinic" in message.body
    assert "http://localhost:8000" + reverse("account_login") in message.body
    for private in ("patient", "naltrexone", "ldn dose", "diary"):
        assert private not in (message.subject + message.body).lower()


def test_approving_an_approved_clinician_again_sends_nothing(
    clinic, django_capture_on_commit_callbacks
):
    membership = pending_clinician()
    with django_capture_on_commit_callbacks(execute=True):
        clinician_approve(membership=membership, by=None)
    with django_capture_on_commit_callbacks(execute=True):
        clinician_approve(membership=membership, by=None, clinic=clinic)
    assert len(mail.outbox) == 1


def test_the_admin_action_approves_and_emails_each_clinician(
    client, clinic, django_capture_on_commit_callbacks
):
    from .conftest import approved_clinician, mfa_login

    admin = approved_clinician("root@example.org", clinic)
    admin.is_staff = admin.is_superuser = True
    admin.save()
    waiting = [pending_clinician("rae@example.org"), pending_clinician("sol@example.org")]
    mfa_login(client, admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:clinic_clinicianmembership_changelist"),
            {"action": "approve", "_selected_action": [m.pk for m in waiting]},
        )
    assert response.status_code == 302
    assert sorted(m.to[0] for m in mail.outbox) == ["rae@example.org", "sol@example.org"]
    assert ClinicianMembership.objects.filter(status="approved").count() == 3
