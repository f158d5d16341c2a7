"""What a person sees after too many wrong passwords or two-factor codes, on a phone."""

import re
import time

import pytest
from playwright.sync_api import expect

from clinic.models import Clinic

from ..clinic.conftest import approved_clinician, totp_code
from ..factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def log_in(page, email, password):
    page.get_by_role("textbox", name="Email").fill(email)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_after_five_wrong_passwords_the_page_says_when_to_try_again(page, check_page, patient):
    page.goto("/accounts/login/")
    for _ in range(5):
        log_in(page, patient.email, "not-my-password-99")

    expect(page.get_by_role("heading", name="Too many attempts")).to_be_visible()
    expect(page.locator("main")).to_contain_text("You can try again in 15 minutes.")
    # The page is answered with 429 on purpose, which Chromium reports on the console.
    check_page.errors[:] = [e for e in check_page.errors if "status of 429" not in e]
    check_page("lockout")

    page.get_by_role("link", name="Reset my password").click()
    expect(page).to_have_url(re.compile(r"/accounts/password/reset/$"))
    check_page("reset-while-locked-out")


def test_after_five_wrong_codes_the_clinician_is_asked_to_log_in_again(page, check_page):
    doctor = approved_clinician("dr.lee@example.org", Clinic.objects.create(name="Riverside"))
    valid = {totp_code(doctor.totp_secret, at=time.time() + step * 30) for step in (-1, 0, 1)}
    wrong = next(c for c in ("000000", "111111", "222222") if c not in valid)
    page.goto("/accounts/login/")
    log_in(page, doctor.email, PASSWORD)
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/$"))
    code = page.get_by_role("textbox", name="Code")
    for _ in range(5):
        code.fill(wrong)
        page.get_by_role("button", name=re.compile("Sign In|Log in|Confirm", re.I)).click()

    expect(page.locator("main")).to_contain_text("please log in again with your password")
    check_page("too-many-codes")
