"""The report for the doctor as a person sees it: the progress page's figure, the report page,
and both copies of the PDF (the patient's, downloaded from the report page; the clinician's,
from the patient's page), each PDF page saved as a PNG beside the screenshots."""

import re

import pypdfium2
import pytest
import time_machine
from playwright.sync_api import expect
from pypdf import PdfReader

from clinic.models import Alert, Clinic
from tests.browser.conftest import clinician_log_in
from tests.clinic.conftest import approved_clinician, link
from tests.factories import PASSWORD
from tests.symptoms.conftest import NOW
from tests.symptoms.visit import visit_patient

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PNG_DPI = 110  # at 100% zoom a person reads what a printed page shows


@pytest.fixture
def at_the_visit():
    # Ticking: sessions, the authenticator code and the live server need time to pass.
    with time_machine.travel(NOW, tick=True):
        yield


def pdf_to_pngs(path, folder, name) -> list:
    document = pypdfium2.PdfDocument(str(path))
    pngs = []
    for number, pdf_page in enumerate(document, start=1):
        png = folder / f"{name}-page-{number}.png"
        pdf_page.render(scale=PNG_DPI / 72).to_pil().save(png)
        pngs.append(png)
    document.close()
    return pngs


def download(page, link_name, folder, name):
    with page.expect_download() as info:
        page.get_by_role("link", name=link_name).click()
    path = folder / f"{name}.pdf"
    info.value.save_as(path)
    return path


def test_the_patient_and_the_clinician_get_the_same_readable_report(
    at_the_visit, page, check_page, transactional_db
):
    alex = visit_patient()
    doctor = approved_clinician(
        "dr.lee@example.org", Clinic.objects.create(name="Riverside"), first_name="Dr Lee"
    )
    link(alex, clinician=doctor)
    Alert.objects.create(
        patient=alex,
        rule="severe_side_effect",
        urgency=Alert.Urgency.HIGH,
        episode=NOW.date(),
        detail="Nausea severe",
    )
    folder = check_page.folder

    page.goto("/accounts/login/")
    page.get_by_role("textbox", name="Email").fill(alex.email)
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/today/$"))

    page.goto("/progress/")
    expect(page.get_by_role("heading", name="Pain compared with before LDN")).to_be_visible()
    figure = page.locator("figure.small-multiples")
    expect(figure.locator(".tick-label").first).to_have_text("5 Oct")
    expect(figure.get_by_role("img")).to_have_accessible_name(re.compile(r"^Dots: each day"))
    check_page("progress")
    # The figure's text stays legible on a phone: the date labels are at least 10 px high.
    tick_height = figure.locator(".tick-label").first.bounding_box()["height"]
    assert tick_height >= 10

    page.goto("/report/")
    expect(page.locator(".report")).to_contain_text("4.5 mg = 4.5 mL of 1 mg/mL liquid")
    check_page("report")
    patient_pdf = download(page, "Download as PDF", folder, "patient-copy")
    patient_pngs = pdf_to_pngs(patient_pdf, folder, "patient-copy")
    assert len(patient_pngs) == 2

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("status")).to_contain_text("logged out")
    clinician_log_in(page, doctor)

    page.goto(f"/clinic/patients/{alex.pk}/")
    expect(page.locator("section[aria-labelledby=plan-now]")).to_contain_text(
        "4.5 mg = 4.5 mL of 1 mg/mL liquid"
    )
    expect(page.locator("#alert-settings details")).not_to_have_attribute("open", "")
    expect(page.get_by_text("contact your prescriber")).to_have_count(0)
    check_page("clinician-patient-page")
    clinician_pdf = download(page, "Doctor report (PDF)", folder, "clinician-copy")
    clinician_pngs = pdf_to_pngs(clinician_pdf, folder, "clinician-copy")
    assert len(clinician_pngs) == 2

    period = re.compile(r"Report period [^.]+\.")
    mine, theirs = (
        period.search(PdfReader(path).pages[0].extract_text()).group()
        for path in (patient_pdf, clinician_pdf)
    )
    assert mine == theirs
    assert "Open alerts" in PdfReader(clinician_pdf).pages[0].extract_text()
