"""A new patient's first evening, in a phone-sized Chromium: sign up, verify, set up, log a dose."""

import datetime as dt
import re
import zoneinfo

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from titration.models import DoseLog, Plan

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "quiet-harbour-lantern-71"
# Far from the server's UTC, so a time shown in the wrong zone shows up.
PATIENT_TIME_ZONE = "America/New_York"


@pytest.fixture
def browser_time_zone():
    return PATIENT_TIME_ZONE


def _sign_up_and_verify(page, check_page, *, first_name, email):
    page.goto("/")
    check_page("home")
    page.get_by_role("link", name="Create your account").click()
    expect(page).to_have_url(re.compile(r"/accounts/signup/$"))
    check_page("signup")

    page.get_by_role("textbox", name="Your first name").fill(first_name)
    page.get_by_role("textbox", name="Email").fill(email)
    page.get_by_role("textbox", name="Password", exact=True).fill(PASSWORD)
    page.get_by_role("textbox", name="Password (again)").fill(PASSWORD)
    page.get_by_role("button", name="Create my account").click()
    expect(page).to_have_url(re.compile(r"/accounts/confirm-email/$"))
    check_page("check-your-email")

    assert len(mail.outbox) == 1
    match = re.search(r"https?://\S+/accounts/confirm-email/\S+/", mail.outbox[0].body)
    assert match, mail.outbox[0].body
    page.goto(match.group(0))
    check_page("confirm-email")
    page.get_by_role("button", name="Yes, confirm my email").click()


def _answer(page, question, answer):
    page.get_by_role("group", name=question).get_by_label(answer, exact=True).check()


def test_a_new_patient_signs_up_sets_up_and_logs_the_first_dose(page, check_page):
    _sign_up_and_verify(page, check_page, first_name="Robin", email="robin@example.org")

    expect(page).to_have_url(re.compile(r"/welcome/safety/$"))
    check_page("safety-questions")
    _answer(page, "Do you take any opioid painkiller, or are you coming off one?", "No")
    _answer(page, "Do you drink alcohol?", "No")
    _answer(page, "Do you take a medicine that is processed by the liver?", "No")
    _answer(page, "Have you been told you have liver disease?", "No")
    page.get_by_role("button", name="Continue").click()

    expect(page).to_have_url(re.compile(r"/welcome/time-zone/$"))
    # Filled in from the device's own time zone.
    expect(page.get_by_label("Your time zone")).to_have_value(PATIENT_TIME_ZONE)
    check_page("time-zone")
    page.get_by_role("button", name="Continue").click()

    expect(page).to_have_url(re.compile(r"/welcome/dose-time/$"))
    expect(page.get_by_label("At bedtime")).to_be_checked()
    # A dose time just ahead of the patient's clock, whatever the hour the suite runs at:
    # the dose's window (from 6 hours before it) is open, so the first dose can be logged.
    local_now = timezone.now().astimezone(zoneinfo.ZoneInfo(PATIENT_TIME_ZONE))
    dose_time = min(local_now + dt.timedelta(hours=2), local_now.replace(hour=23, minute=59))
    page.get_by_label("What time should we remind you?").fill(f"{dose_time:%H:%M}")
    check_page("dose-time")
    page.get_by_role("button", name="Continue").click()

    expect(page).to_have_url(re.compile(r"/welcome/formulation/$"))
    page.get_by_label("Liquid", exact=True).check()
    page.get_by_label("strength on the bottle label").fill("1")
    check_page("formulation")
    page.get_by_role("button", name="Continue").click()

    expect(page).to_have_url(re.compile(r"/welcome/start/$"))
    check_page("start-date")
    page.get_by_role("button", name="Start my plan").click()

    expect(page).to_have_url(re.compile(r"/today/$"))
    card = page.locator("#dose-card")
    expect(card).to_contain_text("Day 1 of your plan")
    expect(card).to_contain_text("1.5 mg")
    expect(card).to_contain_text("1.5 mL")
    check_page("today")

    page.emulate_media(color_scheme="dark")
    expect(page.locator("html")).to_have_attribute("data-bs-theme", "dark")
    check_page("today-dark")
    page.emulate_media(color_scheme="light")

    page.get_by_role("button", name="I took it").click()
    status = card.get_by_test_id("dose-logged").locator(".logged-status")
    expect(status).to_contain_text(re.compile(r"Taken at \d\d:\d\d"))
    expect(page).to_have_url(re.compile(r"/today/$"))  # swapped in place by htmx
    expect(status).to_be_focused()  # focus follows the change, not lost with the button
    check_page("dose-taken")

    log = DoseLog.objects.get(patient__email="robin@example.org")
    assert log.status == DoseLog.Status.TAKEN
    assert str(log.dose_mg) == "1.50"
    local = timezone.localtime(log.logged_at, zoneinfo.ZoneInfo(PATIENT_TIME_ZONE))
    expect(status).to_contain_text(f"Taken at {local:%H:%M}")  # the patient's clock, not UTC

    # A slip of the finger: Undo on the card htmx swapped in (posted with the page's CSRF
    # header; the swapped card carries no token of its own), then log it again.
    card.get_by_role("button", name="Undo").click()
    expect(card.get_by_role("button", name="I took it")).to_be_visible()
    assert not DoseLog.objects.filter(patient__email="robin@example.org").exists()
    card.get_by_role("button", name="I took it").click()
    expect(status).to_contain_text(re.compile(r"Taken at \d\d:\d\d"))
    assert DoseLog.objects.filter(patient__email="robin@example.org").count() == 1


def test_a_patient_who_takes_opioids_is_stopped_before_any_plan(page, check_page):
    _sign_up_and_verify(page, check_page, first_name="Jo", email="jo@example.org")

    expect(page).to_have_url(re.compile(r"/welcome/safety/$"))
    _answer(page, "Do you take any opioid painkiller, or are you coming off one?", "Yes")
    _answer(page, "Do you drink alcohol?", "No")
    _answer(page, "Do you take a medicine that is processed by the liver?", "No")
    _answer(page, "Have you been told you have liver disease?", "No")
    check_page("safety-questions-opioid-yes")
    page.get_by_role("button", name="Continue").click()

    expect(page).to_have_url(re.compile(r"/welcome/stop/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Please talk to your prescriber first"
    )
    expect(page.get_by_text("Naltrexone blocks opioids.")).to_be_visible()
    check_page("stopped")

    # No way round it: Today and the start step send the patient back to the explanation.
    page.goto("/today/")
    expect(page).to_have_url(re.compile(r"/welcome/stop/$"))
    page.goto("/welcome/start/")
    expect(page).to_have_url(re.compile(r"/welcome/stop/$"))
    check_page("still-stopped")
    assert not Plan.objects.filter(patient__email="jo@example.org").exists()
