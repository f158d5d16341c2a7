"""A clinician enters the clinic's record number and the patient's date of birth on the
patient's record: a bad value is explained next to its field, and the FHIR export then carries
both."""

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from clinic.models import CareLink, Clinic
from tests.browser.conftest import clinician_log_in
from tests.clinic.conftest import add_history, approved_clinician, link
from tests.factories import onboarded_patient

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def doctor_and_patient(transactional_db):
    today = timezone.now().astimezone(ZoneInfo("Europe/London")).date()
    patient = onboarded_patient(email="alex@example.org", start_date=today - dt.timedelta(days=9))
    add_history(patient, days=10, today=today)
    clinic = Clinic.objects.create(name="Riverside Pain Clinic")
    doctor = approved_clinician("dr.lee@example.org", clinic, first_name="Dr Lee")
    link(patient, clinic=clinic)
    return doctor, patient


def test_a_clinician_enters_the_record_number_and_the_export_carries_it(
    page, check_page, doctor_and_patient
):
    doctor, patient = doctor_and_patient
    clinician_log_in(page, doctor)

    page.goto(f"/clinic/patients/{patient.pk}/#identity")
    identity = page.locator("#identity")
    identity.get_by_label("Your clinic's record number (MRN)").fill("RX<42>")
    identity.get_by_label("Date of birth").fill("1980-05-17")
    identity.get_by_role("button", name="Save record number and date of birth").click()
    expect(page.locator("#identity")).to_contain_text("Use letters, numbers, spaces")
    identity = page.locator("#identity")
    identity.scroll_into_view_if_needed()
    check_page("identity-error")

    identity.get_by_label("Your clinic's record number (MRN)").fill("RX-0042")
    identity.get_by_role("button", name="Save record number and date of birth").click()
    expect(page.get_by_role("status")).to_contain_text("Saved")
    assert CareLink.objects.get(patient=patient).mrn == "RX-0042"
    page.locator("#identity").scroll_into_view_if_needed()
    check_page("identity-saved")

    response = page.request.get(f"/clinic/patients/{patient.pk}/fhir.json")
    person = json.loads(response.body())["entry"][0]["resource"]
    assert person["birthDate"] == "1980-05-17"
    assert person["identifier"][1]["value"] == "RX-0042"
    assert person["identifier"][1]["assigner"] == {"display": "Riverside Pain Clinic"}
