"""A clinician adjusts one patient's alert thresholds on the patient's record: a value out of
bounds is explained next to its field, and a lower line opens the alert at once."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from clinic.models import Alert, AlertThresholds, Clinic
from clinic.services import alerts_evaluate
from tests.clinic.conftest import add_history, approved_clinician, link, totp_code
from tests.factories import PASSWORD, onboarded_patient

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def doctor_and_patient(transactional_db):
    """Day 21 of the standard plan, moderate headaches yesterday and today: one day short of
    the default "persistent side effects" line."""
    today = timezone.now().astimezone(ZoneInfo("Europe/London")).date()
    patient = onboarded_patient(email="alex@example.org", start_date=today - dt.timedelta(days=20))
    patient.first_name = "Alex"
    patient.save(update_fields=["first_name"])
    add_history(patient, days=21, today=today)
    patient.diary_entries.filter(date__gte=today - dt.timedelta(days=1)).update(headache=2)
    clinic = Clinic.objects.create(name="Riverside Pain Clinic")
    doctor = approved_clinician("dr.lee@example.org", clinic, first_name="Dr Lee")
    link(patient, clinician=doctor)
    alerts_evaluate(patient=patient)
    assert not Alert.objects.exists()
    return doctor, patient


def test_a_clinician_lowers_a_threshold_and_the_alert_opens(page, check_page, doctor_and_patient):
    doctor, patient = doctor_and_patient
    page.goto("/accounts/login/")
    page.get_by_role("textbox", name="Email").fill(doctor.email)
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/$"))
    page.get_by_role("textbox").first.fill(totp_code(doctor.totp_secret))
    page.get_by_role("button", name="Log in").click()
    expect(page).not_to_have_url(re.compile(r"/2fa/"))

    page.goto(f"/clinic/patients/{patient.pk}/")
    settings = page.locator("#alert-settings")
    expect(settings).to_contain_text("Default: 3 days")
    check_page("alert-settings")

    days = settings.get_by_label("Persistent side effects: days in a row (moderate or worse)")
    days.fill("1")
    settings.get_by_role("button", name="Save alert settings").click()
    expect(page.locator("#alert-settings")).to_contain_text("Enter a whole number from 2 to 14")
    assert not AlertThresholds.objects.exists()
    check_page("alert-settings-error")

    settings = page.locator("#alert-settings")
    settings.get_by_label("Persistent side effects: days in a row (moderate or worse)").fill("2")
    settings.get_by_role("button", name="Save alert settings").click()
    expect(page.get_by_role("status")).to_contain_text("Alert settings saved")
    expect(page.locator("#alerts")).to_contain_text("Persistent side effects")
    expect(page.locator("#alert-settings")).to_contain_text("Last changed by Dr Lee")
    check_page("alert-settings-saved")
