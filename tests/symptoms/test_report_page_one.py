"""Page 1 of the doctor report PDF answers the visit's questions on its own, on the patient's
copy and the clinician's, and the PDF is tagged (PDF/UA) on the paper each one asked for."""

import io
import re

import pytest
from django.urls import reverse
from pypdf import PdfReader

from clinic.models import Alert, Clinic
from tests.clinic.conftest import approved_clinician, link, mfa_login

from .visit import visit_patient

pytestmark = pytest.mark.django_db

A4 = (595, 842)  # points, rounded
LETTER = (612, 792)


@pytest.fixture
def alex(frozen):
    return visit_patient()


@pytest.fixture
def clinic(db):
    return Clinic.objects.create(name="Riverside Pain Clinic")


@pytest.fixture
def doctor(clinic, alex):
    doctor = approved_clinician("dr.lee@example.org", clinic, first_name="Dr Lee")
    link(alex, clinician=doctor)
    return doctor


def patient_pdf(client, patient):
    client.force_login(patient)
    response = client.get(reverse("report_pdf"))
    assert response.status_code == 200
    return PdfReader(io.BytesIO(response.content))


def clinician_pdf(client, doctor, patient):
    mfa_login(client, doctor)
    response = client.get(reverse("clinic:export_pdf", args=[patient.pk]))
    assert response.status_code == 200
    return PdfReader(io.BytesIO(response.content))


def text_of(page):
    # Lines broken by the layout are joined back, so a phrase can be looked for whole.
    return re.sub(r"\s+", " ", page.extract_text())


PAGE_ONE = [
    # Who
    "Name Alex Rivera",
    "Date of birth 14 Mar 1980",
    "LDN-",
    "alex@example.org",
    "Report period 5 Oct 2026 to 20 Nov 2026.",
    # The plan and the dose now, with formulation and strength (from the dose decision)
    "Standard (1.5 → 3.0 → 4.5 mg over 3 weeks), started 12 Oct 2026, target 4.5 mg",
    "4.5 mg = 4.5 mL of 1 mg/mL liquid",
    # Each step with its dates; the hold and the step back with their reasons
    "1.5 mg from 12 Oct to 18 Oct 2026 (7 days)",
    "3.0 mg from 19 Oct to 29 Oct 2026 (11 days, step-up held 4 days)",
    "4.5 mg from 30 Oct to 9 Nov 2026 (11 days)",
    "3.0 mg from 10 Nov to 16 Nov 2026 (7 days): stepped back",
    "23 Oct 2026: Dose held for 4 days, because waiting for the dreams to settle",
    "10 Nov 2026: Stepped back, because nausea at 4.5 mg",
    # Adherence with the dates
    "37 of 40 doses taken (93%). Missed: 31 Oct–1 Nov 2026. Skipped: 5 Nov 2026.",
    # Response against a named, dated baseline
    "Baseline: the 7 days before the first dose, 5 Oct to 11 Oct 2026 (pain rated on 7 days)",
    "Pain (higher is worse) 6.0 4.2 -1.8 (-30%)",
    "Pain response: moderate improvement",
    # The worst side effect per step, its severity and days
    "3.0 mg, 19 Oct to 29 Oct Vivid dreams moderate 2 of 11 diary days",
    "4.5 mg, 30 Oct to 9 Nov Nausea severe 1 of 11 diary days",
    # FIQR and PGIC with dates and change
    "week 0 (12 Oct 2026) 60.0; week 4 (9 Nov 2026) 48.0, -12.0 (-20%) since week 0, meaningful",
    'PGIC (1-7, higher is better): week 4 (9 Nov 2026) 5, "Moderately better',
]


def test_page_one_of_the_patients_copy_answers_the_visits_questions(client, alex):
    reader = patient_pdf(client, alex)
    page_one = text_of(reader.pages[0])
    missing = [item for item in PAGE_ONE if item not in page_one]
    assert not missing, f"not on page 1: {missing}\n\n{page_one}"
    assert "Open alerts" not in page_one  # the patient's copy has none


def test_page_one_of_the_clinicians_copy_adds_the_open_alerts(client, alex, doctor):
    Alert.objects.create(
        patient=alex,
        rule="severe_side_effect",
        urgency=Alert.Urgency.HIGH,
        episode=alex.plans.get().start_date,
        detail="Nausea severe",
    )
    page_one = text_of(clinician_pdf(client, doctor, alex).pages[0])
    missing = [item for item in PAGE_ONE if item not in page_one]
    assert not missing, f"not on page 1: {missing}\n\n{page_one}"
    assert "clinician's copy" in page_one
    assert "Open alerts High: Severe side effect, Nausea severe" in page_one


def test_both_copies_cover_the_same_period(client, alex, doctor):
    period = re.compile(r"Report period [^.]+\.")
    mine = period.search(text_of(patient_pdf(client, alex).pages[0])).group()
    theirs = period.search(text_of(clinician_pdf(client, doctor, alex).pages[0])).group()
    assert mine == theirs == "Report period 5 Oct 2026 to 20 Nov 2026."


def test_no_label_is_repeated_as_its_own_value(client, alex):
    text = " ".join(text_of(page) for page in patient_pdf(client, alex).pages)
    assert "Plan started: Plan started" not in text
    assert "12 Oct 2026: Plan started (by the patient)" in text
    assert not re.search(r"\b(\w[\w ]{3,}): \1\b", text)
    assert not re.search(r"\b(\w{4,}) \1\b", text.lower())  # a word twice in a row
    assert "Period Report period" not in text


def test_the_charts_with_dated_ticks_follow_on_page_two(client, alex):
    page_two = text_of(patient_pdf(client, alex).pages[1])
    assert "Ratings and dose, 5 Oct to 20 Nov 2026" in page_two
    for tick in ("5 Oct", "12 Oct", "19 Oct", "26 Oct", "2 Nov", "9 Nov", "16 Nov"):
        assert tick in page_two
    for label in ("base", "-30%", "-50%"):
        assert label in page_two
    assert "Pain 6.0 → 4.2, 30% lower than your baseline." in page_two


def test_the_pdf_is_tagged_for_pdf_ua(client, alex):
    reader = patient_pdf(client, alex)
    root = reader.trailer["/Root"]
    assert bool(root["/MarkInfo"]["/Marked"])
    assert "/StructTreeRoot" in root
    assert root["/Lang"] == "en"
    assert bool(root["/ViewerPreferences"]["/DisplayDocTitle"])
    assert "pdfuaid:part" in root["/Metadata"].get_object().get_data().decode()
    assert reader.metadata.title.startswith("LDN Tracker report for Alex Rivera")
    figures = [node for node in _structure(root["/StructTreeRoot"]) if node.get("/S") == "/Figure"]
    assert figures and all(str(f["/Alt"]).startswith("Chart of each day's pain") for f in figures)


def _structure(node):
    """Every element of the PDF's structure tree."""
    node = node.get_object()
    if not isinstance(node, dict):
        return
    yield node
    kids = node.get("/K")
    for kid in kids if isinstance(kids, list) else [kids] if kids is not None else []:
        yield from _structure(kid)


def page_size(reader):
    box = reader.pages[0].mediabox
    return round(float(box.width)), round(float(box.height))


def test_the_paper_is_a4_unless_the_patient_chose_letter(client, alex):
    assert page_size(patient_pdf(client, alex)) == A4
    alex.profile.paper_size = "letter"
    alex.profile.save()
    assert page_size(patient_pdf(client, alex)) == LETTER


def test_the_clinicians_copy_follows_the_clinics_paper_else_the_patients(
    client, alex, doctor, clinic
):
    alex.profile.paper_size = "letter"
    alex.profile.save()
    assert page_size(clinician_pdf(client, doctor, alex)) == LETTER
    clinic.paper_size = "a4"
    clinic.save()
    assert page_size(clinician_pdf(client, doctor, alex)) == A4
