"""Setting up the authenticator app: no second password right after logging in, the whole
setup key beside the QR code, a way back to where the clinician was going, and a code typed
twice told apart from a wrong one."""

import datetime as dt
import re
import time

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from django.core import mail
from django.urls import reverse

from clinic.middleware import AFTER_MFA_SETUP_KEY
from clinic.services import clinician_invite_send
from tests.factories import PASSWORD

from .conftest import approved_clinician, link, mfa_login, totp_code

pytestmark = pytest.mark.django_db


def _log_in(client, user):
    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return response


def _activate(client):
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200
    secret = client.session["mfa.totp.secret"]
    response = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
    assert response["Location"] == reverse("mfa_view_recovery_codes")
    return page.content.decode(), secret


def test_the_setup_page_opens_straight_after_logging_in(client, clinic):
    user = approved_clinician("new@example.org", clinic, with_totp=False)
    _log_in(client, user)
    response = client.get(reverse("clinic:panel"))
    assert response["Location"].startswith(reverse("mfa_activate_totp"))
    assert client.get(response["Location"]).status_code == 200


def test_the_setup_page_asks_for_the_password_when_the_login_is_old(client, clinic):
    user = approved_clinician("new@example.org", clinic, with_totp=False)
    with time_machine.travel(time.time(), tick=False) as traveller:
        _log_in(client, user)
        client.get(reverse("clinic:panel"))
        traveller.shift(dt.timedelta(minutes=11))
        response = client.get(reverse("mfa_activate_totp"))
    assert response["Location"].startswith(reverse("account_reauthenticate"))


def test_the_setup_page_shows_the_whole_key_beside_the_qr_code(client, clinic):
    user = approved_clinician("new@example.org", clinic, with_totp=False)
    _log_in(client, user)
    page = client.get(reverse("mfa_activate_totp")).content.decode()
    secret = client.session["mfa.totp.secret"]
    assert len(secret) == 32
    assert f'id="totp-secret" data-copy-value="{secret}"' in page
    grouped = " ".join(secret[i : i + 4] for i in range(0, 32, 4))
    assert grouped in page
    assert 'src="data:image/svg+xml;base64,' in page
    assert "Copy the setup key" in page
    assert "Activate Authenticator App" not in page


def test_a_wrong_code_at_setup_is_explained_next_to_the_field(client, clinic):
    user = approved_clinician("new@example.org", clinic, with_totp=False)
    _log_in(client, user)
    client.get(reverse("mfa_activate_totp"))
    page = client.post(reverse("mfa_activate_totp"), {"code": "000000"}).content.decode()
    assert "That code doesn&#x27;t match" in page
    assert not Authenticator.objects.filter(user=user).exists()


def test_after_the_recovery_codes_continue_goes_where_the_clinician_was_going(
    client, clinic, linked_patient
):
    user = approved_clinician("new@example.org", clinic, with_totp=False)
    link(linked_patient, clinician=user)
    _log_in(client, user)
    detail = reverse("clinic:patient_detail", args=[linked_patient.pk])
    assert client.get(detail)["Location"].startswith(reverse("mfa_activate_totp"))
    _activate(client)
    codes = client.get(reverse("mfa_view_recovery_codes")).content.decode()
    assert "Save your recovery codes" in codes
    assert "Continue to my patients" in codes
    unused = Authenticator.objects.get(user=user, type="recovery_codes").wrap().get_unused_codes()
    assert all(code in codes for code in unused)
    response = client.get(reverse("clinic:after_mfa_setup"))
    assert response["Location"] == detail
    assert client.get(detail).status_code == 200
    # Used once: a later visit goes to the panel.
    assert client.get(reverse("clinic:after_mfa_setup"))["Location"] == reverse("clinic:panel")


def test_continue_never_leaves_the_site(client, doctor):
    mfa_login(client, doctor)
    session = client.session
    session[AFTER_MFA_SETUP_KEY] = "https://evil.example/phish"
    session.save()
    assert client.get(reverse("clinic:after_mfa_setup"))["Location"] == reverse("clinic:panel")


def test_an_invited_clinician_sets_up_the_app_without_the_password_or_a_second_code(
    client, clinic, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        clinician_invite_send(email="new@example.org", clinic=clinic, invited_by=None)
    [message] = mail.outbox
    path = re.search(r"http://localhost:8000(/clinic/invitation/\S+/)", message.body).group(1)
    response = client.post(path, {"first_name": "Dr New", "password": "calm-river-stone-42"})
    response = client.get(response["Location"])
    assert response["Location"].startswith(reverse("mfa_activate_totp"))
    _activate(client)
    assert client.get(reverse("clinic:after_mfa_setup"))["Location"] == reverse("clinic:panel")
    assert client.get(reverse("clinic:panel")).status_code == 200


def test_a_code_used_twice_says_to_wait_for_the_next_one(client, doctor):
    code = totp_code(doctor.totp_secret)
    _log_in(client, doctor)
    assert client.post(reverse("mfa_authenticate"), {"code": code}).status_code == 302
    client.post(reverse("account_logout"))

    _log_in(client, doctor)
    page = client.post(reverse("mfa_authenticate"), {"code": code}).content.decode()
    assert "That code was already used; wait for the next one." in page
    assert "Incorrect code" not in page
    assert "_auth_user_id" not in client.session


def test_a_wrong_code_at_login_says_it_does_not_match(client, doctor):
    _log_in(client, doctor)
    page = client.post(reverse("mfa_authenticate"), {"code": "000000"}).content.decode()
    assert "That code doesn&#x27;t match" in page
    assert "already used" not in page


def test_the_code_page_is_in_our_words(client, doctor):
    _log_in(client, doctor)
    page = client.get(reverse("mfa_authenticate")).content.decode()
    assert "Enter your code" in page
    assert "Code from your authenticator app" in page
    for stock in ["Sign In", "Two-Factor Authentication", "Please enter an authenticator code"]:
        assert stock not in page


def test_removing_the_app_or_new_codes_still_ask_for_the_password(client, doctor):
    _log_in(client, doctor)
    client.post(reverse("mfa_authenticate"), {"code": totp_code(doctor.totp_secret)})
    for name in ["mfa_deactivate_totp", "mfa_generate_recovery_codes"]:
        response = client.get(reverse(name))
        assert response["Location"].startswith(reverse("account_reauthenticate")), name


@pytest.mark.django_db(transaction=True)
def test_security_notices_are_in_our_words_when_switched_on(client, clinic, settings):
    # A real commit: the notice goes out when activating the app commits, inside the request.
    settings.ACCOUNT_EMAIL_NOTIFICATIONS = True
    user = approved_clinician("new@example.org", clinic, with_totp=False, first_name="Dr New")
    _log_in(client, user)
    _activate(client)
    [message] = [m for m in mail.outbox if "Two-factor" in m.subject]
    assert message.subject == "Daily Tracker: Two-factor authentication is on"
    assert message.body.startswith("Hello Dr New,")
    assert "An authenticator app was set up for your account" in message.body
    assert "If it was not you, reset your password now" in message.body
    assert "You are receiving this mail" not in message.body
    assert message.body.rstrip().endswith("LDN Tracker")


def test_the_two_factor_page_says_what_is_on_in_plain_words(client, doctor):
    mfa_login(client, doctor)
    page = client.get(reverse("mfa_index")).content.decode()
    assert "On: logging in asks for a code from your authenticator app" in page
    assert "Make new codes" in page
    assert "Turn off two-factor authentication" in page
    assert "Authenticator App" not in page  # allauth's stock heading
