import datetime as dt

import pytest
import time_machine
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.models import User

from ..factories import PASSWORD, ClinicianFactory

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)


def _login(client, email):
    response = client.post(reverse("account_login"), {"login": email, "password": PASSWORD})
    assert response.status_code == 302
    return response


def test_the_session_key_changes_at_login(client, patient):
    client.get(reverse("account_login"))
    before = client.session.session_key
    _login(client, patient.email)
    assert client.session.session_key != before


def test_a_cookie_replayed_after_logout_is_rejected(client, patient):
    _login(client, patient.email)
    cookie = client.cookies["sessionid"].value
    assert client.get(reverse("today")).status_code == 200
    client.post(reverse("account_logout"))
    client.cookies["sessionid"] = cookie
    response = client.get(reverse("today"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_patients_are_logged_out_after_30_idle_minutes(client, patient):
    with time_machine.travel(T0, tick=False):
        _login(client, patient.email)
        client.get(reverse("today"))
        assert client.session.get_expiry_age() == 30 * 60
    with time_machine.travel(T0 + dt.timedelta(minutes=29), tick=False):
        assert client.get(reverse("today")).status_code == 200
    with time_machine.travel(T0 + dt.timedelta(minutes=29 + 31), tick=False):
        assert client.get(reverse("today")).status_code == 302


def test_clinicians_have_a_15_minute_idle_timeout(client, clinician):
    client.force_login(clinician)
    client.get(reverse("home"))
    assert client.session.get_expiry_age() == 15 * 60


def test_sessions_end_12_hours_after_login_however_active(client, patient):
    with time_machine.travel(T0, tick=False):
        _login(client, patient.email)
        client.get(reverse("today"))
    for step in range(1, 36):  # active every 20 minutes for 11 hours 40 minutes
        with time_machine.travel(T0 + dt.timedelta(minutes=20 * step), tick=False):
            assert client.get(reverse("today")).status_code == 200
    with time_machine.travel(T0 + dt.timedelta(hours=12, minutes=5), tick=False):
        response = client.get(reverse("today"))
    assert response.status_code == 302


def test_passwords_up_to_128_characters_are_accepted_and_longer_refused():
    user = User(email="long@example.org")
    validate_password("correct horse battery staple " * 4 + "xyz", user)  # 119 chars
    with pytest.raises(ValidationError, match="at most 128"):
        validate_password("a1b2c3d4" * 17, user)


def test_clinicians_need_12_characters_and_patients_8():
    patient = User(email="p@example.org", role=User.Role.PATIENT)
    clinician = User(email="c@example.org", role=User.Role.CLINICIAN)
    validate_password("tulip-moon", patient)
    with pytest.raises(ValidationError, match="at least 12"):
        validate_password("tulip-moon", clinician)
    validate_password("tulip-moon-river", clinician)


def test_common_passwords_are_refused():
    with pytest.raises(ValidationError):
        validate_password("password123", User(email="x@example.org"))


def test_new_passwords_are_hashed_with_argon2id(db):
    user = ClinicianFactory()
    assert user.password.startswith("argon2$argon2id$")


def test_changing_the_password_asks_for_the_current_one(client, patient):
    _login(client, patient.email)
    response = client.post(
        reverse("account_change_password"),
        {
            "oldpassword": "not-my-password",
            "password1": "new-river-stone-99",
            "password2": "new-river-stone-99",
        },
    )
    assert response.status_code == 200
    patient.refresh_from_db()
    assert patient.check_password(PASSWORD)


def test_changing_the_email_asks_for_the_password_again_after_a_while(client, patient):
    with time_machine.travel(T0, tick=False):
        _login(client, patient.email)
    with time_machine.travel(T0 + dt.timedelta(minutes=10), tick=False):
        response = client.post(
            reverse("account_email"), {"action_add": "", "email": "new@example.org"}
        )
    assert response.status_code == 302
    assert "reauthenticate" in response["Location"]
