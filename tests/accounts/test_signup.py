import datetime as dt
import re

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import PatientProfile, User
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "quiet-harbour-lantern-71"


def _sign_up(client, **overrides):
    data = {
        "first_name": "Robin",
        "email": "robin@example.org",
        "password1": NEW_PASSWORD,
        "password2": NEW_PASSWORD,
        **overrides,
    }
    return client.post(reverse("account_signup"), data)


def _confirmation_path(message):
    match = re.search(r"https?://[^/\s]+(/accounts/confirm-email/[^\s]+/)", message.body)
    assert match, message.body
    return match.group(1)


def test_anonymous_sees_the_signup_form_with_a_first_name_field(client):
    response = client.get(reverse("account_signup"))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="first_name"' in body
    assert "Your first name" in body
    assert 'name="email"' in body


def test_signing_up_creates_a_patient_with_a_profile_and_first_name(client):
    response = _sign_up(client, first_name="  Robin ")
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")

    user = User.objects.get(email="robin@example.org")
    assert user.role == User.Role.PATIENT
    assert user.first_name == "Robin"
    assert PatientProfile.objects.filter(user=user).exists()
    assert user.check_password(NEW_PASSWORD)
    assert not EmailAddress.objects.get(user=user).verified


def test_signing_up_sends_one_verification_email_with_a_link(client):
    _sign_up(client)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["robin@example.org"]
    assert message.subject.startswith("Daily Tracker: ")
    assert "/accounts/confirm-email/" in message.body


def test_signing_up_does_not_log_the_patient_in_before_verification(client):
    _sign_up(client)
    response = client.get(reverse("today"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_signing_up_with_a_taken_email_does_not_reveal_the_account(client):
    # Having an account here says something about a person's health, so allauth's
    # enumeration protection answers as for a new address and tells the owner by email.
    UserFactory(email="robin@example.org")
    response = _sign_up(client, email="Robin@Example.org")
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert User.objects.filter(email__iexact="robin@example.org").count() == 1
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["robin@example.org"]
    assert "/accounts/password/reset/" in mail.outbox[0].body
    assert "/accounts/confirm-email/" not in mail.outbox[0].body


def test_a_taken_email_is_named_by_the_field_when_enumeration_protection_is_off(client, settings):
    settings.ACCOUNT_PREVENT_ENUMERATION = False
    UserFactory(email="robin@example.org")
    response = _sign_up(client, email="robin@example.org", first_name="Robin")
    assert response.status_code == 200
    assert "already registered" in " ".join(response.context["form"].errors["email"])
    body = response.content.decode()
    assert 'id="error_1_id_email"' in body
    assert 'value="Robin"' in body


def test_signing_up_with_a_common_password_is_refused_and_keeps_the_answers(client):
    response = _sign_up(client, password1="password123", password2="password123")
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors.get("password1", []))
    assert "too common" in errors
    body = response.content.decode()
    assert 'id="error_1_id_password1"' in body
    assert 'value="Robin"' in body
    assert 'value="robin@example.org"' in body
    assert not User.objects.filter(email="robin@example.org").exists()
    assert mail.outbox == []


def test_signing_up_with_a_short_password_is_refused(client):
    response = _sign_up(client, password1="k3y!", password2="k3y!")
    assert response.status_code == 200
    assert "password1" in response.context["form"].errors
    assert not User.objects.filter(email="robin@example.org").exists()


def test_signing_up_without_a_first_name_asks_for_it(client):
    response = _sign_up(client, first_name="")
    assert response.status_code == 200
    assert response.context["form"].errors["first_name"] == ["Please tell us your first name."]
    assert not User.objects.filter(email="robin@example.org").exists()


def test_an_unverified_patient_cannot_log_in(client):
    UserFactory(email="robin@example.org", verified=False)
    response = client.post(
        reverse("account_login"), {"login": "robin@example.org", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert "_auth_user_id" not in client.session
    # Logging in again sends a fresh link, so a lost email is not a dead end.
    assert len(mail.outbox) == 1
    assert client.get(reverse("today")).status_code == 302


def test_the_emailed_link_opens_a_confirm_page_without_confirming(client):
    _sign_up(client)
    response = client.get(_confirmation_path(mail.outbox[0]))
    assert response.status_code == 200
    assert response.context["can_confirm"]
    assert 'method="post"' in response.content.decode()
    # A mail scanner that opens the link must not verify the address.
    assert not EmailAddress.objects.get(email="robin@example.org").verified


def test_confirming_verifies_logs_in_and_leads_to_onboarding(client):
    _sign_up(client)
    path = _confirmation_path(mail.outbox[0])
    client.get(path)

    response = client.post(path)

    assert EmailAddress.objects.get(email="robin@example.org").verified
    user = User.objects.get(email="robin@example.org")
    assert int(client.session["_auth_user_id"]) == user.pk
    assert response.status_code == 302
    response = client.get(response["Location"], follow=True)
    assert response.redirect_chain[-1][0] == reverse("onboarding_step", args=["safety"])


def test_confirming_in_another_browser_verifies_and_asks_to_log_in(client):
    _sign_up(client)
    other_browser = Client()

    response = other_browser.post(_confirmation_path(mail.outbox[0]))

    assert EmailAddress.objects.get(email="robin@example.org").verified
    assert response.status_code == 302
    assert response["Location"] == reverse("account_login")
    assert "_auth_user_id" not in other_browser.session


def test_a_garbage_confirmation_key_shows_a_clear_page(client):
    url = reverse("account_confirm_email", args=["not-a-real-key"])
    response = client.get(url)
    assert response.status_code == 200
    assert response.context["confirmation"] is None
    assert "expired" in response.content.decode()
    assert client.post(url).status_code == 404


def test_the_emailed_link_still_works_two_days_later(client):
    with time_machine.travel(dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC), tick=False):
        _sign_up(client)
    with time_machine.travel(dt.datetime(2026, 3, 3, 11, tzinfo=dt.UTC), tick=False):
        response = client.post(_confirmation_path(mail.outbox[0]))
    assert response.status_code == 302
    assert EmailAddress.objects.get(email="robin@example.org").verified


def test_an_expired_confirmation_key_shows_a_clear_page(client):
    with time_machine.travel(dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC), tick=False):
        _sign_up(client)
    path = _confirmation_path(mail.outbox[0])

    with time_machine.travel(dt.datetime(2026, 3, 5, 12, tzinfo=dt.UTC), tick=False):
        response = client.get(path)
        assert response.status_code == 200
        assert response.context["confirmation"] is None
        assert "expired" in response.content.decode()
        assert client.post(path).status_code == 404

    assert not EmailAddress.objects.get(email="robin@example.org").verified


def test_password_reset_sends_an_email_to_a_known_address(client):
    UserFactory(email="robin@example.org")
    response = client.post(reverse("account_reset_password"), {"email": "robin@example.org"})
    assert response.status_code == 302
    assert response["Location"] == reverse("account_reset_password_done")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["robin@example.org"]
    assert "/accounts/password/reset/key/" in mail.outbox[0].body


def test_password_reset_for_an_unknown_address_looks_the_same(client):
    response = client.post(reverse("account_reset_password"), {"email": "nobody@example.org"})
    assert response.status_code == 302
    assert response["Location"] == reverse("account_reset_password_done")
    # allauth tells the address no account uses it, and sends no reset link.
    assert len(mail.outbox) == 1
    assert "/accounts/password/reset/key/" not in mail.outbox[0].body


def test_the_emailed_reset_link_sets_a_new_password(client):
    user = UserFactory(email="robin@example.org")
    client.post(reverse("account_reset_password"), {"email": "robin@example.org"})
    match = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+/)", mail.outbox[0].body)
    response = client.get(match.group(1))
    assert response.status_code == 302  # allauth moves the key out of the address bar
    form_url = response["Location"]
    response = client.post(form_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_a_garbage_reset_link_shows_a_clear_page(client):
    url = reverse("account_reset_password_from_key", kwargs={"uidb36": "0", "key": "nope"})
    response = client.get(url, follow=True)
    assert response.status_code == 200
    assert response.context["token_fail"]
