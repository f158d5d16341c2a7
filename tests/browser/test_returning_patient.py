"""A patient who already has a plan logs in on a phone, sees tonight's dose and logs out."""

import re

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_a_returning_patient_logs_in_to_tonights_dose_and_logs_out(page, check_page, patient):
    page.goto("/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    check_page("login")

    page.get_by_role("textbox", name="Email").fill(patient.email)
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    expect(page).to_have_url(re.compile(r"/today/$"))
    card = page.locator("#dose-card")
    expect(card).to_contain_text("Day 1 of your plan")
    expect(card).to_contain_text("1.5 mg")
    expect(card).not_to_contain_text("mL")  # capsules
    check_page("today-capsules")

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("status")).to_contain_text("You have logged out.")
    check_page("logged-out")


def test_a_wrong_password_is_explained_next_to_the_form(page, check_page, patient):
    page.goto("/accounts/login/")
    page.get_by_role("textbox", name="Email").fill(patient.email)
    page.get_by_role("textbox", name="Password").fill("not-my-password")
    page.get_by_role("button", name="Log in").click()

    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    expect(page.locator("form")).to_contain_text("don't match")
    check_page("login-error")
