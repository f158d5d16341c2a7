"""A clinician logs in with an authenticator code, opens the panel, acknowledges an alert
and approves a held step-up; the patient's Today page then shows the new dose."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from clinic.models import Alert, Clinic
from clinic.services import alerts_evaluate
from tests.browser.conftest import (  # noqa: F401 (fixtures)
    _page_checks,
    _sync_orm_under_playwright,
    browser_context,
    browser_time_zone,
    check_page,
    chromium,
    page,
)
from tests.factories import PASSWORD, onboarded_patient
from titration.models import PlanEvent

from .conftest import add_history, approved_clinician, link, totp_code

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def held_patient(transactional_db):
    """Day 21 of the standard plan, held at 3.0 mg since day 14, with a severe side effect."""
    today = timezone.now().astimezone(ZoneInfo("Europe/London")).date()
    patient = onboarded_patient(email="alex@example.org", start_date=today - dt.timedelta(days=20))
    patient.first_name = "Alex"
    patient.save(update_fields=["first_name"])
    plan = patient.plans.get()
    add_history(patient, days=21, today=today)
    PlanEvent.objects.create(
        plan=plan, kind="hold", effective_date=today - dt.timedelta(days=7), actor=patient
    )
    patient.diary_entries.filter(date=today - dt.timedelta(days=6)).update(nausea=3)
    return patient


@pytest.fixture
def doctor_with_patient(held_patient):
    clinic = Clinic.objects.create(name="Riverside Pain Clinic")
    doctor = approved_clinician("dr.lee@example.org", clinic, first_name="Dr Lee")
    link(held_patient, clinician=doctor)
    alerts_evaluate(patient=held_patient)
    assert Alert.objects.open().filter(rule="severe_side_effect").exists()
    return doctor


def test_a_clinician_approves_a_held_step_up_and_the_patient_sees_it(
    page,  # noqa: F811 (the fixture imported above)
    check_page,  # noqa: F811
    doctor_with_patient,
    held_patient,
):
    doctor = doctor_with_patient
    page.goto("/accounts/login/")
    page.get_by_role("textbox", name="Email").fill(doctor.email)
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/$"))
    check_page("authenticator-code")
    page.get_by_role("textbox").first.fill(totp_code(doctor.totp_secret))
    page.get_by_role("button", name="Log in").click()
    expect(page).not_to_have_url(re.compile(r"/2fa/"))

    page.goto("/clinic/")
    table = page.get_by_role("table")
    expect(table).to_contain_text("Alex")
    expect(table).to_contain_text("On hold, as asked")  # the patient asked to hold
    expect(table).to_contain_text("Severe side effect")
    check_page("panel")

    page.get_by_role("link", name="Alex").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Alex")
    check_page("patient-detail")
    page.locator("#alerts").get_by_role("textbox", name="Note (optional)").fill(
        "Phoned: nausea settled"
    )
    page.get_by_role("button", name="Acknowledge: severe side effect").click()
    expect(page.get_by_role("status")).to_contain_text("Alert acknowledged")
    expect(page.locator("#alerts")).to_contain_text("Phoned: nausea settled")
    check_page("alert-acknowledged")

    page.get_by_role("link", name="Change the plan").click()
    expect(page.locator("#plan-status")).to_contain_text("3.0 mg")
    check_page("plan-control")
    step_up = page.locator("form").filter(has=page.locator("input[value=step_up]"))
    step_up.get_by_label("Message to the patient").fill("Side effects settled: up to 4.5 mg")
    step_up.get_by_role("button", name="Preview: approve the next step").click()
    expect(page.get_by_test_id("change-preview")).to_contain_text("Tonight 4.5 mg.")
    check_page("step-up-preview")
    page.get_by_role("button", name="Confirm: approve the next step").click()
    expect(page.locator("#plan-status")).to_contain_text("4.5 mg")
    check_page("step-up-approved")

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("status")).to_contain_text("logged out")
    page.goto("/accounts/login/")
    page.get_by_role("textbox", name="Email").fill(held_patient.email)
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/today/$"))
    expect(page.get_by_role("status").first).to_contain_text("Your clinician changed your plan")
    expect(page.locator("#dose-card")).to_contain_text("4.5 mg")
    check_page("patient-today")
