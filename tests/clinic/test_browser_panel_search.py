"""A clinician on a laptop searches the panel by name: the patients found are listed, the
box still shows the name, and the address bar never does."""

import re

import pytest
from playwright.sync_api import expect

from clinic.models import AuditEvent, Clinic
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

from .conftest import approved_clinician, link, totp_code

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LAPTOP = {"width": 1280, "height": 800}


@pytest.fixture
def doctor(transactional_db):
    clinic = Clinic.objects.create(name="Riverside Pain Clinic")
    doctor = approved_clinician("dr.lee@example.org", clinic, first_name="Dr Lee")
    for email, name in [("alex@example.org", "Alexandra"), ("sam@example.org", "Sam")]:
        patient = onboarded_patient(email=email)
        patient.first_name = name
        patient.save(update_fields=["first_name"])
        link(patient, clinician=doctor)
    return doctor


def test_a_search_by_name_keeps_the_name_out_of_the_address(
    page,  # noqa: F811 (the fixture imported above)
    check_page,  # noqa: F811
    doctor,
):
    page.set_viewport_size(LAPTOP)
    page.goto("/accounts/login/")
    page.get_by_role("textbox", name="Email").fill(doctor.email)
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("textbox").first.fill(totp_code(doctor.totp_secret))
    page.get_by_role("button", name="Log in").click()
    expect(page).not_to_have_url(re.compile(r"/2fa/"))

    page.goto("/clinic/")
    table = page.get_by_role("table")
    expect(table).to_contain_text("Alexandra")
    expect(table).to_contain_text("Sam")
    check_page("panel")

    page.get_by_role("searchbox", name="Search by name").fill("Alexandra")
    page.get_by_role("combobox", name="Sort by").select_option(label="Adherence")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"/clinic/\?.*search="))
    assert "alexandra" not in page.url.lower()
    expect(table).to_contain_text("Alexandra")
    expect(table).not_to_contain_text("Sam")
    expect(page.get_by_role("searchbox", name="Search by name")).to_have_value("Alexandra")
    expect(page.get_by_role("combobox", name="Sort by")).to_have_value("adherence")
    check_page("panel-searched")

    page.reload()  # the address still finds the same patients in this session
    expect(table).not_to_contain_text("Sam")
    assert not AuditEvent.objects.filter(path__contains="?").exists()
    assert AuditEvent.objects.filter(action="panel_search").exists()
