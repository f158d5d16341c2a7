"""allauth's emails and pages in the app's own words: the site's name, the configured
sender, what to do next; never allauth's stock "Hello from <host>!"."""

import re

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse

from accounts.models import User
from tests.factories import PASSWORD, ClinicianFactory, UserFactory
from tests.reminders.conftest import smtp_mailer, smtp_sink  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db

STOCK_PHRASES = ["Hello from", "You're receiving this", "Thank you for using", "testserver!"]


def _sign_up(client, email="robin@example.org"):
    return client.post(
        reverse("account_signup"),
        {
            "first_name": "Robin",
            "email": email,
            "password1": "quiet-harbour-lantern-71",
            "password2": "quiet-harbour-lantern-71",
        },
    )


def _assert_ours(message):
    text = message.subject + "\n" + message.body
    for stock in STOCK_PHRASES:
        assert stock not in text, f"{stock!r} in:\n{text}"
    assert message.from_email == settings.DEFAULT_FROM_EMAIL
    assert message.body.rstrip().endswith(settings.SITE_NAME)


def test_the_confirmation_email_greets_by_name_and_says_what_to_do_next(client):
    _sign_up(client)
    [message] = mail.outbox
    _assert_ours(message)
    assert message.subject == "Daily Tracker: Confirm your email address"
    assert message.body.startswith("Hello Robin,")
    assert re.search(r"http://testserver/accounts/confirm-email/\S+/", message.body)
    assert "Then you can set up your plan" in message.body
    assert "works for 3 days" in message.body


def test_the_confirmation_email_goes_out_over_smtp_from_the_configured_sender(
    client,
    smtp_mailer,  # noqa: F811 (the fixture imported above)
    settings,
):
    settings.DEFAULT_FROM_EMAIL = "Care Reminders <care@example.net>"
    _sign_up(client)
    [message] = smtp_mailer.messages
    assert message["From"] == "Care Reminders <care@example.net>"
    assert message["To"] == "robin@example.org"
    body = message.get_content()
    assert body.startswith("Hello Robin,")
    assert "Hello from" not in body


def test_a_clinician_confirming_the_address_is_told_about_approval(client):
    clinician = ClinicianFactory(email="rae@example.org", first_name="Dr Rae")
    clinician.emailaddress_set.update(verified=False)
    response = client.post(
        reverse("account_login"), {"login": clinician.email, "password": PASSWORD}
    )
    assert response["Location"] == reverse("account_email_verification_sent") + "?role=clinician"
    [message] = mail.outbox
    _assert_ours(message)
    assert message.body.startswith("Hello Dr Rae,")
    assert "an administrator checks your clinician account" in message.body
    assert "plan" not in message.body

    page = client.get(response["Location"]).content.decode()
    assert "Check your email" in page
    assert "an administrator checks your clinician account" in page
    assert "set up your plan" not in page


def test_a_patient_confirming_sees_the_patient_wording(client):
    response = _sign_up(client)
    page = client.get(response["Location"]).content.decode()
    assert "then you can set up your plan" in page
    assert "clinician account" not in page


def test_the_password_reset_email_is_ours_and_the_link_works(client):
    UserFactory(email="robin@example.org", first_name="Robin")
    response = client.post(reverse("account_reset_password"), {"email": "robin@example.org"})
    assert response["Location"] == reverse("account_reset_password_done")
    [message] = mail.outbox
    _assert_ours(message)
    assert message.subject == "Daily Tracker: Reset your password"
    assert message.body.startswith("Hello Robin,")
    assert "your password stays as it is" in message.body
    link = re.search(r"http://testserver(/accounts/password/reset/key/\S+/)", message.body)
    assert link, message.body
    page = client.get(link.group(1), follow=True).content.decode()
    assert "Choose a new password" in page
    assert "Save my new password" in page


def test_a_reset_for_an_unknown_address_says_so_kindly_in_our_words(client):
    client.post(reverse("account_reset_password"), {"email": "nobody@example.org"})
    [message] = mail.outbox
    _assert_ours(message)
    assert message.body.startswith("Hello,")
    assert "there is no LDN Tracker account with this address" in message.body


def test_signing_up_again_with_a_known_address_sends_our_reminder_to_log_in(client):
    UserFactory(email="robin@example.org", first_name="Robin")
    _sign_up(client)
    [message] = mail.outbox
    _assert_ours(message)
    assert message.subject == "Daily Tracker: You already have an account"
    assert "/accounts/password/reset/" in message.body
    assert User.objects.filter(email="robin@example.org").count() == 1


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("account_login", ["Log in", "Ask for a clinician account", "Forgot your password?"]),
        ("account_signup", ["Create your account", "Ask for a clinician account"]),
        ("account_reset_password", ["Reset your password", "Email me a link"]),
        ("account_reset_password_done", ["Check your email", "The link works once"]),
        ("account_inactive", ["This account is closed"]),
        ("home", ["Ask for a clinician account"]),
    ],
)
def test_the_entrance_pages_speak_plainly(client, name, words):
    page = client.get(reverse(name)).content.decode()
    for word in words:
        assert word in page
    for stock in ["Password Reset", "Reset My Password", "Sign In", "Please contact us"]:
        assert stock not in page


def test_a_used_password_link_explains_what_to_do(client):
    page = client.get("/accounts/password/reset/key/x-set-password/", follow=True)
    assert "This link has expired" in page.content.decode()
