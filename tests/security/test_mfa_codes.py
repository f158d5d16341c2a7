"""Two-factor codes at login: a code from the authenticator app works once, for as long as
it is valid; a login allows 5 wrong codes and then starts again from the password.
(Across gunicorn processes: tests/security/test_totp_replay.py.)"""

import time

import pytest
import time_machine
from django.urls import reverse

from clinic.models import Clinic

from ..clinic.conftest import approved_clinician, totp_code
from ..factories import PASSWORD

pytestmark = pytest.mark.django_db

WRONG_CODE = "000000"


@pytest.fixture
def doctor(db):
    return approved_clinician("dr.lee@example.org", Clinic.objects.create(name="Riverside"))


def password_step(client, doctor):
    response = client.post(reverse("account_login"), {"login": doctor.email, "password": PASSWORD})
    assert response["Location"] == reverse("mfa_authenticate")


def code_step(client, code):
    return client.post(reverse("mfa_authenticate"), {"code": code})


def logged_in(client, doctor):
    return client.session.get("_auth_user_id") == str(doctor.pk)


def log_in_with_a_code(client, doctor, at):
    code = totp_code(doctor.totp_secret, at=at)
    with time_machine.travel(at, tick=False):
        password_step(client, doctor)
        assert code_step(client, code).status_code == 302
    return code


def a_wrong_code(secret):
    # Not the code of this step nor of the steps either side.
    now = time.time()
    valid = {totp_code(secret, at=now + step * 30) for step in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222") if c not in valid)


def test_the_same_code_in_a_second_login_is_refused(client, doctor):
    code = totp_code(doctor.totp_secret)
    password_step(client, doctor)
    assert code_step(client, code)["Location"] == reverse("clinic:panel")
    client.logout()

    password_step(client, doctor)
    response = code_step(client, code)

    assert response.status_code == 200
    assert "That code was already used; wait for the next one." in response.content.decode()
    assert not logged_in(client, doctor)


def test_a_code_is_refused_again_for_as_long_as_it_is_valid(client, doctor):
    start = time.time()
    code = log_in_with_a_code(client, doctor, at=start)
    client.logout()
    # 40 seconds on, the code is still valid (one step of tolerance for phone clocks), and
    # allauth's own memory of it (one 30-second step) has gone.
    with time_machine.travel(start + 40, tick=False):
        password_step(client, doctor)
        response = code_step(client, code)
    assert response.status_code == 200
    assert not logged_in(client, doctor)


def test_after_five_wrong_codes_the_login_starts_again_from_the_password(client, doctor):
    wrong = a_wrong_code(doctor.totp_secret)
    password_step(client, doctor)
    pages = [code_step(client, wrong) for _ in range(5)]
    assert [p.status_code for p in pages] == [200] * 5
    assert "That code doesn&#x27;t match" in pages[3].content.decode()
    assert "please log in again" in pages[4].content.decode()

    # Even the right code does not finish that login now.
    response = code_step(client, totp_code(doctor.totp_secret))
    assert response["Location"] == reverse("account_login")
    assert not logged_in(client, doctor)

    # A new login with the password gets five codes again.
    password_step(client, doctor)
    for _ in range(4):
        assert code_step(client, wrong).status_code == 200
    assert code_step(client, totp_code(doctor.totp_secret))["Location"] == reverse("clinic:panel")
    assert logged_in(client, doctor)


def test_typing_the_password_again_midway_does_not_reset_the_count(client, doctor):
    wrong = a_wrong_code(doctor.totp_secret)
    password_step(client, doctor)
    for _ in range(3):
        code_step(client, wrong)
    # allauth carries on with the login in progress; its wrong codes still count.
    password_step(client, doctor)
    assert "That code doesn&#x27;t match" in code_step(client, wrong).content.decode()
    assert "please log in again" in code_step(client, wrong).content.decode()
    assert code_step(client, totp_code(doctor.totp_secret))["Location"] == reverse("account_login")


def test_the_code_that_logged_in_does_not_also_confirm_a_sensitive_change(client, doctor):
    start = time.time()
    code = log_in_with_a_code(client, doctor, at=start)
    with time_machine.travel(start + 40, tick=False):
        response = client.post(reverse("mfa_reauthenticate"), {"code": code})
    assert response.status_code == 200
    assert 'aria-invalid="true"' in response.content.decode()
