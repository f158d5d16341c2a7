"""A patient changes their own details, joins part-way through a plan and logs a dose on a
phone; a clinician sees only the plan changes that fit, each previewed, on a laptop."""

import datetime as dt
import re
import zoneinfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from clinic.models import Clinic
from tests.clinic.conftest import add_history, approved_clinician, link, totp_code
from tests.factories import (
    PASSWORD,
    PatientProfileFactory,
    SafetyScreeningFactory,
    UserFactory,
    onboarded_patient,
)
from titration.models import DoseLog, PlanEvent

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LONDON = zoneinfo.ZoneInfo("Europe/London")
LAPTOP = {"width": 1280, "height": 900}


def _dose_time_just_ahead():
    # The dose's window opens 6 hours before its time: a time just ahead of the clock keeps
    # it open whatever hour the suite runs at.
    local_now = timezone.now().astimezone(LONDON)
    return min(local_now + dt.timedelta(hours=2), local_now.replace(hour=23, minute=59)).time()


def _log_in(page, email):
    page.goto("/accounts/login/")
    page.get_by_role("textbox", name="Email").fill(email)
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_a_patient_changes_time_zone_and_dose_time_after_seeing_what_it_means(
    page, check_page, transactional_db
):
    today = timezone.now().astimezone(LONDON).date()
    patient = onboarded_patient(
        email="sam@example.org",
        start_date=today - dt.timedelta(days=3),
        reminder_time=_dose_time_just_ahead(),
    )
    _log_in(page, patient.email)
    expect(page).to_have_url(re.compile(r"/today/$"))

    page.get_by_role("link", name="Settings").first.click()
    check_page("settings")
    page.get_by_role("link", name="My profile").click()
    expect(page.get_by_role("heading", name="Your profile")).to_be_visible()
    check_page("profile")

    page.get_by_label("Your time zone").fill("Asia/Kolkata")
    page.get_by_label("What time do you take it?").fill("22:00")
    page.get_by_role("button", name="Check the change").first.click()
    preview = page.get_by_role("status").filter(has_text="What this means for your dose")
    expect(preview).to_contain_text("Kolkata time")
    check_page("profile-preview")
    patient.profile.refresh_from_db()
    assert patient.profile.time_zone == "Europe/London"  # nothing saved yet

    page.get_by_role("button", name="Save these changes").click()
    expect(page.get_by_role("status").first).to_contain_text("Saved")
    patient.profile.refresh_from_db()
    assert (patient.profile.time_zone, patient.profile.reminder_time) == (
        "Asia/Kolkata",
        dt.time(22, 0),
    )
    check_page("profile-saved")

    page.goto("/settings/reminders/")
    expect(page.get_by_test_id("reminder-time")).to_contain_text("22:00")
    check_page("reminders")
    page.get_by_role("link", name="your profile", exact=True).click()  # travel's help text
    expect(page).to_have_url(re.compile(r"/settings/profile/$"))


def test_a_patient_who_started_weeks_ago_reports_the_nights_since_in_one_step(
    page, check_page, transactional_db
):
    user = UserFactory(email="kim@example.org", first_name="Kim")
    PatientProfileFactory(user=user, onboarded_at=None, reminder_time=_dose_time_just_ahead())
    SafetyScreeningFactory(patient=user)
    today = timezone.now().astimezone(LONDON).date()
    first = today - dt.timedelta(days=20)
    _log_in(page, user.email)
    expect(page).to_have_url(re.compile(r"/welcome/start/$"))
    page.get_by_label("When is (or was) your first dose?").fill(first.isoformat())
    check_page("start-date")
    page.get_by_role("button", name="Start my plan").click()

    expect(page.get_by_role("heading", name="Since your first dose")).to_be_visible()
    nights = page.get_by_role("group", name="The nights you took it")
    # The first dose up to last night; tonight's is Today's to log with its time.
    expect(nights.get_by_role("checkbox")).to_have_count(20)
    missed = first + dt.timedelta(days=4)
    nights.get_by_label(f"{missed:%A} {missed.day} {missed:%B}").uncheck()
    check_page("nights-since")
    page.get_by_role("button", name="Save these nights").click()

    expect(page).to_have_url(re.compile(r"/today/$"))
    expect(page.get_by_role("status").first).to_contain_text("taken before you joined")
    card = page.locator("#dose-card")
    expect(card).not_to_contain_text("several doses were missed")
    check_page("today-after-joining")
    reported = DoseLog.objects.filter(patient=user, source=DoseLog.Source.REPORTED)
    assert reported.get(date=missed).status == DoseLog.Status.SKIPPED
    assert reported.filter(status=DoseLog.Status.TAKEN).count() == reported.count() - 1

    page.get_by_role("link", name="My plan").first.click()
    expect(page.locator(".timeline").first).to_be_visible()
    expect(page.get_by_text("taken (reported)").first).to_be_visible()
    check_page("plan-with-reported-nights")


def test_i_took_it_updates_your_week_without_a_reload(page, check_page, transactional_db):
    today = timezone.now().astimezone(LONDON).date()
    patient = onboarded_patient(
        email="lee@example.org", start_date=today, reminder_time=_dose_time_just_ahead()
    )
    _log_in(page, patient.email)
    week = page.locator("#week-card")
    expect(week).to_contain_text("none due yet")
    check_page("today-before")
    page.get_by_role("button", name="I took it").click()
    expect(page.locator("#dose-card")).to_contain_text("Taken at")
    expect(week).to_contain_text("1 of 1")
    expect(week).to_contain_text("1 day in a row")
    check_page("today-after-i-took-it")


def test_a_clinician_previews_a_step_back_and_confirms_it_on_a_laptop(
    page, check_page, transactional_db
):
    page.set_viewport_size(LAPTOP)
    today = timezone.now().astimezone(LONDON).date()
    patient = onboarded_patient(email="alex@example.org", start_date=today - dt.timedelta(days=9))
    patient.first_name = "Alex"
    patient.save(update_fields=["first_name"])
    add_history(patient, days=10, today=today)
    doctor = approved_clinician(
        "dr.lee@example.org", Clinic.objects.create(name="Riverside"), first_name="Dr Lee"
    )
    link(patient, clinician=doctor)

    _log_in(page, doctor.email)
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/$"))
    page.get_by_role("textbox").first.fill(totp_code(doctor.totp_secret))
    page.get_by_role("button", name="Log in").click()
    expect(page).not_to_have_url(re.compile(r"/2fa/"))

    page.goto(f"/clinic/patients/{patient.pk}/plan/")
    # Day 10 of the standard plan, 3.0 mg, nothing held: no step-up to approve.
    expect(page.get_by_role("heading", name="Step back")).to_be_visible()
    expect(page.get_by_role("heading", name="Approve the next step")).to_have_count(0)
    expect(page.get_by_role("heading", name="End the hold")).to_have_count(0)
    check_page("clinician-plan")

    section = page.locator("section").filter(has=page.get_by_role("heading", name="Step back"))
    section.get_by_label("Message to the patient").fill("Back to 1.5 mg for now")
    section.get_by_role("button", name="Preview: step back").click()
    preview = page.get_by_test_id("change-preview")
    expect(preview).to_contain_text("Tonight 1.5 mg; 3.0 mg from")
    check_page("clinician-plan-preview")
    assert not PlanEvent.objects.filter(kind="step_back").exists()

    page.get_by_role("button", name="Confirm: step back").click()
    expect(page.get_by_role("status").first).to_contain_text("Step back: done")
    assert PlanEvent.objects.get(kind="step_back").actor == doctor
    check_page("clinician-plan-done")
