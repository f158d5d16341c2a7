import pytest
from axes.models import AccessAttempt
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.urls import reverse

from accounts.models import User
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

WRONG = "not-my-password-99"


def _log_in(client, email, password, ip="203.0.113.7"):
    return client.post(
        reverse("account_login"), {"login": email, "password": password}, REMOTE_ADDR=ip
    )


def _fail_five_times(client, email, ip="203.0.113.7"):
    for _ in range(4):
        assert _log_in(client, email, WRONG, ip=ip).status_code == 200
    # Axes locks on the failure that reaches the limit and says so straight away.
    assert _log_in(client, email, WRONG, ip=ip).status_code == 429


def test_anonymous_sees_the_login_form(client):
    response = client.get(reverse("account_login"))
    assert response.status_code == 200
    assert 'name="login"' in response.content.decode()


def test_the_patient_logs_in_with_email_and_goes_to_today(client, patient):
    response = _log_in(client, "alex@example.org", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("today")
    assert int(client.session["_auth_user_id"]) == patient.pk


def test_the_email_is_not_case_sensitive(client, patient):
    response = _log_in(client, "Alex@Example.ORG", PASSWORD)
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == patient.pk


def test_a_wrong_password_shows_the_form_again_with_a_message(client, patient):
    response = _log_in(client, "alex@example.org", WRONG)
    assert response.status_code == 200
    assert response.context["form"].errors
    assert "_auth_user_id" not in client.session


def test_a_new_patient_without_a_plan_is_sent_to_onboarding(client, new_patient):
    response = _log_in(client, "new@example.org", PASSWORD)
    assert response.status_code == 302
    response = client.get(response["Location"], follow=True)
    assert response.redirect_chain[-1][0] == reverse("onboarding_step", args=["safety"])


def test_after_five_failures_the_right_password_is_refused_with_the_lockout_page(client, patient):
    _fail_five_times(client, "alex@example.org")

    response = _log_in(client, "alex@example.org", PASSWORD)

    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()
    assert "account/lockout.html" in [t.name for t in response.templates]
    assert "_auth_user_id" not in client.session


def test_the_lockout_counts_the_account_by_its_lowercased_email(client, patient):
    for email in ["alex@example.org", "ALEX@example.org", " Alex@Example.org "] * 2:
        _log_in(client, email, WRONG)
    attempt = AccessAttempt.objects.get()
    assert attempt.username == "alex@example.org"
    assert _log_in(client, "alex@example.org", PASSWORD).status_code == 429


def test_four_failures_do_not_lock_and_a_success_clears_them(client, patient):
    for _ in range(4):
        _log_in(client, "alex@example.org", WRONG)
    assert _log_in(client, "alex@example.org", PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        _log_in(client, "alex@example.org", WRONG)
    assert _log_in(client, "alex@example.org", PASSWORD).status_code == 302


def test_another_account_from_the_same_address_is_not_locked(client, patient, other_patient):
    _fail_five_times(client, "alex@example.org")

    response = _log_in(client, "sam@example.org", PASSWORD)

    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == other_patient.pk


def test_the_same_account_from_another_address_is_not_locked(client, patient):
    _fail_five_times(client, "alex@example.org", ip="203.0.113.7")

    response = _log_in(client, "alex@example.org", PASSWORD, ip="198.51.100.20")

    assert response.status_code == 302


def test_a_clinician_logging_in_is_sent_to_their_panel_not_a_patient_page(client, clinician):
    response = _log_in(client, "dr.lee@example.org", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("clinic:panel")
    # Without two-factor set up yet, the panel sends them to enrol (never a 404).
    assert client.get(response["Location"]).status_code == 302


def test_new_passwords_are_hashed_with_argon2(client):
    user = UserFactory(email="robin@example.org")
    assert user.password.startswith("argon2")
    user.set_password("another-calm-sentence-8")
    user.save()
    assert User.objects.get(pk=user.pk).password.startswith("argon2")


def test_an_older_hash_is_upgraded_to_argon2_at_login(client, patient):
    patient.password = PBKDF2PasswordHasher().encode(PASSWORD, "somesalt", iterations=1000)
    patient.save()
    assert _log_in(client, "alex@example.org", PASSWORD).status_code == 302
    patient.refresh_from_db()
    assert patient.password.startswith("argon2")
