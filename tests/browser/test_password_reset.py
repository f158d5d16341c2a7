"""A patient who forgot the password, on a 390 px phone: from the login page to a new
password, every page and the email in the app's own words."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from tests.factories import onboarded_patient

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NEW_PASSWORD = "quiet-harbour-lantern-71"
# The width of a common phone (iPhone 12 to 15).
BROWSER_VIEWPORT = {"width": 390, "height": 844}


def test_a_patient_resets_a_forgotten_password(page, check_page, transactional_db):
    patient = onboarded_patient(email="robin@example.org")
    page.goto("/accounts/login/")
    check_page("login")
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reset your password")
    check_page("reset")
    page.get_by_role("textbox", name="Email").fill("robin@example.org")
    page.get_by_role("button", name="Email me a link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    check_page("check-your-email")

    [message] = mail.outbox
    assert message.subject == "Daily Tracker: Reset your password"
    assert "Hello from" not in message.body
    path = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+/)", message.body)
    page.goto(path.group(1))
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose a new password")
    check_page("choose")
    page.get_by_role("textbox", name="New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("textbox", name="New password, again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Save my new password").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Password changed")
    check_page("changed")

    page.get_by_role("link", name="Log in").last.click()
    page.get_by_role("textbox", name="Email").fill(patient.email)
    page.get_by_role("textbox", name="Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/today/$"))
