"""A new clinician on a laptop, driven by what is on the screen: sign-up from the home page,
the clinician's "Check your email", approval by the operator's command, the authenticator
set-up straight after logging in (no second password), the recovery codes, and "Continue to
my patients". Then a code typed twice is told apart from a wrong one."""

import re
import time
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from playwright.sync_api import expect

from tests.clinic.conftest import approved_clinician, totp_code
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Clinicians work at a desk: a laptop window instead of the suite's phone.
BROWSER_VIEWPORT = {"width": 1280, "height": 800}
CLINICIAN_PASSWORD = "calm-river-stone-42"


def _log_in(page, email, password):
    page.goto("/accounts/login/")
    page.get_by_role("textbox", name="Email").fill(email)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_a_new_clinician_gets_from_sign_up_to_the_patient_list(page, check_page):
    page.goto("/")
    check_page("home")
    page.get_by_role("link", name="Ask for a clinician account").click()
    page.get_by_role("textbox", name="Your name").fill("Dr Rae")
    page.get_by_role("textbox", name="Work email").fill("rae@example.org")
    page.get_by_role("textbox", name="Professional registration number").fill("GMC 1234567")
    page.get_by_role("textbox", name="Password").fill(CLINICIAN_PASSWORD)
    check_page("sign-up")
    page.get_by_role("button", name="Ask for an account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you")
    check_page("thank-you")

    page.get_by_role("link", name="Log in").last.click()
    page.get_by_role("textbox", name="Email").fill("rae@example.org")
    page.get_by_role("textbox", name="Password").fill(CLINICIAN_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    expect(page.locator("main")).to_contain_text("an administrator checks your clinician account")
    expect(page.locator("main")).not_to_contain_text("plan")
    check_page("check-your-email")

    [confirmation] = mail.outbox
    assert confirmation.body.startswith("Hello Dr Rae,")
    link = re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+/)", confirmation.body)
    page.goto(link.group(1))
    check_page("confirm-email")
    page.get_by_role("button", name="Yes, confirm my email").click()

    # Confirming logs the clinician in, and the authenticator set-up opens at once: the
    # password was typed moments ago, so it is not asked for again.
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up two-factor authentication")
    expect(page.get_by_role("heading", name="Setup key")).to_be_visible()
    key = page.locator("#totp-secret")
    shown = key.inner_text()
    assert re.fullmatch(r"([A-Z2-7]{4} ){7}[A-Z2-7]{4}", shown)  # all 32, in groups of 4
    secret = shown.replace(" ", "")
    qr = page.get_by_role("img", name=re.compile("QR code"))
    expect(qr).to_be_visible()
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("button", name="Copy the setup key").click()
    expect(page.get_by_role("status").filter(has_text="Copied.")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == secret
    # The QR code and the key sit side by side on a laptop.
    assert key.bounding_box()["x"] > qr.bounding_box()["x"] + qr.bounding_box()["width"]
    check_page("authenticator-setup")

    page.get_by_role("textbox", name="6-digit code from the app").fill("000000")
    page.get_by_role("button", name="Turn on two-factor authentication").click()
    expect(page.locator("main")).to_contain_text("That code doesn't match")
    check_page("authenticator-wrong-code")
    page.get_by_role("textbox", name="6-digit code from the app").fill(totp_code(secret))
    page.get_by_role("button", name="Turn on two-factor authentication").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Save your recovery codes")
    codes = page.get_by_role("textbox", name="Your recovery codes").input_value().split()
    assert len(codes) == 10
    expect(page.get_by_role("link", name="Download the codes")).to_be_visible()
    check_page("recovery-codes")
    page.get_by_role("link", name="Continue to my patients").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Waiting for approval")
    check_page("waiting-for-approval")
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("status")).to_contain_text("logged out")

    out = StringIO()
    call_command(
        "approve_clinician", "rae@example.org", "--clinic", "Riverside Pain Clinic", stdout=out
    )
    assert "Approved rae@example.org at Riverside Pain Clinic" in out.getvalue()
    assert mail.outbox[-1].subject == "Your clinician account is approved"

    _log_in(page, "rae@example.org", CLINICIAN_PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter your code")
    page.get_by_role("textbox", name="Code from your authenticator app").fill(
        totp_code(secret, at=time.time() + 30)
    )
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/clinic/$"))
    expect(page.locator("main")).to_contain_text("invite a patient")
    check_page("my-patients")


def test_a_code_used_twice_says_to_wait_for_the_next_one(page, check_page, transactional_db):
    from clinic.models import Clinic

    doctor = approved_clinician("dr.lee@example.org", Clinic.objects.create(name="Riverside"))
    code = totp_code(doctor.totp_secret)
    _log_in(page, doctor.email, PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter your code")
    check_page("enter-your-code")
    page.get_by_role("textbox", name="Code from your authenticator app").fill(code)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/clinic/$"))
    page.get_by_role("button", name="Log out").click()
    # The logout's own navigation must end before the next one starts.
    expect(page.get_by_role("status")).to_contain_text("logged out")

    _log_in(page, doctor.email, PASSWORD)
    page.get_by_role("textbox", name="Code from your authenticator app").fill(code)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("main")).to_contain_text(
        "That code was already used; wait for the next one."
    )
    expect(page.locator("main")).not_to_contain_text("Incorrect code")
    check_page("code-already-used")
